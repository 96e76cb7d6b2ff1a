// Generation at 512x512: what pggan::ImageGenerator::generate and `cxr_pggan generate` run per batch,
// the generator's forward pass and the conversion to 8-bit pixels, with random weights (the speed does
// not depend on them). Images per second at batch 8 and the latency of a single image, at the official
// width and the narrow one.
#include <pgg/pgg.hpp>

#include "networks.hpp"
#include "peak.hpp"

namespace {

template <class W>
void BM_generate_512(benchmark::State& state) {
    const pgg::index_t n = state.range(0);
    pgg::nn::Net<pggan::G<512, 1, W>> net;
    pgg::Generator g(1);
    net.reset_parameters(g);
    pgg::Tensor<float> z({n, W::latent_size});
    pgg::fill_normal(z, g);
    (void)pgg::io::to_uint8(net.forward(z)); // warm-up: buffers allocated once
    for (auto _ : state) {
        const pgg::Tensor<std::uint8_t> px = pgg::io::to_uint8(net.forward(z));
        benchmark::DoNotOptimize(px.data());
    }
    state.counters["images/s"] = benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK_TEMPLATE(BM_generate_512, pggan::Official)->ArgName("batch")->Arg(8)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_generate_512, pggan::Narrow)->ArgName("batch")->Arg(8)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

int main(int argc, char** argv) { return pggbench::run_main(argc, argv); }
