#pragma once
// Image and mask pairs for the UNet: reading them (same file names in two folders), the seeded
// validation split (augmentation: examples/common/augment.hpp).
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include <pgg/pgg.hpp>

#include "../common/augment.hpp"
#include "../common/files.hpp"

namespace cxr_unet {

namespace fs = std::filesystem;
using pgg::app::AugmentOptions;
using pgg::app::to_unit_gray;
using pgg::index_t;
using pgg::Tensor;

// Pictures of `images` and the masks of the same name in `masks` (0 background, 255 lung), at size x size.
struct Pairs {
    std::vector<std::string> names;        // file names relative to the image folder
    std::vector<Tensor<float>> images;     // (1, 1, S, S) in [0, 1]
    std::vector<Tensor<float>> masks;      // (1, 1, S, S) in [0, 1]
    index_t size = 0;
};

// Reads every pair (on all cores), or those of the images a list file names; a missing mask, an
// unreadable file or a mask whose size differs from its image's is an error naming the file.
inline Pairs read_pairs(const std::string& images, const std::string& masks, index_t size, const std::string& list = "") {
    const auto files = pgg::app::find_inputs(images, list, pgg::app::picture_extensions);
    Pairs p;
    p.size = size;
    p.names.resize(files.size());
    p.images.resize(files.size());
    p.masks.resize(files.size());
    std::vector<std::string> errors(files.size());
    pgg::Progress progress("reading", long(files.size()));
#pragma omp parallel for schedule(dynamic, 4)
    for (std::size_t i = 0; i < files.size(); ++i) {
        try {
            const std::string name = fs::relative(files[i], images).string();
            const std::string mask_path = (fs::path(masks) / name).string();
            PGG_CHECK(fs::exists(mask_path), files[i], ": no mask ", mask_path);
            const Tensor<std::uint8_t> img = pgg::io::read_image(files[i], 1), mask = pgg::io::read_image(mask_path, 1);
            PGG_CHECK(img.h() == mask.h() && img.w() == mask.w(), mask_path, ": mask is ", mask.w(), "x", mask.h(), ", its image ",
                      img.w(), "x", img.h());
            PGG_CHECK(size > 0 || img.h() == p.size, files[i], ": size differs");
            p.names[i] = name;
            p.images[i] = to_unit_gray(img, size);
            p.masks[i] = to_unit_gray(mask, size);
        } catch (const std::exception& e) {
            errors[i] = e.what();
        }
        progress.advance();
    }
    progress.finish();
    for (const auto& e : errors) PGG_CHECK(e.empty(), e);
    for (std::size_t i = 0; i < files.size(); ++i)
        PGG_CHECK(p.images[i].h() % 16 == 0 && p.images[i].w() == p.images[i].h(), files[i], ": ", p.images[i].w(), "x",
                  p.images[i].h(), " is not square with sides a multiple of 16 (use --size)");
    if (p.size == 0) p.size = p.images[0].h();
    return p;
}

// A seeded split: `fraction` of the indices (at least one) for validation, the rest for training.
struct Split {
    std::vector<index_t> train, validation;
};
inline Split split_indices(index_t n, double fraction, std::uint64_t seed) {
    PGG_CHECK(n >= 2, "need at least 2 image/mask pairs to split, got ", n);
    pgg::Generator gen(seed, 0x5b1);
    const std::vector<index_t> order = pgg::random_permutation(n, gen);
    const index_t nv = std::clamp<index_t>(index_t(std::lround(double(n) * fraction)), 1, n - 1);
    Split s;
    s.validation.assign(order.begin(), order.begin() + nv);
    s.train.assign(order.begin() + nv, order.end());
    std::sort(s.validation.begin(), s.validation.end());
    return s;
}

} // namespace cxr_unet
