// Harness: pgg::io::NpyMap (memory-mapped .npy reading) for the element types pgg stores: uint8
// (dataset levels), int32 (labels) and float. An accepted file must map exactly the bytes its shape
// names: every element is read.
#include <pgg/core/tensor.hpp>
#include <pgg/io/npy.hpp>

#include "fuzz_common.hpp"

namespace {
template <class T>
void map_and_read(const std::string& path) {
    try {
        const pgg::io::NpyMap<T> m(path);
        std::size_t n = 1;
        for (pgg::index_t d : m.shape()) // an accepted shape has a representable element count and byte size
            if (d < 0 || __builtin_mul_overflow(n, std::size_t(d), &n)) std::abort();
        if (std::size_t bytes = 0; __builtin_mul_overflow(n, sizeof(T), &bytes)) std::abort();
        const auto* bytes = reinterpret_cast<const unsigned char*>(m.data());
        unsigned sum = 0;
        for (std::size_t i = 0; i < n * sizeof(T); ++i) sum += bytes[i];
        pgg_fuzz::keep(sum);
    } catch (const pgg::error&) {
    }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = pgg_fuzz::input_file().write(data, size);
    map_and_read<std::uint8_t>(path);
    map_and_read<std::int32_t>(path);
    map_and_read<float>(path);
    return 0;
}
