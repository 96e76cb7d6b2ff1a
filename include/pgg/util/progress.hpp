#pragma once
// Progress of long work on stderr: "label [#####.....] 1234/5000  250.1/s  ETA 15s". On a terminal the
// line redraws in place (at most 5 times a second); otherwise a line is printed every 10% or 30 s, so
// logs stay short. update() may be called from several threads.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

namespace pgg {

// Durations as PG-GAN prints them: "12s", "3m 04s", "1h 02m 10s", "2d 03h 15m".
inline std::string format_duration(double seconds) {
    const long s = long(seconds + 0.5);
    char buf[48];
    if (s < 60) std::snprintf(buf, sizeof buf, "%lds", s);
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%ldm %02lds", s / 60, s % 60);
    else if (s < 86400) std::snprintf(buf, sizeof buf, "%ldh %02ldm %02lds", s / 3600, s / 60 % 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%ldd %02ldh %02ldm", s / 86400, s / 3600 % 24, s / 60 % 60);
    return buf;
}

class Progress {
public:
    using clock = std::chrono::steady_clock;

    Progress(std::string label, long total, std::FILE* out = stderr)
        : label_(std::move(label)), total_(total), out_(muted() ? nullptr : out), tty_(out_ && ::isatty(::fileno(out_))),
          start_(clock::now()), last_(start_) {}
    // Every Progress made afterwards shows nothing: the processes of a data-parallel run other than
    // the first, which would print the same lines again.
    static void mute(bool m) { muted() = m; }
    ~Progress() { finish(); }

    // Adds `n` finished items.
    void advance(long n = 1) { report(done_ += n); }
    // Sets the number of finished items.
    void update(long done) {
        done_ = done;
        report(done);
    }
    long done() const { return done_; }
    double elapsed() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

    // Prints the final line (once).
    void finish() {
        std::lock_guard lock(mutex_);
        if (finished_) return;
        finished_ = true;
        if (!out_) return;
        if (tty_ || printed_ != done_) print(done_); // a log already has the last line

        if (tty_) std::fputc('\n', out_);
        std::fflush(out_);
    }

private:
    void report(long done) {
        const auto now = clock::now();
        std::unique_lock lock(mutex_, std::try_to_lock);
        if (!lock || finished_ || !out_) return; // another thread is printing; skip this one
        const double since = std::chrono::duration<double>(now - last_).count();
        bool show;
        if (tty_) {
            show = since >= 0.2;
        } else {
            const long step = std::max(1L, total_ / 10);
            show = since >= 30 || done / step != printed_ / step;
        }
        if (!show) return;
        last_ = now;
        printed_ = done;
        print(done);
    }
    void print(long done) {
        const double t = elapsed(), rate = t > 0 ? double(done) / t : 0;
        constexpr int width = 30;
        const int filled = total_ > 0 ? int(double(width) * double(std::min(done, total_)) / double(total_)) : 0;
        std::string bar(std::size_t(filled), '#');
        bar.append(std::size_t(width - filled), '.');
        std::string eta = done >= total_ ? "done in " + format_duration(t)
                          : rate > 0     ? "ETA " + format_duration(double(total_ - done) / rate)
                                         : "ETA ?";
        std::fprintf(out_, "%s%s [%s] %ld/%ld  %.1f/s  %s%s", tty_ ? "\r" : "", label_.c_str(), bar.c_str(), done, total_, rate,
                     eta.c_str(), tty_ ? "\033[K" : "\n");
        std::fflush(out_);
    }

    static std::atomic<bool>& muted() {
        static std::atomic<bool> m{false};
        return m;
    }

    std::string label_;
    long total_;
    std::FILE* out_;
    bool tty_;
    clock::time_point start_, last_;
    std::atomic<long> done_{0};
    long printed_ = 0;
    bool finished_ = false;
    std::mutex mutex_;
};

} // namespace pgg
