// `cxr_pggan generate` (PNGs from a snapshot's Gs) and `cxr_pggan interpolate` (frames of a smooth
// latent walk, and an MP4 when ffmpeg is installed).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "commands.hpp"
#include "inputs.hpp"
#include "snapshot.hpp"

namespace pggan {
namespace {

namespace fs = std::filesystem;
using pgg::index_t;
using pgg::Tensor;

struct GenerateOptions {
    std::string snapshot, out, grid = "1x1", latents;
    long num = 16;
    std::uint64_t seed = 1000;
    int shrink = 1, batch = 8;
    // interpolate
    long frames = 120;
    double smoothing = 4.0, fps = 30;
    bool mp4 = true;
    std::string device = "cpu";
};

std::pair<int, int> parse_grid(const std::string& g) {
    int w = 0, h = 0;
    char x = 0;
    PGG_CHECK(std::sscanf(g.c_str(), "%d%c%d", &w, &x, &h) == 3 && (x == 'x' || x == 'X') && w > 0 && h > 0 && w * h <= 1024,
              "--grid '", g, "': expected WxH, e.g. 3x2");
    return {w, h};
}

// Gs outputs in [-1, 1] to a PNG-ready uint8 grid, shrunk by 2x2 averaging `shrink` times over.
Tensor<std::uint8_t> to_png_grid(Tensor<float> images, int shrink, int gw) {
    for (int s = shrink; s > 1; s /= 2) {
        Tensor<float> half;
        pgg::avg_pool2x_forward(images, half);
        images = half;
    }
    return pgg::io::make_grid(pgg::io::to_uint8(images), gw, 0);
}

void generate(const GenerateOptions& o) {
    const auto [gw, gh] = parse_grid(o.grid);
    PGG_CHECK(o.shrink >= 1 && (o.shrink & (o.shrink - 1)) == 0, "--shrink ", o.shrink, ": a power of two is expected");
    SnapshotInfo info;
    auto stage = load_stage(o.snapshot, info, o.device);
    PGG_CHECK(o.shrink < stage->resolution(), "--shrink ", o.shrink, " leaves nothing of ", stage->resolution(), "x", stage->resolution());
    pgg::InterruptGuard guard;
    const index_t per_png = index_t(gw) * gh, L = stage->latent_size();
    // Given latents: row k is image k (PNG k / per_png, cell k % per_png), to compare with other implementations.
    std::unique_ptr<pgg::io::NpyMap<float>> given;
    long num = o.num;
    if (!o.latents.empty()) {
        given = std::make_unique<pgg::io::NpyMap<float>>(o.latents);
        const auto& s = given->shape();
        PGG_CHECK(s.size() == 2 && s[1] == L && s[0] > 0 && s[0] % per_png == 0, o.latents, ": latents of shape ",
                  pgg::Shape::from_range(s.begin(), s.end()), "; this generator needs (N, ", L, ") with N a multiple of the ",
                  per_png, " images per PNG");
        num = long(s[0] / per_png);
    }
    write_folder(o.out, [&](const std::string& tmp) {
        pgg::Progress progress("generating", num);
        Tensor<float> z, images;
        for (long b = 0; b < num; b += o.batch) {
            const long n = std::min<long>(o.batch, num - b);
            z.resize_({n * per_png, L});
            if (given) std::copy_n(given->data() + b * per_png * L, n * per_png * L, z.data());
            // latents of PNG i come from stream i: the same images whatever --num and --batch
            for (long i = 0; i < n && !given; ++i) {
                pgg::Generator g(o.seed, std::uint64_t(b + i));
                Tensor<float> zi = z.slice(i * per_png, (i + 1) * per_png);
                pgg::fill_normal(zi, g);
            }
            stage->generate(z, images);
            for (long i = 0; i < n; ++i) {
                char name[32];
                std::snprintf(name, sizeof name, "/fake%06ld.png", b + i);
                pgg::io::write_png(tmp + name, to_png_grid(images.slice(i * per_png, (i + 1) * per_png), o.shrink, gw));
            }
            progress.advance(n);
            pgg::throw_if_interrupted(o.out.c_str());
        }
        progress.finish();
    });
    std::printf("%s: %ld PNGs of %dx%d images at %dx%d from %s\n", o.out.c_str(), num, gw, gh, stage->resolution() / o.shrink,
                stage->resolution() / o.shrink, o.snapshot.c_str());
}

// Frames of a latent walk: per grid cell, i.i.d. normal latents per frame, smoothed over time by a
// circular Gaussian filter (sigma in frames) and renormalised to unit mean square, as the official
// interpolation video does; the walk loops.
void interpolate(const GenerateOptions& o) {
    const auto [gw, gh] = parse_grid(o.grid);
    SnapshotInfo info;
    auto stage = load_stage(o.snapshot, info, o.device);
    const index_t cells = index_t(gw) * gh, L = stage->latent_size(), F = o.frames;
    PGG_CHECK(F >= 2, "--frames must be at least 2");
    Tensor<float> raw({F, cells, L});
    pgg::Generator g(o.seed);
    pgg::fill_normal(raw, g);
    const int radius = int(std::ceil(4 * o.smoothing));
    std::vector<double> kernel(2 * radius + 1);
    for (int k = -radius; k <= radius; ++k) kernel[k + radius] = o.smoothing > 0 ? std::exp(-0.5 * k * k / (o.smoothing * o.smoothing)) : k == 0;
    Tensor<float> z({F, cells * L});
    for (index_t f = 0; f < F; ++f)
        for (index_t q = 0; q < cells * L; ++q) {
            double acc = 0;
            for (int k = -radius; k <= radius; ++k) acc += kernel[k + radius] * raw.data()[(((f + k) % F + F) % F) * cells * L + q];
            z.data()[f * cells * L + q] = float(acc);
        }
    const double rms = std::sqrt(double(pgg::sum_sq(z)) / double(z.numel()));
    Tensor<float> zn = z * float(1.0 / rms);
    pgg::InterruptGuard guard;
    write_folder(o.out, [&](const std::string& tmp) {
        pgg::Progress progress("frames", F);
        Tensor<float> images;
        for (index_t f = 0; f < F; ++f) {
            stage->generate(zn.slice(f, f + 1).reshape({cells, L}), images);
            char name[32];
            std::snprintf(name, sizeof name, "/frame%06ld.png", long(f));
            pgg::io::write_png(tmp + name, to_png_grid(images, 1, gw));
            progress.advance();
            pgg::throw_if_interrupted(o.out.c_str());
        }
        progress.finish();
        if (o.mp4 && std::system("command -v ffmpeg >/dev/null 2>&1") == 0) {
            const std::string cmd = "ffmpeg -loglevel error -y -framerate " + std::to_string(o.fps) + " -i '" + tmp +
                                    "/frame%06d.png' -c:v libx264 -pix_fmt yuv420p -vf 'pad=ceil(iw/2)*2:ceil(ih/2)*2' '" + tmp +
                                    "/interpolation.mp4'";
            PGG_CHECK(std::system(cmd.c_str()) == 0, "ffmpeg failed: ", cmd);
        }
    });
    std::printf("%s: %ld frames%s\n", o.out.c_str(), long(F),
                fs::exists(o.out + "/interpolation.mp4") ? " and interpolation.mp4" : " (no ffmpeg: no MP4)");
}

} // namespace

void add_generate_command(CLI::App& app) {
    auto o = std::make_shared<GenerateOptions>();
    CLI::App* c = app.add_subcommand("generate", "PNG images from a snapshot's Gs: round(Gs(z) * 127.5 + 127.5)");
    c->add_option("--snapshot", o->snapshot, "network-*.safetensors of a run")->required()->check(CLI::ExistingFile);
    c->add_option("--out", o->out, "new folder for the PNGs")->required();
    auto* num = c->add_option("--num", o->num, "number of PNGs")->capture_default_str()->check(CLI::Range(1L, 10000000L));
    auto* seed = c->add_option("--seed", o->seed, "latent seed (PNG i uses stream i)")->capture_default_str();
    c->add_option("--latents", o->latents, "float32 .npy (N, latent_size): image k from row k instead of random latents")
        ->check(CLI::ExistingFile)
        ->excludes(seed)
        ->excludes(num);
    c->add_option("--device", o->device, "cpu, or cuda in a build with the CUDA backend")->capture_default_str()->check(CLI::IsMember({"cpu", "cuda"}));
    c->add_option("--grid", o->grid, "images per PNG, WxH")->capture_default_str();
    c->add_option("--shrink", o->shrink, "shrink by this factor (2x2 averaging)")->capture_default_str();
    c->add_option("--batch", o->batch, "PNGs generated at once")->capture_default_str()->check(CLI::Range(1, 4096));
    c->callback([o] { generate(*o); });

    auto* i = app.add_subcommand("interpolate", "frames (and an MP4 with ffmpeg) of a smooth walk through latent space");
    i->add_option("--snapshot", o->snapshot, "network-*.safetensors of a run")->required()->check(CLI::ExistingFile);
    i->add_option("--out", o->out, "new folder for the frames")->required();
    i->add_option("--frames", o->frames, "number of frames")->capture_default_str()->check(CLI::Range(2L, 100000L));
    i->add_option("--smoothing", o->smoothing, "Gaussian sigma over time, in frames")->capture_default_str()->check(CLI::NonNegativeNumber);
    i->add_option("--seed", o->seed, "latent seed")->capture_default_str();
    i->add_option("--device", o->device, "cpu, or cuda in a build with the CUDA backend")->capture_default_str()->check(CLI::IsMember({"cpu", "cuda"}));
    i->add_option("--grid", o->grid, "images per frame, WxH")->capture_default_str();
    i->add_option("--fps", o->fps, "frames per second of the MP4")->capture_default_str();
    i->add_flag("!--no-mp4", o->mp4, "write frames only");
    i->callback([o] { interpolate(*o); });
}

} // namespace pggan
