#pragma once
// Line plots and bar charts as images, for what people look at: training curves, ROC curves, results
// compared across groups. Laid out as matplotlib's defaults are: a title above each panel, axes boxed,
// ticks at round values (1, 2, 2.5 or 5 times a power of ten) with outward tick marks and light grid
// lines, axis labels, a legend box in the corner that covers the fewest points, antialiased lines 1.5
// pixels wide, text in DejaVu Sans (plot_canvas.hpp).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "../core/tensor.hpp"
#include "plot_canvas.hpp"

namespace pgg::plot {

struct Series {
    std::string name;
    Color color;
    std::vector<double> x, y;
};

struct Panel {
    std::string title;
    std::vector<Series> series;
    double ymin = NAN, ymax = NAN; // a fixed y range (e.g. 0 to 1 for rates); NaN: from the values
    std::string xlabel, ylabel;    // axis labels, with units where there are any
};

struct Bar {
    std::string name;
    Color color;
    double value = 0, lower = 0, upper = 0; // the bar's height and its interval (the whisker)
    std::vector<double> points;             // individual values drawn over the bar, e.g. one per seed
};

namespace detail {

inline constexpr Color black{0, 0, 0}, grid_gray{232, 232, 232}, legend_edge{204, 204, 204};
inline constexpr double title_px = 14, label_px = 13, tick_px = 12, line_width = 1.5;

// Round tick values in [lo, hi]: a step of 1, 2, 2.5 or 5 times a power of ten giving about `target`
// intervals.
inline std::vector<double> nice_ticks(double lo, double hi, int target = 5) {
    if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
    const double raw = (hi - lo) / target, mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = 10 * mag;
    for (double m : {1.0, 2.0, 2.5, 5.0})
        if (m * mag >= raw * (1 - 1e-9)) {
            step = m * mag;
            break;
        }
    std::vector<double> t;
    for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step; k += 1) t.push_back(std::abs(k) < 1e-12 ? 0.0 : k * step);
    return t;
}

// A tick label with the decimals that the step needs (0.25 -> "0.25", 2 -> "2").
inline std::string tick_label(double v, double step) {
    char b[32];
    if (std::abs(v) >= 1e6 || (step > 0 && step < 1e-4)) {
        std::snprintf(b, sizeof b, "%g", v);
        return b;
    }
    int d = 0;
    while (d < 6 && step > 0 && std::abs(step * std::pow(10.0, d) - std::round(step * std::pow(10.0, d))) > 1e-6) ++d;
    std::snprintf(b, sizeof b, "%.*f", d, v);
    return b;
}

inline double tick_step(const std::vector<double>& t) { return t.size() > 1 ? t[1] - t[0] : 1.0; }

// Where a panel's data go: the axes box in pixels and the data range it spans.
struct Axes {
    index_t x0, y0, x1, y1;
    double xmin, xmax, ymin, ymax;
    double px(double x) const { return double(x0) + (x - xmin) / (xmax - xmin) * double(x1 - x0); }
    double py(double y) const { return double(y1) - (std::clamp(y, ymin, ymax) - ymin) / (ymax - ymin) * double(y1 - y0); }
};

// The axes of each panel. The y range covers the values from the 1st to the 99th percentile (early
// spikes would squash the rest), widened by 5%, unless the panel fixes it; the x range is the data's.
// The left margin fits the widest y tick label of all panels, so that the panels' axes line up.
inline std::vector<Axes> panel_axes(const std::vector<Panel>& panels, index_t width, index_t panel_height) {
    std::vector<Axes> out;
    double widest = 0;
    bool any_ylabel = false;
    for (const Panel& panel : panels) {
        std::vector<double> ys;
        double xmin = INFINITY, xmax = -INFINITY;
        for (const auto& s : panel.series)
            for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
                if (std::isfinite(s.y[i]) && std::isfinite(s.x[i])) {
                    ys.push_back(s.y[i]);
                    xmin = std::min(xmin, s.x[i]);
                    xmax = std::max(xmax, s.x[i]);
                }
        double ymin = 0, ymax = 1;
        if (!ys.empty()) {
            std::sort(ys.begin(), ys.end());
            ymin = ys[std::size_t(0.01 * double(ys.size() - 1))], ymax = ys[std::size_t(0.99 * double(ys.size() - 1) + 0.5)];
            if (ymax - ymin < 1e-12 * std::max(1.0, std::abs(ymax))) ymin -= 0.5, ymax += 0.5;
            const double pad = 0.05 * (ymax - ymin);
            ymin -= pad, ymax += pad;
        } else {
            xmin = 0, xmax = 1;
        }
        if (std::isfinite(panel.ymin) && std::isfinite(panel.ymax) && panel.ymax > panel.ymin) ymin = panel.ymin, ymax = panel.ymax;
        if (xmax - xmin < 1e-12 * std::max(1.0, std::abs(xmax))) xmin -= 0.5, xmax += 0.5;
        const auto yt = nice_ticks(ymin, ymax);
        for (double v : yt) widest = std::max(widest, double(text_mask(tick_label(v, tick_step(yt)), tick_px).w));
        any_ylabel = any_ylabel || !panel.ylabel.empty();
        out.push_back({0, 0, 0, 0, xmin, xmax, ymin, ymax});
    }
    const index_t left = index_t(std::ceil(widest)) + 14 + (any_ylabel ? 22 : 0), right = 24;
    for (std::size_t p = 0; p < panels.size(); ++p) {
        const index_t top = index_t(p) * panel_height + 30, bottom = index_t(p + 1) * panel_height - (panels[p].xlabel.empty() ? 28 : 46);
        out[p].x0 = left, out[p].x1 = width - right, out[p].y0 = top, out[p].y1 = bottom;
    }
    return out;
}

// Frame, grid and ticks of one axes box (the bars leave the x ticks out).
inline void draw_frame(Canvas& cv, const Axes& a, bool x_ticks) {
    const auto yt = nice_ticks(a.ymin, a.ymax), xt = x_ticks ? nice_ticks(a.xmin, a.xmax) : std::vector<double>{};
    for (double v : yt) {
        const index_t y = index_t(std::lround(a.py(v)));
        cv.hline(a.x0 + 1, a.x1 - 1, y, grid_gray);
        cv.hline(a.x0 - 4, a.x0 - 1, y, black);
        cv.text(double(a.x0 - 7), double(y), tick_label(v, tick_step(yt)), black, tick_px, 1.0, 0.5);
    }
    for (double v : xt) {
        const index_t x = index_t(std::lround(a.px(v)));
        cv.vline(x, a.y0 + 1, a.y1 - 1, grid_gray);
        cv.vline(x, a.y1 + 1, a.y1 + 4, black);
        cv.text(double(x), double(a.y1 + 6), tick_label(v, tick_step(xt)), black, tick_px, 0.5, 0.0);
    }
    cv.hline(a.x0, a.x1, a.y0, black);
    cv.hline(a.x0, a.x1, a.y1, black);
    cv.vline(a.x0, a.y0, a.y1, black);
    cv.vline(a.x1, a.y0, a.y1, black);
}

// The legend: one row per named series (a line sample and the name), boxed, in the corner of the axes
// that covers the fewest data points.
inline void draw_legend(Canvas& cv, const Axes& a, const std::vector<Series>& series) {
    std::vector<const Series*> named;
    for (const auto& s : series)
        if (!s.name.empty()) named.push_back(&s);
    if (named.empty()) return;
    index_t text_w = 0, row = 0;
    for (const Series* s : named) {
        const Mask m = text_mask(s->name, tick_px);
        text_w = std::max(text_w, m.w), row = std::max(row, m.h);
    }
    const index_t bw = 8 + 22 + 6 + text_w + 8, bh = 6 + row * index_t(named.size()) + 4;
    const index_t corners[4][2] = {{a.x1 - 8 - bw, a.y0 + 8}, {a.x0 + 8, a.y0 + 8}, {a.x1 - 8 - bw, a.y1 - 8 - bh}, {a.x0 + 8, a.y1 - 8 - bh}};
    int best = 0;
    long best_count = -1;
    for (int c = 0; c < 4; ++c) { // the lines' length inside the box, sampled every pixel or so
        long count = 0;
        auto inside = [&](double x, double y) {
            return x >= corners[c][0] && x <= corners[c][0] + bw && y >= corners[c][1] && y <= corners[c][1] + bh;
        };
        for (const auto& s : series)
            for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
                const std::size_t j = i + 1 < std::min(s.x.size(), s.y.size()) ? i + 1 : i;
                if (!std::isfinite(s.x[i] + s.y[i] + s.x[j] + s.y[j])) continue;
                const double xa = a.px(s.x[i]), ya = a.py(s.y[i]), xb = a.px(s.x[j]), yb = a.py(s.y[j]);
                const int n = 1 + int(std::min(4096.0, std::hypot(xb - xa, yb - ya)));
                for (int k = 0; k < n; ++k) count += inside(xa + (xb - xa) * k / n, ya + (yb - ya) * k / n);
            }
        if (best_count < 0 || count < best_count) best = c, best_count = count;
    }
    const index_t lx = corners[best][0], ly = corners[best][1];
    for (index_t y = ly; y <= ly + bh; ++y)
        for (index_t x = lx; x <= lx + bw; ++x) cv.blend(x, y, {255, 255, 255}, 0.85f);
    cv.hline(lx, lx + bw, ly, legend_edge), cv.hline(lx, lx + bw, ly + bh, legend_edge);
    cv.vline(lx, ly, ly + bh, legend_edge), cv.vline(lx + bw, ly, ly + bh, legend_edge);
    for (std::size_t i = 0; i < named.size(); ++i) {
        const double cy = double(ly + 6 + row * index_t(i)) + double(row) / 2;
        cv.stroke({{double(lx + 8), cy}, {double(lx + 30), cy}}, named[i]->color, line_width, 0, 0, cv.w - 1, cv.h - 1);
        cv.text(double(lx + 36), cy, named[i]->name, black, tick_px, 0.0, 0.5);
    }
}

} // namespace detail

