#pragma once
// The PG-GAN generator and discriminator (pggan-spec.md) as compile-time compositions of shared
// block types: G<R, C> and D<R, C> are the networks at resolution R for C image channels. Growing from
// R to 2R keeps every block of R and adds one; the blocks' names (b4, b8, ...) stay the same, so
// trained weights carry over by name.
#include <pgg/pgg.hpp>

#include <algorithm>

namespace pggan {

using namespace pgg::nn;

// Feature maps at a resolution: min(8192 / 2^stage, 512), stage = log2(R) - 1.
constexpr int nf(int res) { return std::min(16384 / res, 512); }
inline constexpr int latent_size = 512;

// --- generator ----------------------------------------------------------------------------------

// 4x4: the latent through a dense layer (gain sqrt(2)/4, one bias per feature map), then a conv.
using GBlock4 = Sequential<Named<"dense", Dense<latent_size, nf(4) * 16, LayerOptions{.bias = false, .gain = sqrt2 / 4}>>,
                           Reshape<nf(4), 4, 4>, Named<"dense", Bias<nf(4)>>, LeakyReLU<>, PixelNorm,
                           Named<"conv", Conv2d<nf(4), nf(4), 3, equalized>>, LeakyReLU<>, PixelNorm>;

// Every higher block: nearest 2x upsampling, two 3x3 convolutions, each with leaky ReLU and pixel norm.
template <int R>
using GBlock = Sequential<Upsample2x, Named<"conv0", Conv2d<nf(R / 2), nf(R), 3, equalized>>, LeakyReLU<>, PixelNorm,
                          Named<"conv1", Conv2d<nf(R), nf(R), 3, equalized>>, LeakyReLU<>, PixelNorm>;

// 1x1 convolution to the image channels, gain 1, linear.
template <int R, int C>
using ToRGB = Conv2d<nf(R), C, 1, equalized_gain<1.0f>>;

// --- discriminator ------------------------------------------------------------------------------

template <int R, int C>
using FromRGB = Sequential<Conv2d<C, nf(R), 1, equalized>, LeakyReLU<>>;

// A block above 4x4: conv, then conv to the lower resolution's width, 2x2 average pooling, THEN the
// bias and leaky ReLU (the official fused_scale order).
template <int R>
using DBlock = Sequential<Named<"conv0", Conv2d<nf(R), nf(R), 3, equalized>>, LeakyReLU<>,
                          Named<"conv1", Conv2d<nf(R), nf(R / 2), 3, LayerOptions{.bias = false, .gain = sqrt2}>>, AvgPool2x,
                          Named<"conv1", Bias<nf(R / 2)>>, LeakyReLU<>>;

// 4x4: minibatch stddev (+1 map), conv, dense, dense to one score (gain 1, linear).
using DBlock4 = Sequential<MinibatchStddev<4>, Named<"conv", Conv2d<nf(4) + 1, nf(4), 3, equalized>>, LeakyReLU<>, Flatten,
                           Named<"dense0", Dense<nf(4) * 16, nf(4), equalized>>, LeakyReLU<>,
                           Named<"dense1", Dense<nf(4), 1, equalized_gain<1.0f>>>>;

namespace detail {
template <FixedString Name, class... Ls>
struct Cat;
// Builds Sequential<blocks b4 .. bR> with names "b4", "b8", ... by recursion on R.
template <int R>
struct GTrunk;
template <>
struct GTrunk<4> {
    using type = Sequential<PixelNorm, Named<"b4", GBlock4>>;
};
template <class S, class L>
struct Append;
template <class... Ls, class L>
struct Append<Sequential<Ls...>, L> {
    using type = Sequential<Ls..., L>;
};
template <class L, class S>
struct Prepend;
template <class L, class... Ls>
struct Prepend<L, Sequential<Ls...>> {
    using type = Sequential<L, Ls...>;
};
template <int R>
constexpr auto block_name() {
    if constexpr (R == 8) return FixedString("b8");
    else if constexpr (R == 16) return FixedString("b16");
    else if constexpr (R == 32) return FixedString("b32");
    else if constexpr (R == 64) return FixedString("b64");
    else if constexpr (R == 128) return FixedString("b128");
    else if constexpr (R == 256) return FixedString("b256");
    else if constexpr (R == 512) return FixedString("b512");
    else return FixedString("b1024");
}
template <int R>
struct GTrunk {
    using type = typename Append<typename GTrunk<R / 2>::type, Named<block_name<R>(), GBlock<R>>>::type;
};
template <int R>
struct DTrunk;
template <>
struct DTrunk<4> {
    using type = Sequential<Named<"b4", DBlock4>>;
};
template <int R>
struct DTrunk {
    using type = typename Prepend<Named<block_name<R>(), DBlock<R>>, typename DTrunk<R / 2>::type>::type;
};
} // namespace detail

// The generator's trunk (latent to features at R) and the discriminator's (features at R to a score).
template <int R>
using GTrunk = typename detail::GTrunk<R>::type;
template <int R>
using DTrunk = typename detail::DTrunk<R>::type;

// Stable networks at resolution R (no fade-in): latent -> image, image -> score.
template <int R, int C>
using G = typename detail::Append<GTrunk<R>, Named<"torgb", ToRGB<R, C>>>::type;
template <int R, int C>
using D = typename detail::Prepend<Named<"fromrgb", FromRGB<R, C>>, DTrunk<R>>::type;

} // namespace pggan
