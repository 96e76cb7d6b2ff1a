// `cxr_unet segment`: the source study's preprocessing (docs/study.md). For every CXR (PNG, JPEG, BMP, PNM, DICOM) under --in:
// predict the lung mask at the network's resolution (or, with --masks, read the given mask of the same
// name), clean it (threshold, the two largest components, holes filled), take the lungs' bounding box plus a margin, crop the ORIGINAL-resolution image there
// and resize the crop to --size x --size. Images without plausible lungs are reported and skipped.
//
//   --out DIR          the crops only (PNG, same relative names): ready for `cxr_pggan dataset create_from_images`
//   --masks-out DIR    (default DIR-masks) the cleaned masks, the uncertainty maps of --mc-samples,
//                      overlay-NNN.png grids (mask in red, crop box in green) and summary.csv
// Both folders appear whole or not at all.
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "commands.hpp"
#include "data.hpp"
#include "model.hpp"
#include "postprocess.hpp"

namespace cxr_unet {
namespace {

namespace fs = std::filesystem;

struct SegmentOptions {
    std::string checkpoint, masks, in, out, masks_out;
    index_t size = 512, batch = 8;
    double margin = 0.05;
    int mc_samples = 1;
    std::uint64_t seed = 1;
    MaskOptions mask;
    std::string device = "cpu";
};

struct Outcome {
    std::string name, problem, kind; // kind: a short class of the problem, for the summary
    double area = 0;
    Box box{0, 0, 0, 0};
    index_t width = 0, height = 0;
};

constexpr index_t overlay_page = 64;
constexpr index_t given_mask_side = 256; // the side at which given masks are cleaned and drawn

// The mask of the image at relative path `rel` under `dir`: the same name, or the same name with .png.
std::string given_mask(const std::string& dir, const fs::path& rel) {
    for (const fs::path& p : {fs::path(dir) / rel, (fs::path(dir) / rel).replace_extension(".png")})
        if (fs::is_regular_file(p)) return p.string();
    return {};
}

// The network-resolution image as RGB with the mask tinted red and the crop box in green.
void draw_overlay(const float* img, const CleanMask* m, const Box* box, index_t S, std::uint8_t* rgb) {
    for (index_t p = 0; p < S * S; ++p) {
        const float v = 255.0f * img[p];
        const bool lung = m && m->mask[std::size_t(p)];
        rgb[p] = std::uint8_t(lung ? 0.6f * v + 0.4f * 255.0f : v);
        rgb[S * S + p] = std::uint8_t(lung ? 0.6f * v : v);
        rgb[2 * S * S + p] = std::uint8_t(lung ? 0.6f * v : v);
    }
    if (!box) return;
    auto dot = [&](index_t x, index_t y) {
        x = std::clamp<index_t>(x, 0, S - 1), y = std::clamp<index_t>(y, 0, S - 1);
        rgb[y * S + x] = 0, rgb[S * S + y * S + x] = 255, rgb[2 * S * S + y * S + x] = 0;
    };
    for (index_t x = box->x0; x < box->x1; ++x) dot(x, box->y0), dot(x, box->y1 - 1);
    for (index_t y = box->y0; y < box->y1; ++y) dot(box->x0, y), dot(box->x1 - 1, y);
}

void segment(const SegmentOptions& o) {
    PGG_CHECK(o.checkpoint.empty() != o.masks.empty(), "segment: give either --checkpoint (a UNet predicts the masks) or --masks (a folder of masks)");
    std::vector<std::string> extensions = pgg::app::picture_extensions;
    extensions.insert(extensions.end(), pgg::app::dicom_extensions.begin(), pgg::app::dicom_extensions.end());
    const std::vector<std::string> files = pgg::app::find_inputs(o.in, "", extensions);
    const std::string masks_out = o.masks_out.empty() ? o.out + "-masks" : o.masks_out;
    PGG_CHECK(!fs::exists(masks_out), masks_out, ": already exists; choose a new folder (--masks-out)");
    std::vector<std::string> mask_files;
    LoadedModel m;
    if (o.masks.empty()) {
        m = load_checkpoint(o.checkpoint, o.device);
        m.model->set_dropout(m.dropout, o.seed);
    } else {
        for (const auto& f : files) {
            const fs::path rel = fs::relative(f, o.in);
            mask_files.push_back(given_mask(o.masks, rel));
            PGG_CHECK(!mask_files.back().empty(), o.masks, ": no mask for ", f, " (looked for ", (fs::path(o.masks) / rel).string(),
                      " and the same name with .png)");
        }
    }
    const index_t S = o.masks.empty() ? m.size : given_mask_side, n = index_t(files.size());
    std::vector<Outcome> outcomes(files.size());
    pgg::InterruptGuard guard;
    pgg::app::write_folder(o.out, [&](const std::string& out_tmp) {
        pgg::app::write_folder(masks_out, [&](const std::string& masks_tmp) {
            pgg::Progress progress("segmenting", long(n));
            Tensor<std::uint8_t> overlays({overlay_page, 3, S, S});
            index_t in_page = 0, pages = 0;
            auto flush_overlays = [&] {
                if (!in_page) return;
                char name[64];
                std::snprintf(name, sizeof name, "/overlay-%03lld.png", (long long)pages++);
                pgg::io::write_png(masks_tmp + name, pgg::io::make_grid(overlays.slice(0, in_page), 8));
                in_page = 0;
            };
            for (index_t b0 = 0; b0 < n; b0 += o.batch) {
                pgg::throw_if_interrupted("segment");
                const index_t nb = std::min(o.batch, n - b0);
                std::vector<Tensor<std::uint8_t>> originals(static_cast<std::size_t>(nb));
                Tensor<float> x({nb, 1, S, S}), probs, stddev;
                if (!o.masks.empty()) probs.resize_({nb, 1, S, S});
#pragma omp parallel for schedule(dynamic)
                for (index_t i = 0; i < nb; ++i) {
                    Outcome& out = outcomes[b0 + i];
                    out.name = fs::relative(files[b0 + i], o.in).replace_extension(".png").string();
                    try {
                        originals[i] = pgg::app::read_any_picture(files[b0 + i], 1);
                        std::copy_n(to_unit_gray(originals[i], S).data(), S * S, x.data() + i * S * S);
                        if (!o.masks.empty()) // a given mask counts as the probability of lung, resized like the image
                            std::copy_n(to_unit_gray(pgg::io::read_image(mask_files[b0 + i], 1), S).data(), S * S, probs.data() + i * S * S);
                    } catch (const std::exception& e) {
                        out.problem = e.what();
                        out.kind = "unreadable";
                        std::fill_n(x.data() + i * S * S, S * S, 0.0f);
                        if (!o.masks.empty()) std::fill_n(probs.data() + i * S * S, S * S, 0.0f);
                    }
                }
                if (o.masks.empty()) probs = predict(*m.model, x, o.mc_samples, &stddev);
                std::vector<CleanMask> cleaned(static_cast<std::size_t>(nb));
#pragma omp parallel for schedule(dynamic)
                for (index_t i = 0; i < nb; ++i) {
                    Outcome& out = outcomes[b0 + i];
                    if (!out.problem.empty()) continue;
                    try {
                        const Tensor<std::uint8_t>& img = originals[i];
                        out.width = img.w(), out.height = img.h();
                        CleanMask& cm = cleaned[i] = clean_mask(probs.data() + i * S * S, S, S, o.mask);
                        out.area = cm.area;
                        const fs::path mask_path = fs::path(masks_tmp) / out.name;
                        fs::create_directories(mask_path.parent_path());
                        Tensor<std::uint8_t> mask_png({1, 1, S, S});
                        for (index_t p = 0; p < S * S; ++p) mask_png.data()[p] = cm.mask[std::size_t(p)] ? 255 : 0;
                        pgg::io::write_png(mask_path.string(), mask_png);
                        if (o.masks.empty() && o.mc_samples > 1) {
                            Tensor<std::uint8_t> u({1, 1, S, S});
                            for (index_t p = 0; p < S * S; ++p)
                                u.data()[p] = std::uint8_t(std::min(255.0f, 510.0f * stddev.data()[i * S * S + p] + 0.5f));
                            pgg::io::write_png(fs::path(mask_path).replace_extension("").string() + "_uncertainty.png", u);
                        }
                        if (!cm.problem.empty()) {
                            out.problem = cm.problem;
                            out.kind = cm.lungs ? "implausible lung area" : "no lungs found";
                            continue;
                        }
                        out.box = crop_box(cm, img.h(), img.w(), o.margin);
                        const fs::path crop_path = fs::path(out_tmp) / out.name;
                        fs::create_directories(crop_path.parent_path());
                        pgg::io::write_png(crop_path.string(), crop_resize(img, out.box, o.size));
                    } catch (const std::exception& e) {
                        out.problem = e.what();
                        out.kind = "error";
                    }
                }
                for (index_t i = 0; i < nb; ++i) {
                    const Outcome& out = outcomes[b0 + i];
                    const bool have_mask = !cleaned[i].mask.empty();
                    Box net_box{0, 0, 0, 0};
                    if (out.problem.empty()) net_box = crop_box(cleaned[i], S, S, o.margin);
                    draw_overlay(x.data() + i * S * S, have_mask ? &cleaned[i] : nullptr, out.problem.empty() ? &net_box : nullptr, S,
                                 overlays.data() + in_page * 3 * S * S);
                    if (++in_page == overlay_page) flush_overlays();
                }
                progress.advance(nb);
            }
            flush_overlays();
            progress.finish();
            std::ostringstream csv;
            csv << "file,status,reason,lung_area,width,height,x0,y0,x1,y1\n";
            for (const auto& out : outcomes) {
                char buf[160];
                std::snprintf(buf, sizeof buf, ",%.4f,%lld,%lld,%lld,%lld,%lld,%lld\n", out.area, (long long)out.width, (long long)out.height,
                              (long long)out.box.x0, (long long)out.box.y0, (long long)out.box.x1, (long long)out.box.y1);
                std::string reason = out.problem;
                for (char& c : reason)
                    if (c == '"') c = '\'';
                csv << out.name << "," << (out.problem.empty() ? "cropped" : "skipped") << ",\"" << reason << "\"" << buf;
            }
            pgg::io::write_file_atomic(masks_tmp + "/summary.csv", csv.str());
            const auto done = std::count_if(outcomes.begin(), outcomes.end(), [](const Outcome& u) { return u.problem.empty(); });
            PGG_CHECK(done > 0, "no image had plausible lungs; nothing written (first reason: ", outcomes[0].name, ": ",
                      outcomes[0].problem, ")");
        });
    });
    std::map<std::string, int> reasons;
    long done = 0;
    for (const auto& out : outcomes) {
        if (out.problem.empty()) {
            ++done;
            continue;
        }
        std::fprintf(stderr, "skipped %s: %s\n", out.name.c_str(), out.problem.c_str());
        ++reasons[out.kind];
    }
    std::printf("segment: %ld of %lld cropped to %lldx%lld in %s; %lld skipped; masks, overlays and summary.csv in %s\n", done,
                (long long)n, (long long)o.size, (long long)o.size, o.out.c_str(), (long long)(n - done), masks_out.c_str());
    for (const auto& [why, count] : reasons) std::printf("  %d skipped: %s\n", count, why.c_str());
}

} // namespace

void add_segment_command(CLI::App& app) {
    auto o = std::make_shared<SegmentOptions>();
    auto* cmd = app.add_subcommand("segment", "crop CXRs to their lungs (the PG-GAN's preprocessing)");
    auto* ckpt = cmd->add_option("--checkpoint", o->checkpoint, "a checkpoint of `cxr_unet train` (best.safetensors)")->check(CLI::ExistingFile);
    cmd->add_option("--masks", o->masks, "instead of a UNet: a folder of lung masks (0/255) with the images' relative names")
        ->check(CLI::ExistingDirectory)
        ->excludes(ckpt);
    cmd->add_option("--in", o->in, "folder of CXRs (PNG, JPEG, BMP, PNM, DICOM), searched recursively")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("--out", o->out, "folder to create with the crops")->required();
    cmd->add_option("--masks-out", o->masks_out, "folder to create with masks, overlays and summary.csv (default OUT-masks)");
    cmd->add_option("--size", o->size, "side of the resized crops")->capture_default_str()->check(CLI::Range(4, 8192));
    cmd->add_option("--margin", o->margin, "widen the lungs' box by this fraction of its size on each side")->capture_default_str()->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--threshold", o->mask.threshold, "probability threshold of the mask")->capture_default_str()->check(CLI::Range(0.01, 0.99));
    cmd->add_option("--min-area", o->mask.min_area, "skip images whose lungs cover less of the image")->capture_default_str()->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--max-area", o->mask.max_area, "skip images whose lungs cover more of the image")->capture_default_str()->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--mc-samples", o->mc_samples, "Monte-Carlo dropout passes: mean mask and uncertainty maps (1: dropout off)")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--seed", o->seed, "seed of the Monte-Carlo dropout noise")->capture_default_str();
    cmd->add_option("--batch", o->batch, "images per forward pass")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--device", o->device, "where the UNet runs: cpu, or cuda in a build with the CUDA backend")
        ->capture_default_str()
        ->check(CLI::IsMember({"cpu", "cuda"}));
    cmd->callback([o] { segment(*o); });
}

} // namespace cxr_unet
