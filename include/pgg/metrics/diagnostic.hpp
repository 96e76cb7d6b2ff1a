#pragma once
// A binary classifier's scores as a diagnostic test is reported: the confusion-matrix scores at a
// threshold, the threshold chosen by Youden's J (on validation, then applied unchanged to test), a
// seeded stratified bootstrap interval of the ROC AUC, and DeLong's paired test of two classifiers'
// AUCs on the same cases. Scores are positive where score >= threshold, labels where non-zero.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "../core/random.hpp"
#include "classification.hpp"

namespace pgg::metrics {

struct Diagnostic {
    double threshold = 0.5;
    index_t tp = 0, fp = 0, fn = 0, tn = 0;
    double accuracy = 0, balanced_accuracy = 0;
    double sensitivity = 0, specificity = 0; // true positive and true negative rates
    double precision = 0, f1 = 0;            // 0 when nothing is predicted positive (sklearn's zero_division=0)
};

// The confusion matrix at `threshold` and the scores derived from it. Needs both classes.
template <classification_detail::Numbers S, classification_detail::Numbers L>
Diagnostic diagnostic(const S& scores, const L& labels, double threshold = 0.5) {
    const auto c = classification_detail::confusion(
        scores, labels, [threshold](double v) { return v >= threshold; }, [](double v) { return v != 0; }, "diagnostic");
    PGG_CHECK(c.tp + c.fn > 0 && c.tn + c.fp > 0, "diagnostic: needs both classes, got ", c.tp + c.fn, " positive and ",
              c.tn + c.fp, " negative labels");
    Diagnostic d;
    d.threshold = threshold;
    d.tp = c.tp, d.fp = c.fp, d.fn = c.fn, d.tn = c.tn;
    d.accuracy = double(c.tp + c.tn) / double(c.tp + c.fp + c.fn + c.tn);
    d.sensitivity = double(c.tp) / double(c.tp + c.fn);
    d.specificity = double(c.tn) / double(c.tn + c.fp);
    d.balanced_accuracy = (d.sensitivity + d.specificity) / 2;
    d.precision = c.tp + c.fp ? double(c.tp) / double(c.tp + c.fp) : 0.0;
    d.f1 = c.tp ? 2.0 * double(c.tp) / double(2 * c.tp + c.fp + c.fn) : 0.0;
    return d;
}

// The threshold maximising Youden's J = sensitivity + specificity - 1 over the ROC curve's corners
// (the first, i.e. highest, on ties). It is placed midway between the corner's score and the next lower
// distinct score: the same J on these scores, and less sensitive to new cases lying just below a
// validation score. Needs both classes.
template <classification_detail::Numbers S, classification_detail::Numbers L>
double youden_threshold(const S& scores, const L& labels) {
    const auto r = classification_detail::roc_counts(scores, labels, "youden_threshold");
    std::size_t best = 1;
    double best_j = -2;
    for (std::size_t i = 1; i < r.thresholds.size(); ++i) {
        const double j = double(r.tp[i]) / double(r.positives) - double(r.fp[i]) / double(r.negatives);
        if (j > best_j) best_j = j, best = i;
    }
    return best + 1 < r.thresholds.size() ? (r.thresholds[best] + r.thresholds[best + 1]) / 2 : r.thresholds[best];
}

struct Interval {
    double estimate = 0, lower = 0, upper = 0;
};

// The mean, the sample covariance (divisor n - 1; 0 for fewer than two pairs) and the sample standard
// deviation of lists of numbers, e.g. of a metric over seeds.
inline double mean_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); }
inline double covariance_of(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() < 2) return 0;
    const double ma = mean_of(a), mb = mean_of(b);
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - ma) * (b[i] - mb);
    return s / double(a.size() - 1);
}
inline double sd_of(const std::vector<double>& v) { return std::sqrt(covariance_of(v, v)); }

namespace diagnostic_detail {

// Quantile p of sorted values with linear interpolation between order statistics (NumPy's default).
inline double quantile_sorted(const std::vector<double>& v, double p) {
    const double h = double(v.size() - 1) * p;
    const std::size_t lo = std::size_t(std::floor(h)), hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (h - double(lo)) * (v[hi] - v[lo]);
}

// The standard normal's upper tail beyond |z|, both sides.
inline double two_sided_p(double z) { return std::erfc(std::fabs(z) / std::sqrt(2.0)); }

// Midranks (1-based, ties averaged) of values.
inline std::vector<double> midranks(const std::vector<double>& v) {
    std::vector<std::size_t> order(v.size());
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    std::vector<double> rank(v.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j < order.size() && v[order[j]] == v[order[i]]) ++j;
        for (std::size_t k = i; k < j; ++k) rank[order[k]] = double(i + j + 1) / 2;
        i = j;
    }
    return rank;
}

// DeLong's structural components of one classifier: V10[i] = P(positive i beats a negative) and
// V01[j] = P(a positive beats negative j), ties counting one half (Sun and Xu's midrank form).
struct Components {
    std::vector<double> v10, v01;
};

inline Components components(const std::vector<double>& pos, const std::vector<double>& neg) {
    std::vector<double> all = pos;
    all.insert(all.end(), neg.begin(), neg.end());
    const auto rz = midranks(all), rx = midranks(pos), ry = midranks(neg);
    const double m = double(pos.size()), n = double(neg.size());
    Components c;
    for (std::size_t i = 0; i < pos.size(); ++i) c.v10.push_back((rz[i] - rx[i]) / n);
    for (std::size_t j = 0; j < neg.size(); ++j) c.v01.push_back(1.0 - (rz[pos.size() + j] - ry[j]) / m);
    return c;
}

