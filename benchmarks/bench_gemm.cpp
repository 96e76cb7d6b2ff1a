// SGEMM through pgg::gemm (Eigen) at square sizes and at the shapes the PG-GAN convolutions produce.
#include <pgg/pgg.hpp>

#include "peak.hpp"

namespace {

void BM_gemm(benchmark::State& state) {
    const pgg::index_t m = state.range(0), n = state.range(1), k = state.range(2);
    pgg::Tensor<float> a({m, k}), b({k, n}), c({m, n});
    pgg::Generator g(1);
    pgg::fill_uniform(a, g);
    pgg::fill_uniform(b, g);
    for (auto _ : state) {
        pgg::gemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
        benchmark::DoNotOptimize(c.data());
    }
    pggbench::report_flops(state, 2.0 * m * n * k);
}
// Square sizes, then (Cout, columns, Cin*9) of the conv tiles at 512 and 32 channels.
BENCHMARK(BM_gemm)
    ->ArgNames({"m", "n", "k"})
    ->Args({512, 512, 512})
    ->Args({1024, 1024, 1024})
    ->Args({2048, 2048, 2048})
    ->Args({512, 1024, 4608})
    ->Args({32, 4096, 288})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

} // namespace

int main(int argc, char** argv) { return pggbench::run_main(argc, argv); }