// Renders the panels, stacked vertically, into an RGB image (1, 3, H, W).
inline Tensor<std::uint8_t> render(const std::vector<Panel>& panels, index_t width = 800, index_t panel_height = 240) {
    using namespace detail;
    Canvas cv(width, panel_height * index_t(panels.size()));
    const auto axes = panel_axes(panels, width, panel_height);
    for (std::size_t p = 0; p < panels.size(); ++p) {
        const Panel& panel = panels[p];
        const Axes& a = axes[p];
        cv.text(double(a.x0 + a.x1) / 2, double(index_t(p) * panel_height + 8), panel.title, black, title_px, 0.5, 0.0);
        draw_frame(cv, a, true);
        if (!panel.xlabel.empty()) cv.text(double(a.x0 + a.x1) / 2, double(a.y1 + 24), panel.xlabel, black, label_px, 0.5, 0.0);
        if (!panel.ylabel.empty()) {
            const Mask m = text_mask(panel.ylabel, label_px);
            cv.draw(m, 4, index_t(std::lround(double(a.y0 + a.y1) / 2 - double(m.w) / 2)), black, true);
        }
        for (const auto& s : panel.series) { // a polyline per finite run of points, clipped to the axes
            std::vector<std::array<double, 2>> run;
            auto flush = [&] {
                cv.stroke(run, s.color, line_width, a.x0 + 1, a.y0 + 1, a.x1 - 1, a.y1 - 1);
                run.clear();
            };
            for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
                if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) run.push_back({a.px(s.x[i]), a.py(s.y[i])});
                else flush();
            }
            flush();
        }
        draw_legend(cv, a, panel.series);
    }
    return cv.img;
}

