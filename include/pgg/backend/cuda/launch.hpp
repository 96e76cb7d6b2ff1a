#pragma once
// Launching the backend's elementwise kernels: a grid-stride loop over n items on pgg's stream, the
// launch checked and named.
#include "context.hpp"

// for (k = this thread's first item; k < n; k += all threads of the grid)
#define PGG_GRID_LOOP(k, n) \
    for (::pgg::index_t k = ::pgg::index_t(blockIdx.x) * blockDim.x + threadIdx.x; k < (n); k += ::pgg::index_t(blockDim.x) * gridDim.x)

namespace pgg::cuda_detail {

// kernel<<<enough blocks for n items>>>(args...); nothing when n is 0.
template <class K, class... A>
void launch(K kernel, index_t n, const char* name, const A&... args) {
    if (n == 0) return;
    kernel<<<grid_for(n), block_threads, 0, stream()>>>(args...);
    PGG_CUDA_LAUNCHED(name);
}

// *d = g + beta * *d, where beta = 0 overwrites (a NaN already in *d is not kept).
template <class T>
__device__ __forceinline__ void store(T* d, T g, T beta) {
    *d = beta == T(0) ? g : beta * *d + g;
}

} // namespace pgg::cuda_detail
