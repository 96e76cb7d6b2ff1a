#pragma once
// The synthetic images of GAN augmentation, per class: from a cxr_pggan snapshot (its averaged
// generator Gs, drawn when a run starts: image i from latent stream i of `seed`, exactly the image
// `cxr_pggan generate --snapshot ... --seed SEED` writes as fake<i>.png) or from a folder of
// generated images (the first `count` in name order). Either must be 1-channel at the classifier's
// side: a mismatch is an error naming the snapshot or file, not a silent resize.
#include <string>
#include <vector>

#include "../cxr_pggan/snapshot.hpp"
#include "data.hpp"

namespace cxr_classifier {

inline std::vector<Tensor<float>> generate_from_snapshot(const std::string& path, index_t count, index_t side, std::uint64_t seed,
                                                         const std::string& device) {
    pggan::SnapshotInfo info;
    auto stage = pggan::load_stage(path, info, device);
    PGG_CHECK(info.channels == 1, path, ": a generator of ", info.channels, "-channel images; the classifier reads gray (1-channel) CXRs");
    PGG_CHECK(stage->resolution() == side && info.lod == 0.0, path, ": a ", stage->resolution(), "x", stage->resolution(),
              " generator at lod ", info.lod, "; this run classifies ", side, "x", side,
              " images (train the PG-GAN to that resolution, or choose --size ", stage->resolution(), ")");
    std::vector<Tensor<float>> out;
    pgg::Progress progress("generating from " + fs::path(path).filename().string(), long(count));
    Tensor<float> z, images;
    const index_t batch = 16, L = stage->latent_size();
    for (index_t b = 0; b < count; b += batch) {
        const index_t n = std::min(batch, count - b);
        z.resize_({n, L});
        for (index_t i = 0; i < n; ++i) {
            pgg::Generator g(seed, std::uint64_t(b + i));
            Tensor<float> zi = z.slice(i, i + 1);
            pgg::fill_normal(zi, g);
        }
        stage->generate(z, images);
        // the 8-bit picture generate writes, so that a snapshot and its generated folder train alike
        const Tensor<std::uint8_t> px = pgg::io::to_uint8(images);
        for (index_t i = 0; i < n; ++i) out.push_back(pgg::app::to_unit_gray(px.slice(i, i + 1), 0));
        progress.advance(n);
        pgg::throw_if_interrupted(path.c_str());
    }
    progress.finish();
    return out;
}

inline std::vector<Tensor<float>> read_synthetic_folder(const std::string& dir, index_t count, index_t side) {
    const auto files = pgg::app::find_inputs(dir, "", pgg::app::picture_extensions);
    PGG_CHECK(index_t(files.size()) >= count, dir, ": ", files.size(), " images, ", count,
              " needed (--synthetic-ratio x the real training images of the class)");
    auto out = std::vector<Tensor<float>>(std::size_t(count));
    std::vector<std::string> errors(out.size());
#pragma omp parallel for schedule(dynamic, 8)
    for (index_t i = 0; i < count; ++i) {
        try {
            const Tensor<std::uint8_t> img = pgg::io::read_image(files[std::size_t(i)], 0);
            PGG_CHECK(img.c() == 1 && img.h() == side && img.w() == side, files[std::size_t(i)], ": ", img.w(), "x", img.h(), " with ",
                      img.c(), " channel(s); synthetic images must be gray ", side, "x", side, " (the classifier's --size)");
            out[std::size_t(i)] = pgg::app::to_unit_gray(img, 0);
        } catch (const std::exception& e) {
            errors[std::size_t(i)] = e.what();
        }
    }
    for (const auto& e : errors) PGG_CHECK(e.empty(), e);
    return out;
}

// `count` synthetic images of one class from `source` (a .safetensors snapshot or a folder).
inline std::vector<Tensor<float>> synthetic_images(const std::string& source, index_t count, index_t side, std::uint64_t seed,
                                                   const std::string& device) {
    if (fs::is_directory(source)) return read_synthetic_folder(source, count, side);
    PGG_CHECK(fs::is_regular_file(source), source, ": neither a snapshot file nor a folder of images");
    return generate_from_snapshot(source, count, side, seed, device);
}

} // namespace cxr_classifier
