// `cxr_pggan evaluate`: the PG-GAN paper's metrics for a snapshot, every snapshot of a run, or any
// folder of images, against real images: the sliced Wasserstein distance per pyramid level (x1000) and
// the mean MS-SSIM of consecutive pairs of generated images (their diversity).
//
// Sampling: the reals are put in a seeded random order that depends on their contents only (not on
// file names or their order: a folder sorted by source is no biased sample). The first N of that order
// (N = --num, at most half the reals) are held out as the "reals" row, the noise floor that no
// generator can beat at this N; every other real image is the reference that both the held-out reals
// and the generated images are scored against, so that the two rows are comparable.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>

#include <pgg/pgg.hpp>

#include "commands.hpp"
#include "inputs.hpp"
#include "snapshot.hpp"

namespace pggan {
namespace {

namespace fs = std::filesystem;
using pgg::index_t;
using pgg::Tensor;

struct EvaluateOptions {
    std::string snapshot, run, images, reals, out;
    long num = 1024;
    std::uint64_t seed = 1;
    int batch = 16;
    bool tile_rgb = false;
    std::string device = "cpu";
};


// Real (or any) images at one resolution: the matching level of a pgg dataset, or a folder of images
// resized to it (area averaging when shrinking), in a seeded random order keyed by each image's
// contents (a hash of the file's bytes, or of a dataset image's pixels), ties broken by name.
class ImageSource {
public:
    ImageSource(const std::string& path, std::uint64_t seed) : path_(path) {
        std::vector<std::uint64_t> key;
        if (fs::exists(fs::path(path) / "manifest.json")) {
            dataset_ = std::make_unique<pgg::io::Dataset>(path);
            channels_ = dataset_->channels();
            resolution_ = dataset_->resolution();
            key.resize(std::size_t(dataset_->size()));
            for (index_t i = 0; i < dataset_->size(); ++i) {
                const Tensor<std::uint8_t> img = dataset_->image(i, resolution_);
                key[std::size_t(i)] = pgg::fnv1a64(img.data(), std::size_t(img.numel()));
            }
        } else {
            files_ = find_inputs(path, "", pgg::app::picture_extensions);
            const Tensor<std::uint8_t> first = pgg::io::read_image(files_[0], 0);
            channels_ = int(first.c());
            resolution_ = std::min(first.h(), first.w());
            key.resize(files_.size());
            std::vector<std::string> errors(files_.size());
#pragma omp parallel for schedule(dynamic, 16)
            for (std::size_t i = 0; i < files_.size(); ++i) {
                try {
                    const std::string bytes = pgg::io::detail::read_bytes(files_[i]);
                    key[i] = pgg::fnv1a64(bytes.data(), bytes.size());
                } catch (const std::exception& e) {
                    errors[i] = e.what();
                }
            }
            for (const auto& e : errors) PGG_CHECK(e.empty(), e);
        }
        const std::uint64_t salt = pgg::mix64(seed ^ 0x5eed5eed5eed5eedull);
        for (auto& k : key) k = pgg::mix64(k ^ salt);
        order_.resize(key.size());
        std::iota(order_.begin(), order_.end(), index_t(0));
        std::sort(order_.begin(), order_.end(), [&](index_t a, index_t b) {
            return key[std::size_t(a)] != key[std::size_t(b)] ? key[std::size_t(a)] < key[std::size_t(b)] : name(a) < name(b);
        });
    }
    index_t size() const { return dataset_ ? dataset_->size() : index_t(files_.size()); }
    int channels() const { return channels_; }
    index_t resolution() const { return resolution_; } // the largest available
    const std::string& path() const { return path_; }

