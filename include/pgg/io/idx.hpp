#pragma once
// IDX files (MNIST, Fashion-MNIST), gzipped or not: unsigned-byte data of any rank.
// Images come back as (N, 1, rows, cols), label files as (N).
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
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
    // The data the dimensions claim must be in the file: exactly, or, gzipped, within what deflate can
    // compress into its size (1032:1 at most). Checked before anything is allocated.
    // The nonzero dimensions' product must fit an index too: Shape multiplies them in order.
    std::uint64_t need = 1, nonzero = 1;
    bool too_large = false;
    std::string dims_text;
    for (index_t d : dims) {
        if (d) too_large = too_large || nonzero > std::uint64_t(INT64_MAX) / std::uint64_t(d), nonzero *= std::uint64_t(d);
        need *= std::uint64_t(d);
        dims_text += (dims_text.empty() ? "" : " x ") + std::to_string(d);
    }
    struct stat st {};
    const std::uint64_t file_bytes = ::stat(path.c_str(), &st) == 0 ? std::uint64_t(st.st_size) : 0;
    const std::uint64_t after_header = file_bytes - std::min<std::uint64_t>(file_bytes, 4 + 4 * std::uint64_t(rank));
    const bool plain = gzdirect(f);
    if (too_large || (plain ? need != after_header : need / 1032 > file_bytes))
        throw error(path + ": dimensions " + dims_text + " need " + (too_large ? "more than 2^63" : std::to_string(need)) +
                    " data bytes, but the file holds " +
                    (plain ? std::to_string(after_header)
                           : "at most " + std::to_string(file_bytes * 1032) + " (" + std::to_string(file_bytes) + " bytes gzipped)") +
                    " (truncated or corrupt?)");
    const Shape shape = rank == 3 ? Shape{dims[0], 1, dims[1], dims[2]} : Shape::from_range(dims.begin(), dims.end());
    Tensor<std::uint8_t, cpu> t(shape);
    for (std::uint64_t done = 0; done < need;) { // gzread reads at most INT_MAX bytes at a time
        const unsigned chunk = unsigned(std::min<std::uint64_t>(need - done, 1u << 30));
        read(t.data() + done, chunk, "data");
        done += chunk;
    }
    char extra;
    if (gzread(f, &extra, 1) != 0) throw error(path + ": more data than its dimensions say (corrupt?)");
    return t;
}

} // namespace pgg::io
