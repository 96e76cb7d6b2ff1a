#pragma once
// The drawing surface of pgg::plot: an RGB image with antialiased strokes and text. Text is set in
// DejaVu Sans (matplotlib's default face) through stb_truetype when the font file is found (Debian's
// fonts-dejavu-core, or its other usual places; PGG_PLOT_FONT names another TrueType file), else in a
// built-in 5x7 pixel font, so that plots never fail for want of a font.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <stb_truetype.h>

#include "../core/tensor.hpp"

namespace pgg::plot {

using Color = std::array<std::uint8_t, 3>;

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

// A TrueType face loaded once per process; ok() is false when no font file was found.
class Font {
public:
    static const Font& get() {
        static const Font f;
        return f;
    }
    bool ok() const { return ok_; }
    const stbtt_fontinfo& info() const { return info_; }

private:
    Font() {
        std::vector<std::string> paths; // PGG_PLOT_FONT alone when set (a missing file: the pixel font)
        if (const char* p = std::getenv("PGG_PLOT_FONT"); p && *p) paths.emplace_back(p);
        else for (const char* p : {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf",
                              "/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
                              "/usr/local/share/fonts/DejaVuSans.ttf", "/Library/Fonts/DejaVuSans.ttf"})
            paths.emplace_back(p);
        for (const auto& p : paths) {
            std::ifstream in(p, std::ios::binary);
            if (!in) continue;
            data_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            if (!data_.empty() && stbtt_InitFont(&info_, data_.data(), stbtt_GetFontOffsetForIndex(data_.data(), 0))) {
                ok_ = true;
                return;
            }
        }
    }
    std::vector<unsigned char> data_;
    stbtt_fontinfo info_{};
    bool ok_ = false;
};

// A coverage mask (0..1 per pixel), e.g. a line of text before it is placed.
struct Mask {
    index_t w = 0, h = 0;
    std::vector<float> a;
    Mask(index_t width, index_t height) : w(width), h(height), a(std::size_t(width * height), 0.0f) {}
    float& at(index_t x, index_t y) { return a[std::size_t(y * w + x)]; }
};

// Text of pixel height `px` as a mask: width = the advance, height = ascent + descent; (0, 0) is the
// top left of the line.
inline Mask text_mask(const std::string& s, double px) {
    const Font& font = Font::get();
    if (!font.ok()) { // the 5x7 glyphs, scaled to about the asked height
        const index_t k = std::max<index_t>(1, index_t(std::lround(px / 10.0)));
        Mask m(index_t(s.size()) * 6 * k, 9 * k);
        for (std::size_t i = 0; i < s.size(); ++i) {
            const std::uint8_t* g = glyph(s[i]);
            for (index_t r = 0; r < 7 * k; ++r)
                for (index_t b = 0; b < 5 * k; ++b)
                    if (g[r / k] >> (4 - b / k) & 1) m.at(index_t(i) * 6 * k + b, k + r) = 1.0f;
        }
        return m;
    }
    const stbtt_fontinfo& f = font.info();
    const float scale = stbtt_ScaleForPixelHeight(&f, float(px));
    int ascent = 0, descent = 0, gap = 0;
    stbtt_GetFontVMetrics(&f, &ascent, &descent, &gap);
    const int base = int(std::ceil(ascent * scale)), height = base + int(std::ceil(-descent * scale)) + 1;
    double width = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        int adv = 0, lsb = 0;
        stbtt_GetCodepointHMetrics(&f, static_cast<unsigned char>(s[i]), &adv, &lsb);
        width += adv * scale;
        if (i + 1 < s.size()) width += scale * stbtt_GetCodepointKernAdvance(&f, static_cast<unsigned char>(s[i]), static_cast<unsigned char>(s[i + 1]));
    }
    Mask m(index_t(std::ceil(width)) + 2, height);
    std::vector<unsigned char> glyph_px;
    double x = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const int c = static_cast<unsigned char>(s[i]);
        int adv = 0, lsb = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
        stbtt_GetCodepointHMetrics(&f, c, &adv, &lsb);
        const float shift = float(x - std::floor(x));
        stbtt_GetCodepointBitmapBoxSubpixel(&f, c, scale, scale, shift, 0, &x0, &y0, &x1, &y1);
        const int gw = x1 - x0, gh = y1 - y0;
        if (gw > 0 && gh > 0) {
            glyph_px.assign(std::size_t(gw * gh), 0);
            stbtt_MakeCodepointBitmapSubpixel(&f, glyph_px.data(), gw, gh, gw, scale, scale, shift, 0, c);
            for (int r = 0; r < gh; ++r)
                for (int q = 0; q < gw; ++q) {
                    const index_t mx = index_t(std::floor(x)) + x0 + q, my = base + y0 + r;
                    if (mx >= 0 && mx < m.w && my >= 0 && my < m.h) m.at(mx, my) = std::max(m.at(mx, my), glyph_px[std::size_t(r * gw + q)] / 255.0f);
                }
        }
        x += adv * scale;
        if (i + 1 < s.size()) x += scale * stbtt_GetCodepointKernAdvance(&f, c, static_cast<unsigned char>(s[i + 1]));
    }
    return m;
}

