#pragma once
// Executor<cpu>: evaluates expressions and reductions in one OpenMP-parallel, vectorised pass.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "../../core/ops.hpp"
#include "parallel.hpp"

namespace pgg {

namespace cpu_detail {

// Accumulator type: double for float and integer inputs, so that long sums stay exact enough.
template <class T>
using acc_t = std::conditional_t<std::is_same_v<T, long double>, long double, double>;

template <ReduceOp Op, class A>
inline A reduce_identity() {
    return Op == ReduceOp::max ? -std::numeric_limits<A>::infinity() : A(0);
}
template <ReduceOp Op, class A>
PGG_INLINE A reduce_step(A acc, A v) {
    if constexpr (Op == ReduceOp::max) return v > acc ? v : acc;
    else if constexpr (Op == ReduceOp::sum_sq) return acc + v * v;
    else return acc + v;
}
template <ReduceOp Op, class A>
PGG_INLINE A reduce_combine(A a, A b) {
    if constexpr (Op == ReduceOp::max) return b > a ? b : a;
    else return a + b;
}

// Folds row o of e over offsets [i0, i1).
template <ReduceOp Op, class E, class A = acc_t<typename E::value_type>>
PGG_INLINE A reduce_row(const E& e, index_t o, index_t i0, index_t i1) {
    A acc = reduce_identity<Op, A>();
    if constexpr (Op == ReduceOp::max) {
#pragma omp simd reduction(max : acc)
        for (index_t i = i0; i < i1; ++i) acc = reduce_step<Op, A>(acc, A(e.at(o, i)));
    } else {
#pragma omp simd reduction(+ : acc)
        for (index_t i = i0; i < i1; ++i) acc = reduce_step<Op, A>(acc, A(e.at(o, i)));
    }
    return acc;
}

} // namespace cpu_detail

template <>
struct Executor<cpu> {
    template <class T, class E>
    static void assign(Tensor<T, cpu>& dst, const E& e) {
        T* out = dst.data();
        const index_t n = dst.numel();
        if constexpr (!E::broadcasts) {
#pragma omp parallel for simd schedule(static) if (n >= cpu_detail::parallel_grain)
            for (index_t k = 0; k < n; ++k) out[k] = e[k];
        } else {
            const index_t inner = dst.shape().plane(), rows = dst.shape().planes();
#pragma omp parallel for schedule(static) if (n >= cpu_detail::parallel_grain)
            for (index_t o = 0; o < rows; ++o) {
                T* row = out + o * inner;
#pragma omp simd
                for (index_t i = 0; i < inner; ++i) row[i] = e.at(o, i);
            }
        }
    }

    // Over every element: returns the value (in the expression's element type).
    template <ReduceOp Op, class E>
    static typename E::value_type reduce_all(const Reduction<Op, Axis::all, E>& r) {
        using namespace cpu_detail;
        using A = acc_t<typename E::value_type>;
        const Shape s = r.e.shape();
        const index_t rows = s.planes(), inner = s.plane(), n = s.numel();
        A total = reduce_identity<Op, A>();
        if (n == 0) return typename E::value_type(total);
        // Rows of at least a few thousand elements, so that per-row overhead stays small.
        const index_t rows_per_chunk = std::max<index_t>(1, 4096 / std::max<index_t>(inner, 1));
        const index_t chunks = (rows + rows_per_chunk - 1) / rows_per_chunk;
        std::vector<A> partial(static_cast<std::size_t>(chunks));
#pragma omp parallel for schedule(static) if (n >= parallel_grain)
        for (index_t ch = 0; ch < chunks; ++ch) {
            A acc = reduce_identity<Op, A>();
            for (index_t o = ch * rows_per_chunk; o < std::min(rows, (ch + 1) * rows_per_chunk); ++o)
                acc = reduce_combine<Op, A>(acc, reduce_row<Op>(r.e, o, 0, inner));
            partial[ch] = acc;
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
        if constexpr (Ax == Axis::per_sample) {
#pragma omp parallel for schedule(static) if (par)
            for (index_t n = 0; n < N; ++n) {
                A acc = reduce_identity<Op, A>();
                for (index_t c = 0; c < C; ++c) acc = reduce_combine<Op, A>(acc, reduce_row<Op>(r.e, n * C + c, 0, inner));
                out[n] = T(acc * scale);
            }
        } else if constexpr (Ax == Axis::per_channel) {
#pragma omp parallel for schedule(static) if (par)
            for (index_t c = 0; c < C; ++c) {
                A acc = reduce_identity<Op, A>();
                for (index_t n = 0; n < N; ++n) acc = reduce_combine<Op, A>(acc, reduce_row<Op>(r.e, n * C + c, 0, inner));
                out[c] = T(acc * scale);
            }
        } else { // over_channels: out[n, i] folds e(n*C + c, i) over c; blocks of pixels per thread
            constexpr index_t block = 256;
            const index_t blocks = (inner + block - 1) / block;
#pragma omp parallel for schedule(static) if (par)
            for (index_t nb = 0; nb < N * blocks; ++nb) {
                const index_t n = nb / blocks, i0 = (nb % blocks) * block, i1 = std::min(inner, i0 + block);
                A acc[block];
                for (index_t i = i0; i < i1; ++i) acc[i - i0] = reduce_identity<Op, A>();
                for (index_t c = 0; c < C; ++c) {
                    const index_t o = n * C + c;
#pragma omp simd
                    for (index_t i = i0; i < i1; ++i) acc[i - i0] = reduce_step<Op, A>(acc[i - i0], A(r.e.at(o, i)));
                }
                for (index_t i = i0; i < i1; ++i) out[n * inner + i] = T(acc[i - i0] * scale);
            }
        }
    }
};

} // namespace pgg
