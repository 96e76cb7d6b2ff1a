#pragma once
// The predictions.csv files that `evaluate --out` writes (file,probability,prediction,label), read back
// for paired comparisons: two classifiers compared on the same images need the same files with the
// same labels, matched by name.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "../common/csv.hpp"
#include <pgg/pgg.hpp>

namespace cxr_classifier {

struct Predictions {
    std::string path;
    std::vector<std::string> files;
    std::vector<double> probability; // P(abnormal)
    std::vector<int> labels;         // 1 abnormal, 0 normal
};

inline Predictions read_predictions(const std::string& path) {
    pgg::app::Csv csv(path);
    const auto f = csv.column("file"), p = csv.column("probability"), l = csv.column("label");
    Predictions out;
    out.path = path;
    for (std::size_t r = 0; r < csv.rows.size(); ++r) {
        const auto& row = csv.rows[r];
        const std::string where = path + ":" + std::to_string(csv.lines[r]);
        double prob = NAN;
        try {
            std::size_t used = 0;
            prob = std::stod(row[p], &used);
            PGG_CHECK(used == row[p].size(), "trailing characters");
        } catch (const std::exception&) {
            throw pgg::error(where + ": probability '" + row[p] + "' is not a number");
        }
        PGG_CHECK(prob >= 0 && prob <= 1, where, ": probability ", row[p], " lies outside [0, 1]");
        PGG_CHECK(row[l] == "0" || row[l] == "1", where, ": label '", row[l], "' is neither 0 nor 1");
        out.files.push_back(row[f]);
        out.probability.push_back(prob);
        out.labels.push_back(row[l] == "1");
    }
    PGG_CHECK(!out.files.empty(), path, ": no predictions");
    return out;
}

// `b` reordered to `a`'s files; an error unless both name the same files with the same labels.
inline Predictions align(const Predictions& a, const Predictions& b) {
    PGG_CHECK(a.files.size() == b.files.size(), a.path, " has ", a.files.size(), " images and ", b.path, " ", b.files.size(),
              "; a paired comparison needs the same images");
    std::map<std::string, std::size_t> where;
    for (std::size_t i = 0; i < b.files.size(); ++i)
        PGG_CHECK(where.emplace(b.files[i], i).second, b.path, ": ", b.files[i], " is listed twice");
    Predictions out{b.path, {}, {}, {}};
    for (std::size_t i = 0; i < a.files.size(); ++i) {
        const auto it = where.find(a.files[i]);
        PGG_CHECK(it != where.end(), b.path, ": has no prediction for ", a.files[i], " (in ", a.path, ")");
        PGG_CHECK(b.labels[it->second] == a.labels[i], a.files[i], " is labelled ", a.labels[i], " in ", a.path, " and ",
                  b.labels[it->second], " in ", b.path);
        out.files.push_back(a.files[i]);
        out.probability.push_back(b.probability[it->second]);
        out.labels.push_back(a.labels[i]);
    }
    return out;
}

} // namespace cxr_classifier
