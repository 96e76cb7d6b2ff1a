#pragma once
// Executor<cuda>: an expression is evaluated by one kernel instantiated from its type (the same node
// objects as on the CPU, read through their flat operator[]); reductions accumulate in double within a
// block and combine the blocks' partial results in a fixed order, so results do not depend on timing.
#include <algorithm>
#include <limits>

#include "../../core/ops.hpp"
#include "../cpu/eval.hpp"
#include "allocator.hpp"
#include "launch.hpp"
#include "transfer.hpp"

namespace pgg {

namespace cuda_detail {

template <class T, class E>
__global__ void assign_kernel(T* out, const E e, index_t n) {
    PGG_GRID_LOOP(k, n) out[k] = e[k];
}

using detail::reduce_combine, detail::reduce_identity, detail::reduce_step; // accumulating in double

// Combines the block's per-thread values; thread 0 gets the result. blockDim.x must be block_threads.
template <ReduceOp Op>
__device__ double block_reduce(double v) {
    __shared__ double part[block_threads];
    part[threadIdx.x] = v;
    __syncthreads();
    for (int s = block_threads / 2; s > 0; s /= 2) {
        if (int(threadIdx.x) < s) part[threadIdx.x] = reduce_combine<Op, double>(part[threadIdx.x], part[threadIdx.x + s]);
        __syncthreads();
    }
    return part[0];
}

// Stage 1 of a full reduction: block b folds a grid-stride share of the elements into partial[b].
template <ReduceOp Op, class E>
__global__ void reduce_all_kernel(const E e, index_t n, double* partial) {
    double acc = reduce_identity<Op, double>();
    PGG_GRID_LOOP(k, n) acc = reduce_step<Op, double>(acc, double(e[k]));
    acc = block_reduce<Op>(acc);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}
// Stage 2: one block combines the partial results (already folded, so combine, not step).
template <ReduceOp Op>
__global__ void reduce_partials_kernel(const double* partial, int count, double scale, double* out) {
    double acc = reduce_identity<Op, double>();
    for (int k = threadIdx.x; k < count; k += blockDim.x) acc = reduce_combine<Op, double>(acc, partial[k]);
    acc = block_reduce<Op>(acc);
    if (threadIdx.x == 0) out[0] = acc * scale;
}

// One block per sample: folds its C * inner elements.
template <ReduceOp Op, class T, class E>
__global__ void reduce_per_sample_kernel(const E e, index_t C, index_t inner, double scale, T* out) {
    const index_t n = blockIdx.x, count = C * inner;
    double acc = reduce_identity<Op, double>();
    for (index_t k = threadIdx.x; k < count; k += blockDim.x) acc = reduce_step<Op, double>(acc, double(e.at(n * C + k / inner, k % inner)));
    acc = block_reduce<Op>(acc);
    if (threadIdx.x == 0) out[n] = T(acc * scale);
}
// One block per channel: folds its N * inner elements.
template <ReduceOp Op, class T, class E>
__global__ void reduce_per_channel_kernel(const E e, index_t N, index_t C, index_t inner, double scale, T* out) {
    const index_t c = blockIdx.x, count = N * inner;
    double acc = reduce_identity<Op, double>();
    for (index_t k = threadIdx.x; k < count; k += blockDim.x) acc = reduce_step<Op, double>(acc, double(e.at((k / inner) * C + c, k % inner)));
    acc = block_reduce<Op>(acc);
    if (threadIdx.x == 0) out[c] = T(acc * scale);
}
// One thread per (sample, pixel): folds over the channels.
template <ReduceOp Op, class T, class E>
__global__ void reduce_over_channels_kernel(const E e, index_t N, index_t C, index_t inner, double scale, T* out) {
    PGG_GRID_LOOP(k, N * inner) {
        const index_t n = k / inner, i = k % inner;
        double acc = reduce_identity<Op, double>();
        for (index_t c = 0; c < C; ++c) acc = reduce_step<Op, double>(acc, double(e.at(n * C + c, i)));
        out[k] = T(acc * scale);
    }
}

// Sets *flag when an element is NaN or Inf (every writer writes 1: the race is harmless).
template <class T>
__global__ void nonfinite_kernel(const T* p, index_t n, int* flag) {
    PGG_GRID_LOOP(k, n) if (!::isfinite(p[k])) *flag = 1;
}

} // namespace cuda_detail

template <>
struct Executor<cuda> {
    // True when no element of the tensors is NaN or Inf: a kernel per tensor into one flag, one wait.
    template <class T>
    static bool all_finite(const std::vector<const Tensor<T, cuda>*>& tensors) {
        using namespace cuda_detail;
        Tensor<int, cuda> flag({1});
        for (const auto* t : tensors) {
            if (!t->numel()) continue;
            nonfinite_kernel<<<grid_for(t->numel()), block_threads, 0, stream()>>>(t->data(), t->numel(), flag.data());
            PGG_CUDA_LAUNCHED("nonfinite_kernel");
        }
        int any = 0;
        Transfer<cuda, cpu>::copy(&any, flag.data(), sizeof(int));
        return any == 0;
    }

