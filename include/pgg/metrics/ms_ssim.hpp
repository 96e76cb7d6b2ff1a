#pragma once
// Multi-scale SSIM (Wang, Simoncelli & Bovik 2003) as the PG-GAN code computes it (after TensorFlow's
// implementation): at each of 5 scales, the SSIM and contrast-structure maps from an 11-tap Gaussian
// window (sigma 1.5) applied without padding ('valid'), averaged over pixels and channels; between
// scales a 2x2 average. The window shrinks to the image where the image is smaller than 11 pixels
// (sigma scaled alike; an even window is centred between pixels). Means below 0 are clipped to 0, and
// MS-SSIM = prod over the first 4 scales of cs^w times ssim^w at the last. Pixel values in [0, max_value].
// Computed in double.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace pgg::metrics {

struct MsSsimOptions {
    std::vector<double> weights{0.0448, 0.2856, 0.3001, 0.2363, 0.1333}; // one per scale, finest first
    double max_value = 255;
    int filter_size = 11;
    double filter_sigma = 1.5;
    double k1 = 0.01, k2 = 0.03;
};

namespace ms_ssim_detail {

// The normalised 1-D window; the 2-D one is its outer product with itself.
inline std::vector<double> gaussian(int size, double sigma) {
    std::vector<double> g(static_cast<std::size_t>(size));
    double sum = 0;
    for (int i = 0; i < size; ++i) {
        const double x = i - (size - 1) / 2.0;
        sum += g[std::size_t(i)] = std::exp(-x * x / (2 * sigma * sigma));
    }
    for (double& v : g) v /= sum;
    return g;
}

struct Scale {
    double ssim = 0, cs = 0;
};

// Mean SSIM and contrast-structure over one scale of two images (c planes of h x w each).
inline Scale ssim_scale(const double* a, const double* b, index_t c, index_t h, index_t w, const MsSsimOptions& o,
                        std::vector<double>& scratch) {
    const int size = int(std::min<index_t>({o.filter_size, h, w}));
    const std::vector<double> g = gaussian(size, size * o.filter_sigma / o.filter_size);
    const index_t ho = h - size + 1, wo = w - size + 1;
    const double c1 = (o.k1 * o.max_value) * (o.k1 * o.max_value), c2 = (o.k2 * o.max_value) * (o.k2 * o.max_value);
    // Horizontal pass of a, b, a^2, b^2, ab (5 maps of h x wo), then the vertical pass one output row at a time.
    scratch.resize(std::size_t(5 * h * wo + 5 * wo + 3 * w));
    double* hz = scratch.data();
    double* row = hz + 5 * h * wo;
    double* products = row + 5 * wo; // a^2, b^2, ab of one input row
    double ssim_sum = 0, cs_sum = 0;
    for (index_t ch = 0; ch < c; ++ch) {
        for (index_t y = 0; y < h; ++y) {
            const double* ra = a + (ch * h + y) * w;
            const double* rb = b + (ch * h + y) * w;
            for (index_t x = 0; x < w; ++x)
                products[x] = ra[x] * ra[x], products[w + x] = rb[x] * rb[x], products[2 * w + x] = ra[x] * rb[x];
            const double* src[5] = {ra, rb, products, products + w, products + 2 * w};
            for (int m = 0; m < 5; ++m) {
                double* dst = hz + (m * h + y) * wo;
                std::fill(dst, dst + wo, 0.0);
                for (int t = 0; t < size; ++t) {
                    const double gt = g[std::size_t(t)];
                    const double* in = src[m] + t;
#pragma omp simd
                    for (index_t x = 0; x < wo; ++x) dst[x] += gt * in[x];
                }
            }
        }
        for (index_t y = 0; y < ho; ++y) {
            std::fill(row, row + 5 * wo, 0.0);
            for (int m = 0; m < 5; ++m)
                for (int t = 0; t < size; ++t) {
                    const double gt = g[std::size_t(t)];
                    const double* src = hz + (m * h + y + t) * wo;
                    double* dst = row + m * wo;
#pragma omp simd
                    for (index_t x = 0; x < wo; ++x) dst[x] += gt * src[x];
                }
            for (index_t x = 0; x < wo; ++x) {
                const double mu1 = row[x], mu2 = row[wo + x];
                const double s11 = row[2 * wo + x] - mu1 * mu1, s22 = row[3 * wo + x] - mu2 * mu2, s12 = row[4 * wo + x] - mu1 * mu2;
                const double v1 = 2 * s12 + c2, v2 = s11 + s22 + c2;
                ssim_sum += (2 * mu1 * mu2 + c1) * v1 / ((mu1 * mu1 + mu2 * mu2 + c1) * v2);
                cs_sum += v1 / v2;
            }
        }
    }
    const double n = double(c * ho * wo);
    return {ssim_sum / n, cs_sum / n};
}

// 2x2 average in place: c planes of h x w to c planes of h/2 x w/2.
inline void box_down(std::vector<double>& x, index_t c, index_t h, index_t w) {
    const index_t h2 = h / 2, w2 = w / 2;
    for (index_t ch = 0; ch < c; ++ch)
        for (index_t y = 0; y < h2; ++y)
            for (index_t i = 0; i < w2; ++i) {
                const double* s = x.data() + (ch * h + 2 * y) * w + 2 * i;
                x[std::size_t((ch * h2 + y) * w2 + i)] = (s[0] + s[w] + s[1] + s[w + 1]) * 0.25;
            }
    x.resize(std::size_t(c * h2 * w2));
}

// MS-SSIM of two images given as c planes of h x w; a and b are consumed (downsampled in place).
inline double ms_ssim(std::vector<double>& a, std::vector<double>& b, index_t c, index_t h, index_t w, const MsSsimOptions& o,
                      std::vector<double>& scratch) {
    const std::size_t levels = o.weights.size();
    double result = 1;
    for (std::size_t l = 0; l < levels; ++l) {
        const Scale s = ssim_scale(a.data(), b.data(), c, h, w, o, scratch);
        const double v = std::max(l + 1 < levels ? s.cs : s.ssim, 0.0);
        result *= std::pow(v, o.weights[l]);
        if (l + 1 < levels) {
            box_down(a, c, h, w);
            box_down(b, c, h, w);
            h /= 2, w /= 2;
        }
    }
    return result;
}

inline void check_options(const MsSsimOptions& o) {
    PGG_CHECK(!o.weights.empty() && o.filter_size > 0 && o.filter_sigma > 0 && o.max_value > 0,
              "ms_ssim: needs weights, a positive filter size, sigma and max_value");
}

// Scales halve the image weights.size() - 1 times by 2x2 averages: each side must divide evenly.
inline void check_image(const Shape& s, const MsSsimOptions& o, const char* what) {
    const index_t step = index_t(1) << (o.weights.size() - 1);
    PGG_CHECK(s.rank() == 4 && (s.c() == 1 || s.c() == 3) && s.h() > 0 && s.h() % step == 0 && s.w() > 0 && s.w() % step == 0,
              what, ": expected images (N, 1 or 3, H, W) with H and W multiples of ", step, " (", o.weights.size(),
              " scales), got ", s);
}

template <class T>
void to_double(const T* src, index_t n, std::vector<double>& out) {
    out.resize(std::size_t(n));
    std::transform(src, src + n, out.begin(), [](T v) { return double(v); });
}

} // namespace ms_ssim_detail

