// One PG-GAN training step (WGAN-GP D step with the exact penalty gradient, G step, Adam, Gs) per
// resolution at the source study's (rsna-512) minibatch sizes, in images per second; benchmarks/torch_pggan_step.py runs
// the same step in PyTorch. Networks: stable, 1 channel, width Official (arg 0) or Narrow (arg 1).
#include <pgg/pgg.hpp>

#include "peak.hpp"
#include "stage.hpp"

namespace {

int seed_minibatch(int r) { return r <= 16 ? 128 : 4 * 512 / r; } // 128, 128, 128, 64, 32, 16, 8, 4

void BM_pggan_step(benchmark::State& state) {
    const int R = int(state.range(0));
    const bool official = state.range(1) == 0;
    const pgg::index_t N = seed_minibatch(R);
    auto stage = official ? pggan::create_stage(8192, 512, 512, R, 1, {}) : pggan::create_stage(512, 64, 64, R, 1, {});
    pggan::Stores none;
    pgg::Generator init(1), latents(2), mixing(3);
    stage->load(none, init);
    stage->set_learning_rates(1e-3, 1e-3);
    pgg::Tensor<float> reals({N, 1, R, R});
    pgg::fill_uniform(reals, init, -1.0f, 1.0f);
    const pggan::StepOptions o{};
    stage->train_minibatch(reals, latents, mixing, o); // warm-up: buffers allocated once
    for (auto _ : state) stage->train_minibatch(reals, latents, mixing, o);
    state.counters["images/s"] = benchmark::Counter(double(N), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["minibatch"] = double(N);
}
BENCHMARK(BM_pggan_step)
    ->ArgNames({"res", "narrow"})
    ->ArgsProduct({{4, 8, 16, 32, 64, 128, 256, 512}, {0, 1}})
    ->MinTime(2.0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

} // namespace

int main(int argc, char** argv) { return pggbench::run_main(argc, argv); }
