#pragma once
// The lung-segmentation UNet (Ronneberger et al. 2015) with Gaussian dropout after every pair of 3x3
// convolution and ReLU, as the source study describes. One Sequential type per (base width, depth):
//
//   level(C, d) = conv3x3 C, ReLU, dropout, conv3x3 C, ReLU, dropout,
//                 [ skip-concat( maxpool 2x2, level(2C, d - 1), transposed conv 2x2 stride 2 -> C ),
//                   conv3x3 C, ReLU, dropout, conv3x3 C, ReLU, dropout ]            (only when d > 0)
//   UNet = level(base, depth), conv1x1 -> 1 logit per pixel
//
// The network returns logits: the loss is binary cross-entropy on logits (stable for any value) plus
// soft Dice on sigmoid(logits), and inference applies the sigmoid. The input's sides must be multiples
// of 2^depth. The dropout rate is set at run time (set_dropout).
#include <cmath>
#include <cstdint>
#include <string>

#include <pgg/pgg.hpp>

namespace cxr_unet {

using namespace pgg::nn;

// Conv2d with PyTorch's initialisation; the rate of the dropout layers is set at run time.
template <int In, int C>
using ConvPair = Sequential<Named<"conv1", Conv2d<In, C, 3>>, ReLU, GaussianDropout<>, Named<"conv2", Conv2d<C, C, 3>>, ReLU,
                            GaussianDropout<>>;

template <int In, int C, int Depth>
struct Level {
    using Inner = Sequential<MaxPool2x, Named<"down", typename Level<C, 2 * C, Depth - 1>::type>,
                             Named<"up", ConvTranspose2d<2 * C, C, 2, LayerOptions{.stride = 2, .padding = 0}>>>;
    using type = Sequential<Named<"enc", ConvPair<In, C>>, SkipConcat<Inner>, Named<"dec", ConvPair<2 * C, C>>>;
};
template <int In, int C>
struct Level<In, C, 0> {
    using type = ConvPair<In, C>;
};

template <int Base, int Depth, int Channels = 1>
using UNet = Sequential<Named<"body", typename Level<Channels, Base, Depth>::type>, Named<"head", Conv2d<Base, 1, 1>>>;

// The UNet paper's initialisation: weights N(0, 2 / fan_in) (He et al. 2015, so that the signal keeps
// its scale through the ReLUs of a deep net without normalisation layers), biases zero. fan_in is
// PyTorch's for the weight's shape: shape[1] x kernel area (Cout x 4 for the transposed convolutions).
// PyTorch's default uniform init shrinks the signal ~2.4x per layer: at 64x64 it reached a validation
// Dice of 0.75 in 12 epochs where this init reached 0.89 (docs/cxr_unet.md).
template <class Net>
void reset_parameters_he(Net& net, pgg::Generator& g) {
    net.for_each_parameter([&](const std::string&, auto& v, auto&) {
        if (v.rank() == 1) {
            v.zero_();
            return;
        }
        const double fan_in = double(v.numel() / v.shape()[0]);
        pgg::fill_normal(v, g, 0.0f, float(std::sqrt(2.0 / fan_in)));
    });
}

} // namespace cxr_unet
