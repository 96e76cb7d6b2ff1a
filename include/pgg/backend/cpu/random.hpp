#pragma once
// Random fills on the CPU: block b of a fill is Philox block (offset + b), whatever thread computes it.
#include <algorithm>
#include <numeric>
#include <vector>

#include "../../core/random.hpp"
#include "../../core/tensor.hpp"
#include "parallel.hpp"

namespace pgg {

namespace cpu_detail {
template <class T, class F>
void fill_blocks(Tensor<T, cpu>& t, Generator& gen, F&& block_fn) {
    constexpr int per = RandomValues<T>::per_block;
    const index_t n = t.numel(), blocks = (n + per - 1) / per;
    const Generator g = gen.take(static_cast<std::uint64_t>(blocks));
    T* out = t.data();
#pragma omp parallel for schedule(static) if (n >= parallel_grain)
    for (index_t b = 0; b < blocks; ++b) {
        T v[per];
        block_fn(g, static_cast<std::uint64_t>(b), v);
        for (int j = 0; j < per && b * per + j < n; ++j) out[b * per + j] = v[j];
    }
}
} // namespace cpu_detail

// Fills t with uniform values in (lo, hi) and advances gen.
template <class T>
void fill_uniform(Tensor<T, cpu>& t, Generator& gen, T lo = T(0), T hi = T(1)) {
    static_assert(std::is_floating_point_v<T>, "fill_uniform: floating-point tensors only");
    cpu_detail::fill_blocks(t, gen, [=](const Generator& g, std::uint64_t b, T* v) { RandomValues<T>::uniform(g, b, lo, hi, v); });
}

// Fills t with normal values N(mean, stddev^2) and advances gen.
template <class T>
void fill_normal(Tensor<T, cpu>& t, Generator& gen, T mean = T(0), T stddev = T(1)) {
    static_assert(std::is_floating_point_v<T>, "fill_normal: floating-point tensors only");
    cpu_detail::fill_blocks(t, gen, [=](const Generator& g, std::uint64_t b, T* v) { RandomValues<T>::normal(g, b, mean, stddev, v); });
}

// A seeded permutation of [0, n): Fisher-Yates on Philox draws (shuffled training order, dataset order).
inline std::vector<index_t> random_permutation(index_t n, Generator& gen) {
    std::vector<index_t> p(std::size_t(std::max<index_t>(n, 0)));
    std::iota(p.begin(), p.end(), index_t(0));
    if (n < 2) return p;
    Tensor<double> u({n});
    fill_uniform(u, gen);
    for (index_t i = n - 1; i > 0; --i) std::swap(p[i], p[index_t(u.data()[i] * double(i + 1))]);
    return p;
}

} // namespace pgg