// MS-SSIM of two images (1, C, H, W), C = 1 or 3, values in [0, max_value]; 1 for identical images.
template <class T>
double ms_ssim(const Tensor<T>& a, const Tensor<T>& b, const MsSsimOptions& options = {}) {
    ms_ssim_detail::check_options(options);
    ms_ssim_detail::check_image(a.shape(), options, "ms_ssim");
    PGG_CHECK(a.n() == 1 && a.shape() == b.shape(), "ms_ssim: needs two single images of one shape, got ", a.shape(), " and ",
              b.shape());
    std::vector<double> x, y, scratch;
    ms_ssim_detail::to_double(a.data(), a.numel(), x);
    ms_ssim_detail::to_double(b.data(), b.numel(), y);
    return ms_ssim_detail::ms_ssim(x, y, a.c(), a.h(), a.w(), options, scratch);
}

// The mean MS-SSIM over consecutive pairs of a stream of images (0-1, 2-3, ...): the PG-GAN paper's
// diversity measure (lower = more varied). Batches of any size: an odd batch's last image waits for the
// next batch's first. The pairs of a batch run on the OpenMP threads; the sum runs in stream order, so
// the mean never depends on the batch split or the thread count.
class MsSsimPairs {
public:
    explicit MsSsimPairs(MsSsimOptions options = {}) : opt_(std::move(options)) { ms_ssim_detail::check_options(opt_); }

    template <class T>
    void add(const Tensor<T>& images) {
        ms_ssim_detail::check_image(images.shape(), opt_, "MsSsimPairs::add");
        const Shape image{1, images.c(), images.h(), images.w()};
        PGG_CHECK(image_.empty() || image_ == image, "MsSsimPairs::add: images ", image, " after images ", image_);
        image_ = image;
        const index_t per = image.numel(), n = images.n();
        if (n == 0) return;
        const index_t skip = pending_.empty() ? 0 : 1; // this batch's first image completes the waiting one
        const index_t pairs = (n - skip) / 2 + skip;
        std::vector<double> score(static_cast<std::size_t>(pairs));
#pragma omp parallel
        {
            std::vector<double> x, y, scratch;
#pragma omp for schedule(dynamic, 1)
            for (index_t p = 0; p < pairs; ++p) {
                const index_t second = skip ? 2 * p : 2 * p + 1; // index in this batch of the pair's second image
                if (skip && p == 0) x = pending_;
                else ms_ssim_detail::to_double(images.data() + (second - 1) * per, per, x);
                ms_ssim_detail::to_double(images.data() + second * per, per, y);
                score[std::size_t(p)] = ms_ssim_detail::ms_ssim(x, y, image.c(), image.h(), image.w(), opt_, scratch);
            }
        }
        for (double s : score) sum_ += s;
        pairs_ += pairs;
        if ((n - skip) % 2) ms_ssim_detail::to_double(images.data() + (n - 1) * per, per, pending_);
        else pending_.clear();
    }

    index_t pairs() const { return pairs_; }
    double mean() const {
        PGG_CHECK(pairs_ > 0, "MsSsimPairs::mean: no complete pair of images yet");
        return sum_ / double(pairs_);
    }

private:
    MsSsimOptions opt_;
    Shape image_;
    std::vector<double> pending_; // the unpaired last image, if any
    double sum_ = 0;
    index_t pairs_ = 0;
};

} // namespace pgg::metrics