    // Images [first, first + n) of the seeded order at r x r, uint8 (n, C, r, r).
    Tensor<std::uint8_t> batch(index_t first, index_t n, index_t r) const {
        PGG_CHECK(r <= resolution_, path_, ": has images of ", resolution_, "x", resolution_, ", ", r, "x", r, " needed");
        Tensor<std::uint8_t> out({n, channels_, r, r});
        const index_t per = channels_ * r * r;
        if (dataset_) {
            for (index_t i = 0; i < n; ++i) std::copy_n(dataset_->image(at(first + i), r).data(), per, out.data() + i * per);
            return out;
        }
        std::vector<std::string> errors(static_cast<std::size_t>(n));
#pragma omp parallel for schedule(dynamic, 1)
        for (index_t i = 0; i < n; ++i) {
            try {
                const Tensor<std::uint8_t> img = load_input(files_[std::size_t(at(first + i))], {int(r), channels_, false},
                                                            [](const std::string& f, int c) { return pgg::io::read_image(f, c); });
                std::copy_n(img.data(), per, out.data() + i * per);
            } catch (const std::exception& e) {
                errors[std::size_t(i)] = e.what();
            }
        }
        for (const auto& e : errors) PGG_CHECK(e.empty(), e);
        return out;
    }

private:
    index_t at(index_t position) const { return order_[std::size_t(position)]; }
    std::string name(index_t i) const { return dataset_ ? std::to_string(i) : fs::path(files_[std::size_t(i)]).filename().string(); }

    std::string path_;
    std::unique_ptr<pgg::io::Dataset> dataset_;
    std::vector<std::string> files_;
    std::vector<index_t> order_;
    int channels_ = 0;
    index_t resolution_ = 0;
};

struct Row {
    std::string name;
    double kimg = NAN;
    index_t resolution = 0;
    index_t count = 0; // images scored against the reference
    pgg::metrics::SwdResult swd;
    double ms_ssim = NAN;
};

// MS-SSIM's five scales need at least 16 pixels a side.
bool has_ms_ssim(index_t r) { return r >= 16; }

pgg::metrics::SwdOptions swd_options(const EvaluateOptions& o, index_t r) {
    pgg::metrics::SwdOptions s;
    s.seed = o.seed;
    s.min_resolution = std::min<index_t>(16, r);
    s.tile_gray_to_rgb = o.tile_rgb;
    return s;
}

// Feeds n images, in batches, from `next(first, count)` to `sink(batch)` with a progress bar.
template <class Next, class Sink>
void stream(const char* what, index_t n, int batch, Next&& next, Sink&& sink) {
    pgg::Progress progress(what, long(n));
    for (index_t b = 0; b < n; b += batch) {
        const index_t count = std::min<index_t>(batch, n - b);
        sink(next(b, count));
        progress.advance(long(count));
        pgg::throw_if_interrupted("evaluate");
    }
    progress.finish();
}

// The reference's descriptors at one resolution, computed once and shared by every snapshot at it.
class Evaluator {
public:
    Evaluator(const EvaluateOptions& o, const ImageSource& reals) : o_(o), reals_(reals) {}

    // The held-out reals: the first of the seeded order, as many as the generated sets have (--num)
    // while the reference keeps at least as many; the reference: all the others.
    index_t held_out() const { return std::min<index_t>(o_.num, reals_.size() / 2); }
    index_t reference() const { return reals_.size() - held_out(); }

    Row reals_row(index_t r) {
        return score("reals (held out)", NAN, r, held_out(), [&](index_t b, index_t c) { return reals_.batch(b, c, r); });
    }

