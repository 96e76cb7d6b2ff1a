#pragma once
// The fashion_mnist example's network: two 3x3 convolutions with max pooling, then two dense layers.
// Parameter names match a PyTorch module with attributes conv1, conv2, fc1, fc2.
#include <pgg/pgg.hpp>

namespace fashion {

using namespace pgg::nn;

using Model = Sequential<Named<"conv1", Conv2d<1, 32, 3>>, ReLU, MaxPool2x,          // 28 -> 14
                         Named<"conv2", Conv2d<32, 64, 3>>, ReLU, MaxPool2x,         // 14 -> 7
                         Flatten, Named<"fc1", Dense<64 * 7 * 7, 128>>, ReLU, Named<"fc2", Dense<128, 10>>>;

// Pixel statistics of the Fashion-MNIST training set, to standardise inputs.
inline constexpr float pixel_mean = 0.2860f, pixel_std = 0.3530f;

// Converts images[index[i]] (uint8, N x 1 x 28 x 28) into a float batch, standardised.
inline void make_batch(const pgg::Tensor<std::uint8_t>& images, const std::vector<pgg::index_t>& index, pgg::index_t begin,
                       pgg::index_t count, pgg::Tensor<float>& x) {
    const pgg::index_t plane = images.numel() / images.n();
    if (!(x.shape() == pgg::Shape{count, 1, images.h(), images.w()})) x = pgg::Tensor<float>({count, 1, images.h(), images.w()});
    for (pgg::index_t i = 0; i < count; ++i) {
        const std::uint8_t* src = images.data() + index[begin + i] * plane;
        float* dst = x.data() + i * plane;
        for (pgg::index_t q = 0; q < plane; ++q) dst[q] = (float(src[q]) * (1.0f / 255.0f) - pixel_mean) / pixel_std;
    }
}

} // namespace fashion
