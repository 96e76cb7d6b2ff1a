#pragma once
// Segmentation and classification scores: Dice and IoU of binary masks, accuracy, the ROC curve and the
// area under it. Inputs are contiguous ranges of numbers (std::vector, std::span, std::array,
// pgg::Tensor); masks and scores count as positive where value >= threshold, labels where non-zero.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <ranges>
#include <span>
#include <type_traits>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"

namespace pgg::metrics {

namespace classification_detail {

template <class R>
concept Numbers = std::ranges::contiguous_range<const R> && std::ranges::sized_range<const R> &&
                  std::is_arithmetic_v<std::ranges::range_value_t<const R>>;

template <class R>
auto values(const R& r) {
    return std::span(std::ranges::data(r), std::size_t(std::ranges::size(r)));
}

struct Confusion {
    index_t tp = 0, fp = 0, fn = 0, tn = 0;
};

template <class P, class T, class PosP, class PosT>
Confusion confusion(const P& pred, const T& truth, PosP pred_positive, PosT truth_positive, const char* what) {
    const auto p = values(pred);
    const auto t = values(truth);
    PGG_CHECK(p.size() == t.size(), what, ": ", p.size(), " predictions for ", t.size(), " targets");
    Confusion c;
    for (std::size_t i = 0; i < p.size(); ++i) {
        const bool pp = pred_positive(double(p[i])), tp = truth_positive(double(t[i]));
        c.tp += pp && tp, c.fp += pp && !tp, c.fn += !pp && tp, c.tn += !pp && !tp;
    }
    return c;
}

template <class P, class T>
Confusion mask_confusion(const P& pred, const T& target, double threshold, const char* what) {
    auto on = [threshold](double v) { return v >= threshold; };
    return confusion(pred, target, on, on, what);
}

// The ROC curve's corners in counts: thresholds decreasing (+infinity, then each distinct score), and
// the negatives and positives scoring >= each. Tied scores enter together: one diagonal step.
struct RocCounts {
    std::vector<double> thresholds;
    std::vector<index_t> fp, tp;
    index_t negatives = 0, positives = 0;
};

template <class S, class L>
RocCounts roc_counts(const S& scores, const L& labels, const char* what) {
    const auto s = values(scores);
    const auto l = values(labels);
    PGG_CHECK(s.size() == l.size(), what, ": ", s.size(), " scores for ", l.size(), " labels");
    std::vector<std::size_t> order(s.size());
    std::iota(order.begin(), order.end(), std::size_t(0));
    for (std::size_t i = 0; i < s.size(); ++i) PGG_CHECK(!std::isnan(double(s[i])), what, ": score ", i, " is NaN");
    std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return double(s[i]) > double(s[j]); });
    RocCounts r;
    r.thresholds.push_back(std::numeric_limits<double>::infinity());
    r.fp.push_back(0), r.tp.push_back(0);
    for (std::size_t i = 0; i < order.size();) {
        const double t = double(s[order[i]]);
        index_t fp = r.fp.back(), tp = r.tp.back();
        for (; i < order.size() && double(s[order[i]]) == t; ++i) (l[order[i]] != 0 ? tp : fp) += 1;
        r.thresholds.push_back(t), r.fp.push_back(fp), r.tp.push_back(tp);
    }
    r.negatives = r.fp.back(), r.positives = r.tp.back();
    PGG_CHECK(r.negatives > 0 && r.positives > 0, what, ": needs both classes, got ", r.positives, " positive and ", r.negatives,
              " negative labels");
    return r;
}

} // namespace classification_detail

// Dice = 2 |P and T| / (|P| + |T|) of the masks pred >= threshold and target >= threshold; 1 when both are empty.
template <classification_detail::Numbers P, classification_detail::Numbers T>
double dice(const P& pred, const T& target, double threshold = 0.5) {
    const auto c = classification_detail::mask_confusion(pred, target, threshold, "dice");
    const index_t denom = 2 * c.tp + c.fp + c.fn;
    return denom ? double(2 * c.tp) / double(denom) : 1.0;
}

// IoU (Jaccard) = |P and T| / |P or T| of the thresholded masks; 1 when both are empty.
template <classification_detail::Numbers P, classification_detail::Numbers T>
double iou(const P& pred, const T& target, double threshold = 0.5) {
    const auto c = classification_detail::mask_confusion(pred, target, threshold, "iou");
    const index_t denom = c.tp + c.fp + c.fn;
    return denom ? double(c.tp) / double(denom) : 1.0;
}

// The fraction of samples whose prediction (score >= threshold) matches its label (non-zero = positive).
template <classification_detail::Numbers S, classification_detail::Numbers L>
double accuracy(const S& scores, const L& labels, double threshold = 0.5) {
    const auto c = classification_detail::confusion(
        scores, labels, [threshold](double v) { return v >= threshold; }, [](double v) { return v != 0; }, "accuracy");
    const index_t n = c.tp + c.fp + c.fn + c.tn;
    PGG_CHECK(n > 0, "accuracy: no samples");
    return double(c.tp + c.tn) / double(n);
}

struct RocCurve {
    std::vector<double> thresholds; // decreasing: +infinity (nothing positive), then each distinct score
    std::vector<double> fpr, tpr;   // false and true positive rates of score >= threshold
};

// The ROC curve of scores against labels (non-zero = positive), as sklearn's roc_curve without dropping
// collinear points. Needs both classes.
template <classification_detail::Numbers S, classification_detail::Numbers L>
RocCurve roc_curve(const S& scores, const L& labels) {
    const auto r = classification_detail::roc_counts(scores, labels, "roc_curve");
    RocCurve c;
    c.thresholds = r.thresholds;
    for (std::size_t i = 0; i < r.fp.size(); ++i) {
        c.fpr.push_back(double(r.fp[i]) / double(r.negatives));
        c.tpr.push_back(double(r.tp[i]) / double(r.positives));
    }
    return c;
}

// The area under the ROC curve by the trapezoid rule, which equals the Mann-Whitney statistic
// P(score of a positive > score of a negative) + P(tie) / 2. Needs both classes.
template <classification_detail::Numbers S, classification_detail::Numbers L>
double roc_auc(const S& scores, const L& labels) {
    const auto r = classification_detail::roc_counts(scores, labels, "roc_auc");
    double twice_area = 0; // in units of one negative x one positive
    for (std::size_t i = 1; i < r.fp.size(); ++i) twice_area += double(r.fp[i] - r.fp[i - 1]) * double(r.tp[i] + r.tp[i - 1]);
    return twice_area / (2.0 * double(r.negatives) * double(r.positives));
}

} // namespace pgg::metrics
