#pragma once
// What the pgg fuzz harnesses share.
//
// Every harness feeds one input to one reader. A thrown pgg::error is the reader rejecting bad input
// correctly and is swallowed; anything else is a finding: a crash or sanitizer report, an exception of
// another type escaping (std::terminate aborts), a leak, a hang past -timeout, or an allocation past
// -rss_limit_mb / -malloc_limit_mb (a size field trusted without checking it against the file).
//
// Readers that take a path read the input from an in-memory file (memfd) of this process, named by
// /proc/self/fd/N; where memfd or /proc is missing, from a temporary file removed at exit.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace pgg_fuzz {

[[noreturn]] inline void die(const char* what) {
    std::perror(what);
    std::abort();
}

// One file per process, rewritten with each input.
class InputFile {
public:
    InputFile() {
        fd_ = ::memfd_create("pgg-fuzz-input", 0);
        if (fd_ >= 0) {
            path_ = "/proc/self/fd/" + std::to_string(fd_);
            if (::access(path_.c_str(), R_OK) == 0) return;
            ::close(fd_);
        }
        const char* dir = std::getenv("TMPDIR");
        std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/pgg-fuzz-input-XXXXXX";
        fd_ = ::mkstemp(tmpl.data());
        if (fd_ < 0) die("pgg fuzz: cannot create the input file");
        path_ = tmpl;
        temporary_ = true;
    }
    ~InputFile() {
        if (fd_ >= 0) ::close(fd_);
        if (temporary_) ::unlink(path_.c_str());
    }
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    // Replaces the file's contents with the input; returns its path.
    const std::string& write(const std::uint8_t* data, std::size_t size) {
        if (::ftruncate(fd_, 0) != 0) die("pgg fuzz: ftruncate");
        std::size_t done = 0;
        while (done < size) {
            const ssize_t n = ::pwrite(fd_, data + done, size - done, off_t(done));
            if (n <= 0) die("pgg fuzz: pwrite");
            done += std::size_t(n);
        }
        return path_;
    }
    const std::string& path() const { return path_; }

private:
    int fd_ = -1;
    std::string path_;
    bool temporary_ = false;
};

// The process's input file (constructed on first use, closed at exit).
inline InputFile& input_file() {
    static InputFile f;
    return f;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Keeps the optimiser from dropping reads whose only purpose is to touch memory.
template <class T>
inline void keep(const T& value) {
    asm volatile("" : : "r,m"(value) : "memory");
}

} // namespace pgg_fuzz
