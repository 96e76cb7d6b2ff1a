#pragma once
// Labelled chest X-rays for the classifier: reading them from a folder with a labels CSV (file,label)
// or with one list file per class (as `cxr_pggan split` writes them), and the seeded stratified
// validation split. (The synthetic images of GAN augmentation: synthetic.hpp.)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <pgg/pgg.hpp>

#include "../common/csv.hpp"
#include "../common/files.hpp"

namespace cxr_classifier {

namespace fs = std::filesystem;
using pgg::index_t;
using pgg::Tensor;

inline constexpr const char* class_names[2] = {"normal", "abnormal"};

// Where the labelled images come from.
struct LabelSource {
    std::string images;             // the image folder
    std::string labels;             // a CSV with columns file and label, or
    std::vector<std::string> lists; // "normal=FILE", "abnormal=FILE": files relative to `images`
    std::string normal = "0", abnormal = "1"; // the CSV's label values of the two classes

    std::string describe() const { return labels.empty() ? images + " (lists)" : labels; }
};

inline nlohmann::json to_json(const LabelSource& s) {
    return {{"images", s.images}, {"labels", s.labels}, {"lists", s.lists}, {"normal", s.normal}, {"abnormal", s.abnormal}};
}
inline LabelSource label_source_from_json(const nlohmann::json& j) {
    return {j.at("images"), j.at("labels"), j.at("lists").get<std::vector<std::string>>(), j.at("normal"), j.at("abnormal")};
}

// "normal=PATH" -> (0, PATH); the class names are normal and abnormal.
inline std::pair<int, std::string> class_assignment(const std::string& item, const char* option) {
    const auto eq = item.find('=');
    PGG_CHECK(eq != std::string::npos, option, " '", item, "': expected normal=PATH or abnormal=PATH");
    const std::string cls = item.substr(0, eq), path = item.substr(eq + 1);
    PGG_CHECK(cls == "normal" || cls == "abnormal", option, " '", item, "': the class is 'normal' or 'abnormal', not '", cls, "'");
    PGG_CHECK(!path.empty(), option, " '", item, "': no path");
    return {cls == "abnormal" ? 1 : 0, path};
}

struct Labelled {
    std::vector<std::string> names;     // relative to the image folder
    std::vector<std::string> paths;     // as read
    std::vector<int> labels;            // 1 abnormal, 0 normal
    std::vector<Tensor<float>> images;  // (1, 1, S, S) gray in [0, 1]

    std::size_t size() const { return names.size(); }
    index_t count(int label) const { return index_t(std::count(labels.begin(), labels.end(), label)); }
};

// The files and labels a source names (nothing read yet); errors name the file and line.
inline Labelled list_labelled(const LabelSource& s) {
    PGG_CHECK(s.labels.empty() != s.lists.empty(), "give either --labels CSV or --list normal=FILE --list abnormal=FILE");
    PGG_CHECK(fs::is_directory(s.images), s.images, ": not a folder");
    Labelled out;
    std::map<std::string, std::string> seen; // file -> where it was named
    auto add = [&](const std::string& file, int label, const std::string& where) {
        const std::string path = fs::path(file).is_absolute() ? file : (fs::path(s.images) / file).string();
        PGG_CHECK(fs::is_regular_file(path), where, ": ", path, ": no such image");
        const auto [it, fresh] = seen.emplace(file, where);
        PGG_CHECK(fresh, where, ": ", file, " is listed twice (also at ", it->second, ")");
        out.names.push_back(file);
        out.paths.push_back(path);
        out.labels.push_back(label);
    };
    if (!s.labels.empty()) {
        pgg::app::Csv csv(s.labels);
        const auto f = csv.column("file"), l = csv.column("label");
        for (std::size_t r = 0; r < csv.rows.size(); ++r) {
            const std::string where = s.labels + ":" + std::to_string(csv.lines[r]);
            const std::string& v = csv.rows[r][l];
            PGG_CHECK(v == s.normal || v == s.abnormal, where, ": unknown label '", v, "' (", s.normal, " is normal, ", s.abnormal,
                      " abnormal; --label-normal and --label-abnormal name others)");
            add(csv.rows[r][f], v == s.abnormal ? 1 : 0, where);
        }
        PGG_CHECK(!out.names.empty(), s.labels, ": no images listed");
    } else {
        bool have[2] = {false, false};
        for (const auto& item : s.lists) {
            const auto [label, list] = class_assignment(item, "--list");
            PGG_CHECK(!have[label], "--list ", class_names[label], " is given twice");
            have[label] = true;
            std::ifstream in(list);
            PGG_CHECK(in, list, ": cannot open");
            std::string line;
            for (int n = 1; std::getline(in, line); ++n) {
                while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
                if (!line.empty()) add(line, label, list + ":" + std::to_string(n));
            }
        }
    }
    return out;
}

// Reads every image (on all cores) as gray, resized to side x side; an unreadable file is an error naming it.
inline void read_images(Labelled& set, index_t side, const char* what) {
    set.images.assign(set.size(), {});
    std::vector<std::string> errors(set.size());
    pgg::Progress progress(what, long(set.size()));
#pragma omp parallel for schedule(dynamic, 4)
    for (std::size_t i = 0; i < set.size(); ++i) {
        try {
            set.images[i] = pgg::app::to_unit_gray(pgg::app::read_any_picture(set.paths[i], 1), side);
        } catch (const std::exception& e) {
            errors[i] = e.what();
        }
        progress.advance();
    }
    progress.finish();
    for (const auto& e : errors) PGG_CHECK(e.empty(), e);
}

inline Labelled read_labelled(const LabelSource& s, index_t side, const char* what = "reading") {
    Labelled set = list_labelled(s);
    read_images(set, side, what);
    return set;
}

// A seeded split stratified by class: round(fraction x n_c) images of each class c (at least 1, and at
// least 1 left for training) for validation, the rest for training.
struct Split {
    std::vector<index_t> train, validation;
};
inline Split stratified_split(const std::vector<int>& labels, double fraction, std::uint64_t seed) {
    Split s;
    for (int c = 0; c < 2; ++c) {
        std::vector<index_t> members;
        for (std::size_t i = 0; i < labels.size(); ++i)
            if (labels[i] == c) members.push_back(index_t(i));
        PGG_CHECK(members.size() >= 2, "need at least 2 ", class_names[c], " images to hold some out for validation, got ",
                  members.size());
        pgg::Generator gen(seed, 0x5b1 + std::uint64_t(c));
        const std::vector<index_t> order = pgg::random_permutation(index_t(members.size()), gen);
        const index_t n = index_t(members.size());
        const index_t nv = std::clamp<index_t>(index_t(std::lround(double(n) * fraction)), 1, n - 1);
        for (index_t k = 0; k < n; ++k) (k < nv ? s.validation : s.train).push_back(members[std::size_t(order[std::size_t(k)])]);
    }
    std::sort(s.train.begin(), s.train.end());
    std::sort(s.validation.begin(), s.validation.end());
    return s;
}

} // namespace cxr_classifier
