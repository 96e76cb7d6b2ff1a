#pragma once
// Traditional augmentation of chest X-rays, shared by cxr_unet (image and lung mask) and cxr_classifier
// (image only): a small random rotation, shift and zoom (bilinear; the image's border replicated, a
// mask's zero), then brightness and contrast. No left-right flip unless asked: it moves the heart.
// Each sample's draw comes from its own Philox generator, which the caller positions per sample, so a
// batch is the same whatever the thread count or the order of evaluation.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>

#include <pgg/pgg.hpp>

namespace pgg::app {

struct AugmentOptions {
    double rotate = 10;      // degrees, uniform in [-rotate, rotate]
    double shift = 0.06;     // fraction of the side, per axis
    double scale = 0.08;     // zoom uniform in [1 - scale, 1 + scale]
    double brightness = 0.1; // added, uniform in [-b, b]
    double contrast = 0.15;  // factor uniform in [1 - c, 1 + c] around the image mean
    bool hflip = false;      // left-right flips swap the heart's side: off by default
};

// One sample's warp of an S x S image in [0, 1] (and of its mask, when `mask` is not null), drawn from
// the first two blocks of `g`.
inline void augment(const float* img, const float* mask, index_t S, const AugmentOptions& o, const Generator& g,
                    float* out_img, float* out_mask = nullptr) {
    std::uint32_t w[8];
    g.block(0, w);
    g.block(1, w + 4);
    auto u = [&](int k) { return 2.0 * philox::to_unit_float(w[k]) - 1.0; }; // in (-1, 1)
    const double pi = 3.14159265358979323846;
    const double angle = o.rotate * pi / 180 * u(0), zoom = 1 + o.scale * u(1);
    const double tx = o.shift * double(S) * u(2), ty = o.shift * double(S) * u(3);
    const double bright = o.brightness * u(4), contrast = 1 + o.contrast * u(5);
    const bool flip = o.hflip && u(6) > 0;
    const double c = (double(S) - 1) / 2, ca = std::cos(angle) / zoom, sa = std::sin(angle) / zoom;
    double mean = 0;
    for (index_t i = 0; i < S * S; ++i) mean += img[i];
    mean /= double(S * S);
    for (index_t y = 0; y < S; ++y)
        for (index_t x = 0; x < S; ++x) {
            // output pixel -> source pixel: the inverse of rotate-zoom about the centre, then shift
            const double px = (flip ? double(S - 1 - x) : double(x)) - c - tx, py = double(y) - c - ty;
            const double sx = ca * px + sa * py + c, sy = -sa * px + ca * py + c;
            const double fx = std::floor(sx), fy = std::floor(sy), ax = sx - fx, ay = sy - fy;
            const index_t x0 = index_t(fx), y0 = index_t(fy);
            double vi = 0, vm = 0;
            for (int dy = 0; dy < 2; ++dy)
                for (int dx = 0; dx < 2; ++dx) {
                    const double wgt = (dx ? ax : 1 - ax) * (dy ? ay : 1 - ay);
                    const index_t xx = x0 + dx, yy = y0 + dy;
                    const index_t cx = std::clamp<index_t>(xx, 0, S - 1), cy = std::clamp<index_t>(yy, 0, S - 1);
                    vi += wgt * img[cy * S + cx];
                    if (mask && xx == cx && yy == cy) vm += wgt * mask[cy * S + cx];
                }
            out_img[y * S + x] = float(std::clamp((vi - mean) * contrast + mean + bright, 0.0, 1.0));
            if (mask) out_mask[y * S + x] = float(vm);
        }
}

// The command-line options of a training command, with ranges that keep anatomy plausible.
inline void add_augment_options(CLI::App* cmd, AugmentOptions& o) {
    cmd->add_option("--rotate", o.rotate, "augmentation: rotation, degrees")->capture_default_str()->check(CLI::Range(0.0, 45.0));
    cmd->add_option("--shift", o.shift, "augmentation: shift, fraction of the side")->capture_default_str()->check(CLI::Range(0.0, 0.5));
    cmd->add_option("--scale", o.scale, "augmentation: zoom 1 +- scale")->capture_default_str()->check(CLI::Range(0.0, 0.5));
    cmd->add_option("--brightness", o.brightness, "augmentation: brightness +- b")->capture_default_str()->check(CLI::Range(0.0, 0.5));
    cmd->add_option("--contrast", o.contrast, "augmentation: contrast 1 +- c")->capture_default_str()->check(CLI::Range(0.0, 0.9));
    cmd->add_flag("--hflip", o.hflip, "augmentation: random left-right flips (off: they move the heart)");
}

inline nlohmann::json to_json(const AugmentOptions& o) {
    return {{"rotate", o.rotate},         {"shift", o.shift},       {"scale", o.scale},
            {"brightness", o.brightness}, {"contrast", o.contrast}, {"hflip", o.hflip}};
}
inline AugmentOptions augment_from_json(const nlohmann::json& a) {
    return {a.at("rotate"), a.at("shift"), a.at("scale"), a.at("brightness"), a.at("contrast"), a.at("hflip")};
}

} // namespace pgg::app
