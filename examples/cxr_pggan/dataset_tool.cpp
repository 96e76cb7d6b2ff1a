// `cxr_pggan dataset ...`: builds and inspects multi-resolution datasets (pgg/io/dataset.hpp), after the
// official PG-GAN dataset_tool: create_from_images, create_from_dicom, create_fashion_mnist, display,
// extract, info, compare.
#include <cmath>
#include <cstdio>
#include <map>

#include "commands.hpp"
#include "inputs.hpp"

namespace pggan {
namespace {

using pgg::index_t;
using pgg::Tensor;

// Writes `files` (already checked) into a new dataset at `out`: decoding on all cores, in chunks, so
// memory does not grow with the number of images.
template <class Reader>
void write_dataset(const std::string& out, const CheckedInputs& in, const InputOptions& o, std::uint64_t seed, Reader&& reader) {
    const index_t n = index_t(in.good.size());
    pgg::io::DatasetWriter writer(out, n, in.channels, in.resolution, seed);
    pgg::Progress progress("writing", long(n));
    const index_t chunk = 64;
    std::vector<Tensor<std::uint8_t>> images(chunk);
    std::vector<std::string> errors(chunk);
    for (index_t begin = 0; begin < n; begin += chunk) {
        const index_t count = std::min(chunk, n - begin);
#pragma omp parallel for schedule(dynamic, 1)
        for (index_t k = 0; k < count; ++k) {
            try {
                images[k] = load_input(in.good[begin + k], o, reader);
            } catch (const std::exception& e) {
                errors[k] = e.what(); // a file that changed since the check pass
            }
        }
        for (index_t k = 0; k < count; ++k) {
            if (!errors[k].empty()) throw pgg::error(errors[k]);
            writer.add(begin + k, images[k]);
            progress.advance();
        }
        pgg::throw_if_interrupted(out.c_str());
    }
    writer.finish();
    progress.finish();
    std::printf("%s: %ld images, %d channel(s), %ldx%ld, levels down to 4x4\n", out.c_str(), long(n), in.channels,
                long(in.resolution), long(in.resolution));
    if (!in.bad.empty()) {
        std::printf("skipped %zu bad file(s):\n", in.bad.size());
        for (const auto& b : in.bad) std::printf("  %s\n", b.c_str());
    }
}

void create_from_files(const std::string& out, const std::string& dir, const std::string& list, const InputOptions& o,
                       std::uint64_t seed, const std::vector<std::string>& extensions,
                       Tensor<std::uint8_t> (*reader)(const std::string&, int)) {
    PGG_CHECK(!fs::exists(out), out, ": already exists; choose a new folder");
    pgg::InterruptGuard guard;
    const auto files = find_inputs(dir, list, extensions);
    const CheckedInputs checked = check_inputs(files, o, reader);
    write_dataset(out, checked, o, seed, reader);
}

Tensor<std::uint8_t> read_picture(const std::string& path, int channels) { return pgg::io::read_image(path, channels); }
using pgg::app::read_dicom_picture;

// Fashion-MNIST's 60,000 training images, 28x28 padded with zeros to 32x32 (as the official
// create_mnist does), labels kept.
void create_fashion_mnist(const std::string& out, const std::string& dir, std::uint64_t seed, index_t limit) {
    PGG_CHECK(!fs::exists(out), out, ": already exists; choose a new folder");
    pgg::InterruptGuard guard;
    const Tensor<std::uint8_t> images = pgg::io::read_idx(dir + "/train-images-idx3-ubyte.gz");
    const Tensor<std::uint8_t> labels = pgg::io::read_idx(dir + "/train-labels-idx1-ubyte.gz");
    PGG_CHECK(images.rank() == 4 && images.c() == 1 && images.h() == 28 && images.w() == 28, dir, "/train-images-idx3-ubyte.gz: expected N x 28 x 28, got ",
              images.shape());
    PGG_CHECK(labels.numel() == images.n(), dir, "/train-labels-idx1-ubyte.gz: ", labels.numel(),
              " labels for ", images.n(), " images");
    const index_t n = limit > 0 ? std::min(limit, images.n()) : images.n();
    pgg::io::DatasetWriter writer(out, n, 1, 32, seed, true);
    pgg::Progress progress("writing", long(n));
    Tensor<std::uint8_t> img({1, 1, 32, 32});
    for (index_t i = 0; i < n; ++i) {
        img.zero_();
        for (index_t y = 0; y < 28; ++y) std::copy_n(&images.data()[(i * 28 + y) * 28], 28, &img.data()[(y + 2) * 32 + 2]);
        writer.add(i, img, labels.data()[i]);
        progress.advance();
        if (i % 1024 == 0) pgg::throw_if_interrupted(out.c_str());
    }
    writer.finish();
    progress.finish();
    std::printf("%s: %ld Fashion-MNIST images, 32x32, labels 0-9\n", out.c_str(), long(n));
}

// Image i of level r brought to `cell` x `cell` pixels (nearest when enlarging, area when shrinking).
Tensor<std::uint8_t> cell_image(const pgg::io::Dataset& ds, index_t i, index_t r, index_t cell) {
    Tensor<std::uint8_t> img = ds.image(i, r);
    if (r == cell) return img;
    Tensor<float> src = pgg::cast<float>(img), dst({1, img.c(), cell, cell});
    if (r > cell) {
        pgg::resize_area(src, dst);
    } else {
        for (index_t f = r; f < cell; f *= 2) {
            Tensor<float> up;
            pgg::upsample2x_forward(src, up);
            src = up;
        }
        dst = src;
    }
    return pgg::cast<std::uint8_t>(pgg::clamp(dst + 0.5f, 0.0f, 255.0f));
}

// One row per level (full size first), the same random images in every row.
void display(const std::string& path, const std::string& out, index_t num, std::uint64_t seed) {
    pgg::io::Dataset ds(path);
    num = std::min(num, ds.size());
    const index_t R = ds.resolution(), cell = std::min<index_t>(R, 128);
    pgg::Generator gen(seed);
    const auto pick = pgg::random_permutation(ds.size(), gen);
    std::vector<index_t> levels;
    for (index_t r = R; r >= 4; r /= 2) levels.push_back(r);
    Tensor<std::uint8_t> batch({index_t(levels.size()) * num, ds.channels(), cell, cell});
    for (std::size_t l = 0; l < levels.size(); ++l)
        for (index_t k = 0; k < num; ++k) {
            Tensor<std::uint8_t> img = cell_image(ds, pick[k], levels[l], cell);
            std::copy_n(img.data(), img.numel(), batch.data() + (index_t(l) * num + k) * img.numel());
        }
    pgg::io::write_png(out, pgg::io::make_grid(batch, num, 2, 255));
    std::printf("%s: %ld random images (columns) at levels", out.c_str(), long(num));
    for (index_t r : levels) std::printf(" %ld", long(r));
    std::printf(" (rows), each shown at %ldx%ld\n", long(cell), long(cell));
}

void extract(const std::string& path, const std::string& out, index_t level, index_t limit) {
    pgg::io::Dataset ds(path);
    PGG_CHECK(!fs::exists(out), out, ": already exists; choose a new folder");
    const index_t r = level > 0 ? level : ds.resolution();
    const index_t n = limit > 0 ? std::min(limit, ds.size()) : ds.size();
    ds.image(0, r); // fails early on a level the dataset lacks
    pgg::InterruptGuard guard;
    write_folder(out, [&](const std::string& tmp) {
        pgg::Progress progress("extracting", long(n));
#pragma omp parallel for schedule(dynamic, 16)
        for (index_t i = 0; i < n; ++i) {
            if (pgg::interrupted()) continue;
            char name[32];
            std::snprintf(name, sizeof name, "/img%08ld.png", long(i));
            pgg::io::write_png(tmp + name, ds.image(i, r));
            progress.advance();
        }
        progress.finish();
        pgg::throw_if_interrupted(out.c_str());
        if (ds.has_labels()) {
            std::string csv = "file,label\n";
            for (index_t i = 0; i < n; ++i) {
                char line[48];
                std::snprintf(line, sizeof line, "img%08ld.png,%d\n", long(i), ds.label(i));
                csv += line;
            }
            pgg::io::write_file_atomic(tmp + "/labels.csv", csv);
        }
    });
    std::printf("%s: %ld PNGs of %ldx%ld\n", out.c_str(), long(n), long(r), long(r));
}

void info(const std::string& path) {
    pgg::io::Dataset ds(path);
    std::printf("dataset     %s\nimages      %ld\nchannels    %d\nresolution  %ldx%ld\nlevels     ", path.c_str(), long(ds.size()),
                ds.channels(), long(ds.resolution()), long(ds.resolution()));
    for (index_t r = ds.resolution(); r >= 4; r /= 2) std::printf(" %ld", long(r));
    std::printf("\n");
    // mean and standard deviation of the pixels at 4x4 (the level every other one averages down to)
    double s = 0, s2 = 0;
    const index_t per = ds.channels() * 16;
    for (index_t i = 0; i < ds.size(); ++i) {
        Tensor<std::uint8_t> img = ds.image(i, 4);
        for (index_t q = 0; q < per; ++q) {
            s += img.data()[q];
            s2 += double(img.data()[q]) * img.data()[q];
        }
    }
    const double cnt = double(per * ds.size()), mean = s / cnt;
    std::printf("pixel mean  %.2f (of 255, at 4x4)\npixel std   %.2f (at 4x4)\n", mean, std::sqrt(std::max(0.0, s2 / cnt - mean * mean)));
    if (ds.has_labels()) {
        std::map<int, long> counts;
        for (index_t i = 0; i < ds.size(); ++i) ++counts[ds.label(i)];
        std::printf("labels     ");
        for (auto [l, c] : counts) std::printf(" %d:%ld", l, c);
        std::printf("\n");
    } else {
        std::printf("labels      none\n");
    }
}

// Image-by-image comparison; exit status 0 when identical, 2 when they differ.
int compare(const std::string& a_path, const std::string& b_path) {
    pgg::io::Dataset a(a_path), b(b_path);
    if (a.size() != b.size() || a.channels() != b.channels() || a.resolution() != b.resolution()) {
        std::printf("differ in shape: %s holds %ld x %d x %ld^2, %s holds %ld x %d x %ld^2\n", a_path.c_str(), long(a.size()),
                    a.channels(), long(a.resolution()), b_path.c_str(), long(b.size()), b.channels(), long(b.resolution()));
        return 2;
    }
    bool same = true;
    for (index_t r = a.resolution(); r >= 4; r /= 2) {
        index_t differ = 0;
        int max_diff = 0;
        for (index_t i = 0; i < a.size(); ++i) {
            Tensor<std::uint8_t> x = a.image(i, r), y = b.image(i, r);
            int m = 0;
            for (index_t q = 0; q < x.numel(); ++q) m = std::max(m, std::abs(int(x.data()[q]) - int(y.data()[q])));
            differ += m > 0;
            max_diff = std::max(max_diff, m);
        }
        std::printf("level %4ld: %ld of %ld images differ, largest pixel difference %d\n", long(r), long(differ), long(a.size()), max_diff);
        same = same && differ == 0;
    }
    if (a.has_labels() != b.has_labels()) {
        std::printf("labels: only %s has them\n", a.has_labels() ? a_path.c_str() : b_path.c_str());
        same = false;
    } else if (a.has_labels()) {
        index_t differ = 0;
        for (index_t i = 0; i < a.size(); ++i) differ += a.label(i) != b.label(i);
        std::printf("labels: %ld differ\n", long(differ));
        same = same && differ == 0;
    }
    std::printf(same ? "identical\n" : "different\n");
    return same ? 0 : 2;
}

void add_input_options(CLI::App* c, InputOptions& o, std::string& list, std::uint64_t& seed) {
    c->add_option("--resize", o.resize, "resample every image to N x N (area filter when shrinking, bilinear when enlarging)")
        ->check(CLI::Range(4, 8192));
    c->add_option("--channels", o.channels, "convert to 1 (gray) or 3 (RGB) channels")->check(CLI::IsMember({1, 3}));
    c->add_flag("--skip-bad", o.skip_bad, "leave out unreadable or mismatched files and list them at the end");
    c->add_option("--list", list, "take the files named in this list (one per line, relative to DIR), e.g. from `split`");
    c->add_option("--seed", seed, "seed of the stored order")->capture_default_str();
}

} // namespace

void add_dataset_command(CLI::App& app) {
    CLI::App* ds = app.add_subcommand("dataset", "build and inspect multi-resolution datasets");
    ds->require_subcommand(1);

    struct State {
        std::string out, dir, list, path, other, display_out = "display.png";
        InputOptions input;
        std::uint64_t seed = 1000;
        index_t num = 8, level = 0, limit = 0;
    };
    auto s = std::make_shared<State>();

    auto* imgs = ds->add_subcommand("create_from_images", "a dataset from a folder of PNG/JPEG/BMP/PGM/PPM images");
    imgs->add_option("OUT", s->out, "new dataset folder")->required();
    imgs->add_option("DIR", s->dir, "folder of images (searched recursively)")->required()->check(CLI::ExistingDirectory);
    add_input_options(imgs, s->input, s->list, s->seed);
    imgs->callback([s] {
        create_from_files(s->out, s->dir, s->list, s->input, s->seed, {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".pnm"},
                          read_picture);
    });

    auto* dcm = ds->add_subcommand("create_from_dicom", "a dataset from a folder of DICOM files (*.dcm; CR/DX, 8-16 bit)");
    dcm->add_option("OUT", s->out, "new dataset folder")->required();
    dcm->add_option("DIR", s->dir, "folder of DICOM files (searched recursively)")->required()->check(CLI::ExistingDirectory);
    add_input_options(dcm, s->input, s->list, s->seed);
    dcm->callback([s] { create_from_files(s->out, s->dir, s->list, s->input, s->seed, {".dcm", ".dicom"}, read_dicom_picture); });

    auto* fm = ds->add_subcommand("create_fashion_mnist", "Fashion-MNIST's training set, padded to 32x32, labels kept");
    fm->add_option("OUT", s->out, "new dataset folder")->required();
    s->dir = "/usr/share/datasets/fashion-mnist";
    fm->add_option("--data", s->dir, "folder with train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz")->capture_default_str();
    fm->add_option("--limit", s->limit, "keep only the first N images (0: all 60,000)");
    fm->add_option("--seed", s->seed, "seed of the stored order")->capture_default_str();
    fm->callback([s] { create_fashion_mnist(s->out, s->dir, s->seed, s->limit); });

    auto* disp = ds->add_subcommand("display", "a PNG grid of random images at every level");
    disp->add_option("DATASET", s->path)->required();
    disp->add_option("--out", s->display_out, "PNG to write")->capture_default_str();
    disp->add_option("--num", s->num, "images per level")->capture_default_str()->check(CLI::Range(1, 64));
    disp->add_option("--seed", s->seed, "which images")->capture_default_str();
    disp->callback([s] { display(s->path, s->display_out, s->num, s->seed); });

    auto* ext = ds->add_subcommand("extract", "write a level's images as PNGs (and labels.csv)");
    ext->add_option("DATASET", s->path)->required();
    ext->add_option("DIR", s->out, "new folder for the PNGs")->required();
    ext->add_option("--level", s->level, "resolution to extract (default: full)");
    ext->add_option("--limit", s->limit, "only the first N images");
    ext->callback([s] { extract(s->path, s->out, s->level, s->limit); });

    auto* inf = ds->add_subcommand("info", "size, levels, pixel statistics and label counts");
    inf->add_option("DATASET", s->path)->required();
    inf->callback([s] { info(s->path); });

    auto* cmp = ds->add_subcommand("compare", "compare two datasets image by image (exit status 2 if they differ)");
    cmp->add_option("A", s->path)->required();
    cmp->add_option("B", s->other)->required();
    cmp->callback([s] {
        if (int rc = compare(s->path, s->other)) std::exit(rc);
    });
}

} // namespace pggan
