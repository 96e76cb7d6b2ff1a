// 3x3 convolution (padding 1) forward, backward-data and backward-weights at the PG-GAN's shapes
// (stride 1): (channels, resolution, batch) from the source study's (rsna-512) per-resolution minibatch
// sizes, at the official width and then at the Narrow width (fmap_max 64) of the demo and the tests; and
// at the abnormality classifier's shapes (examples/cxr_classifier/network.hpp, batch 32, strides 1 and 2).
#include <pgg/pgg.hpp>

#include "peak.hpp"

namespace {

enum Pass { forward = 0, backward_data = 1, backward_weights = 2 };

// One pass of a 3x3 convolution with padding 1 at stride s: N x Cin x R x R in, Cout channels out.
void conv_pass(benchmark::State& state, Pass pass, pgg::index_t N, pgg::index_t Cin, pgg::index_t Cout, pgg::index_t R,
               pgg::index_t s) {
    const pgg::Conv2dParams p{3, s, 1};
    const pgg::index_t Ro = pgg::conv_output_size(R, p);
    pgg::Tensor<float> x({N, Cin, R, R}), w({Cout, Cin, 3, 3}), y({N, Cout, Ro, Ro});
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
    pggbench::report_flops(state, 2.0 * N * Cin * Cout * 9 * Ro * Ro);
}

void BM_conv3x3(benchmark::State& state) {
    const pgg::index_t C = state.range(0), R = state.range(1), N = state.range(2);
    conv_pass(state, static_cast<Pass>(state.range(3)), N, C, C, R, 1);
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

// (Cin, Cout, input side, stride) at batch 32.
void BM_conv3x3_classifier(benchmark::State& state) {
    conv_pass(state, static_cast<Pass>(state.range(4)), 32, state.range(0), state.range(1), state.range(2), state.range(3));
}

// Every convolution of the classifier at sides 128 and 256 (the stem's input needs no gradient).
void classifier_shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"Cin", "Cout", "R", "s", "pass"});
    const int shapes[][4] = {{1, 16, 256, 2},    {1, 16, 128, 2},   {16, 32, 128, 2},  {16, 32, 64, 2},  {32, 32, 64, 1},
                             {32, 32, 32, 1},    {32, 64, 64, 2},   {32, 64, 32, 2},   {64, 64, 32, 1},  {64, 64, 16, 1},
                             {64, 128, 32, 2},   {64, 128, 16, 2},  {128, 128, 16, 1}, {128, 128, 16, 2}, {128, 128, 8, 1},
                             {128, 128, 8, 2},   {128, 128, 4, 1}};
    for (auto& s : shapes)
        for (int pass = 0; pass < 3; ++pass)
            if (s[0] > 1 || pass != backward_data) b->Args({s[0], s[1], s[2], s[3], pass});
}
BENCHMARK(BM_conv3x3_classifier)->Apply(classifier_shapes)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

} // namespace

int main(int argc, char** argv) { return pggbench::run_main(argc, argv); }
