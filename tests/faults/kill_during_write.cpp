// LD_PRELOAD shim for the fault tests: SIGKILLs the process in the middle of writing a file, as a
// power cut or `kill -9` would, without a hook in pgg itself.
//   PGG_FAULT_PATH   a substring of the path of the files to watch
//   PGG_FAULT_NTH    which of those files (1: the first written to, the default)
//   PGG_FAULT_AFTER  bytes of that file written before the kill (default 4096)
// write(2) and writev(2) are intercepted: what pgg's atomic files and std::fstream call.
#include <dlfcn.h>
#include <signal.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
// The watched files in the order first written to, with the bytes written to each so far (a dataset
// writes its level files in turns).
struct File {
    char path[512];
    long written;
};
File files[64];
int files_seen;

// Counts n bytes about to be written to fd; returns how many of them may reach the disk before the
// kill (all of them when this is not the watched file or the kill is not due yet).
size_t allowed(int fd, size_t n) {
    const char* pattern = getenv("PGG_FAULT_PATH");
    if (!pattern || fd <= 2) return n;
    char link[64], path[512];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t len = readlink(link, path, sizeof path - 1);
    if (len <= 0) return n;
    path[len] = 0;
    if (!strstr(path, pattern)) return n;
    int k = 0;
    while (k < files_seen && strcmp(files[k].path, path) != 0) ++k;
    if (k == files_seen) {
        if (files_seen == 64) return n;
        strcpy(files[files_seen++].path, path);
    }
    const long nth = getenv("PGG_FAULT_NTH") ? atol(getenv("PGG_FAULT_NTH")) : 1;
    const long after = getenv("PGG_FAULT_AFTER") ? atol(getenv("PGG_FAULT_AFTER")) : 4096;
    long& written = files[k].written;
    if (k + 1 == nth && written + long(n) > after) return size_t(after > written ? after - written : 0);
    written += long(n);
    return n;
}

template <class F>
F real(const char* name) {
    return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}
} // namespace

extern "C" ssize_t write(int fd, const void* buf, size_t n) {
    static const auto real_write = real<ssize_t (*)(int, const void*, size_t)>("write");
    const size_t ok = allowed(fd, n);
    if (ok == n) return real_write(fd, buf, n);
    if (ok) real_write(fd, buf, ok); // part of this write reaches the disk
    kill(getpid(), SIGKILL);
    return -1;
}

// std::fstream writes large blocks with writev.
extern "C" ssize_t writev(int fd, const struct iovec* iov, int count) {
    static const auto real_writev = real<ssize_t (*)(int, const struct iovec*, int)>("writev");
    static const auto real_write = real<ssize_t (*)(int, const void*, size_t)>("write");
    size_t n = 0;
    for (int i = 0; i < count; ++i) n += iov[i].iov_len;
    size_t ok = allowed(fd, n);
    if (ok == n) return real_writev(fd, iov, count);
    for (int i = 0; i < count && ok; ++i) {
        const size_t part = iov[i].iov_len < ok ? iov[i].iov_len : ok;
        real_write(fd, iov[i].iov_base, part);
        ok -= part;
    }
    kill(getpid(), SIGKILL);
    return -1;
}
