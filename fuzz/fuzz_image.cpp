// Harness: pgg::io::decode_image (what read_image runs on a file's bytes) on PNG, JPEG, BMP, PGM/PPM,
// TGA and whatever else stb recognises. The channel request (0, 1 or 3) follows the input's length,
// so every conversion path is exercised without decoding each input three times.
#include <pgg/core/ops.hpp>
#include <pgg/backend/cpu/eval.hpp>
#include <pgg/io/image.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const int requests[3] = {0, 1, 3};
    const int channels = requests[size % 3];
    try {
        const pgg::Tensor<std::uint8_t> img = pgg::io::decode_image(pgg_fuzz::as_text(data, size), "fuzz-input", channels);
        if (img.rank() != 4 || img.n() != 1 || !(img.c() == 1 || img.c() == 3) || (channels && img.c() != channels))
            std::abort(); // the documented shape (1, C, H, W)
        unsigned sum = 0;
        for (pgg::index_t i = 0, n = img.numel(); i < n; ++i) sum += img.data()[i];
        pgg_fuzz::keep(sum);
    } catch (const pgg::error&) {
    }
    return 0;
}
