#pragma once
// The multi-resolution dataset (docs/io.md, "The dataset folder"): one folder holding
//   manifest.json             {"format": "pgg-dataset", "version": 1, "count", "channels", "resolution",
//                              "levels": [R, R/2, ..., 4], "files": {"R": "level-R.npy", ...}, "seed", "labels"}
//   level-<r>.npy             uint8 (N, C, r, r) for r = R, R/2, ..., 4
//   labels.npy                int32 (N), when labels are given
// Level r/2 is the 2x2 average of level r computed in float from the full-size image and rounded only
// when written. Images are stored in a shuffled order from a fixed seed. Writing streams (one image in
// memory at a time) into a temporary folder that is renamed into place at the end.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "../backend/cpu/random.hpp"
#include "../backend/cpu/resample.hpp"
#include "../core/ops.hpp"
#include "atomic_file.hpp"
#include "npy.hpp"

namespace pgg::io {

class DatasetWriter {
public:
    // A dataset of `count` images of `channels` x `resolution` x `resolution` (a power of two >= 4).
    DatasetWriter(std::string out, index_t count, int channels, index_t resolution, std::uint64_t seed = 1000, bool labels = false)
        : out_(std::move(out)), count_(count), channels_(channels), res_(resolution), seed_(seed), has_labels_(labels) {
        PGG_CHECK(count > 0, out_, ": a dataset needs at least one image");
        PGG_CHECK(channels == 1 || channels == 3, out_, ": 1 or 3 channels, got ", channels);
        PGG_CHECK(resolution >= 4 && (resolution & (resolution - 1)) == 0, out_, ": resolution ", resolution,
                  " is not a power of two of at least 4");
        PGG_CHECK(!std::filesystem::exists(out_), out_, ": already exists; choose a new folder");
        tmp_ = out_ + ".tmp-" + std::to_string(::getpid());
        std::filesystem::remove_all(tmp_);
        std::filesystem::create_directories(tmp_);
        // position of input image i in the stored order: a seeded permutation
        Generator g(seed, 0xda7a);
        order_ = random_permutation(count, g);
        for (index_t r = res_; r >= 4; r /= 2) {
            levels_.push_back(r);
            auto f = std::make_unique<std::fstream>(tmp_ + "/" + level_file(r), std::ios::binary | std::ios::in | std::ios::out | std::ios::trunc);
            PGG_CHECK(*f, tmp_, ": cannot create ", level_file(r));
            const std::string header = npy_header<std::uint8_t>({count, channels, r, r});
            f->write(header.data(), std::streamsize(header.size()));
            offsets_.push_back(index_t(header.size()));
            files_.push_back(std::move(f));
        }
        if (has_labels_) labels_.assign(count, 0);
    }
    ~DatasetWriter() {
        if (!finished_) std::filesystem::remove_all(tmp_);
    }

    // Adds input image i (uint8, (1, C, R, R)) with its label.
    void add(index_t i, const Tensor<std::uint8_t>& img, std::int32_t label = 0) {
        PGG_CHECK(i >= 0 && i < count_, out_, ": image index ", i, " outside [0, ", count_, ")");
        PGG_CHECK(img.shape() == Shape({1, channels_, res_, res_}), out_, ": image ", i, " has shape ", img.shape(),
                  ", the dataset holds (1, ", channels_, ", ", res_, ", ", res_, ")");
        Tensor<float> level = cast<float>(img), half;
        for (std::size_t l = 0; l < levels_.size(); ++l) {
            if (l > 0) {
                half = Tensor<float>();
                avg_pool2x_forward(level, half);
                level = half;
            }
            Tensor<std::uint8_t> bytes = cast<std::uint8_t>(clamp(level + 0.5f, 0.0f, 255.0f));
            const index_t rec = bytes.numel();
            files_[l]->seekp(std::streamoff(offsets_[l] + order_[i] * rec));
            files_[l]->write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(rec));
            PGG_CHECK(*files_[l], tmp_, "/", level_file(levels_[l]), ": write failed (disk full?)");
        }
        if (has_labels_) labels_[order_[i]] = label;
        ++added_;
    }

