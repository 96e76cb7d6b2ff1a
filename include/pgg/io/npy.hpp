#pragma once
// NumPy .npy files (format 1.0): writing (atomic) and memory-mapped reading, so that a dataset far
// larger than memory can be read with flat memory use. Python opens them with numpy.load(mmap_mode='r').
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/tensor.hpp"
#include "atomic_file.hpp"

namespace pgg::io {

template <class T>
constexpr const char* npy_descr() {
    if constexpr (std::is_same_v<T, std::uint8_t>) return "|u1";
    else if constexpr (std::is_same_v<T, std::int32_t>) return "<i4";
    else if constexpr (std::is_same_v<T, std::int64_t>) return "<i8";
    else if constexpr (std::is_same_v<T, float>) return "<f4";
    else if constexpr (std::is_same_v<T, double>) return "<f8";
    else static_assert(sizeof(T) == 0, "npy: unsupported element type");
}

// The header of an .npy file holding `count` leading items of shape `item` (C order).
template <class T>
std::string npy_header(const std::vector<index_t>& shape) {
    std::string dims;
    for (index_t d : shape) dims += std::to_string(d) + ", ";
    if (shape.size() > 1) dims.resize(dims.size() - 2);
    else if (shape.empty()) dims = "";
    std::string dict = std::string("{'descr': '") + npy_descr<T>() + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    std::string h = "\x93NUMPY";
    h += char(1), h += char(0);
    const std::size_t total = h.size() + 2 + dict.size() + 1;
    dict.append((64 - total % 64) % 64, ' '); // data aligned to 64 bytes
    dict += '\n';
    h += char(dict.size() & 0xff), h += char(dict.size() >> 8);
    return h + dict;
}

// Writes values (shape `shape`, C order) to an .npy file atomically.
template <class T>
void write_npy(const std::string& path, const T* data, const std::vector<index_t>& shape) {
    index_t n = 1;
    for (index_t d : shape) n *= d;
    AtomicFile f(path);
    f.write(npy_header<T>(shape));
    f.write(data, std::size_t(n) * sizeof(T));
    f.commit();
}
template <class T>
void write_npy(const std::string& path, const Tensor<T>& t) {
    std::vector<index_t> shape;
    for (int i = 0; i < t.rank(); ++i) shape.push_back(t.size(i));
    write_npy(path, t.data(), shape);
}

// A read-only memory map of an .npy file, validated against the expected element type.
template <class T>
class NpyMap {
public:
    explicit NpyMap(const std::string& path) : path_(path) {
        fd_ = ::open(path.c_str(), O_RDONLY);
        if (fd_ < 0) throw error(path + ": cannot open: " + std::strerror(errno));
        struct stat st {};
        if (::fstat(fd_, &st) != 0) fail("cannot stat");
        size_ = std::size_t(st.st_size);
        if (size_ < 10) fail("truncated: not an .npy file");
        map_ = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd_, 0);
        if (map_ == MAP_FAILED) {
            map_ = nullptr;
            fail(std::string("mmap failed: ") + std::strerror(errno));
        }
        const char* p = static_cast<const char*>(map_);
        if (std::memcmp(p, "\x93NUMPY", 6) != 0) fail("not an .npy file (bad magic)");
        if (p[6] != 1) fail("unsupported .npy version " + std::to_string(int(p[6])));
        const std::size_t hlen = std::size_t(static_cast<unsigned char>(p[8])) | (std::size_t(static_cast<unsigned char>(p[9])) << 8);
        if (10 + hlen > size_) fail("truncated header");
        const std::string header(p + 10, hlen);
        std::string descr, dims;
        if (!quoted_value(header, "'descr':", '\'', '\'', descr) || descr != npy_descr<T>())
            fail("element type is not " + std::string(npy_descr<T>()));
        if (header.find("'fortran_order': False") == std::string::npos) fail("Fortran order is not supported");
        if (!quoted_value(header, "'shape':", '(', ')', dims)) fail("no shape in the header");
        offset_ = 10 + hlen;
        // every run of digits is a dimension; their product, in bytes, must be what the file holds
        const std::size_t data_bytes = size_ - offset_;
        std::size_t need = sizeof(T);
        bool too_large = false;
        for (std::size_t i = 0; i < dims.size();) {
            if (!std::isdigit(static_cast<unsigned char>(dims[i]))) {
                ++i;
                continue;
            }
            std::size_t d = 0;
            for (; i < dims.size() && std::isdigit(static_cast<unsigned char>(dims[i])); ++i) {
                too_large = too_large || d > (std::size_t(std::numeric_limits<index_t>::max()) - 9) / 10;
                if (!too_large) d = d * 10 + std::size_t(dims[i] - '0');
            }
            shape_.push_back(index_t(d));
            if (too_large) continue;
            if (d && need > std::numeric_limits<std::size_t>::max() / d) too_large = true;
            else need *= d;
        }
        if (too_large)
            fail("shape (" + dims + ") needs more data bytes than any file holds; the file holds " + std::to_string(data_bytes) +
                 " (corrupt header?)");
        if (need != data_bytes)
            fail("holds " + std::to_string(data_bytes) + " data bytes, its shape needs " + std::to_string(need) + " (truncated?)");
    }
    NpyMap(const NpyMap&) = delete;
    NpyMap& operator=(const NpyMap&) = delete;
    ~NpyMap() { release(); }

    const std::vector<index_t>& shape() const { return shape_; }
    const T* data() const { return reinterpret_cast<const T*>(static_cast<const char*>(map_) + offset_); }
    const std::string& path() const { return path_; }

private:
    // The text after the first `key` that is followed (after blanks) by `open`, up to `close`.
    static bool quoted_value(const std::string& header, const char* key, char open, char close, std::string& out) {
        for (std::size_t at = header.find(key); at != std::string::npos; at = header.find(key, at + 1)) {
            std::size_t i = at + std::strlen(key);
            while (i < header.size() && std::isspace(static_cast<unsigned char>(header[i]))) ++i;
            if (i >= header.size() || header[i] != open) continue;
            const std::size_t end = header.find(close, i + 1);
            if (end == std::string::npos) continue;
            out = header.substr(i + 1, end - i - 1);
            return true;
        }
        return false;
    }
    [[noreturn]] void fail(const std::string& why) {
        release();
        throw error(path_ + ": " + why);
    }
    void release() {
        if (map_) ::munmap(map_, size_);
        if (fd_ >= 0) ::close(fd_);
        map_ = nullptr, fd_ = -1;
    }
    std::string path_;
    int fd_ = -1;
    void* map_ = nullptr;
    std::size_t size_ = 0, offset_ = 0;
    std::vector<index_t> shape_;
};

} // namespace pgg::io
