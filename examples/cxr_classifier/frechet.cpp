// `cxr_classifier frechet`: the Frechet distance between two image sets (e.g. real and synthetic CXRs of
// one class) on a trained classifier's penultimate features, FID's formula with a CXR network in place of
// Inception (whose weights cannot be assumed here). Lower is closer; two samples of the same images are
// not at 0 (the estimate is biased upwards for small sets), so compare against a real-vs-real floor.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "model.hpp"

namespace cxr_classifier {
namespace {

struct FrechetOptions {
    std::string checkpoint, reals, reals_list, fakes, fakes_list, out, device = "cpu";
    index_t batch = 64;
    long limit = 0; // only the first `limit` images of the second set (0: all)
};

// The penultimate features (N, F) of every image of a folder (or of a list under it).
Tensor<float> features_of(Model& m, const std::string& dir, const std::string& list, index_t batch, const char* what, long limit = 0) {
    Labelled set;
    auto files = pgg::app::find_inputs(dir, list, pgg::app::picture_extensions);
    if (limit > 0 && long(files.size()) > limit) files.resize(std::size_t(limit));
    for (const auto& path : files) {
        set.paths.push_back(path);
        set.names.push_back(path);
    }
    PGG_CHECK(set.size() >= 2, dir, ": ", set.size(), " images; a covariance needs at least 2");
    read_images(set, m.side, what);
    const index_t F = m.feature_count();
    Tensor<float> out({index_t(set.size()), F});
    for_each_batch(set.images, m.side, batch, [&](const Tensor<float>& x, index_t b0, index_t nb) {
        std::copy_n(m.features(x).data(), nb * F, out.data() + b0 * F);
    });
    return out;
}

void frechet(const FrechetOptions& o) {
    pgg::InterruptGuard guard;
    LoadedModel m = load_checkpoint(o.checkpoint, o.device);
    const auto reals = pgg::metrics::fit_gaussian(features_of(*m.model, o.reals, o.reals_list, o.batch, "reals"), o.reals);
    const auto fakes = pgg::metrics::fit_gaussian(features_of(*m.model, o.fakes, o.fakes_list, o.batch, "fakes", o.limit), o.fakes);
    const double d = pgg::metrics::frechet_distance(reals, fakes);
    std::printf("Frechet distance %.4f on %d classifier features (%s: %lld images, %s: %lld images)\n", d, m.model->feature_count(),
                o.reals.c_str(), (long long)reals.count, o.fakes.c_str(), (long long)fakes.count);
    if (o.out.empty()) return;
    const nlohmann::json j = {{"frechet_distance", d},
                              {"features", m.model->feature_count()},
                              {"checkpoint", o.checkpoint},
                              {"reals", {{"images", o.reals}, {"list", o.reals_list}, {"count", reals.count}}},
                              {"fakes", {{"images", o.fakes}, {"list", o.fakes_list}, {"count", fakes.count}}}};
    pgg::io::write_file_atomic(o.out, j.dump(2) + "\n");
}

} // namespace

void add_frechet_command(CLI::App& app) {
    auto o = std::make_shared<FrechetOptions>();
    auto* cmd = app.add_subcommand("frechet", "Frechet distance of two image sets on a classifier's penultimate features (a CXR FID)");
    cmd->add_option("--checkpoint", o->checkpoint, "a checkpoint of cxr_classifier train (best.safetensors)")->required()->check(CLI::ExistingFile);
    cmd->add_option("--reals", o->reals, "folder of the first set (e.g. real images of one class)")->required();
    cmd->add_option("--reals-list", o->reals_list, "only the images this file names (one per line, relative to --reals)");
    cmd->add_option("--fakes", o->fakes, "folder of the second set (e.g. `cxr_pggan generate`'s images)")->required();
    cmd->add_option("--fakes-list", o->fakes_list, "only the images this file names (one per line, relative to --fakes)");
    cmd->add_option("--limit", o->limit, "only the first N images of the second set: compare sets of equal sizes (the estimate depends on them)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--out", o->out, "also write the result as JSON to this file");
    cmd->add_option("--batch", o->batch, "images per forward pass")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--device", o->device, "cpu, or cuda in a build with the CUDA backend")->capture_default_str()->check(CLI::IsMember({"cpu", "cuda"}));
    cmd->callback([o] { frechet(*o); });
}

} // namespace cxr_classifier
