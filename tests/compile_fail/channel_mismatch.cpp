// Must not compile: the second convolution expects 8 channels and receives 4. The diagnostic names
// the layer index and both counts through ChannelCheck<2, 8, 4> (checked by CTest).
#include <pgg/nn.hpp>

using Bad = pgg::nn::Sequential<pgg::nn::Conv2d<1, 4, 3>, pgg::nn::LeakyReLU<>, pgg::nn::Conv2d<8, 8, 3>>;
pgg::nn::Net<Bad> net;
