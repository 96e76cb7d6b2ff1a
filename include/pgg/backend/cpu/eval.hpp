#pragma once
// Executor<cpu>: evaluates expressions and reductions in one OpenMP-parallel, vectorised pass.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../../core/ops.hpp"
#include "parallel.hpp"

namespace pgg {

namespace cpu_detail {

using detail::reduce_combine, detail::reduce_identity, detail::reduce_step;

// Accumulator type: double for float and integer inputs, so that long sums stay exact enough.
template <class T>
using acc_t = std::conditional_t<std::is_same_v<T, long double>, long double, double>;

// Folds get(i) for i in [i0, i1) into 32 independent lanes, so that the compiler vectorises the
// loop and the additions do not wait on one another (omp simd reductions stayed scalar here).
template <ReduceOp Op, class A, class F>
PGG_INLINE A fold(index_t i0, index_t i1, F&& get) {
    constexpr int L = 32;
    A lane[L];
    for (int l = 0; l < L; ++l) lane[l] = reduce_identity<Op, A>();
    index_t i = i0;
    for (; i + L <= i1; i += L)
#pragma GCC unroll 32
        for (int l = 0; l < L; ++l) lane[l] = reduce_step<Op, A>(lane[l], A(get(i + l)));
    A acc = reduce_identity<Op, A>();
    for (; i < i1; ++i) acc = reduce_step<Op, A>(acc, A(get(i)));
    for (int l = 0; l < L; ++l) acc = reduce_combine<Op, A>(acc, lane[l]);
    return acc;
}

// Folds row o of e over offsets [i0, i1).
template <ReduceOp Op, class E, class A = acc_t<typename E::value_type>>
PGG_INLINE A reduce_row(const E& e, index_t o, index_t i0, index_t i1) {
    return fold<Op, A>(i0, i1, [&](index_t i) { return e.at(o, i); });
}

// Folds flat elements [k0, k1) of an expression without broadcasts.
template <ReduceOp Op, class E, class A = acc_t<typename E::value_type>>
PGG_INLINE A reduce_flat(const E& e, index_t k0, index_t k1) {
    return fold<Op, A>(k0, k1, [&](index_t k) { return e[k]; });
}

// Folds the elements of sample n (all its channels and pixels).
template <ReduceOp Op, class E, class A = acc_t<typename E::value_type>>
PGG_INLINE A reduce_sample(const E& e, index_t n, index_t C, index_t inner) {
    if constexpr (!E::broadcasts) { // contiguous: one flat run
        return reduce_flat<Op>(e, n * C * inner, (n + 1) * C * inner);
    } else {
        A acc = reduce_identity<Op, A>();
        for (index_t c = 0; c < C; ++c) acc = reduce_combine<Op, A>(acc, reduce_row<Op>(e, n * C + c, 0, inner));
        return acc;
    }
}

} // namespace cpu_detail

template <>
struct Executor<cpu> {
    template <class T, class E>
    static void assign(Tensor<T, cpu>& dst, const E& expr) {
        T* out = dst.data();
        const index_t n = dst.numel();
        [[maybe_unused]] const bool par = n >= cpu_detail::parallel_grain;
        // Each thread works on its own copy of the expression: the compiler then knows that writes to
        // `out` cannot change the pointers inside it, and vectorises the loop (10x on a where()).
        if constexpr (!E::broadcasts) {
#pragma omp parallel if (par)
            {
                const E e = expr;
                const auto [k0, k1] = cpu_detail::split_range(n, cpu_detail::num_threads(), cpu_detail::thread_id());
#pragma omp simd
                for (index_t k = k0; k < k1; ++k) out[k] = e[k];
            }
        } else {
            const index_t inner = dst.shape().plane(), rows = dst.shape().planes();
#pragma omp parallel if (par)
            {
                const E e = expr;
#pragma omp for schedule(static)
                for (index_t o = 0; o < rows; ++o) {
                    T* row = out + o * inner;
#pragma omp simd
                    for (index_t i = 0; i < inner; ++i) row[i] = e.at(o, i);
                }
            }
        }
    }

