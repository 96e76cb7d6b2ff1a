// The fashion_mnist example's training step (forward, softmax cross-entropy, backward, Adam) in
// images per second; benchmarks/torch_fashion_mnist.py runs the same step in PyTorch.
#include <pgg/pgg.hpp>

#include "../examples/fashion_mnist/model.hpp"
#include "peak.hpp"

namespace {

void BM_fashion_mnist_step(benchmark::State& state) {
    const pgg::index_t batch = state.range(0);
    pgg::nn::Net<fashion::Model> net;
    pgg::Generator gen(1);
    net.reset_parameters(gen);
    pgg::optim::Adam<float> adam(pgg::nn::parameters(net));
    pgg::Tensor<float> x({batch, 1, 28, 28}), grad, dx;
    pgg::fill_normal(x, gen);
    std::vector<std::int32_t> labels(batch);
    for (pgg::index_t i = 0; i < batch; ++i) labels[i] = std::int32_t(i % 10);
    for (auto _ : state) {
        pgg::nn::softmax_cross_entropy(net.forward(x), labels, grad);
        net.backward(grad, dx, {false, false});
        adam.step();
    }
    state.counters["images/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_fashion_mnist_step)->ArgName("batch")->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

int main(int argc, char** argv) { return pggbench::run_main(argc, argv); }