    // Writes the manifest and labels, checks every image was added, and moves the folder into place.
    void finish() {
        PGG_CHECK(added_ == count_, out_, ": ", added_, " of ", count_, " images were added");
        nlohmann::json files = nlohmann::json::object();
        for (std::size_t l = 0; l < levels_.size(); ++l) {
            files_[l]->flush();
            PGG_CHECK(*files_[l], tmp_, "/", level_file(levels_[l]), ": write failed");
            files_[l].reset();
            files[std::to_string(levels_[l])] = level_file(levels_[l]);
        }
        if (has_labels_) write_npy(tmp_ + "/labels.npy", labels_.data(), {count_});
        nlohmann::json m = {{"format", "pgg-dataset"}, {"version", 1}, {"count", count_}, {"channels", channels_},
                            {"resolution", res_}, {"levels", levels_}, {"files", files}, {"seed", seed_},
                            {"labels", has_labels_ ? nlohmann::json("labels.npy") : nlohmann::json(nullptr)}};
        write_file_atomic(tmp_ + "/manifest.json", m.dump(2) + "\n");
        std::filesystem::rename(tmp_, out_);
        finished_ = true;
    }

    static std::string level_file(index_t r) { return "level-" + std::to_string(r) + ".npy"; }

private:
    std::string out_, tmp_;
    index_t count_;
    int channels_;
    index_t res_;
    std::uint64_t seed_;
    bool has_labels_, finished_ = false;
    index_t added_ = 0;
    std::vector<index_t> order_, levels_, offsets_;
    std::vector<std::unique_ptr<std::fstream>> files_;
    std::vector<std::int32_t> labels_;
};

// A dataset opened for training: every level memory-mapped, so memory stays flat whatever its size.
class Dataset {
public:
    explicit Dataset(const std::string& dir) : dir_(dir) {
        const std::string path = dir + "/manifest.json";
        std::ifstream in(path);
        if (!in) throw error(path + ": cannot open (not a pgg dataset folder?)");
        nlohmann::json m;
        try {
            m = nlohmann::json::parse(in);
            PGG_CHECK(m.at("format") == "pgg-dataset", path, ": not a pgg dataset manifest");
            // numbers are checked before conversion: nlohmann converts 1e300 to an integer with undefined
            // behaviour, and 8.5 to 8 silently
            auto integer = [&](const nlohmann::json& v, const char* what, index_t lo, index_t hi) {
                PGG_CHECK(v.is_number_integer() && (v.is_number_unsigned() ? (lo <= 0 || v.get<std::uint64_t>() >= std::uint64_t(lo)) &&
                                                                                 v.get<std::uint64_t>() <= std::uint64_t(hi)
                                                                           : v.get<std::int64_t>() >= lo && v.get<std::int64_t>() <= hi),
                          path, ": ", what, " is ", v.dump(), ", not an integer in [", lo, ", ", hi, "]");
                return v.get<index_t>();
            };
            const index_t most = std::numeric_limits<index_t>::max();
            count_ = integer(m.at("count"), "count", 1, most);
            channels_ = int(integer(m.at("channels"), "channels", 1, 4));
            res_ = integer(m.at("resolution"), "resolution", 1, index_t(1) << 30);
            PGG_CHECK(m.at("levels").is_array(), path, ": levels is not an array");
            for (const auto& level : m.at("levels")) {
                const index_t r = integer(level, "a level", 1, index_t(1) << 30);
                auto map = std::make_unique<NpyMap<std::uint8_t>>(dir + "/" + m.at("files").at(std::to_string(r)).get<std::string>());
                PGG_CHECK(map->shape() == std::vector<index_t>({count_, index_t(channels_), r, r}), map->path(),
                          ": shape disagrees with the manifest");
                levels_.emplace(r, std::move(map));
            }
            if (!m.at("labels").is_null()) {
                labels_ = std::make_unique<NpyMap<std::int32_t>>(dir + "/" + m.at("labels").get<std::string>());
                std::string shape;
                for (index_t d : labels_->shape()) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
                PGG_CHECK(labels_->shape() == std::vector<index_t>({count_}), labels_->path(), ": labels of shape (", shape,
                          ") for ", count_, " images: one label per image expected");
            }
        } catch (const nlohmann::json::exception& e) {
            throw error(path + ": corrupt manifest: " + e.what());
        }
    }

