#pragma once
// Line plots as images, for training curves that people look at: panels stacked vertically, each with
// a title, a colour legend, axes with numbered ticks, and one polyline per series; and bar charts with
// intervals, for results compared across groups. Text uses a built-in
// 5x7 pixel font (digits, letters, a few signs), so no font library is needed.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "../core/tensor.hpp"

namespace pgg::plot {

using Color = std::array<std::uint8_t, 3>;

struct Series {
    std::string name;
    Color color;
    std::vector<double> x, y;
};

struct Panel {
    std::string title;
    std::vector<Series> series;
    double ymin = NAN, ymax = NAN; // a fixed y range (e.g. 0 to 1 for rates); NaN: from the values
};

namespace detail {
// 5x7 glyphs, one byte per row (bit 4 = leftmost pixel).
inline const std::uint8_t* glyph(char c) {
    static const std::uint8_t digits[10][7] = {
        {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}, {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F},
        {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}, {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
        {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}, {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E},
        {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}};
    static const std::uint8_t letters[26][7] = {
        {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11}, {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}, {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E},
        {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}, {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}, {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10},
        {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}, {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}, {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E},
        {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}, {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}, {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F},
        {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}, {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}, {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},
        {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}, {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}, {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11},
        {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}, {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},
        {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}, {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}, {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11},
        {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}};
    static const std::uint8_t dot[7] = {0, 0, 0, 0, 0, 0x0C, 0x0C}, minus[7] = {0, 0, 0, 0x1F, 0, 0, 0},
                              plus[7] = {0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0}, lpar[7] = {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02},
                              rpar[7] = {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}, bar[7] = {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},
                              slash[7] = {0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10}, colon[7] = {0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0},
                              under[7] = {0, 0, 0, 0, 0, 0, 0x1F}, comma[7] = {0, 0, 0, 0, 0x0C, 0x04, 0x08},
                              percent[7] = {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}, equal[7] = {0, 0, 0x1F, 0, 0x1F, 0, 0},
                              blank[7] = {};
    if (c >= '0' && c <= '9') return digits[c - '0'];
    if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
    if (c >= 'A' && c <= 'Z') return letters[c - 'A'];
    switch (c) {
    case '.': return dot;
    case '-': return minus;
    case '+': return plus;
    case '(': return lpar;
    case ')': return rpar;
    case '|': return bar;
    case '/': return slash;
    case ':': return colon;
    case '_': return under;
    case ',': return comma;
    case '%': return percent;
    case '=': return equal;
    default: return blank;
    }
}

// An RGB canvas, (1, 3, H, W).
struct Canvas {
    Tensor<std::uint8_t> img;
    index_t w, h;
    Canvas(index_t width, index_t height) : img(Tensor<std::uint8_t>::full({1, 3, height, width}, 255)), w(width), h(height) {}
    void set(index_t x, index_t y, Color c) {
        if (x < 0 || y < 0 || x >= w || y >= h) return;
        for (int k = 0; k < 3; ++k) img.data()[(k * h + y) * w + x] = c[k];
    }
    void line(index_t x0, index_t y0, index_t x1, index_t y1, Color c) { // Bresenham
        const index_t dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
        index_t err = dx + dy;
        for (;;) {
            set(x0, y0, c);
            if (x0 == x1 && y0 == y1) return;
            const index_t e2 = 2 * err;
            if (e2 >= dy) err += dy, x0 += sx;
            if (e2 <= dx) err += dx, y0 += sy;
        }
    }
    // Text with its top-left corner at (x, y); returns the x after it.
    index_t text(index_t x, index_t y, const std::string& s, Color c) {
        for (char ch : s) {
            const std::uint8_t* g = glyph(ch);
            for (int r = 0; r < 7; ++r)
                for (int b = 0; b < 5; ++b)
                    if (g[r] >> (4 - b) & 1) set(x + b, y + r, c);
            x += 6;
        }
        return x;
    }
};

inline std::string number(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3g", v);
    return b;
}
} // namespace detail

// Renders the panels into an RGB image (1, 3, H, W). The y range of a panel covers its values from the
// 1st to the 99th percentile (early spikes would squash the rest), widened by 5%.
inline Tensor<std::uint8_t> render(const std::vector<Panel>& panels, index_t width = 800, index_t panel_height = 220) {
    const index_t left = 56, right = 12, top = 16, bottom = 22;
    detail::Canvas cv(width, panel_height * index_t(panels.size()));
    const Color axis{0, 0, 0}, grid{225, 225, 225};
    for (std::size_t p = 0; p < panels.size(); ++p) {
        const Panel& panel = panels[p];
        const index_t y0 = index_t(p) * panel_height + top, y1 = index_t(p + 1) * panel_height - bottom;
        const index_t x0 = left, x1 = width - right;
        std::vector<double> ys;
        double xmin = INFINITY, xmax = -INFINITY;
        for (const auto& s : panel.series)
            for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
                if (std::isfinite(s.y[i])) {
                    ys.push_back(s.y[i]);
                    xmin = std::min(xmin, s.x[i]);
                    xmax = std::max(xmax, s.x[i]);
                }
        index_t tx = cv.text(x0, y0 - 12, panel.title, axis) + 12;
        for (const auto& s : panel.series) tx = cv.text(tx, y0 - 12, s.name, s.color) + 12;
        cv.line(x0, y0, x0, y1, axis);
        cv.line(x0, y1, x1, y1, axis);
        if (ys.empty()) continue;
        std::sort(ys.begin(), ys.end());
        double ymin = ys[std::size_t(0.01 * double(ys.size() - 1))], ymax = ys[std::size_t(0.99 * double(ys.size() - 1) + 0.5)];
        if (ymax - ymin < 1e-12) ymin -= 0.5, ymax += 0.5;
        const double pad = 0.05 * (ymax - ymin);
        ymin -= pad, ymax += pad;
        if (std::isfinite(panel.ymin) && std::isfinite(panel.ymax) && panel.ymax > panel.ymin) ymin = panel.ymin, ymax = panel.ymax;
        if (xmax - xmin < 1e-12) xmax = xmin + 1;
        auto px = [&](double x) { return x0 + index_t(std::lround((x - xmin) / (xmax - xmin) * double(x1 - x0))); };
        auto py = [&](double y) {
            y = std::clamp(y, ymin, ymax);
            return y1 - index_t(std::lround((y - ymin) / (ymax - ymin) * double(y1 - y0)));
        };
        for (int t = 0; t <= 4; ++t) {
            const double yv = ymin + (ymax - ymin) * t / 4, xv = xmin + (xmax - xmin) * t / 4;
            const index_t yy = py(yv), xx = px(xv);
            cv.line(x0 + 1, yy, x1, yy, grid);
            const std::string ylab = detail::number(yv), xlab = detail::number(xv);
            cv.text(x0 - 4 - 6 * index_t(ylab.size()), yy - 3, ylab, axis);
            cv.text(std::clamp<index_t>(xx - 3 * index_t(xlab.size()), 0, width - 6 * index_t(xlab.size())), y1 + 5, xlab, axis);
        }
        for (const auto& s : panel.series)
            for (std::size_t i = 1; i < s.x.size() && i < s.y.size(); ++i)
                if (std::isfinite(s.y[i - 1]) && std::isfinite(s.y[i])) cv.line(px(s.x[i - 1]), py(s.y[i - 1]), px(s.x[i]), py(s.y[i]), s.color);
    }
    return cv.img;
}

struct Bar {
    std::string name;
    Color color;
    double value = 0, lower = 0, upper = 0; // the bar's height and its interval (the whisker)
    std::vector<double> points;             // individual values drawn over the bar, e.g. one per seed
};

// One bar per group, on a y axis from ymin to ymax, each with its interval as a capped whisker and its
// points as dots; group names below the bars.
inline Tensor<std::uint8_t> bars(const std::string& title, const std::vector<Bar>& groups, double ymin, double ymax, index_t width = 640,
                                 index_t height = 420) {
    PGG_CHECK(ymax > ymin, "plot::bars: empty y range [", ymin, ", ", ymax, "]");
    const index_t left = 56, right = 12, top = 28, bottom = 26;
    const index_t x0 = left, x1 = width - right, y0 = top, y1 = height - bottom;
    detail::Canvas cv(width, height);
    const Color axis{0, 0, 0}, grid{225, 225, 225};
    cv.text(x0, 8, title, axis);
    auto py = [&](double y) { return y1 - index_t(std::lround((std::clamp(y, ymin, ymax) - ymin) / (ymax - ymin) * double(y1 - y0))); };
    for (int t = 0; t <= 5; ++t) {
        const double v = ymin + (ymax - ymin) * t / 5;
        cv.line(x0 + 1, py(v), x1, py(v), grid);
        const std::string label = detail::number(v);
        cv.text(x0 - 4 - 6 * index_t(label.size()), py(v) - 3, label, axis);
    }
    const index_t slot = groups.empty() ? 1 : (x1 - x0) / index_t(groups.size()), half = slot * 3 / 10;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const Bar& b = groups[g];
        const index_t cx = x0 + slot * index_t(g) + slot / 2;
        const Color fill{std::uint8_t(b.color[0] / 2 + 128), std::uint8_t(b.color[1] / 2 + 128), std::uint8_t(b.color[2] / 2 + 128)};
        for (index_t x = cx - half; x <= cx + half; ++x) cv.line(x, py(b.value), x, y1, fill);
        cv.line(cx - half, py(b.value), cx + half, py(b.value), b.color);
        cv.line(cx, py(b.lower), cx, py(b.upper), axis);
        cv.line(cx - 6, py(b.lower), cx + 6, py(b.lower), axis);
        cv.line(cx - 6, py(b.upper), cx + 6, py(b.upper), axis);
        for (std::size_t i = 0; i < b.points.size(); ++i) { // spread sideways so that equal values stay visible
            const index_t px = cx - half / 2 + (b.points.size() > 1 ? index_t(i) * half / index_t(b.points.size() - 1) : half / 2);
            for (index_t dy = -2; dy <= 2; ++dy)
                for (index_t dx = -2; dx <= 2; ++dx) cv.set(px + dx, py(b.points[i]) + dy, b.color);
        }
        cv.text(cx - 3 * index_t(b.name.size()), y1 + 8, b.name, axis);
    }
    cv.line(x0, y0, x0, y1, axis);
    cv.line(x0, y1, x1, y1, axis);
    return cv.img;
}

} // namespace pgg::plot