template <class S, class L>
void split_by_label(const S& scores, const L& labels, const char* what, std::vector<double>& pos, std::vector<double>& neg) {
    const auto s = classification_detail::values(scores);
    const auto l = classification_detail::values(labels);
    PGG_CHECK(s.size() == l.size(), what, ": ", s.size(), " scores for ", l.size(), " labels");
    for (std::size_t i = 0; i < s.size(); ++i) {
        PGG_CHECK(!std::isnan(double(s[i])), what, ": score ", i, " is NaN");
        (l[i] != 0 ? pos : neg).push_back(double(s[i]));
    }
    PGG_CHECK(!pos.empty() && !neg.empty(), what, ": needs both classes, got ", pos.size(), " positive and ", neg.size(),
              " negative labels");
}

} // namespace diagnostic_detail

// The ROC AUC with a percentile bootstrap interval at `level`: `resamples` stratified resamples (the
// positives and the negatives each drawn with replacement, so every resample has both classes).
// Reproducible from `seed`: resample b, case k (positives first, then negatives, in input order) uses
// 32-bit word k of Philox blocks b * ceil(n / 4) onward of stream 0, as index (word * count) >> 32.
template <classification_detail::Numbers S, classification_detail::Numbers L>
Interval roc_auc_bootstrap(const S& scores, const L& labels, std::uint64_t seed, int resamples = 2000, double level = 0.95) {
    PGG_CHECK(resamples >= 2, "roc_auc_bootstrap: needs at least 2 resamples, got ", resamples);
    PGG_CHECK(level > 0 && level < 1, "roc_auc_bootstrap: level must lie in (0, 1), got ", level);
    std::vector<double> pos, neg;
    diagnostic_detail::split_by_label(scores, labels, "roc_auc_bootstrap", pos, neg);
    const std::size_t m = pos.size(), n = m + neg.size(), blocks = (n + 3) / 4;
    const Generator g(seed, 0);
    std::vector<double> aucs, s(n);
    std::vector<int> l(n);
    std::fill(l.begin(), l.begin() + std::ptrdiff_t(m), 1);
    std::uint32_t words[4];
    for (int b = 0; b < resamples; ++b) {
        for (std::size_t k = 0; k < n; ++k) {
            if (k % 4 == 0) g.block(std::uint64_t(b) * blocks + k / 4, words);
            const auto& from = k < m ? pos : neg;
            s[k] = from[std::size_t((std::uint64_t(words[k % 4]) * from.size()) >> 32)];
        }
        aucs.push_back(roc_auc(s, l));
    }
    std::sort(aucs.begin(), aucs.end());
    Interval r;
    r.estimate = roc_auc(scores, labels);
    r.lower = diagnostic_detail::quantile_sorted(aucs, (1 - level) / 2);
    r.upper = diagnostic_detail::quantile_sorted(aucs, (1 + level) / 2);
    return r;
}

struct PairedAuc {
    double auc_a = 0, auc_b = 0;
    double difference = 0; // auc_a - auc_b
    double se = 0;         // DeLong's standard error of the difference
    double z = 0, p = 1;   // two-sided p-value of "the AUCs are equal"
    double lower = 0, upper = 0; // normal interval of the difference at `level`
};

// DeLong, DeLong and Clarke-Pearson (1988): two classifiers' scores on the same cases, compared through
// the covariance of their AUCs' structural components. With no variance (identical rankings) the
// difference is 0 and p is 1.
template <classification_detail::Numbers A, classification_detail::Numbers B, classification_detail::Numbers L>
PairedAuc delong_test(const A& scores_a, const B& scores_b, const L& labels, double level = 0.95) {
    using namespace diagnostic_detail;
    PGG_CHECK(level > 0 && level < 1, "delong_test: level must lie in (0, 1), got ", level);
    std::vector<double> pa, na, pb, nb;
    split_by_label(scores_a, labels, "delong_test (first scores)", pa, na);
    split_by_label(scores_b, labels, "delong_test (second scores)", pb, nb);
    const auto a = components(pa, na), b = components(pb, nb);
    const double m = double(pa.size()), n = double(na.size());
    PairedAuc r;
    r.auc_a = mean_of(a.v10), r.auc_b = mean_of(b.v10);
    r.difference = r.auc_a - r.auc_b;
    const double var = (covariance_of(a.v10, a.v10) + covariance_of(b.v10, b.v10) - 2 * covariance_of(a.v10, b.v10)) / m +
                       (covariance_of(a.v01, a.v01) + covariance_of(b.v01, b.v01) - 2 * covariance_of(a.v01, b.v01)) / n;
    r.se = std::sqrt(std::max(var, 0.0));
    if (r.se > 0) {
        r.z = r.difference / r.se;
        r.p = two_sided_p(r.z);
    } else {
        r.z = r.difference == 0 ? 0 : std::copysign(INFINITY, r.difference);
        r.p = r.difference == 0 ? 1 : 0;
    }
    // The normal quantile at (1 + level) / 2 by bisection on erfc (no inverse in <cmath>).
    double lo = 0, hi = 40;
    for (int i = 0; i < 200; ++i) {
        const double mid = (lo + hi) / 2;
        (two_sided_p(mid) > 1 - level ? lo : hi) = mid;
    }
    r.lower = r.difference - lo * r.se, r.upper = r.difference + lo * r.se;
    return r;
}

} // namespace pgg::metrics
