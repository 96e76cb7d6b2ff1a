#pragma once
// OpenMP helpers: how many threads to use, and when a loop is too small to be worth splitting.
#include <algorithm>
#include <vector>

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

// Whether `work` elements of a simple loop are worth splitting over the threads from here.
inline bool worth_threads(index_t work) { return work >= parallel_grain && max_threads() > 1 && !in_parallel(); }

// fn(t) for t in [0, count): on the threads, each taking the next task as it frees up, when
// `parallel`; else in order on the calling thread.
template <class F>
void for_each_task(index_t count, bool parallel, F&& fn) {
    if (parallel) {
#pragma omp parallel for schedule(dynamic, 1)
        for (index_t t = 0; t < count; ++t) fn(t);
    } else {
        for (index_t t = 0; t < count; ++t) fn(t);
    }
}

// Splits [0, n) into `parts` nearly equal ranges; returns part p as [begin, end).
inline std::pair<index_t, index_t> split_range(index_t n, int parts, int p) {
    index_t q = n / parts, r = n % parts;
    index_t b = p * q + std::min<index_t>(p, r);
    return {b, b + q + (p < r ? 1 : 0)};
}

// The sum of f(q) over [0, n) on the threads (when `parallel`), each thread summing a fixed range and
// the ranges added in order: for a given thread count the result never depends on timing (an OpenMP
// reduction may add the threads' partial sums in any order).
template <class F>
double parallel_sum(index_t n, bool parallel, F&& f) {
    const int parts = parallel ? max_threads() : 1;
    std::vector<double> part(static_cast<std::size_t>(parts), 0.0);
#pragma omp parallel for schedule(static, 1) num_threads(parts) if (parts > 1)
    for (int t = 0; t < parts; ++t) {
        const auto [b, e] = split_range(n, parts, t);
        double s = 0;
        for (index_t q = b; q < e; ++q) s += f(q);
        part[static_cast<std::size_t>(t)] = s;
    }
    double total = 0;
    for (double v : part) total += v;
    return total;
}

} // namespace pgg::cpu_detail