    template <class T, class E>
    static void assign(Tensor<T, cuda>& dst, const E& e) {
        const index_t n = dst.numel();
        if (n == 0) return;
        cuda_detail::assign_kernel<<<cuda_detail::grid_for(n), cuda_detail::block_threads, 0, cuda_detail::stream()>>>(dst.data(), e, n);
        PGG_CUDA_LAUNCHED("assign_kernel");
    }

    // Over every element: the value on the host (this waits for the stream).
    template <ReduceOp Op, class E>
    static typename E::value_type reduce_all(const Reduction<Op, Axis::all, E>& r) {
        using namespace cuda_detail;
        const index_t n = r.e.shape().numel();
        if (n == 0) return typename E::value_type(Op == ReduceOp::max ? -std::numeric_limits<double>::infinity() : 0.0);
        const unsigned blocks = std::min<unsigned>(grid_for(n), 1024);
        Tensor<double, cuda> scratch({index_t(blocks) + 1});
        double* partial = scratch.data();
        reduce_all_kernel<Op><<<blocks, block_threads, 0, stream()>>>(r.e, n, partial);
        PGG_CUDA_LAUNCHED("reduce_all_kernel");
        const double scale = Op == ReduceOp::mean ? 1.0 / double(n) : 1.0;
        reduce_partials_kernel<Op><<<1, block_threads, 0, stream()>>>(partial, int(blocks), scale, partial + blocks);
        PGG_CUDA_LAUNCHED("reduce_partials_kernel");
        double out = 0;
        Transfer<cuda, cpu>::copy(&out, partial + blocks, sizeof(double));
        return typename E::value_type(out);
    }

    template <class T, ReduceOp Op, Axis Ax, class E>
    static void reduce_into(Tensor<T, cuda>& dst, const Reduction<Op, Ax, E>& r) {
        using namespace cuda_detail;
        static_assert(Ax != Axis::all, "use sum()/mean()/... for a reduction over everything");
        const Shape s = r.e.shape();
        const index_t N = s.n(), C = s.c(), inner = s.plane();
        const double scale = Op == ReduceOp::mean ? 1.0 / double(std::max<index_t>(r.count(), 1)) : 1.0;
        if (dst.numel() == 0) return;
        if constexpr (Ax == Axis::per_sample) {
            reduce_per_sample_kernel<Op><<<unsigned(N), block_threads, 0, stream()>>>(r.e, C, inner, scale, dst.data());
            PGG_CUDA_LAUNCHED("reduce_per_sample_kernel");
        } else if constexpr (Ax == Axis::per_channel) {
            reduce_per_channel_kernel<Op><<<unsigned(C), block_threads, 0, stream()>>>(r.e, N, C, inner, scale, dst.data());
            PGG_CUDA_LAUNCHED("reduce_per_channel_kernel");
        } else {
            reduce_over_channels_kernel<Op><<<grid_for(N * inner), block_threads, 0, stream()>>>(r.e, N, C, inner, scale, dst.data());
            PGG_CUDA_LAUNCHED("reduce_over_channels_kernel");
        }
    }
};

} // namespace pgg
