#pragma once
// Atomic file writes: write a temporary file beside the target, flush it to disk, rename it over the
// target. Readers see the old file or the new one, never a partial one; a failed write leaves no file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "../core/error.hpp"

namespace pgg::io {

class AtomicFile {
public:
    explicit AtomicFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp-XXXXXX") {
        fd_ = ::mkstemp(tmp_.data());
        if (fd_ < 0) throw error(path_ + ": cannot create a temporary file beside it: " + std::strerror(errno));
    }
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile() { // not committed: remove the temporary
        if (fd_ >= 0) ::close(fd_);
        if (!committed_) ::unlink(tmp_.c_str());
    }

    void write(const void* data, std::size_t bytes) {
        const char* p = static_cast<const char*>(data);
        while (bytes > 0) {
            const ssize_t n = ::write(fd_, p, bytes);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw error(path_ + ": write failed: " + std::strerror(errno));
            p += n;
            bytes -= std::size_t(n);
        }
    }
    void write(std::string_view s) { write(s.data(), s.size()); }

    // Flushes to disk and renames over the target.
    void commit() {
        if (::fsync(fd_) != 0) throw error(path_ + ": fsync failed: " + std::strerror(errno));
        if (::fchmod(fd_, 0644) != 0) throw error(path_ + ": chmod failed: " + std::strerror(errno));
        ::close(fd_);
        fd_ = -1;
        if (std::rename(tmp_.c_str(), path_.c_str()) != 0) throw error(path_ + ": rename failed: " + std::strerror(errno));
        committed_ = true;
    }

private:
    std::string path_, tmp_;
    int fd_ = -1;
    bool committed_ = false;
};

// Writes `contents` to `path` atomically.
inline void write_file_atomic(const std::string& path, std::string_view contents) {
    AtomicFile f(path);
    f.write(contents);
    f.commit();
}

} // namespace pgg::io