// An RGB canvas, (1, 3, H, W), white.
struct Canvas {
    Tensor<std::uint8_t> img;
    index_t w, h;
    Canvas(index_t width, index_t height) : img(Tensor<std::uint8_t>::full({1, 3, height, width}, 255)), w(width), h(height) {}
    void set(index_t x, index_t y, Color c) { blend(x, y, c, 1.0f); }
    // pixel = (1 - a) pixel + a c
    void blend(index_t x, index_t y, Color c, float a) {
        if (x < 0 || y < 0 || x >= w || y >= h || a <= 0) return;
        a = std::min(a, 1.0f);
        for (int k = 0; k < 3; ++k) {
            std::uint8_t& p = img.data()[(k * h + y) * w + x];
            p = std::uint8_t(std::lround(p + a * (float(c[k]) - p)));
        }
    }
    void fill(index_t x0, index_t y0, index_t x1, index_t y1, Color c) { // [x0, x1] x [y0, y1]
        for (index_t y = y0; y <= y1; ++y)
            for (index_t x = x0; x <= x1; ++x) set(x, y, c);
    }
    void hline(index_t x0, index_t x1, index_t y, Color c) { fill(std::min(x0, x1), y, std::max(x0, x1), y, c); }
    void vline(index_t x, index_t y0, index_t y1, Color c) { fill(x, std::min(y0, y1), x, std::max(y0, y1), c); }
    // An antialiased polyline of the given width through points (x, y) in pixel coordinates (pixel
    // centres at integers); the coverage is the maximum over segments, so joints are not drawn twice.
    void stroke(const std::vector<std::array<double, 2>>& pts, Color c, double width, index_t cx0, index_t cy0, index_t cx1, index_t cy1) {
        if (pts.empty()) return;
        const double r = width / 2;
        double bx0 = INFINITY, by0 = INFINITY, bx1 = -INFINITY, by1 = -INFINITY;
        for (const auto& p : pts) bx0 = std::min(bx0, p[0]), by0 = std::min(by0, p[1]), bx1 = std::max(bx1, p[0]), by1 = std::max(by1, p[1]);
        const index_t ox = std::max(cx0, index_t(std::floor(bx0 - r - 1))), oy = std::max(cy0, index_t(std::floor(by0 - r - 1)));
        const index_t ex = std::min(cx1, index_t(std::ceil(bx1 + r + 1))), ey = std::min(cy1, index_t(std::ceil(by1 + r + 1)));
        if (ex < ox || ey < oy) return;
        Mask cover(ex - ox + 1, ey - oy + 1);
        for (std::size_t i = 0; i < pts.size(); ++i) {
            const auto a = pts[i], b = pts[i + 1 < pts.size() ? i + 1 : i];
            const index_t sx0 = std::max(ox, index_t(std::floor(std::min(a[0], b[0]) - r - 1))), sx1 = std::min(ex, index_t(std::ceil(std::max(a[0], b[0]) + r + 1)));
            const index_t sy0 = std::max(oy, index_t(std::floor(std::min(a[1], b[1]) - r - 1))), sy1 = std::min(ey, index_t(std::ceil(std::max(a[1], b[1]) + r + 1)));
            const double dx = b[0] - a[0], dy = b[1] - a[1], len2 = dx * dx + dy * dy;
            for (index_t y = sy0; y <= sy1; ++y)
                for (index_t x = sx0; x <= sx1; ++x) {
                    const double t = len2 > 0 ? std::clamp(((x - a[0]) * dx + (y - a[1]) * dy) / len2, 0.0, 1.0) : 0.0;
                    const double ddx = x - (a[0] + t * dx), ddy = y - (a[1] + t * dy);
                    const float cov = float(std::clamp(r + 0.5 - std::sqrt(ddx * ddx + ddy * ddy), 0.0, 1.0));
                    float& m = cover.at(x - ox, y - oy);
                    m = std::max(m, cov);
                }
        }
        for (index_t y = 0; y < cover.h; ++y)
            for (index_t x = 0; x < cover.w; ++x) blend(ox + x, oy + y, c, cover.at(x, y));
    }
    // Places a mask with its top left at (x, y), or rotated a quarter turn counter-clockwise (reading
    // upwards, for a y-axis label) with its top left at (x, y + mask width).
    void draw(const Mask& m, index_t x, index_t y, Color c, bool rotated = false) {
        for (index_t r = 0; r < m.h; ++r)
            for (index_t q = 0; q < m.w; ++q) {
                const float a = m.a[std::size_t(r * m.w + q)];
                if (rotated) blend(x + r, y + m.w - 1 - q, c, a);
                else blend(x + q, y + r, c, a);
            }
    }
    // Text of pixel height px aligned at (x, y): ax 0 left, 0.5 centre, 1 right; ay likewise for top to
    // bottom. Returns the x after it.
    index_t text(double x, double y, const std::string& s, Color c, double px = 13, double ax = 0, double ay = 0) {
        const Mask m = text_mask(s, px);
        const index_t left = index_t(std::lround(x - ax * double(m.w))), top = index_t(std::lround(y - ay * double(m.h)));
        draw(m, left, top, c);
        return left + m.w;
    }
};

} // namespace detail

} // namespace pgg::plot