    index_t size() const { return count_; }
    int channels() const { return channels_; }
    index_t resolution() const { return res_; }
    bool has_labels() const { return labels_ != nullptr; }
    std::int32_t label(index_t i) const { return labels_->data()[i]; }
    // Stored image i at resolution r, uint8 (1, C, r, r).
    Tensor<std::uint8_t> image(index_t i, index_t r) const {
        const auto& map = level(r);
        PGG_CHECK(i >= 0 && i < count_, dir_, ": image ", i, " outside [0, ", count_, ")");
        Tensor<std::uint8_t> t({1, channels_, r, r});
        std::copy_n(map.data() + i * t.numel(), t.numel(), t.data());
        return t;
    }

    // A random minibatch of reals at level of detail `lod` (0 = full resolution), as PG-GAN feeds D:
    // read at resolution R / 2^floor(lod), faded towards upsample(avgpool(x)) by lod - floor(lod),
    // mapped to [-1, 1]. Indices are drawn uniformly from `gen`.
    void minibatch(Generator& gen, index_t batch, double lod, Tensor<float>& out, std::vector<index_t>* indices = nullptr) const {
        const std::vector<index_t> drawn = draw_indices(gen, batch);
        if (indices) indices->insert(indices->end(), drawn.begin(), drawn.end());
        read_minibatch(drawn, lod, out);
    }
    // The indices minibatch() draws: each uniform over the images. Data-parallel training draws the
    // whole minibatch's in every process and reads its own share.
    std::vector<index_t> draw_indices(Generator& gen, index_t batch) const {
        Tensor<double> u({batch});
        fill_uniform(u, gen);
        std::vector<index_t> out(static_cast<std::size_t>(batch));
        for (index_t b = 0; b < batch; ++b) out[std::size_t(b)] = std::min(count_ - 1, index_t(u.data()[b] * double(count_)));
        return out;
    }
    // The images `indices`, as minibatch() makes them.
    void read_minibatch(const std::vector<index_t>& indices, double lod, Tensor<float>& out) const {
        const double max_lod = std::log2(double(res_)) - 2;
        PGG_CHECK(lod >= 0 && lod <= max_lod, dir_, ": level of detail ", lod, " is outside [0, ", max_lod, "]");
        const int lo = int(std::floor(lod));
        const index_t r = res_ >> lo, batch = index_t(indices.size());
        const auto& map = level(r);
        out.resize_({batch, channels_, r, r});
        const index_t rec = index_t(channels_) * r * r;
        for (index_t b = 0; b < batch; ++b) {
            const index_t i = indices[std::size_t(b)];
            PGG_CHECK(i >= 0 && i < count_, dir_, ": image ", i, " outside [0, ", count_, ")");
            const std::uint8_t* src = map.data() + i * rec;
            for (index_t q = 0; q < rec; ++q) out.data()[b * rec + q] = float(src[q]) * (1.0f / 127.5f) - 1.0f;
        }
        const float t = float(lod - lo);
        if (t > 0) {
            pooled_ = Tensor<float>();
            upsampled_ = Tensor<float>();
            avg_pool2x_forward(out, pooled_);
            upsample2x_forward(pooled_, upsampled_);
            out = lerp(out, upsampled_, t);
        }
    }

private:
    const NpyMap<std::uint8_t>& level(index_t r) const {
        auto it = levels_.find(r);
        PGG_CHECK(it != levels_.end(), dir_, ": no level of resolution ", r);
        return *it->second;
    }
    std::string dir_;
    index_t count_ = 0, res_ = 0;
    int channels_ = 0;
    std::map<index_t, std::unique_ptr<NpyMap<std::uint8_t>>> levels_;
    std::unique_ptr<NpyMap<std::int32_t>> labels_;
    mutable Tensor<float> pooled_, upsampled_;
};

} // namespace pgg::io
