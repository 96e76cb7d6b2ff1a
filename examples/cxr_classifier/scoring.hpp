#pragma once
// The training loss (class-weighted binary cross-entropy on the logits) and the scores of a labelled
// set as a diagnostic test is reported: ROC AUC with a bootstrap interval, and at the decision threshold
// the confusion matrix, accuracy, balanced accuracy, sensitivity, specificity, precision and F1; as
// text, JSON and an ROC curve picture.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <pgg/pgg.hpp>

namespace cxr_classifier {

// Class-weighted BCE of logits (N, 1) against labels: mean over the batch of w[y] * bce, so that with
// w[c] = n / (2 n_c) both classes weigh the same in expectation; d loss / d logits in `grad`.
inline double weighted_bce(const pgg::Tensor<float>& logits, const std::vector<int>& labels, const double (&w)[2],
                           pgg::Tensor<float>& grad) {
    const pgg::index_t n = logits.n();
    PGG_CHECK(pgg::index_t(labels.size()) == n && logits.numel() == n, "weighted_bce: ", logits.shape(), " logits for ", labels.size(),
              " labels");
    grad.resize_(logits.shape());
    double total = 0;
    for (pgg::index_t i = 0; i < n; ++i) {
        const double x = logits.data()[i], t = labels[std::size_t(i)], wi = w[labels[std::size_t(i)]];
        total += wi * (std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))) - t * x); // stable softplus(x) - t x
        grad.data()[i] = float(wi * (1.0 / (1.0 + std::exp(-x)) - t) / double(n));
    }
    return total / double(n);
}

// Mean class-weighted BCE of probabilities (clamped away from 0 and 1) against labels.
inline double weighted_bce_of_probabilities(const std::vector<double>& p, const std::vector<int>& labels, const double (&w)[2]) {
    double total = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        const double q = std::clamp(p[i], 1e-7, 1 - 1e-7);
        total -= w[labels[i]] * (labels[i] ? std::log(q) : std::log(1 - q));
    }
    return p.empty() ? NAN : total / double(p.size());
}

struct Report {
    pgg::metrics::Interval auc;
    pgg::metrics::Diagnostic at; // at the decision threshold
    std::size_t n = 0;
};

inline Report score(const std::vector<double>& p, const std::vector<int>& labels, double threshold, std::uint64_t seed,
                    int resamples = 2000) {
    Report r;
    r.n = p.size();
    r.auc = pgg::metrics::roc_auc_bootstrap(p, labels, seed, resamples);
    r.at = pgg::metrics::diagnostic(p, labels, threshold);
    return r;
}

inline nlohmann::json to_json(const Report& r) {
    const auto& d = r.at;
    return {{"images", r.n},
            {"normal", d.tn + d.fp},
            {"abnormal", d.tp + d.fn},
            {"auc", r.auc.estimate},
            {"auc_95ci", {r.auc.lower, r.auc.upper}},
            {"threshold", d.threshold},
            {"accuracy", d.accuracy},
            {"balanced_accuracy", d.balanced_accuracy},
            {"sensitivity", d.sensitivity},
            {"specificity", d.specificity},
            {"precision", d.precision},
            {"f1", d.f1},
            {"confusion", {{"tp", d.tp}, {"fn", d.fn}, {"fp", d.fp}, {"tn", d.tn}}}};
}

inline std::string to_text(const Report& r) {
    const auto& d = r.at;
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  "images %zu (%ld normal, %ld abnormal)\n"
                  "ROC AUC            %.4f  (95%% bootstrap interval %.4f - %.4f)\n"
                  "threshold          %.4f  (P(abnormal) >= threshold is called abnormal)\n"
                  "accuracy           %.4f\n"
                  "balanced accuracy  %.4f\n"
                  "sensitivity        %.4f\n"
                  "specificity        %.4f\n"
                  "precision          %.4f\n"
                  "F1                 %.4f\n"
                  "confusion matrix   true abnormal: %ld called abnormal, %ld called normal\n"
                  "                   true normal:   %ld called abnormal, %ld called normal\n",
                  r.n, long(d.tn + d.fp), long(d.tp + d.fn), r.auc.estimate, r.auc.lower, r.auc.upper, d.threshold, d.accuracy,
                  d.balanced_accuracy, d.sensitivity, d.specificity, d.precision, d.f1, long(d.tp), long(d.fn), long(d.fp), long(d.tn));
    return buf;
}

// The ROC curve as a picture, with the chance diagonal and the operating point of the threshold.
inline pgg::Tensor<std::uint8_t> roc_picture(const std::vector<double>& p, const std::vector<int>& labels, const Report& r,
                                             const std::string& title) {
    const auto roc = pgg::metrics::roc_curve(p, labels);
    char head[160];
    std::snprintf(head, sizeof head, "%s: ROC AUC %.3f (%.3f-%.3f)", title.c_str(), r.auc.estimate, r.auc.lower, r.auc.upper);
    const double fpr = 1 - r.at.specificity, tpr = r.at.sensitivity;
    return pgg::plot::render({{head,
                               {{"ROC", {31, 119, 180}, roc.fpr, roc.tpr},
                                {"chance", {160, 160, 160}, {0, 1}, {0, 1}},
                                {"threshold", {214, 39, 40}, {fpr, fpr}, {tpr - 0.01, tpr + 0.01}}},
                               0.0,
                               1.0,
                               "false positive rate (1 - specificity)",
                               "true positive rate (sensitivity)"}},
                             640, 560);
}

} // namespace cxr_classifier
