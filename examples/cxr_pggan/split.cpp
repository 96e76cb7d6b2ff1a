// `cxr_pggan split`: per-class file lists and a seeded training/test split with the same number of
// training images in every class, from RSNA's CSV files or a plain `file,label` CSV.
//
// Output (built beside OUT and renamed into place): train/<class>.txt, test/<class>.txt (one file per
// line, relative to the image folder, sorted) and split.json (counts, seed, sources).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "../common/csv.hpp"
#include "commands.hpp"
#include "inputs.hpp"

namespace pggan {
namespace {

using pgg::app::Csv;

// "No Lung Opacity / Not Normal" -> "no_lung_opacity_not_normal"
std::string folder_name(const std::string& cls) {
    std::string out;
    for (unsigned char c : cls) {
        if (std::isalnum(c)) out += char(std::tolower(c));
        else if (!out.empty() && out.back() != '_') out += '_';
    }
    while (!out.empty() && out.back() == '_') out.pop_back();
    PGG_CHECK(!out.empty(), "class '", cls, "' has no letters or digits to name its lists");
    return out;
}

struct SplitOptions {
    std::string out, rsna_labels, rsna_classes, csv, ext = ".dcm";
    std::vector<std::string> class_map;
    long train_per_class = 0;
    double train_fraction = 0.7;
    std::uint64_t seed = 1000;
};

// file -> class, from whichever source was given.
std::map<std::string, std::string> read_classes(const SplitOptions& o) {
    std::map<std::string, std::string> cls;
    if (!o.csv.empty()) {
        Csv csv(o.csv);
        const auto f = csv.column("file"), l = csv.column("label");
        for (std::size_t r = 0; r < csv.rows.size(); ++r) {
            const auto& row = csv.rows[r];
            PGG_CHECK(!row[f].empty() && !row[l].empty(), o.csv, ":", csv.lines[r], ": empty file or label");
            auto [it, fresh] = cls.emplace(row[f], row[l]);
            PGG_CHECK(fresh || it->second == row[l], o.csv, ":", csv.lines[r], ": ", row[f], " is labelled both '", it->second,
                      "' and '", row[l], "'");
        }
        return cls;
    }
    Csv info(o.rsna_classes);
    const auto pid = info.column("patientId"), c = info.column("class");
    for (std::size_t r = 0; r < info.rows.size(); ++r) {
        const auto& row = info.rows[r];
        // several boxes per image repeat the patient id: it counts once
        auto [it, fresh] = cls.emplace(row[pid] + o.ext, row[c]);
        PGG_CHECK(fresh || it->second == row[c], o.rsna_classes, ":", info.lines[r], ": patient ", row[pid], " has classes '",
                  it->second, "' and '", row[c], "'");
    }
    if (!o.rsna_labels.empty()) { // cross-check: Target is 1 exactly for "Lung Opacity"
        Csv labels(o.rsna_labels);
        const auto lp = labels.column("patientId"), t = labels.column("Target");
        labels.column("x"), labels.column("y"), labels.column("width"), labels.column("height");
        for (std::size_t r = 0; r < labels.rows.size(); ++r) {
            const auto& row = labels.rows[r];
            auto it = cls.find(row[lp] + o.ext);
            PGG_CHECK(it != cls.end(), o.rsna_labels, ":", labels.lines[r], ": patient ", row[lp], " is not in ", o.rsna_classes);
            PGG_CHECK(row[t] == "0" || row[t] == "1", o.rsna_labels, ":", labels.lines[r], ": Target '", row[t], "' is not 0 or 1");
            PGG_CHECK((row[t] == "1") == (it->second == "Lung Opacity"), o.rsna_labels, ":", labels.lines[r], ": patient ", row[lp],
                      " has Target ", row[t], " but class '", it->second, "' in ", o.rsna_classes);
        }
    }
    return cls;
}

void split(const SplitOptions& o) {
    PGG_CHECK(!fs::exists(o.out), o.out, ": already exists; choose a new folder");
    PGG_CHECK(o.csv.empty() != o.rsna_classes.empty(), "give either --csv or --rsna-classes (with optional --rsna-labels)");
    std::map<std::string, std::string> rename; // CSV class -> list name
    for (const auto& m : o.class_map) {
        const auto eq = m.rfind('=');
        PGG_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < m.size(), "--class-map '", m, "': expected 'CSV class=name'");
        rename[m.substr(0, eq)] = folder_name(m.substr(eq + 1));
    }
    std::map<std::string, std::vector<std::string>> by_class;
    std::set<std::string> dropped;
    for (const auto& [file, cls] : read_classes(o)) {
        if (!rename.empty() && !rename.count(cls)) {
            dropped.insert(cls);
            continue;
        }
        by_class[rename.empty() ? folder_name(cls) : rename[cls]].push_back(file);
    }
    PGG_CHECK(!by_class.empty(), "no class left to split");
    std::size_t smallest = SIZE_MAX;
    for (const auto& [c, files] : by_class) smallest = std::min(smallest, files.size());
    const long per_class = o.train_per_class > 0 ? o.train_per_class : long(std::lround(o.train_fraction * double(smallest)));
    PGG_CHECK(per_class > 0 && std::size_t(per_class) <= smallest, per_class, " training images per class requested, but the smallest class has ",
              smallest);

