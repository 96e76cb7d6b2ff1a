// Evaluation metrics at the source study's 512x512 gray: images/s of SWD descriptor extraction (Laplacian
// pyramid down to 16x16, 128 patches per level), of the binned SWD path past exact_images, and of MS-SSIM over consecutive pairs, and descriptors/s
// (per set) of the SWD distance itself (one level, 4 x 128 directions), which with 16384 images per set
// is the bulk of an SWD evaluation: 2M descriptors per set and level.
#include <pgg/pgg.hpp>

#include "peak.hpp"

namespace {

constexpr pgg::index_t kRes = 512;

pgg::Tensor<std::uint8_t> gray_images(pgg::index_t n, std::uint64_t seed) {
    pgg::Tensor<float> x({n, 1, kRes, kRes});
    pgg::Generator gen(seed);
    pgg::fill_uniform(x, gen, 0.0f, 255.0f);
    return pgg::cast<std::uint8_t>(x);
}

void BM_swd_descriptors_512(benchmark::State& state) {
    const pgg::index_t batch = state.range(0);
    const auto images = gray_images(batch, 1);
    pgg::metrics::SwdAccumulator acc(kRes, 1);
    for (auto _ : state) {
        acc.add_fakes(images);
        acc.clear_fakes(); // keeps the memory: the benchmark measures extraction, not allocation
    }
    state.counters["images/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_swd_descriptors_512)->ArgName("batch")->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();

// Past exact_images: descriptors, then their projections on 4 x 128 directions counted in bins per
// level (the flat-memory path every image after the first exact_images takes).
void BM_swd_binned_512(benchmark::State& state) {
    const pgg::index_t batch = state.range(0);
    const auto images = gray_images(batch, 1);
    pgg::metrics::SwdOptions o;
    o.exact_images = batch / 2;
    pgg::metrics::SwdAccumulator acc(kRes, 1, o);
    acc.add_fakes(images); // switches to bins
    for (auto _ : state) acc.add_fakes(images);
    state.counters["images/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_swd_binned_512)->ArgName("batch")->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ms_ssim_pairs_512(benchmark::State& state) {
    const pgg::index_t batch = state.range(0);
    const auto images = gray_images(batch, 2);
    pgg::metrics::MsSsimPairs pairs;
    for (auto _ : state) pairs.add(images);
    benchmark::DoNotOptimize(pairs.mean());
    state.counters["images/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ms_ssim_pairs_512)->ArgName("batch")->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();

// Two sets of `count` gray descriptors (49 values), 4 x 128 directions.
void BM_swd_distance(benchmark::State& state) {
    const pgg::index_t count = state.range(0), dim = pgg::metrics::swd_patch_area;
    pgg::Tensor<float> a({count, dim}), b({count, dim});
    pgg::Generator gen(3);
    pgg::fill_normal(a, gen);
    pgg::fill_normal(b, gen);
    const auto dirs = pgg::metrics::random_directions(512, dim, gen);
    for (auto _ : state) benchmark::DoNotOptimize(pgg::metrics::sliced_wasserstein(a, b, dirs, 1));
    state.counters["descriptors/s"] = benchmark::Counter(double(count), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_swd_distance)->ArgName("descriptors")->Arg(1 << 17)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

int main(int argc, char** argv) { return pggbench::run_main(argc, argv); }
