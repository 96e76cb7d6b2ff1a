// Harness: pgg::io::Dataset on a fuzzed manifest.json, in a folder (one per process) of fixed .npy
// files the manifest may name in any combination:
//   level-8.npy (2, 1, 8, 8), level-4.npy (2, 1, 4, 4), level-2.npy (2, 1, 2, 2), rgb-4.npy (2, 3, 4, 4)
//   big-16.npy (3, 1, 16, 16) and empty-8.npy (0, 1, 8, 8) uint8; labels.npy (2) and labels-1.npy (1) int32; notes.txt.
// An accepted dataset is read through its whole API: every image of every level it claims, minibatches
// at several levels of detail, and every label; its labels file must hold one label per image.
#include <pgg/core/ops.hpp>
#include <pgg/backend/cpu/eval.hpp>
#include <pgg/io/dataset.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fuzz_common.hpp"

namespace {

namespace fs = std::filesystem;

struct Folder {
    std::string dir;
    Folder() {
        const char* tmp = std::getenv("TMPDIR");
        std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/pgg-fuzz-dataset-XXXXXX";
        if (!::mkdtemp(tmpl.data())) pgg_fuzz::die("pgg fuzz: mkdtemp");
        dir = tmpl;
        auto u8 = [&](const char* name, std::vector<pgg::index_t> shape) {
            std::size_t n = 1;
            for (auto d : shape) n *= std::size_t(d);
            std::vector<std::uint8_t> v(n);
            for (std::size_t i = 0; i < n; ++i) v[i] = std::uint8_t(i * 37 + 11);
            pgg::io::write_npy(dir + "/" + name, v.data(), shape);
        };
        u8("level-8.npy", {2, 1, 8, 8});
        u8("level-4.npy", {2, 1, 4, 4});
        u8("level-2.npy", {2, 1, 2, 2});
        u8("rgb-4.npy", {2, 3, 4, 4});
        u8("big-16.npy", {3, 1, 16, 16});
        u8("empty-8.npy", {0, 1, 8, 8});
        const std::int32_t labels[2] = {0, 1};
        pgg::io::write_npy(dir + "/labels.npy", labels, {2});
        pgg::io::write_npy(dir + "/labels-1.npy", labels, {1});
        std::ofstream(dir + "/notes.txt") << "not an npy file\n";
    }
    ~Folder() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

const Folder& folder() {
    static const Folder f;
    return f;
}

template <class F>
void rejected_ok(F&& f) {
    try {
        f();
    } catch (const pgg::error&) {
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& dir = folder().dir;
    {
        std::ofstream out(dir + "/manifest.json", std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
        if (!out) pgg_fuzz::die("pgg fuzz: writing manifest.json");
    }
    try {
        const pgg::io::Dataset ds(dir);
        if (ds.size() < 0 || ds.channels() < 0) std::abort();
        // every level a power-of-two resolution could have: present ones read whole, absent ones rejected
        for (pgg::index_t r = 1; r <= 64; r *= 2)
            rejected_ok([&] {
                for (pgg::index_t i = 0; i < ds.size(); ++i) {
                    const auto img = ds.image(i, r);
                    unsigned sum = 0;
                    for (pgg::index_t k = 0, n = img.numel(); k < n; ++k) sum += img.data()[k];
                    pgg_fuzz::keep(sum);
                }
            });
        pgg::Generator gen(1);
        pgg::Tensor<float> batch;
        for (double lod : {0.0, 0.5, 1.0, 1.25, 2.0, 3.0, -1.0})
            rejected_ok([&] {
                ds.minibatch(gen, 3, lod, batch);
                for (pgg::index_t k = 0, n = batch.numel(); k < n; ++k)
                    if (!(batch.data()[k] >= -1.0f && batch.data()[k] <= 1.0f)) std::abort(); // reals lie in [-1, 1]
            });
        if (ds.has_labels()) {
            // the labels file the manifest names must hold exactly one label per image
            const auto m = nlohmann::json::parse(pgg_fuzz::as_text(data, size));
            const pgg::io::NpyMap<std::int32_t> labels(dir + "/" + m.at("labels").get<std::string>());
            if (labels.shape() != std::vector<pgg::index_t>{ds.size()}) std::abort();
            long sum = 0;
            for (pgg::index_t i = 0; i < ds.size(); ++i) sum += ds.label(i);
            pgg_fuzz::keep(sum);
        }
    } catch (const pgg::error&) {
    }
    return 0;
}
