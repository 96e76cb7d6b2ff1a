#pragma once
// Graceful interruption: while an InterruptGuard lives, SIGINT and SIGTERM only set a flag, so long
// work can stop at a safe point (remove temporaries, write a snapshot) instead of dying half-way.
// A second signal of the same kind restores the default action and ends the process at once.
#include <csignal>
#include <string>

#include "../core/error.hpp"

namespace pgg {

namespace detail {
inline volatile std::sig_atomic_t interrupt_signal = 0;
inline void on_interrupt(int sig) {
    if (interrupt_signal) std::signal(sig, SIG_DFL);
    interrupt_signal = sig;
}
} // namespace detail

// The signal received since the guard was installed (0: none).
inline int interrupted() { return detail::interrupt_signal; }

// What long work throws when a signal stopped it (after saving what it could). Programs exit with
// 128 + signal() for it, the shell's convention for a process ended by that signal (130 for SIGINT,
// 143 for SIGTERM), so that a script can tell an interrupted run from a finished or a failed one.
class interrupted_error : public error {
public:
    interrupted_error(const std::string& what, int sig) : error(what), signal_(sig) {}
    int signal() const { return signal_; }
    int exit_status() const { return 128 + signal_; }

private:
    int signal_;
};

// Throws interrupted_error naming `what` if a signal arrived.
inline void throw_if_interrupted(const char* what) {
    if (const int sig = interrupted()) throw interrupted_error(std::string(what) + ": interrupted by signal " + std::to_string(sig), sig);
}

class InterruptGuard {
public:
    InterruptGuard() {
        detail::interrupt_signal = 0;
        old_int_ = std::signal(SIGINT, detail::on_interrupt);
        old_term_ = std::signal(SIGTERM, detail::on_interrupt);
    }
    ~InterruptGuard() {
        std::signal(SIGINT, old_int_);
        std::signal(SIGTERM, old_term_);
    }
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

private:
    void (*old_int_)(int);
    void (*old_term_)(int);
};

} // namespace pgg