    // n images from next(first, count) (generated ones as uint8, exactly what `generate` writes)
    // against the reference.
    template <class Next>
    Row score(const std::string& name, double kimg, index_t r, index_t n, Next&& next) {
        auto& acc = accumulator(r);
        acc.clear_fakes();
        pgg::metrics::MsSsimPairs pairs;
        stream(name.c_str(), n, o_.batch, next, [&](const Tensor<std::uint8_t>& t) {
            acc.add_fakes(t);
            if (has_ms_ssim(r)) pairs.add(t);
        });
        return {name, kimg, r, n, acc.compute(), has_ms_ssim(r) ? pairs.mean() : NAN};
    }

private:
    pgg::metrics::SwdAccumulator& accumulator(index_t r) {
        auto it = acc_.find(r);
        if (it != acc_.end()) return *it->second;
        auto acc = std::make_unique<pgg::metrics::SwdAccumulator>(r, reals_.channels(), swd_options(o_, r));
        acc->reserve(reference());
        stream("reference reals", reference(), o_.batch, [&](index_t b, index_t c) { return reals_.batch(held_out() + b, c, r); },
               [&](const Tensor<std::uint8_t>& t) { acc->add_reals(t); });
        return *acc_.emplace(r, std::move(acc)).first->second;
    }

