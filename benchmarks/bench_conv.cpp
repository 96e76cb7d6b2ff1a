// 3x3 convolution (stride 1, padding 1) forward, backward-data and backward-weights at the PG-GAN's
// shapes: (channels, resolution, batch) from the source study's (rsna-512) per-resolution minibatch sizes,
// at the official width and then at the Narrow width (fmap_max 64) of the demo and the tests.
#include <pgg/pgg.hpp>

#include "peak.hpp"

namespace {

enum Pass { forward = 0, backward_data = 1, backward_weights = 2 };

void BM_conv3x3(benchmark::State& state) {
    const pgg::index_t C = state.range(0), R = state.range(1), N = state.range(2);
    const auto pass = static_cast<Pass>(state.range(3));
    const pgg::Conv2dParams p{3, 1, 1};
    pgg::Tensor<float> x({N, C, R, R}), w({C, C, 3, 3}), y({N, C, R, R});
    pgg::Generator g(1);
    pgg::fill_normal(x, g);
    pgg::fill_normal(w, g);
    pgg::fill_normal(y, g);
    for (auto _ : state) {
        if (pass == forward) pgg::conv2d_forward(x, w, y, p);
        else if (pass == backward_data) pgg::conv2d_backward_data(y, w, x, p);
        else pgg::conv2d_backward_weights(x, y, w, p);
        benchmark::ClobberMemory();
    }
    pggbench::report_flops(state, 2.0 * N * C * C * 9 * R * R);
}

void pggan_shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"C", "R", "N", "pass"});
    const int shapes[][3] = {{512, 4, 128}, {512, 8, 128}, {512, 16, 128}, {512, 32, 64},
                             {256, 64, 32}, {128, 128, 16}, {64, 256, 8},  {32, 512, 4},
                             {64, 8, 128},  {64, 16, 128},  {32, 32, 64},  {16, 64, 32}};
    for (auto& s : shapes)
        for (int pass = 0; pass < 3; ++pass) b->Args({s[0], s[1], s[2], pass});
}
BENCHMARK(BM_conv3x3)->Apply(pggan_shapes)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

} // namespace

int main(int argc, char** argv) { return pggbench::run_main(argc, argv); }
