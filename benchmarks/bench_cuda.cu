// The CUDA backend's speed: cuBLAS SGEMM (the measured peak every other number is a fraction of), the
// cuDNN convolution passes at PG-GAN shapes, one PG-GAN training step per resolution at the source
// study's (rsna-512) minibatch sizes (Official width, 1 channel; benchmarks/torch_pggan_step.py --device cuda is the
// peer), generation at 512x512, and the cxr_unet UNet's training step at 256x256 (torch_unet.py
// --device cuda is its peer). Times are wall-clock with the stream synchronised per iteration.
// Without a usable GPU the program says so and exits 77.
#include <pgg/pgg.hpp>

#include <benchmark/benchmark.h>

#include <cstdio>

#include "../examples/cxr_unet/model.hpp"
#include "../examples/cxr_unet/scoring.hpp"
#include "stage.hpp"

namespace {

double& gemm_peak_gflops() {
    static double peak = 0;
    return peak;
}

// The SGEMM rate at 8192^3 in the current precision: the ceiling for float32 (or TF32) matrix work.
double measure_gemm_peak() {
    const pgg::index_t n = 8192;
    pgg::Tensor<float, pgg::cuda> a({n, n}), b({n, n}), c({n, n});
    pgg::Generator g(1);
    pgg::fill_uniform(a, g, -1.0f, 1.0f); // random data: zeros run faster than real inputs
    pgg::fill_uniform(b, g, -1.0f, 1.0f);
    pgg::matmul(a, b, c); // warm-up: handle creation, kernel selection
    pgg::cuda_runtime::synchronize();
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        pgg::matmul(a, b, c);
        pgg::cuda_runtime::synchronize();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best = std::max(best, 2.0 * double(n) * n * n / s / 1e9);
    }
    return best;
}

void report(benchmark::State& state, double flops) {
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["of_peak"] = benchmark::Counter(flops * 1e-9 / gemm_peak_gflops(), benchmark::Counter::kIsIterationInvariantRate);
}

void set_precision(benchmark::State& state, int tf32) {
    pgg::cuda_runtime::set_precision(tf32 ? pgg::Precision::tf32 : pgg::Precision::fp32);
    state.SetLabel(tf32 ? "tf32" : "fp32");
}

