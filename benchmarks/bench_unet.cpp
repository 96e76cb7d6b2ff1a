// The cxr_unet example's UNet at 256x256: one training step (forward, BCE + soft Dice, backward, Adam)
// and segmentation inference (forward + sigmoid, dropout off), in images per second and as a fraction
// of the measured FP32 peak (model FLOPs: 2 per multiply-add of every convolution; a training step
// counted as 3 forward passes). benchmarks/torch_unet.py runs the same work in PyTorch.
#include <pgg/pgg.hpp>

#include "../examples/cxr_unet/model.hpp"
#include "../examples/cxr_unet/scoring.hpp"
#include "peak.hpp"

namespace {

// Multiply-adds of one forward pass at side S (see unet.hpp for the layout).
double unet_forward_macs(int base, int depth, double S) {
    double macs = S * S * base; // 1x1 head
    for (int k = 0; k <= depth; ++k) {
        const double s2 = (S / (1 << k)) * (S / (1 << k)), c = double(base << k), in = k == 0 ? 1.0 : c / 2;
        macs += s2 * 9 * (in * c + c * c); // encoder pair
        if (k < depth) macs += s2 * 9 * (2 * c * c + c * c) + s2 * 2 * c * c; // decoder pair, transposed conv from 2c
    }
    return macs;
}

void set_counters(benchmark::State& state, double images, double flops_per_image) {
    state.counters["images/s"] = benchmark::Counter(images, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["of_peak"] = benchmark::Counter(images * flops_per_image / (pggbench::fp32_peak() * 1e9),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

void BM_unet_train_step(benchmark::State& state) {
    const int base = int(state.range(0)), depth = 4;
    const pgg::index_t batch = 8, S = 256;
    auto model = cxr_unet::make_model({base, depth});
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
    };
    step(); // the first step allocates every buffer; steady state is what training sees
    for (auto _ : state) step();
    set_counters(state, double(batch), 3 * 2 * unet_forward_macs(base, depth, double(S)));
}
BENCHMARK(BM_unet_train_step)->ArgName("base")->Arg(16)->Arg(32)->MinTime(10)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_unet_segment(benchmark::State& state) {
    const int base = int(state.range(0)), depth = 4;
    const pgg::index_t batch = 8, S = 256;
    auto model = cxr_unet::make_model({base, depth});
    pgg::Generator gen(1);
    model->reset_parameters(gen);
    pgg::Tensor<float> x({batch, 1, S, S});
    pgg::fill_uniform(x, gen);
    cxr_unet::predict(*model, x); // allocates the buffers
    for (auto _ : state) benchmark::DoNotOptimize(cxr_unet::predict(*model, x).data());
    set_counters(state, double(batch), 2 * unet_forward_macs(base, depth, double(S)));
}
BENCHMARK(BM_unet_segment)->ArgName("base")->Arg(16)->Arg(32)->MinTime(10)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

int main(int argc, char** argv) { return pggbench::run_main(argc, argv); }
