// `cxr_classifier compare A.csv B.csv`: DeLong's paired test of two classifiers' ROC AUCs on the same
// labelled images (predictions.csv of `evaluate --out`): the difference A - B, its interval and p-value.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "predictions.hpp"

namespace cxr_classifier {
namespace {

struct CompareOptions {
    std::string a, b, out;
    double level = 0.95;
};

void compare(const CompareOptions& o) {
    const Predictions a = read_predictions(o.a), b = align(a, read_predictions(o.b));
    const auto t = pgg::metrics::delong_test(a.probability, b.probability, a.labels, o.level);
    const long positives = long(std::count(a.labels.begin(), a.labels.end(), 1));
    std::printf("%zu images (%ld abnormal, %ld normal)\n"
                "A  %s  ROC AUC %.4f\n"
                "B  %s  ROC AUC %.4f\n"
                "A - B  %+.4f  (%.0f%% interval %+.4f to %+.4f), DeLong z %.3f, p %.4g\n",
                a.files.size(), positives, long(a.files.size()) - positives, o.a.c_str(), t.auc_a, o.b.c_str(), t.auc_b, t.difference,
                100 * o.level, t.lower, t.upper, t.z, t.p);
    if (o.out.empty()) return;
    const nlohmann::json j = {{"a", o.a},          {"b", o.b},         {"images", a.files.size()}, {"abnormal", positives},
                              {"auc_a", t.auc_a},  {"auc_b", t.auc_b}, {"difference", t.difference}, {"se", t.se},
                              {"level", o.level},  {"interval", {t.lower, t.upper}}, {"z", t.z}, {"p", t.p},
                              {"test", "DeLong, DeLong and Clarke-Pearson (1988)"}};
    pgg::io::write_file_atomic(o.out, j.dump(2) + "\n");
}

} // namespace

void add_compare_command(CLI::App& app) {
    auto o = std::make_shared<CompareOptions>();
    auto* cmd = app.add_subcommand("compare", "DeLong's paired test of two classifiers' AUCs on the same images");
    cmd->add_option("A", o->a, "predictions.csv of `evaluate --out` (file,probability,...,label)")->required()->check(CLI::ExistingFile);
    cmd->add_option("B", o->b, "predictions.csv of the other classifier, on the same images")->required()->check(CLI::ExistingFile);
    cmd->add_option("--level", o->level, "confidence level of the interval of the difference")->capture_default_str()->check(CLI::Range(0.5, 0.999));
    cmd->add_option("--out", o->out, "also write the result as JSON to this file");
    cmd->callback([o] { compare(*o); });
}

} // namespace cxr_classifier