// Convolution passes: (N, C, S) with C -> C channels, 3x3, as in the PG-GAN's blocks.
void BM_cuda_conv(benchmark::State& state) {
    const pgg::index_t N = state.range(0), C = state.range(1), S = state.range(2);
    const int pass = int(state.range(3));
    set_precision(state, int(state.range(4)));
    const pgg::Conv2dParams p{3, 1, 1};
    pgg::Tensor<float, pgg::cuda> x({N, C, S, S}), w({C, C, 3, 3}), y({N, C, S, S});
    pgg::Generator g(2);
    pgg::fill_normal(x, g);
    pgg::fill_normal(w, g);
    pgg::fill_normal(y, g);
    auto run = [&] {
        if (pass == 0) pgg::conv2d_forward(x, w, y, p);
        else if (pass == 1) pgg::conv2d_backward_data(y, w, x, p);
        else pgg::conv2d_backward_weights(x, y, w, p);
    };
    run();
    pgg::cuda_runtime::synchronize();
    for (auto _ : state) {
        run();
        pgg::cuda_runtime::synchronize();
    }
    report(state, 2.0 * double(N) * S * S * C * C * 9);
    pgg::cuda_runtime::set_precision(pgg::Precision::fp32);
}
BENCHMARK(BM_cuda_conv)
    ->ArgNames({"N", "C", "S", "pass", "tf32"})
    ->ArgsProduct({{128}, {512}, {8, 16}, {0, 1, 2}, {0, 1}})
    ->ArgsProduct({{32}, {128}, {64}, {0, 1, 2}, {0, 1}})
    ->ArgsProduct({{4}, {16}, {512}, {0, 1, 2}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

int seed_minibatch(int r) { return r <= 16 ? 128 : 4 * 512 / r; } // 128, 128, 128, 64, 32, 16, 8, 4

void BM_cuda_pggan_step(benchmark::State& state) {
    const int R = int(state.range(0));
    set_precision(state, int(state.range(1)));
    const pgg::index_t N = seed_minibatch(R);
    auto stage = pggan::create_stage(8192, 512, 512, R, 1, {}, "cuda");
    pggan::Stores none;
    pgg::Generator init(1), latents(2), mixing(3);
    stage->load(none, init);
    stage->set_learning_rates(1e-3, 1e-3);
    pgg::Tensor<float> reals({N, 1, R, R});
    pgg::fill_uniform(reals, init, -1.0f, 1.0f);
    const pggan::StepOptions o{};
    stage->train_minibatch(reals, latents, mixing, o); // warm-up: algorithm search, buffers
    pgg::cuda_runtime::synchronize();
    const long long mallocs = pgg::cuda_runtime::cache_stats().device_mallocs;
    for (auto _ : state) {
        stage->train_minibatch(reals, latents, mixing, o);
        pgg::cuda_runtime::synchronize();
    }
    state.counters["images/s"] = benchmark::Counter(double(N), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["minibatch"] = double(N);
    state.counters["cudaMallocs_in_loop"] = double(pgg::cuda_runtime::cache_stats().device_mallocs - mallocs);
    pgg::cuda_runtime::set_precision(pgg::Precision::fp32);
}
BENCHMARK(BM_cuda_pggan_step)
    ->ArgNames({"res", "tf32"})
    ->ArgsProduct({{4, 8, 16, 32, 64, 128, 256, 512}, {0, 1}})
    ->MinTime(1.0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Gs's forward at 512x512 and the images back on the host.
void BM_cuda_generate_512(benchmark::State& state) {
    const pgg::index_t batch = state.range(0);
    auto stage = pggan::create_stage(8192, 512, 512, 512, 1, {}, "cuda");
    pggan::Stores none;
    pgg::Generator init(1);
    stage->load(none, init);
    pgg::Tensor<float> z({batch, 512}), images;
    pgg::fill_normal(z, init);
    stage->generate(z, images);
    for (auto _ : state) stage->generate(z, images); // ends with a device-to-host copy: synchronous
    state.counters["images/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_cuda_generate_512)->ArgName("batch")->Arg(1)->Arg(8)->Arg(32)->Unit(benchmark::kMillisecond)->UseRealTime();

// The UNet step of bench_unet on the GPU: forward, BCE + soft Dice (on the host), backward, Adam.
void BM_cuda_unet_step(benchmark::State& state) {
    const pgg::index_t batch = 8, S = 256;
    auto model = cxr_unet::make_model({int(state.range(0)), 4}, "cuda");
    pgg::Generator gen(1);
    model->reset_parameters(gen);
    model->set_dropout(0.05f, 1);
    model->use_adam({});
    pgg::Tensor<float> x({batch, 1, S, S}), t({batch, 1, S, S}), grad;
    pgg::fill_uniform(x, gen);
    pgg::fill_uniform(t, gen);
    t = pgg::Tensor<float>(pgg::where(t > 0.5f, 1.0f, 0.0f));
    model->train(true);
    auto step = [&] {
        cxr_unet::segmentation_loss(model->forward(x), t, 1.0, grad);
        model->backward(grad);
        model->adam_step(1e-3);
        pgg::cuda_runtime::synchronize();
    };
    step();
    for (auto _ : state) step();
    state.counters["images/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_cuda_unet_step)->ArgName("base")->Arg(16)->Arg(32)->MinTime(1.0)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

int main(int argc, char** argv) {
    if (!pgg::cuda_runtime::available()) {
        std::printf("SKIPPED: no usable CUDA device\n");
        return 77;
    }
    gemm_peak_gflops() = measure_gemm_peak();
    std::printf("%s: measured SGEMM peak %.0f GFLOP/s (float32, 8192^3)\n", pgg::cuda_runtime::device_name().c_str(),
                gemm_peak_gflops());
    benchmark::AddCustomContext("gpu", pgg::cuda_runtime::device_name());
    benchmark::AddCustomContext("sgemm_peak_gflops", std::to_string(gemm_peak_gflops()));
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
