#pragma once
// Image augmentation as a per-sample affine map y = A_n x + b_n (nn/augment.hpp draws A_n and b_n):
// a geometric resampling (bilinear, mirrored at the borders) of an affine coordinate map, a gain, an
// offset, additive Gaussian noise and a cutout square. The per-pixel arithmetic lives here so that
// both backends compute the same numbers; each device's AugmentKernels runs it.
#include <cmath>
#include <cstdint>

#include "../core/random.hpp"
#include "../core/tensor.hpp"

namespace pgg {

// The columns of an augmentation's parameter tensor (N, augment_param::count), one row per sample.
// The affine map takes an output pixel's centre, relative to the image centre, to the source point:
// (u, v) = (a00 X + a01 Y + a02, a10 X + a11 Y + a12), in pixels.
namespace augment_param {
enum : int {
    a00, a01, a02, a10, a11, a12,
    gain,           // y = gain * resampled + offset (+ noise)
    offset,
    noise_sd,       // standard deviation of the sample's additive noise (0: none)
    id_lo, id_hi,   // the sample's id (16 + 16 bits): which noise stream it reads
    cut_x, cut_y,   // centre of the cutout square, as fractions of width and height
    cut_half,       // half its side as a fraction (0: no cutout)
    count
};
}

// The random stream of one draw's noise: sample `id` reads Generator(seed, call << 32 | id) from
// block `first_block` on, so its noise does not depend on the batch it is computed in.
struct AugmentNoise {
    std::uint64_t seed = 0, call = 0;
    static constexpr std::uint64_t first_block = 64;
};

namespace augment_detail {

// Index i mirrored into [0, n) without repeating the edge: -1 -> 1, n -> n - 2.
PGG_HD PGG_INLINE index_t mirror(index_t i, index_t n) {
    if (n == 1) return 0;
    const index_t period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

// The four bilinear taps (indices into an H x W plane, weights) of output pixel (i, j).
template <class T>
struct Taps {
    index_t at[4];
    T w[4];
};
template <class T>
PGG_HD PGG_INLINE Taps<T> taps(const T* p, index_t i, index_t j, index_t H, index_t W) {
    using namespace augment_param;
    using std::floor;
    const T X = T(j) + T(0.5) - T(W) / 2, Y = T(i) + T(0.5) - T(H) / 2;
    // source position in pixel indices; |values| stay far below 2^52 for any sane map
    const T sx = p[a00] * X + p[a01] * Y + p[a02] + T(W) / 2 - T(0.5);
    const T sy = p[a10] * X + p[a11] * Y + p[a12] + T(H) / 2 - T(0.5);
    const T fx0 = floor(sx), fy0 = floor(sy);
    const T fx = sx - fx0, fy = sy - fy0;
    const index_t x0 = index_t(fx0), y0 = index_t(fy0);
    const index_t c0 = mirror(x0, W), c1 = mirror(x0 + 1, W), r0 = mirror(y0, H), r1 = mirror(y0 + 1, H);
    return {{r0 * W + c0, r0 * W + c1, r1 * W + c0, r1 * W + c1},
            {(1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx}};
}

// The factor of output pixel (i, j) in the linear part: the gain, or 0 inside the cutout square.
template <class T>
PGG_HD PGG_INLINE T factor(const T* p, index_t i, index_t j, index_t H, index_t W) {
    using namespace augment_param;
    const T h = p[cut_half];
    if (h > 0) {
        const T dx = (T(j) + T(0.5)) / T(W) - p[cut_x], dy = (T(i) + T(0.5)) / T(H) - p[cut_y];
        if (dx < h && -dx < h && dy < h && -dy < h) return T(0);
    }
    return p[gain];
}

// Element k (within its sample) of sample row p's noise, before scaling by noise_sd.
template <class T>
PGG_HD PGG_INLINE T noise(const T* p, AugmentNoise nz, index_t k) {
    using namespace augment_param;
    const std::uint64_t id = std::uint64_t(p[id_lo]) | std::uint64_t(p[id_hi]) << 16;
    Generator g; // members set one by one: the constructor is host-only
    g.seed = nz.seed;
    g.stream = nz.call << 32 | id;
    g.offset = AugmentNoise::first_block;
    constexpr int per = RandomValues<T>::per_block;
    T v[per];
    RandomValues<T>::normal(g, std::uint64_t(k / per), T(0), T(1), v);
    return v[k % per];
}

// Output element (n, c, i, j) at flat index k: the affine map (with_offset) or its linear part.
template <class T>
PGG_HD PGG_INLINE T element(const T* x, const T* params, AugmentNoise nz, bool with_offset, index_t k, index_t C, index_t H,
                            index_t W) {
    using namespace augment_param;
    const index_t plane = k / (H * W), n = plane / C, i = k / W % H, j = k % W;
    const T* p = params + n * count;
    const T f = factor(p, i, j, H, W);
    if (f == T(0)) return T(0);
    const Taps<T> t = taps(p, i, j, H, W);
    const T* s = x + plane * H * W;
    T v = f * (t.w[0] * s[t.at[0]] + t.w[1] * s[t.at[1]] + t.w[2] * s[t.at[2]] + t.w[3] * s[t.at[3]]);
    if (with_offset) {
        v += p[offset];
        if (p[noise_sd] > 0) v += p[noise_sd] * noise(p, nz, k - n * C * H * W);
    }
    return v;
}

template <class T, class D>
void check_augment(const Tensor<T, D>& x, const Tensor<T, D>& params, const char* what) {
    PGG_CHECK(x.rank() == 4, what, ": NCHW input expected, got ", x.shape());
    PGG_CHECK(params.shape() == Shape({x.n(), index_t(augment_param::count)}), what, ": parameters ", params.shape(), " for ",
              x.n(), " samples (", int(augment_param::count), " each expected)");
}

} // namespace augment_detail

// A device's augmentation kernels, specialised in backend/<device>/augment.hpp: forward writes every
// element of y; adjoint computes dx = A^T dy + beta dx.
template <class Device>
struct AugmentKernels;

// y = A x + b per sample (with_offset), or y = A x: the tangent of the same map.
template <class T, class D>
void augment_forward(const Tensor<T, D>& x, const Tensor<T, D>& params, AugmentNoise noise, bool with_offset, Tensor<T, D>& y) {
    augment_detail::check_augment(x, params, "augment_forward");
    y.resize_(x.shape());
    AugmentKernels<D>::forward(x.data(), params.data(), noise, with_offset, y.data(), x.n(), x.c(), x.h(), x.w());
}
// dx = A^T dy + beta dx.
template <class T, class D>
void augment_adjoint(const Tensor<T, D>& dy, const Tensor<T, D>& params, Tensor<T, D>& dx, T beta = T(0)) {
    augment_detail::check_augment(dy, params, "augment_adjoint");
    PGG_CHECK(dx.shape() == dy.shape(), "augment_adjoint: dx ", dx.shape(), " and dy ", dy.shape(), " differ");
    AugmentKernels<D>::adjoint(dy.data(), params.data(), dx.data(), beta, dy.n(), dy.c(), dy.h(), dy.w());
}

} // namespace pgg