    const EvaluateOptions& o_;
    const ImageSource& reals_;
    std::map<index_t, std::unique_ptr<pgg::metrics::SwdAccumulator>> acc_;
};

// Gs's images of `stage` for latents of `seed`, streams first .. first + n - 1 (as `generate` draws them).
Tensor<std::uint8_t> generated(StageBase& stage, std::uint64_t seed, index_t first, index_t n) {
    Tensor<float> z({n, stage.latent_size()}), images;
    for (index_t i = 0; i < n; ++i) {
        pgg::Generator g(seed, std::uint64_t(first + i));
        Tensor<float> zi = z.slice(i, i + 1);
        pgg::fill_normal(zi, g);
    }
    stage.generate(z, images);
    return pgg::io::to_uint8(images);
}

// The smallest stage SWD scores: its 7x7 patches need 8x8 images.
constexpr index_t smallest_scored = 8;

Row score_snapshot(Evaluator& ev, const EvaluateOptions& o, const std::string& path, StageBase& stage, const SnapshotInfo& info) {
    const index_t r = stage.resolution();
    // latents from a seed of their own: the images of `generate --seed` are not re-scored by accident
    const std::uint64_t latent_seed = o.seed + 1000;
    return ev.score(fs::path(path).filename().string(), double(info.state.cur_nimg) / 1000.0, r, index_t(o.num),
                    [&](index_t b, index_t c) { return generated(stage, latent_seed, b, c); });
}

void write_outputs(const std::vector<Row>& rows, const std::string& prefix, bool plot) {
    std::size_t levels = 0;
    for (const auto& r : rows) levels = std::max(levels, r.swd.distances.size());
    std::printf("\n%-36s %9s %5s %7s", "images", "kimg", "res", "count");
    for (std::size_t l = 0; l < levels; ++l) std::printf(" %9s", ("swd" + std::to_string(l)).c_str());
    std::printf(" %9s %8s\n", "swd_avg", "ms_ssim");
    std::string csv = "images,kimg,resolution,count,level_resolutions,swd_levels_x1e3,swd_avg_x1e3,ms_ssim\n";
    for (const auto& r : rows) {
        std::printf("%-36s %9.1f %5ld %7ld", r.name.c_str(), r.kimg, long(r.resolution), long(r.count));
        std::string res, d;
        for (std::size_t l = 0; l < levels; ++l) {
            if (l < r.swd.distances.size()) {
                std::printf(" %9.2f", r.swd.distances[l]);
                res += (l ? " " : "") + std::to_string(r.swd.resolutions[l]);
                char v[32];
                std::snprintf(v, sizeof v, "%s%.4f", l ? " " : "", r.swd.distances[l]);
                d += v;
            } else {
                std::printf(" %9s", "");
            }
        }
        std::printf(" %9.2f %8.4f\n", r.swd.mean, r.ms_ssim);
        char line[512];
        std::snprintf(line, sizeof line, "\"%s\",%.3f,%ld,%ld,%s,%s,%.4f,%.6f\n", r.name.c_str(), r.kimg, long(r.resolution),
                      long(r.count), res.c_str(), d.c_str(), r.swd.mean, r.ms_ssim);
        csv += line;
    }
    pgg::io::write_file_atomic(prefix + ".csv", csv);
    std::printf("\nwrote %s.csv", prefix.c_str());
    if (plot) {
        pgg::plot::Series gen{"generated", {31, 119, 180}, {}, {}}, floor{"reals vs reals", {90, 90, 90}, {}, {}};
        pgg::plot::Series div{"generated", {230, 120, 20}, {}, {}}, div_floor{"reals", {90, 90, 90}, {}, {}};
        for (auto it = rows.rbegin(); it != rows.rend(); ++it)
            if (!std::isnan(it->kimg)) gen.x.push_back(it->kimg), gen.y.push_back(it->swd.mean), div.x.push_back(it->kimg), div.y.push_back(it->ms_ssim);
        // the floor of the latest resolution, drawn across the whole run for reference
        for (const auto& r : rows)
            if (std::isnan(r.kimg) && !gen.x.empty()) {
                floor.x = {gen.x.front(), gen.x.back()}, floor.y = {r.swd.mean, r.swd.mean};
                div_floor.x = floor.x, div_floor.y = {r.ms_ssim, r.ms_ssim};
                break;
            }
        pgg::io::write_png(prefix + ".png", pgg::plot::render({{.title = "Sliced Wasserstein distance (average over levels)",
                                                                .series = {gen, floor},
                                                                .xlabel = "kimg",
                                                                .ylabel = "SWD x1000"},
                                                               {.title = "MS-SSIM of consecutive pairs (lower: more diverse)",
                                                                .series = {div, div_floor},
                                                                .xlabel = "kimg",
                                                                .ylabel = "MS-SSIM"}}));
        std::printf(" and %s.png", prefix.c_str());
    }
    std::printf("\n");
}

// Snapshots of a run, newest first (the official tool's order).
std::vector<std::string> run_snapshots(const std::string& dir) {
    PGG_CHECK(fs::is_directory(dir), dir, ": not a run folder");
    std::vector<std::pair<long, std::string>> found;
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (name.rfind("network-", 0) != 0 || e.path().extension() != ".safetensors") continue;
        const auto f = pgg::io::SafetensorsFile::read(e.path().string());
        PGG_CHECK(f.metadata().count("state"), f.path(), ": not a cxr_pggan snapshot (no training state)");
        found.emplace_back(state_from_json(nlohmann::json::parse(f.string_metadata("state"))).cur_nimg, e.path().string());
    }
    PGG_CHECK(!found.empty(), dir, ": no network-*.safetensors snapshots");
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
    std::vector<std::string> out;
    for (auto& [nimg, path] : found) out.push_back(path);
    return out;
}

void evaluate(EvaluateOptions o) {
    PGG_CHECK(int(!o.snapshot.empty()) + int(!o.run.empty()) + int(!o.images.empty()) == 1,
              "evaluate: give exactly one of --snapshot, --run and --images");
    pgg::InterruptGuard guard;
    const ImageSource reals(o.reals, o.seed);
    PGG_CHECK(reals.size() >= 2, o.reals, ": ", reals.size(), " image(s); at least 2 are needed");
    std::unique_ptr<ImageSource> images;
    if (!o.images.empty()) {
        images = std::make_unique<ImageSource>(o.images, o.seed + 1);
        o.num = std::min<long>(o.num, long(images->size()));
    }
    Evaluator ev(o, reals);
    std::printf("%s: %ld real images: %ld held out (the reals row), %ld as the reference\n", o.reals.c_str(), long(reals.size()),
                long(ev.held_out()), long(ev.reference()));
    std::vector<Row> rows;
    if (images) {
        PGG_CHECK(images->channels() == reals.channels(), o.images, " has ", images->channels(), " channel(s), ", o.reals, " ",
                  reals.channels());
        // a common power-of-two size: the largest that both folders reach
        index_t r = 1;
        while (2 * r <= std::min(images->resolution(), reals.resolution())) r *= 2;
        PGG_CHECK(r >= 16, "evaluate: images of ", r, "x", r, " are too small (16 at least)");
        rows.push_back(ev.reals_row(r));
        rows.push_back(ev.score(fs::path(o.images).filename().string(), NAN, r, index_t(o.num),
                                [&](index_t b, index_t c) { return images->batch(b, c, r); }));
        if (o.out.empty()) o.out = fs::path(o.images).lexically_normal().string() + "-evaluate";
        write_outputs(rows, o.out, false);
        return;
    }
    const std::vector<std::string> snapshots = o.run.empty() ? std::vector<std::string>{o.snapshot} : run_snapshots(o.run);
    std::map<index_t, bool> floor_done;
    for (const auto& s : snapshots) {
        SnapshotInfo info;
        auto stage = load_stage(s, info, o.device);
        if (stage->resolution() < smallest_scored) { // a run's first ticks: nothing to score
            PGG_CHECK(!o.run.empty(), s, ": a ", stage->resolution(), "x", stage->resolution(), " snapshot; SWD needs ",
                      smallest_scored, "x", smallest_scored, " images at least");
            std::printf("skipped %s: %ldx%ld, below SWD's %ldx%ld\n", fs::path(s).filename().c_str(), long(stage->resolution()),
                        long(stage->resolution()), long(smallest_scored), long(smallest_scored));
            continue;
        }
        Row row = score_snapshot(ev, o, s, *stage, info);
        if (!floor_done[row.resolution]) {
            floor_done[row.resolution] = true;
            rows.push_back(ev.reals_row(row.resolution));
        }
        rows.push_back(std::move(row));
    }
    PGG_CHECK(!rows.empty(), o.run, ": no snapshot is ", smallest_scored, "x", smallest_scored, " or larger, nothing to score");
    if (o.out.empty()) o.out = o.run.empty() ? fs::path(o.snapshot).replace_extension().string() + "-evaluate" : o.run + "/evaluate";
    write_outputs(rows, o.out, !o.run.empty());
}

} // namespace

