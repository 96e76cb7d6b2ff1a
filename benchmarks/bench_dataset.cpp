// The multi-resolution dataset (pgg/io/dataset.hpp): images/s when building a 512x512 dataset (levels
// averaged in float, rounded once, written to disk) and minibatches/s of the memory-mapped reader at
// each level, plain and fading, at the source study's (rsna-512) minibatch sizes. docs/performance.md sets them beside
// the training step's needs.
#include <pgg/pgg.hpp>

#include <filesystem>
#include <unistd.h>

#include "peak.hpp"

namespace {

namespace fs = std::filesystem;
constexpr pgg::index_t kImages = 64, kRes = 512;

std::string bench_dir(const char* tag) { return (fs::temp_directory_path() / ("pgg_bench_" + std::string(tag) + "_" + std::to_string(::getpid()))).string(); }

pgg::Tensor<std::uint8_t> test_image(pgg::Generator& gen) {
    pgg::Tensor<float> x({1, 1, kRes, kRes});
    pgg::fill_uniform(x, gen, 0.0f, 255.0f);
    return pgg::cast<std::uint8_t>(x);
}

void BM_dataset_build_512(benchmark::State& state) {
    pgg::Generator gen(1);
    const pgg::Tensor<std::uint8_t> img = test_image(gen);
    const std::string dir = bench_dir("build");
    for (auto _ : state) {
        fs::remove_all(dir);
        pgg::io::DatasetWriter w(dir, kImages, 1, kRes);
        for (pgg::index_t i = 0; i < kImages; ++i) w.add(i, img);
        w.finish();
    }
    fs::remove_all(dir);
    state.counters["images/s"] = benchmark::Counter(double(kImages), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_dataset_build_512)->Unit(benchmark::kMillisecond)->UseRealTime();

// The reader at resolution `res` (lod floor), stable (fade 0) or mid-fade (lod + 0.5).
void BM_dataset_minibatch(benchmark::State& state) {
    static const std::string dir = [] {
        const std::string d = bench_dir("read");
        fs::remove_all(d);
        pgg::Generator gen(2);
        pgg::io::DatasetWriter w(d, kImages, 1, kRes);
        for (pgg::index_t i = 0; i < kImages; ++i) w.add(i, test_image(gen));
        w.finish();
        return d;
    }();
    const int res = int(state.range(0));
    const bool fading = state.range(1) != 0;
    const pgg::index_t batch = res <= 16 ? 128 : 4 * 512 / res;
    const double lod = std::log2(double(kRes) / res) + (fading ? 0.5 : 0.0);
    if (lod > std::log2(double(kRes)) - 2) {
        state.SkipWithError("no fade below 4x4");
        return;
    }
    pgg::io::Dataset ds(dir);
    pgg::Generator gen(3);
    pgg::Tensor<float> out;
    for (auto _ : state) ds.minibatch(gen, batch, lod, out);
    state.counters["minibatches/s"] = benchmark::Counter(1, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["images/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_dataset_minibatch)->ArgNames({"res", "fading"})->ArgsProduct({{4, 8, 16, 32, 64, 128, 256, 512}, {0, 1}})->UseRealTime();

} // namespace

int main(int argc, char** argv) { return pggbench::run_main(argc, argv); }
