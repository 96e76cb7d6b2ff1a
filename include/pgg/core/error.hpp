#pragma once
// pgg::error and the checks that throw it.
#include <sstream>
#include <stdexcept>
#include <string>

namespace pgg {

// Every public entry point reports bad input with this type; programs print what() and exit non-zero.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Args>
[[noreturn]] void fail(const char* file, int line, Args&&... args) {
    std::ostringstream os;
    (os << ... << args);
    os << " [" << file << ":" << line << "]";
    throw error(os.str());
}
} // namespace detail

} // namespace pgg

// PGG_CHECK(cond, parts...): throws pgg::error with the streamed parts when cond is false.
#define PGG_CHECK(cond, ...)                                                     \
    do {                                                                         \
        if (!(cond)) ::pgg::detail::fail(__FILE__, __LINE__, __VA_ARGS__);      \
    } while (0)
