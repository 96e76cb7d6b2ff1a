#pragma once
// The PG-GAN generator and discriminator (docs/cxr_pggan.md, "The PG-GAN in detail") as compile-time compositions of shared block
// types, for a network width W (fmap_base, fmap_max, latent_size) and C image channels:
//   G<R, C, W>, D<R, C, W>:          the stable networks at resolution R;
//   GFade<R, C, W>, DFade<R, C, W>:  the networks while R fades in over R/2 (R >= 8): a Lerp between
//                                    the new path and the old one, alpha = lod - floor(lod).
// Blocks are named b4, b8, ...; the image layers torgb<R> and fromrgb<R>. Names never change when the
// network grows, so trained weights carry over by name.
#include <pgg/pgg.hpp>

#include <algorithm>

namespace pggan {

using namespace pgg::nn;

// Feature maps at resolution R: min(fmap_base / 2^stage, fmap_max), stage = log2(R) - 1.
template <int FmapBase, int FmapMax, int LatentSize>
struct Width {
    static constexpr int fmap_base = FmapBase, fmap_max = FmapMax, latent_size = LatentSize;
    static constexpr int nf(int res) { return std::max(1, std::min(2 * FmapBase / res, FmapMax)); }
};
// The PG-GAN paper's networks (the official code's defaults).
using Official = Width<8192, 512, 512>;
// The CPU demo's: 64 feature maps up to 16x16, then halving (32 at 32x32, 16 at 64x64, ...).
using Narrow = Width<512, 64, 64>;

namespace detail {
// "torgb" + 64 -> "torgb64" at compile time.
template <FixedString Prefix, int R>
constexpr auto numbered() {
    constexpr std::size_t len = sizeof(Prefix.text) - 1;
    constexpr std::size_t digits = R >= 1000 ? 4 : R >= 100 ? 3 : R >= 10 ? 2 : 1;
    char buf[len + digits + 1] = {};
    std::copy_n(Prefix.text, len, buf);
    for (std::size_t i = 0, r = R; i < digits; ++i, r /= 10) buf[len + digits - 1 - i] = char('0' + r % 10);
    return FixedString<len + digits + 1>(buf);
}
} // namespace detail

// --- generator ----------------------------------------------------------------------------------

// 4x4: the latent through a dense layer (gain sqrt(2)/4, one bias per feature map), then a conv.
template <class W>
using GBlock4 = Sequential<Named<"dense", Dense<W::latent_size, W::nf(4) * 16, LayerOptions{.bias = false, .gain = sqrt2 / 4}>>,
                           Reshape<W::nf(4), 4, 4>, Named<"dense", Bias<W::nf(4)>>, LeakyReLU<>, PixelNorm,
                           Named<"conv", Conv2d<W::nf(4), W::nf(4), 3, equalized>>, LeakyReLU<>, PixelNorm>;

// Every higher block: nearest 2x upsampling, two 3x3 convolutions, each with leaky ReLU and pixel norm.
template <int R, class W>
using GBlock = Sequential<Upsample2x, Named<"conv0", Conv2d<W::nf(R / 2), W::nf(R), 3, equalized>>, LeakyReLU<>, PixelNorm,
                          Named<"conv1", Conv2d<W::nf(R), W::nf(R), 3, equalized>>, LeakyReLU<>, PixelNorm>;

// 1x1 convolution to the image channels, gain 1, linear.
template <int R, int C, class W>
using ToRGB = Named<detail::numbered<"torgb", R>(), Conv2d<W::nf(R), C, 1, equalized_gain<1.0f>>>;

// --- discriminator ------------------------------------------------------------------------------

template <int R, int C, class W>
using FromRGB = Named<detail::numbered<"fromrgb", R>(), Sequential<Conv2d<C, W::nf(R), 1, equalized>, LeakyReLU<>>>;

// A block above 4x4: conv, then conv to the lower resolution's width, 2x2 average pooling, THEN the
// bias and leaky ReLU (the official fused_scale order).
template <int R, class W>
using DBlock = Sequential<Named<"conv0", Conv2d<W::nf(R), W::nf(R), 3, equalized>>, LeakyReLU<>,
                          Named<"conv1", Conv2d<W::nf(R), W::nf(R / 2), 3, LayerOptions{.bias = false, .gain = sqrt2}>>,
                          AvgPool2x, Named<"conv1", Bias<W::nf(R / 2)>>, LeakyReLU<>>;

// 4x4: minibatch stddev (+1 map), conv, dense, dense to one score (gain 1, linear).
template <class W>
using DBlock4 = Sequential<MinibatchStddev<4>, Named<"conv", Conv2d<W::nf(4) + 1, W::nf(4), 3, equalized>>, LeakyReLU<>, Flatten,
                           Named<"dense0", Dense<W::nf(4) * 16, W::nf(4), equalized>>, LeakyReLU<>,
                           Named<"dense1", Dense<W::nf(4), 1, equalized_gain<1.0f>>>>;

namespace detail {
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
// Sequential<pixel norm, b4 .. bR>: latent to features at R.
template <int R, class W>
struct GTrunk {
    using type = typename Append<typename GTrunk<R / 2, W>::type, Named<numbered<"b", R>(), GBlock<R, W>>>::type;
};
template <class W>
struct GTrunk<4, W> {
    using type = Sequential<PixelNorm, Named<"b4", GBlock4<W>>>;
};
// Sequential<bR .. b4>: features at R to a score.
template <int R, class W>
struct DTrunk {
    using type = typename Prepend<Named<numbered<"b", R>(), DBlock<R, W>>, typename DTrunk<R / 2, W>::type>::type;
};
template <class W>
struct DTrunk<4, W> {
    using type = Sequential<Named<"b4", DBlock4<W>>>;
};
} // namespace detail

template <int R, class W>
using GTrunk = typename detail::GTrunk<R, W>::type;
template <int R, class W>
using DTrunk = typename detail::DTrunk<R, W>::type;

// Stable networks at resolution R: latent -> image, image -> score.
template <int R, int C, class W = Official>
using G = typename detail::Append<GTrunk<R, W>, ToRGB<R, C, W>>::type;
template <int R, int C, class W = Official>
using D = typename detail::Prepend<FromRGB<R, C, W>, DTrunk<R, W>>::type;

// While R fades in (alpha = 1: only the old R/2 path, alpha = 0: only the new one):
//   G: lerp(torgbR(bR(x)), upsample(torgb(R/2)(x)), alpha) on the trunk's features at R/2;
//   D: lerp(bR(fromrgbR(img)), fromrgb(R/2)(avgpool(img)), alpha), then the trunk from R/2.
template <int R, int C, class W = Official>
using GFade = typename detail::Append<
    GTrunk<R / 2, W>, Named<"", Lerp<Named<"", Sequential<Named<detail::numbered<"b", R>(), GBlock<R, W>>, ToRGB<R, C, W>>>,
                                     Named<"", Sequential<ToRGB<R / 2, C, W>, Upsample2x>>>>>::type;
template <int R, int C, class W = Official>
using DFade = typename detail::Prepend<
    Named<"", Lerp<Named<"", Sequential<FromRGB<R, C, W>, Named<detail::numbered<"b", R>(), DBlock<R, W>>>>,
                   Named<"", Sequential<AvgPool2x, FromRGB<R / 2, C, W>>>>>,
    DTrunk<R / 2, W>>::type;

} // namespace pggan