    write_folder(o.out, [&](const std::string& tmp) {
        fs::create_directories(tmp + "/train");
        fs::create_directories(tmp + "/test");
        nlohmann::json summary = {{"seed", o.seed}, {"train_per_class", per_class}, {"classes", nlohmann::json::object()}};
        summary["source"] = o.csv.empty() ? nlohmann::json{{"rsna_classes", o.rsna_classes}, {"rsna_labels", o.rsna_labels}}
                                          : nlohmann::json{{"csv", o.csv}};
        std::uint64_t stream = 0;
        for (auto& [c, files] : by_class) { // map order: classes sorted by name, each list sorted by file
            pgg::Generator gen(o.seed, ++stream);
            const auto order = pgg::random_permutation(pgg::index_t(files.size()), gen);
            std::vector<std::string> train, test;
            for (std::size_t k = 0; k < files.size(); ++k) (long(k) < per_class ? train : test).push_back(files[order[k]]);
            std::sort(train.begin(), train.end());
            std::sort(test.begin(), test.end());
            auto join = [](const std::vector<std::string>& v) {
                std::string s;
                for (const auto& f : v) s += f + "\n";
                return s;
            };
            pgg::io::write_file_atomic(tmp + "/train/" + c + ".txt", join(train));
            pgg::io::write_file_atomic(tmp + "/test/" + c + ".txt", join(test));
            summary["classes"][c] = {{"total", files.size()}, {"train", train.size()}, {"test", test.size()}};
            std::printf("%-28s %7zu images: %7zu train, %7zu test\n", c.c_str(), files.size(), train.size(), test.size());
        }
        pgg::io::write_file_atomic(tmp + "/split.json", summary.dump(2) + "\n");
    });
    for (const auto& d : dropped) std::printf("left out class '%s' (not in --class-map)\n", d.c_str());
    std::printf("%s: train/<class>.txt and test/<class>.txt (seed %llu)\n", o.out.c_str(), (unsigned long long)o.seed);
}

} // namespace

void add_split_command(CLI::App& app) {
    auto o = std::make_shared<SplitOptions>();
    CLI::App* c = app.add_subcommand("split", "per-class file lists and a seeded, class-balanced train/test split");
    c->add_option("OUT", o->out, "new folder for the lists")->required();
    c->add_option("--rsna-classes", o->rsna_classes, "RSNA stage_2_detailed_class_info.csv (patientId, class)")->check(CLI::ExistingFile);
    c->add_option("--rsna-labels", o->rsna_labels, "RSNA stage_2_train_labels.csv, cross-checked against the classes")
        ->check(CLI::ExistingFile);
    c->add_option("--ext", o->ext, "file name of an RSNA patient: <patientId><ext>")->capture_default_str();
    c->add_option("--csv", o->csv, "instead of RSNA's files: a CSV with columns file,label")->check(CLI::ExistingFile);
    c->add_option("--class-map", o->class_map, "'CSV class=name' (repeatable); classes not mapped are left out, "
                                               "e.g. --class-map 'Normal=normal' --class-map 'Lung Opacity=abnormal'");
    c->add_option("--train-per-class", o->train_per_class, "training images per class (default: --train-fraction of the smallest class)");
    c->add_option("--train-fraction", o->train_fraction, "share of the smallest class used for training in every class")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    c->add_option("--seed", o->seed, "seed of the split")->capture_default_str();
    c->callback([o] { split(*o); });
}

} // namespace pggan