    // True when no element of the tensors is NaN or Inf (a non-finite value makes the sum of squares so).
    template <class T>
    static bool all_finite(const std::vector<const Tensor<T, cpu>*>& tensors) {
        for (const auto* t : tensors)
            if (t->numel() && !std::isfinite(double(sum_sq(*t)))) return false;
        return true;
    }

    // Over every element: returns the value (in the expression's element type).
    template <ReduceOp Op, class E>
    static typename E::value_type reduce_all(const Reduction<Op, Axis::all, E>& r) {
        using namespace cpu_detail;
        using A = acc_t<typename E::value_type>;
        const Shape s = r.e.shape();
        const index_t n = s.numel();
        A total = reduce_identity<Op, A>();
        if (n == 0) return typename E::value_type(total);
        // Chunks of whole samples, or of 4096 elements when there is no broadcast to respect.
        const index_t per = E::broadcasts ? s.c() * s.plane() : 4096;
        const index_t chunks = (n + per - 1) / per;
        std::vector<A> partial(static_cast<std::size_t>(chunks));
#pragma omp parallel if (n >= parallel_grain)
        {
            const E e = r.e; // a private copy: see assign()
#pragma omp for schedule(static)
            for (index_t ch = 0; ch < chunks; ++ch) {
                if constexpr (E::broadcasts) partial[ch] = reduce_sample<Op>(e, ch, s.c(), s.plane());
                else partial[ch] = reduce_flat<Op>(e, ch * per, std::min(n, (ch + 1) * per));
            }
        }
        for (A p : partial) total = reduce_combine<Op, A>(total, p);
        if constexpr (Op == ReduceOp::mean) total /= A(n);
        return typename E::value_type(total);
    }

    template <class T, ReduceOp Op, Axis Ax, class E>
    static void reduce_into(Tensor<T, cpu>& dst, const Reduction<Op, Ax, E>& r) {
        using namespace cpu_detail;
        using A = acc_t<typename E::value_type>;
        static_assert(Ax != Axis::all, "use sum()/mean()/... for a reduction over everything");
        const Shape s = r.e.shape();
        const index_t N = s.n(), C = s.c(), inner = s.plane();
        const A scale = Op == ReduceOp::mean ? A(1) / A(std::max<index_t>(r.count(), 1)) : A(1);
        T* out = dst.data();
        const bool par = s.numel() >= parallel_grain;
        constexpr index_t block = 256; // pixels per task of an over_channels reduction
        const index_t blocks = (inner + block - 1) / block;
#pragma omp parallel if (par)
        {
            const E e = r.e; // a private copy: see assign()
            if constexpr (Ax == Axis::per_sample) {
#pragma omp for schedule(static)
                for (index_t n = 0; n < N; ++n) out[n] = T(reduce_sample<Op>(e, n, C, inner) * scale);
            } else if constexpr (Ax == Axis::per_channel) {
#pragma omp for schedule(static)
                for (index_t c = 0; c < C; ++c) {
                    A acc = reduce_identity<Op, A>();
                    for (index_t n = 0; n < N; ++n) acc = reduce_combine<Op, A>(acc, reduce_row<Op>(e, n * C + c, 0, inner));
                    out[c] = T(acc * scale);
                }
            } else { // over_channels: out[n, i] folds e(n*C + c, i) over c
#pragma omp for schedule(static)
                for (index_t nb = 0; nb < N * blocks; ++nb) {
                    const index_t n = nb / blocks, i0 = (nb % blocks) * block, i1 = std::min(inner, i0 + block);
                    A acc[block];
                    for (index_t i = i0; i < i1; ++i) acc[i - i0] = reduce_identity<Op, A>();
                    for (index_t c = 0; c < C; ++c) {
                        const index_t o = n * C + c;
#pragma omp simd
                        for (index_t i = i0; i < i1; ++i) acc[i - i0] = reduce_step<Op, A>(acc[i - i0], A(e.at(o, i)));
                    }
                    for (index_t i = i0; i < i1; ++i) out[n * inner + i] = T(acc[i - i0] * scale);
                }
            }
        }
    }
};

} // namespace pgg
