// The cxr_classifier example's ResNet: one training step (forward, class-weighted BCE, backward, Adam)
// at batch 32 for sides 64, 128 and 256, and inference, in images per second and as a fraction of the
// measured FP32 peak (model FLOPs: 2 per multiply-add of every convolution and the dense layer; a
// training step counted as 3 forward passes). benchmarks/torch_classifier.py runs the same work in PyTorch.
#include <pgg/pgg.hpp>

#include "../examples/cxr_classifier/model.hpp"
#include "../examples/cxr_classifier/network.hpp"
#include "../examples/cxr_classifier/scoring.hpp"
#include "peak.hpp"

namespace {

// Multiply-adds of one forward pass at side S (network.hpp's layout).
double resnet_forward_macs(int side) {
    double s = side / 2, macs = s * s * 9 * 1 * cxr_classifier::stem_width;
    int c = cxr_classifier::stem_width;
    while (s > 4) {
        const int out = std::min(2 * c, cxr_classifier::max_width);
        s /= 2;
        macs += s * s * 9 * (double(c) * out + 2.0 * out * out); // stride-2 conv and the block's two convs
        c = out;
    }
    return macs + c; // dense
}

void set_counters(benchmark::State& state, double images, double flops_per_image) {
    state.counters["images/s"] = benchmark::Counter(images, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["of_peak"] = benchmark::Counter(images * flops_per_image / (pggbench::fp32_peak() * 1e9),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

void BM_classifier_train_step(benchmark::State& state) {
    const int side = int(state.range(0));
    const pgg::index_t batch = 32;
    auto model = cxr_classifier::make_model(side);
    pgg::Generator gen(1);
    model->reset_parameters(gen);
    model->use_optimizer({});
    pgg::Tensor<float> x({batch, 1, side, side}), grad;
    pgg::fill_uniform(x, gen); // gray values in [0, 1]
    std::vector<int> labels(batch);
    for (pgg::index_t i = 0; i < batch; ++i) labels[std::size_t(i)] = int(i % 2);
    const double w[2] = {1, 1};
    auto step = [&] {
        cxr_classifier::weighted_bce(model->forward(x), labels, w, grad);
        model->backward(grad);
        model->step(1e-3);
    };
    step(); // the first step allocates every buffer; steady state is what training sees
    for (auto _ : state) step();
    set_counters(state, double(batch), 3 * 2 * resnet_forward_macs(side));
}
BENCHMARK(BM_classifier_train_step)->ArgName("side")->Arg(64)->Arg(128)->Arg(256)->MinTime(5)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_classifier_predict(benchmark::State& state) {
    const int side = int(state.range(0));
    const pgg::index_t batch = 32;
    auto model = cxr_classifier::make_model(side);
    pgg::Generator gen(1);
    model->reset_parameters(gen);
    pgg::Tensor<float> x({batch, 1, side, side});
    pgg::fill_uniform(x, gen); // gray values in [0, 1]
    model->forward(x); // allocates the buffers
    for (auto _ : state) benchmark::DoNotOptimize(model->forward(x).data());
    set_counters(state, double(batch), 2 * resnet_forward_macs(side));
}
BENCHMARK(BM_classifier_predict)->ArgName("side")->Arg(64)->Arg(128)->Arg(256)->MinTime(5)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

int main(int argc, char** argv) { return pggbench::run_main(argc, argv); }
