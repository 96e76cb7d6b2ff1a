#pragma once
// Image augmentation on the CPU (kernels/augment.hpp): one OpenMP task per plane; the adjoint
// scatters each output pixel's gradient onto its four source taps, which lie in the same plane.
#include "../../kernels/augment.hpp"
#include "resample.hpp"

namespace pgg {

template <>
struct AugmentKernels<cpu> {
    template <class T>
    static void forward(const T* x, const T* params, AugmentNoise noise, bool with_offset, T* y, index_t N, index_t C, index_t H,
                        index_t W) {
        const index_t hw = H * W;
        cpu_detail::for_planes(N * C, N * C * hw, [&](index_t pl) {
            for (index_t k = pl * hw; k < (pl + 1) * hw; ++k) y[k] = augment_detail::element(x, params, noise, with_offset, k, C, H, W);
        });
    }
    template <class T>
    static void adjoint(const T* dy, const T* params, T* dx, T beta, index_t N, index_t C, index_t H, index_t W) {
        const index_t hw = H * W;
        cpu_detail::for_planes(N * C, N * C * hw, [&](index_t pl) {
            T* d = dx + pl * hw;
            for (index_t q = 0; q < hw; ++q) d[q] = beta == T(0) ? T(0) : beta * d[q];
            const T* p = params + pl / C * augment_param::count;
            for (index_t i = 0; i < H; ++i)
                for (index_t j = 0; j < W; ++j) {
                    const T g = augment_detail::factor(p, i, j, H, W) * dy[pl * hw + i * W + j];
                    if (g == T(0)) continue;
                    const auto t = augment_detail::taps(p, i, j, H, W);
                    for (int q = 0; q < 4; ++q) d[t.at[q]] += t.w[q] * g;
                }
        });
    }
};

} // namespace pgg
