#pragma once
// Input images for the dataset tool: reading them at one size and channel count, and the check pass
// that finds every bad file before anything is written (finding them: ../common/files.hpp).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <pgg/pgg.hpp>

#include "../common/files.hpp"

namespace pggan {

namespace fs = std::filesystem;

struct InputOptions {
    int resize = 0;    // 0: images must already be square powers of two; N: resample to N x N
    int channels = 0;  // 0: as stored (all must agree); 1 or 3: converted
    bool skip_bad = false;
};

using pgg::app::find_inputs;
using pgg::app::lower;
using pgg::app::write_folder;

// Reads one input with `reader` (a file -> uint8 (1, C, H, W) function) and brings it to the wanted
// channels and size; throws pgg::error naming the file and the reason.
template <class Reader>
pgg::Tensor<std::uint8_t> load_input(const std::string& path, const InputOptions& o, Reader&& reader) {
    pgg::Tensor<std::uint8_t> img = reader(path, o.channels);
    const pgg::index_t h = img.h(), w = img.w();
    if (o.resize > 0) {
        if (h == o.resize && w == o.resize) return img;
        pgg::Tensor<float> src = pgg::cast<float>(img), dst({1, img.c(), o.resize, o.resize});
        // area averaging when shrinking (no aliasing), bilinear when enlarging
        if (h >= o.resize && w >= o.resize) pgg::resize_area(src, dst);
        else pgg::resize_bilinear(src, dst);
        return pgg::cast<std::uint8_t>(pgg::clamp(dst + 0.5f, 0.0f, 255.0f));
    }
    PGG_CHECK(h == w, path, ": image is ", w, "x", h, ", not square (use --resize N)");
    PGG_CHECK(h >= 4 && (h & (h - 1)) == 0, path, ": size ", h, " is not a power of two of at least 4 (use --resize N)");
    return img;
}

struct CheckedInputs {
    std::vector<std::string> good;
    std::vector<std::string> bad; // "file: reason"
    int channels = 0;
    pgg::index_t resolution = 0;
};

// Decodes every input once (on all cores) and checks that all share one size and channel count (the
// first good file's). Bad files are an error, or, with skip_bad, listed and left out.
template <class Reader>
CheckedInputs check_inputs(const std::vector<std::string>& files, const InputOptions& o, Reader&& reader) {
    struct Result {
        std::string error;
        int c = 0;
        pgg::index_t r = 0;
    };
    std::vector<Result> results(files.size());
    pgg::Progress progress("checking", long(files.size()));
#pragma omp parallel for schedule(dynamic, 4)
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (pgg::interrupted()) continue;
        try {
            auto img = load_input(files[i], o, reader);
            results[i].c = int(img.c());
            results[i].r = img.h();
        } catch (const std::exception& e) {
            results[i].error = e.what();
        }
        progress.advance();
    }
    progress.finish();
    pgg::throw_if_interrupted("checking inputs");
    CheckedInputs out;
    std::string first;
    for (std::size_t i = 0; i < files.size(); ++i) {
        Result& r = results[i];
        if (r.error.empty() && out.resolution == 0) {
            out.resolution = r.r;
            out.channels = r.c;
            first = files[i];
        } else if (r.error.empty() && (r.r != out.resolution || r.c != out.channels)) {
            r.error = files[i] + ": " + std::to_string(r.r) + "x" + std::to_string(r.r) + " with " + std::to_string(r.c) +
                      " channel(s), but " + first + " is " + std::to_string(out.resolution) + "x" +
                      std::to_string(out.resolution) + " with " + std::to_string(out.channels) +
                      " (use --resize N and --channels 1|3)";
        }
        if (!r.error.empty()) {
            if (!o.skip_bad) throw pgg::error(r.error + "\n(--skip-bad leaves such files out)");
            out.bad.push_back(r.error);
        } else {
            out.good.push_back(files[i]);
        }
    }
    PGG_CHECK(!out.good.empty(), "no readable input among ", files.size(), " files");
    return out;
}

} // namespace pggan