void add_evaluate_command(CLI::App& app) {
    auto o = std::make_shared<EvaluateOptions>();
    CLI::App* c = app.add_subcommand("evaluate", "SWD and MS-SSIM of a snapshot, a run's snapshots or an image folder against reals");
    c->add_option("--snapshot", o->snapshot, "one network-*.safetensors")->check(CLI::ExistingFile);
    c->add_option("--run", o->run, "a run folder: every snapshot, newest first, and a plot")->check(CLI::ExistingDirectory);
    c->add_option("--images", o->images, "a folder of images from any generator")->check(CLI::ExistingDirectory);
    c->add_option("--reals", o->reals, "a dataset made by `cxr_pggan dataset`, or a folder of images")->required()->check(CLI::ExistingDirectory);
    c->add_option("--num", o->num,
                  "generated images per set, and the reals held out as the floor (at most half the reals; all others are the "
                  "reference). The paper: 16384; SWD depends on it, so compare equal N")
        ->capture_default_str()
        ->check(CLI::Range(2L, 10000000L));
    c->add_option("--seed", o->seed, "seed of the reals' order, patch positions, directions and latents")->capture_default_str();
    c->add_option("--batch", o->batch, "images per batch")->capture_default_str()->check(CLI::Range(1, 4096));
    c->add_flag("--tile-rgb", o->tile_rgb, "score gray images tiled to RGB, as the official code does");
    c->add_option("--device", o->device, "where the generator runs: cpu, or cuda in a build with the CUDA backend")
        ->capture_default_str()
        ->check(CLI::IsMember({"cpu", "cuda"}));
    c->add_option("--out", o->out, "output prefix for .csv and .png (default: beside the input)");
    c->callback([o] { evaluate(*o); });
}

} // namespace pggan
