#pragma once
// From a probability map to a clean lung mask and a crop: threshold, keep the two largest 8-connected
// components (the lungs; smaller ones are noise), fill holes, check that the result looks like lungs,
// and take its bounding box.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <pgg/pgg.hpp>

namespace cxr_unet {

struct MaskOptions {
    float threshold = 0.5f;
    double min_area = 0.05;     // lungs cover at least this fraction of the image ...
    double max_area = 0.80;     // ... and at most this one
    double min_second = 0.10;   // a second component is a lung when at least this fraction of the first
};

struct CleanMask {
    std::vector<std::uint8_t> mask; // H * W, 0 or 1
    index_t height = 0, width = 0;
    int lungs = 0;                  // components kept (1 or 2)
    double area = 0;                // fraction of the image
    index_t x0 = 0, y0 = 0, x1 = 0, y1 = 0; // bounding box, x1 and y1 exclusive
    std::string problem;            // why the mask does not look like lungs; empty when it does
};

namespace detail {
// Labels the 8-connected components of `on` (label 0: off); returns their sizes, index = label - 1.
inline std::vector<index_t> label_components(const std::vector<std::uint8_t>& on, index_t H, index_t W, std::vector<int>& label) {
    label.assign(on.size(), 0);
    std::vector<index_t> sizes, stack;
    for (index_t start = 0; start < H * W; ++start) {
        if (!on[start] || label[start]) continue;
        const int id = int(sizes.size()) + 1;
        index_t count = 0;
        stack.push_back(start);
        label[start] = id;
        while (!stack.empty()) {
            const index_t p = stack.back();
            stack.pop_back();
            ++count;
            const index_t y = p / W, x = p % W;
            for (index_t dy = -1; dy <= 1; ++dy)
                for (index_t dx = -1; dx <= 1; ++dx) {
                    const index_t yy = y + dy, xx = x + dx;
                    if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                    const index_t q = yy * W + xx;
                    if (on[q] && !label[q]) {
                        label[q] = id;
                        stack.push_back(q);
                    }
                }
        }
        sizes.push_back(count);
    }
    return sizes;
}
} // namespace detail

// Cleans the probability map `prob` (H * W values in [0, 1]).
inline CleanMask clean_mask(const float* prob, index_t H, index_t W, const MaskOptions& o = {}) {
    CleanMask m;
    m.height = H;
    m.width = W;
    std::vector<std::uint8_t> on(std::size_t(H * W));
    for (index_t i = 0; i < H * W; ++i) on[i] = prob[i] >= o.threshold;
    std::vector<int> label;
    const std::vector<index_t> sizes = detail::label_components(on, H, W, label);
    std::vector<int> order(sizes.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = int(i);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return sizes[a] > sizes[b] || (sizes[a] == sizes[b] && a < b); });
    std::vector<std::uint8_t> keep(sizes.size() + 1, 0);
    if (!order.empty()) {
        keep[order[0] + 1] = 1;
        m.lungs = 1;
        if (order.size() > 1 && double(sizes[order[1]]) >= o.min_second * double(sizes[order[0]])) {
            keep[order[1] + 1] = 1;
            m.lungs = 2;
        }
    }
    m.mask.assign(on.size(), 0);
    for (index_t i = 0; i < H * W; ++i) m.mask[i] = keep[label[i]];
    // holes: background not reachable from the border (4-connected) becomes lung
    std::vector<std::uint8_t> outside(on.size(), 0);
    std::vector<index_t> stack;
    auto seed = [&](index_t p) {
        if (!m.mask[p] && !outside[p]) {
            outside[p] = 1;
            stack.push_back(p);
        }
    };
    for (index_t x = 0; x < W; ++x) seed(x), seed((H - 1) * W + x);
    for (index_t y = 0; y < H; ++y) seed(y * W), seed(y * W + W - 1);
    while (!stack.empty()) {
        const index_t p = stack.back();
        stack.pop_back();
        const index_t y = p / W, x = p % W;
        if (x > 0) seed(p - 1);
        if (x + 1 < W) seed(p + 1);
        if (y > 0) seed(p - W);
        if (y + 1 < H) seed(p + W);
    }
    index_t area = 0;
    m.x0 = W, m.y0 = H;
    for (index_t y = 0; y < H; ++y)
        for (index_t x = 0; x < W; ++x) {
            const index_t p = y * W + x;
            if (!outside[p]) m.mask[p] = 1;
            if (!m.mask[p]) continue;
            ++area;
            m.x0 = std::min(m.x0, x), m.y0 = std::min(m.y0, y);
            m.x1 = std::max(m.x1, x + 1), m.y1 = std::max(m.y1, y + 1);
        }
    m.area = double(area) / double(H * W);
    char buf[160];
    if (area == 0) {
        m.problem = "no lung pixels above the threshold";
        m.x0 = m.y0 = 0;
    } else if (m.area < o.min_area || m.area > o.max_area) {
        std::snprintf(buf, sizeof buf, "lungs cover %.1f%% of the image (plausible: %.0f%% to %.0f%%)", 100 * m.area,
                      100 * o.min_area, 100 * o.max_area);
        m.problem = buf;
    }
    return m;
}

// The box (x0, y0, x1, y1) of a mask of side (H, W) mapped onto an image of side (h, w), widened by
// `margin` times the box's size on each side and clipped to the image.
struct Box {
    index_t x0, y0, x1, y1;
};
inline Box crop_box(const CleanMask& m, index_t h, index_t w, double margin) {
    const double sx = double(w) / double(m.width), sy = double(h) / double(m.height);
    const double bw = double(m.x1 - m.x0) * sx, bh = double(m.y1 - m.y0) * sy;
    Box b;
    b.x0 = std::max<index_t>(0, index_t(std::floor(double(m.x0) * sx - margin * bw)));
    b.y0 = std::max<index_t>(0, index_t(std::floor(double(m.y0) * sy - margin * bh)));
    b.x1 = std::min<index_t>(w, index_t(std::ceil(double(m.x1) * sx + margin * bw)));
    b.y1 = std::min<index_t>(h, index_t(std::ceil(double(m.y1) * sy + margin * bh)));
    return b;
}

// The box of a uint8 (1, C, h, w) picture resampled to size x size (stretched, as the source study does): area
// averaging along a side that shrinks, bilinear where it grows.
inline pgg::Tensor<std::uint8_t> crop_resize(const pgg::Tensor<std::uint8_t>& img, const Box& b, index_t size) {
    const index_t C = img.c(), h = img.h(), w = img.w(), bh = b.y1 - b.y0, bw = b.x1 - b.x0;
    pgg::Tensor<float> crop({1, C, bh, bw});
    for (index_t c = 0; c < C; ++c)
        for (index_t y = 0; y < bh; ++y)
            for (index_t x = 0; x < bw; ++x) crop.data()[(c * bh + y) * bw + x] = float(img.data()[(c * h + b.y0 + y) * w + b.x0 + x]);
    pgg::Tensor<float> out({1, C, size, size});
    if (bh >= size && bw >= size) {
        pgg::resize_area(crop, out);
    } else if (bh <= size && bw <= size) {
        pgg::resize_bilinear(crop, out);
    } else { // one side shrinks, the other grows: bilinear up to a square of the larger side, then area down
        const index_t big = std::max(bh, bw);
        pgg::Tensor<float> mid({1, C, big, big});
        pgg::resize_bilinear(crop, mid);
        pgg::resize_area(mid, out);
    }
    return pgg::cast<std::uint8_t>(pgg::clamp(out + 0.5f, 0.0f, 255.0f));
}

} // namespace cxr_unet
