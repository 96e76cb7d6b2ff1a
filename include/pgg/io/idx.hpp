#pragma once
// IDX files (MNIST, Fashion-MNIST), gzipped or not: unsigned-byte data of any rank.
// Images come back as (N, 1, rows, cols), label files as (N).
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../core/tensor.hpp"

namespace pgg::io {

inline Tensor<std::uint8_t, cpu> read_idx(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb"); // reads plain files too
    if (!f) throw error(path + ": cannot open");
    struct Close {
        gzFile f;
        ~Close() { gzclose(f); }
    } closer{f};
    auto read = [&](void* dst, unsigned bytes, const char* what) {
        const int n = gzread(f, dst, bytes);
        if (n != int(bytes)) throw error(path + ": truncated or corrupt while reading the " + what);
    };
    unsigned char magic[4];
    read(magic, 4, "magic number");
    if (magic[0] != 0 || magic[1] != 0) throw error(path + ": not an IDX file (bad magic number)");
    if (magic[2] != 0x08) throw error(path + ": IDX element type " + std::to_string(magic[2]) + " is not unsigned byte (8)");
    const int rank = magic[3];
    if (rank < 1 || rank > 3) throw error(path + ": IDX rank " + std::to_string(rank) + " not supported (1 to 3)");
    std::vector<index_t> dims(rank);
    for (int i = 0; i < rank; ++i) {
        unsigned char b[4];
        read(b, 4, "dimensions");
        dims[i] = (index_t(b[0]) << 24) | (index_t(b[1]) << 16) | (index_t(b[2]) << 8) | index_t(b[3]);
    }
    const Shape shape = rank == 3 ? Shape{dims[0], 1, dims[1], dims[2]} : Shape::from_range(dims.begin(), dims.end());
    Tensor<std::uint8_t, cpu> t(shape);
    read(t.data(), unsigned(t.numel()), "data");
    char extra;
    if (gzread(f, &extra, 1) != 0) throw error(path + ": more data than its dimensions say (corrupt?)");
    return t;
}

} // namespace pgg::io
