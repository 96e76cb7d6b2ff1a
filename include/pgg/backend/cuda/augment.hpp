#pragma once
// Image augmentation on the GPU (kernels/augment.hpp): one thread per output element; the adjoint
// scales dx by beta, then adds each output's gradient onto its four source taps atomically.
#include "../../kernels/augment.hpp"
#include "launch.hpp"

namespace pgg {

namespace cuda_detail {
template <class T>
__global__ void augment_kernel(index_t n, const T* x, const T* params, AugmentNoise noise, bool with_offset, T* y, index_t C,
                               index_t H, index_t W) {
    PGG_GRID_LOOP(k, n) { y[k] = augment_detail::element(x, params, noise, with_offset, k, C, H, W); }
}
template <class T>
__global__ void augment_scale_kernel(index_t n, T* d, T beta) {
    PGG_GRID_LOOP(k, n) { d[k] = beta == T(0) ? T(0) : beta * d[k]; }
}
template <class T>
__global__ void augment_adjoint_kernel(index_t n, const T* dy, const T* params, T* dx, index_t C, index_t H, index_t W) {
    PGG_GRID_LOOP(k, n) {
        const index_t plane = k / (H * W), i = k / W % H, j = k % W;
        const T* p = params + plane / C * augment_param::count;
        const T g = augment_detail::factor(p, i, j, H, W) * dy[k];
        if (g == T(0)) continue;
        const auto t = augment_detail::taps(p, i, j, H, W);
        for (int q = 0; q < 4; ++q) atomicAdd(dx + plane * H * W + t.at[q], t.w[q] * g);
    }
}
} // namespace cuda_detail

template <>
struct AugmentKernels<cuda> {
    template <class T>
    static void forward(const T* x, const T* params, AugmentNoise noise, bool with_offset, T* y, index_t N, index_t C, index_t H,
                        index_t W) {
        const index_t n = N * C * H * W;
        cuda_detail::launch(cuda_detail::augment_kernel<T>, n, "augment_kernel", n, x, params, noise, with_offset, y, C, H, W);
    }
    template <class T>
    static void adjoint(const T* dy, const T* params, T* dx, T beta, index_t N, index_t C, index_t H, index_t W) {
        const index_t n = N * C * H * W;
        cuda_detail::launch(cuda_detail::augment_scale_kernel<T>, n, "augment_scale_kernel", n, dx, beta);
        cuda_detail::launch(cuda_detail::augment_adjoint_kernel<T>, n, "augment_adjoint_kernel", n, dy, params, dx, C, H, W);
    }
};

} // namespace pgg
