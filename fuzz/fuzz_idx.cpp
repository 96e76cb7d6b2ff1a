// Harness: pgg::io::read_idx on IDX files, plain or gzipped (zlib reads both).
#include <pgg/core/tensor.hpp>
#include <pgg/io/idx.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = pgg_fuzz::input_file().write(data, size);
    try {
        const pgg::Tensor<std::uint8_t> t = pgg::io::read_idx(path);
        unsigned sum = 0;
        for (pgg::index_t i = 0, n = t.numel(); i < n; ++i) sum += t.data()[i];
        pgg_fuzz::keep(sum);
    } catch (const pgg::error&) {
    }
    return 0;
}
