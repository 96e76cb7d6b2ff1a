#pragma once
// OpenMP helpers: how many threads to use, and when a loop is too small to be worth splitting.
#include <algorithm>

#include "../../core/config.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace pgg::cpu_detail {

// Below this many elements an elementwise loop runs on one thread: waking the team costs more.
inline constexpr index_t parallel_grain = 1 << 15;

inline int max_threads() {
#if defined(_OPENMP)
    return omp_get_max_threads();
#else
    return 1;
#endif
}
inline int thread_id() {
#if defined(_OPENMP)
    return omp_get_thread_num();
#else
    return 0;
#endif
}
inline int num_threads() {
#if defined(_OPENMP)
    return omp_get_num_threads();
#else
    return 1;
#endif
}
inline bool in_parallel() {
#if defined(_OPENMP)
    return omp_in_parallel();
#else
    return false;
#endif
}

// Splits [0, n) into `parts` nearly equal ranges; returns part p as [begin, end).
inline std::pair<index_t, index_t> split_range(index_t n, int parts, int p) {
    index_t q = n / parts, r = n % parts;
    index_t b = p * q + std::min<index_t>(p, r);
    return {b, b + q + (p < r ? 1 : 0)};
}

} // namespace pgg::cpu_detail
