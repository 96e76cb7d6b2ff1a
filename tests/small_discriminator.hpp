#pragma once
// A small discriminator for the second-order tests: fromRGB, a block with a downsampling conv,
// minibatch stddev, the 4x4 head (8x8 inputs, 1 channel).
#include <pgg/pgg.hpp>

namespace pggtest {
using namespace pgg::nn;
using SmallBlock = Sequential<Named<"conv0", Conv2d<4, 4, 3, equalized>>, LeakyReLU<>, Named<"conv1", Conv2d<4, 6, 3, equalized>>,
                              AvgPool2x, LeakyReLU<>>;
using SmallD = Sequential<Named<"fromrgb", Conv2d<1, 4, 1, equalized>>, LeakyReLU<>, Named<"block8", SmallBlock>,
                          MinibatchStddev<2>, Named<"conv", Conv2d<7, 6, 3, equalized>>, LeakyReLU<>, Flatten,
                          Named<"dense0", Dense<96, 8, equalized>>, LeakyReLU<>, Named<"dense1", Dense<8, 1, equalized_gain<1.0f>>>>;
} // namespace pggtest
