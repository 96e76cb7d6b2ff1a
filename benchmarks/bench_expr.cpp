// Fused elementwise expressions: bytes moved per second for the PG-GAN's bias + leaky ReLU and
// pixel norm, against the memory-bound ideal (one read and one write per element).
#include <pgg/pgg.hpp>

#include "peak.hpp"

namespace {

void BM_bias_leaky_relu(benchmark::State& state) {
    const pgg::index_t N = 16, C = state.range(0), R = state.range(1);
    pgg::Tensor<float> x({N, C, R, R}), bias({C}), y({N, C, R, R});
    pgg::Generator g(1);
    pgg::fill_normal(x, g);
    pgg::fill_normal(bias, g);
    for (auto _ : state) {
        y = x + pgg::per_channel(bias);
        y = pgg::where(y > 0.0f, y, 0.2f * y);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * x.bytes() * 4);
}
BENCHMARK(BM_bias_leaky_relu)->ArgNames({"C", "R"})->Args({512, 16})->Args({64, 128})->UseRealTime();

void BM_pixel_norm(benchmark::State& state) {
    const pgg::index_t N = 16, C = state.range(0), R = state.range(1);
    pgg::Tensor<float> x({N, C, R, R}), y({N, C, R, R}), ms({N, 1, R, R});
    pgg::Generator g(1);
    pgg::fill_normal(x, g);
    for (auto _ : state) {
        ms = pgg::mean_over_channels(pgg::square(x));
        ms = pgg::rsqrt(ms + 1e-8f);
        y = x * pgg::per_pixel(ms);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * x.bytes() * 3);
}
BENCHMARK(BM_pixel_norm)->ArgNames({"C", "R"})->Args({512, 16})->Args({64, 128})->UseRealTime();

void BM_sum_sq(benchmark::State& state) {
    pgg::Tensor<float> x({state.range(0)});
    pgg::Generator g(1);
    pgg::fill_normal(x, g);
    for (auto _ : state) benchmark::DoNotOptimize(pgg::sum_sq(x));
    state.SetBytesProcessed(state.iterations() * x.bytes());
}
BENCHMARK(BM_sum_sq)->Arg(1 << 24)->UseRealTime();

} // namespace

int main(int argc, char** argv) { return pggbench::run_main(argc, argv); }
