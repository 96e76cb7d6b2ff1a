#pragma once
// A stream of numbers summarised in fixed memory for 1-D Wasserstein distances: counts in bins whose
// edges are fixed in advance (equal-mass quantiles of a first sample, so bins are narrow where values are
// dense), plus the stream's minimum and maximum. It reads as a piecewise-linear CDF (mass spread evenly
// inside each bin), and the distance W1 = integral |F_a(x) - F_b(x)| dx between two such CDFs is exact
// for them. Counts do not depend on the order of the values: threads and batches cannot change a result.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "../core/error.hpp"

namespace pgg::metrics {

// Edges e_0 <= ... <= e_B of B bins, with a uniform grid of 2B cells over [e_0, e_B] that finds a value's
// bin in a few comparisons instead of a binary search.
class BinEdges {
public:
    BinEdges() = default;
    // B bins: the middle 3/4 between equal-mass quantiles of `sorted` (ascending, not empty), from its
    // minimum to its maximum; B/8 equal bins on each side extend that range by its width, so that a later
    // stream reaching past the first sample keeps a fine CDF there (past them, one open bin per side).
    BinEdges(const float* sorted, std::size_t n, int bins) {
        PGG_CHECK(n > 0 && bins > 0 && bins < 65535, "BinEdges: needs a sample and 1 to 65534 bins, got ", bins);
        const int tail = bins / 8, middle = bins - 2 * tail;
        const float first = sorted[0], last = sorted[n - 1], width = last - first;
        for (int i = tail; i > 0; --i) edges_.push_back(first - width * float(i) / float(tail));
        for (int i = 0; i <= middle; ++i)
            edges_.push_back(sorted[(std::size_t(i) * (n - 1) + std::size_t(middle) / 2) / std::size_t(middle)]);
        for (int i = 1; i <= tail; ++i) edges_.push_back(last + width * float(i) / float(tail));
        lo_ = edges_.front();
        const float span = edges_.back() - lo_;
        cells_ = 2 * bins;
        scale_ = span > 0 ? float(cells_) / span : 0.0f;
        first_.resize(std::size_t(cells_) + 1);
        std::size_t k = 0;
        for (int c = 0; c <= cells_; ++c) { // first edge above the cell's lower end
            const float x = lo_ + float(c) / (scale_ > 0 ? scale_ : 1.0f);
            while (k < edges_.size() && edges_[k] <= x) ++k;
            first_[std::size_t(c)] = std::uint16_t(k);
        }
    }
    int bins() const { return int(edges_.size()) - 1; }
    const std::vector<float>& edges() const { return edges_; }
    std::size_t bytes() const { return edges_.size() * sizeof(float) + first_.size() * sizeof(std::uint16_t); }

    // The slot of v among bins + 2: 0 below e_0, i in [e_{i-1}, e_i) for 1 <= i <= B, B + 1 at or above
    // e_B; that is, the number of edges <= v.
    std::uint32_t slot(float v) const {
        if (!(v >= lo_)) return 0; // also NaN: counted, never crashes
        const float t = (v - lo_) * scale_;
        const int c = t < float(cells_) ? int(t) : cells_;
        std::uint32_t k = c > 0 ? first_[std::size_t(c - 1)] : 0; // every edge below this is <= v
        while (k < edges_.size() && edges_[k] <= v) ++k;
        return k;
    }

private:
    std::vector<float> edges_;
    std::vector<std::uint16_t> first_; // per grid cell: the first edge above its lower end
    float lo_ = 0, scale_ = 0;
    int cells_ = 0;
};

// Counts of one stream in the slots of a BinEdges, and its extremes.
struct BinnedCdf {
    std::vector<std::uint32_t> counts; // bins + 2 slots
    float min = std::numeric_limits<float>::infinity(), max = -std::numeric_limits<float>::infinity();
    std::uint64_t total = 0;

    explicit BinnedCdf(int bins = 0) : counts(std::size_t(bins) + 2, 0) {}
    void add(const BinEdges& e, float v) {
        std::uint32_t& c = counts[e.slot(v)];
        PGG_CHECK(c != std::numeric_limits<std::uint32_t>::max(), "BinnedCdf: more than 2^32 values in one bin");
        ++c;
        ++total;
        min = std::min(min, v), max = std::max(max, v);
    }
};

namespace binned_detail {

// Knots (x, F) of a piecewise-linear CDF, x ascending (ties are jumps), F from 0 to 1; the values are
// mapped by x -> slope * x + offset (slope > 0) on the way.
struct Knots {
    std::vector<double> x, f;
    // F just left (right = false) or just right of x.
    double at(double v, bool right) const {
        const auto it = right ? std::upper_bound(x.begin(), x.end(), v) : std::lower_bound(x.begin(), x.end(), v);
        const std::size_t k = std::size_t(it - x.begin());
        if (k == 0) return 0.0;
        if (k == x.size()) return 1.0;
        const double w = x[k] - x[k - 1];
        return w > 0 ? f[k - 1] + (f[k] - f[k - 1]) * (v - x[k - 1]) / w : f[k];
    }
};

inline Knots knots(const BinnedCdf& c, const BinEdges& e, double slope, double offset) {
    PGG_CHECK(c.total > 0 && c.counts.size() == std::size_t(e.bins()) + 2, "binned W1: an empty or mismatched summary");
    Knots k;
    const auto& edges = e.edges();
    const double n = double(c.total);
    double cum = 0;
    k.x.push_back(std::min(double(c.min), double(edges.front())));
    k.f.push_back(0.0);
    for (std::size_t i = 0; i < edges.size(); ++i) {
        cum += double(c.counts[i]);
        k.x.push_back(double(edges[i]));
        k.f.push_back(cum / n);
    }
    k.x.push_back(std::max(double(c.max), double(edges.back())));
    k.f.push_back(1.0);
    for (double& x : k.x) x = slope * x + offset;
    return k;
}

} // namespace binned_detail

// W1 between two binned streams (same edges), each first mapped by its own increasing affine map
// x -> slope * x + offset: the integral of |F_a - F_b| over the union of their knots, where both are
// linear between consecutive knots (a change of sign inside is integrated exactly).
inline double wasserstein_1d(const BinnedCdf& a, const BinnedCdf& b, const BinEdges& e, double slope_a = 1, double offset_a = 0,
                             double slope_b = 1, double offset_b = 0) {
    PGG_CHECK(slope_a > 0 && slope_b > 0, "wasserstein_1d: slopes must be positive");
    const binned_detail::Knots ka = binned_detail::knots(a, e, slope_a, offset_a), kb = binned_detail::knots(b, e, slope_b, offset_b);
    std::vector<double> xs(ka.x);
    xs.insert(xs.end(), kb.x.begin(), kb.x.end());
    std::sort(xs.begin(), xs.end());
    double total = 0;
    for (std::size_t j = 0; j + 1 < xs.size(); ++j) {
        const double x0 = xs[j], x1 = xs[j + 1], w = x1 - x0;
        if (!(w > 0)) continue;
        const double d0 = ka.at(x0, true) - kb.at(x0, true), d1 = ka.at(x1, false) - kb.at(x1, false);
        if ((d0 >= 0) == (d1 >= 0)) total += w * std::abs(d0 + d1) / 2;
        else total += w * (d0 * d0 + d1 * d1) / (2 * (std::abs(d0) + std::abs(d1)));
    }
    return total;
}

} // namespace pgg::metrics