namespace detail {
// The axes box of a bar chart of the given size.
inline Axes bar_axes(index_t width, index_t height, double ymin, double ymax) {
    double widest = 0;
    const auto yt = nice_ticks(ymin, ymax);
    for (double v : yt) widest = std::max(widest, double(text_mask(tick_label(v, tick_step(yt)), tick_px).w));
    return {index_t(std::ceil(widest)) + 14, 34, width - 24, height - 30, 0, 1, ymin, ymax};
}
} // namespace detail

// One bar per group, on a y axis from ymin to ymax, each with its interval as a capped whisker and its
// points as dots; group names below the bars.
inline Tensor<std::uint8_t> bars(const std::string& title, const std::vector<Bar>& groups, double ymin, double ymax, index_t width = 640,
                                 index_t height = 420) {
    using namespace detail;
    PGG_CHECK(ymax > ymin, "plot::bars: empty y range [", ymin, ", ", ymax, "]");
    Canvas cv(width, height);
    const Axes a = bar_axes(width, height, ymin, ymax);
    cv.text(double(a.x0 + a.x1) / 2, 8, title, black, title_px, 0.5, 0.0);
    draw_frame(cv, a, false);
    auto py = [&](double y) { return index_t(std::lround(a.py(y))); };
    const index_t slot = groups.empty() ? 1 : (a.x1 - a.x0) / index_t(groups.size()), half = slot * 3 / 10;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const Bar& b = groups[g];
        const index_t cx = a.x0 + slot * index_t(g) + slot / 2;
        const Color fill{std::uint8_t(b.color[0] / 2 + 128), std::uint8_t(b.color[1] / 2 + 128), std::uint8_t(b.color[2] / 2 + 128)};
        cv.fill(cx - half, py(b.value), cx + half, a.y1 - 1, fill);
        cv.hline(cx - half, cx + half, py(b.value), b.color);
        cv.vline(cx, py(b.lower), py(b.upper), black);
        cv.hline(cx - 6, cx + 6, py(b.lower), black);
        cv.hline(cx - 6, cx + 6, py(b.upper), black);
        for (std::size_t i = 0; i < b.points.size(); ++i) { // spread sideways so that equal values stay visible
            const index_t px = cx - half / 2 + (b.points.size() > 1 ? index_t(i) * half / index_t(b.points.size() - 1) : half / 2);
            cv.fill(px - 2, py(b.points[i]) - 2, px + 2, py(b.points[i]) + 2, b.color);
        }
        cv.text(double(cx), double(a.y1 + 6), b.name, black, tick_px, 0.5, 0.0);
    }
    return cv.img;
}

} // namespace pgg::plot
