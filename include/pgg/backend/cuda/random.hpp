#pragma once
// Random fills on the GPU: thread b computes Philox block (offset + b), exactly as the CPU backend does,
// so a seed gives the same numbers on both devices (uniforms bit for bit; normals up to the last bit of
// the device's log, sin and cos).
#include "../../core/random.hpp"
#include "launch.hpp"

namespace pgg {

namespace cuda_detail {
template <class T, bool Normal>
__global__ void fill_kernel(T* out, index_t n, const Generator g, T a, T b) {
    constexpr int per = RandomValues<T>::per_block;
    const index_t blocks = (n + per - 1) / per;
    PGG_GRID_LOOP(k, blocks) {
        T v[per];
        if constexpr (Normal) RandomValues<T>::normal(g, std::uint64_t(k), a, b, v);
        else RandomValues<T>::uniform(g, std::uint64_t(k), a, b, v);
        for (int j = 0; j < per && k * per + j < n; ++j) out[k * per + j] = v[j];
    }
}
template <bool Normal, class T>
void fill(Tensor<T, cuda>& t, Generator& gen, T a, T b) {
    constexpr int per = RandomValues<T>::per_block;
    const index_t n = t.numel(), blocks = (n + per - 1) / per;
    const Generator g = gen.take(static_cast<std::uint64_t>(blocks));
    if (n == 0) return;
    fill_kernel<T, Normal><<<grid_for(blocks), block_threads, 0, stream()>>>(t.data(), n, g, a, b);
    PGG_CUDA_LAUNCHED("fill_kernel");
}
} // namespace cuda_detail

template <class T>
void fill_uniform(Tensor<T, cuda>& t, Generator& gen, T lo = T(0), T hi = T(1)) {
    static_assert(std::is_floating_point_v<T>, "fill_uniform: floating-point tensors only");
    cuda_detail::fill<false>(t, gen, lo, hi);
}
template <class T>
void fill_normal(Tensor<T, cuda>& t, Generator& gen, T mean = T(0), T stddev = T(1)) {
    static_assert(std::is_floating_point_v<T>, "fill_normal: floating-point tensors only");
    cuda_detail::fill<true>(t, gen, mean, stddev);
}

} // namespace pgg
