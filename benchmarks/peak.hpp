#pragma once
// This machine's FP32 peak, measured: independent fused multiply-adds on every OpenMP thread, on the
// widest vectors the compiler targets. Benchmarks report throughput as a fraction of it.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <omp.h>

#include <pgg/backend/cpu/denormal.hpp>
#include <pgg/backend/cpu/gemm.hpp>

namespace pggbench {

inline double measure_fp32_peak_gflops() {
#if defined(__AVX512F__)
    constexpr int lanes = 16;
#elif defined(__AVX__)
    constexpr int lanes = 8;
#else
    constexpr int lanes = 4;
#endif
    typedef float vec __attribute__((vector_size(lanes * 4)));
    constexpr int chains = 12; // enough independent FMAs to cover latency x ports
    constexpr long iters = 50'000'000;
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
        auto t0 = std::chrono::steady_clock::now();
        int threads = 0;
#pragma omp parallel reduction(+ : threads)
        {
            vec acc[chains];
            for (int j = 0; j < chains; ++j) acc[j] = (vec){} + 1e-3f * j;
            const vec m = (vec){} + 0.999999f, a = (vec){} + 1e-7f;
            for (long i = 0; i < iters; ++i) {
#pragma GCC unroll 12
                for (int j = 0; j < chains; ++j) acc[j] = acc[j] * m + a;
            }
            float s = 0;
            for (int j = 0; j < chains; ++j) s += acc[j][0];
            benchmark::DoNotOptimize(s);
            threads = 1;
        }
        double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double gflops = double(threads) * iters * chains * lanes * 2 / sec / 1e9;
        if (gflops > best) best = gflops;
    }
    return best;
}

inline double& fp32_peak() {
    static double peak = 0;
    return peak;
}

// main() for the benchmark programs: measures the peak first and records it in the context.
// Subnormals are flushed as in pgg's programs (and in the PyTorch peers).
inline int run_main(int argc, char** argv) {
    pgg::set_flush_denormal(true);
    fp32_peak() = measure_fp32_peak_gflops();
    std::printf("measured FP32 peak: %.1f GFLOP/s on %d threads; pgg's CPU kernels: %s\n", fp32_peak(), omp_get_max_threads(),
                pgg::cpu_kernels().c_str());
    benchmark::AddCustomContext("fp32_peak_gflops", std::to_string(fp32_peak()));
    benchmark::AddCustomContext("pgg_cpu_kernels", pgg::cpu_kernels());
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

// GFLOP/s and fraction of peak counters for `flops` per iteration.
inline void report_flops(benchmark::State& state, double flops) {
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["of_peak"] = benchmark::Counter(flops * 1e-9 / fp32_peak(), benchmark::Counter::kIsIterationInvariantRate);
}

} // namespace pggbench
