#pragma once
// Sliced Wasserstein distance (SWD) between two image sets, as the PG-GAN paper (Karras et al., ICLR
// 2018, appendix D) and its official code define it:
//   1. each image's Laplacian pyramid from full resolution down to min_resolution, the last level being
//      the Gaussian residual: 5x5 binomial filter [1 4 6 4 1]/16 per axis with scipy's 'mirror' border
//      (d c b | a b c d | c b a); down = blur then keep even rows and columns; up = zeros between the
//      samples then the same blur x4; level = Gaussian - up(next Gaussian);
//   2. per image and level, patches_per_image 7x7 neighbourhoods at random positions wholly inside;
//   3. per level and set, each channel of the descriptors centred and divided by its standard deviation
//      over all descriptors of that set (the official finalize_descriptors);
//   4. per level, repeats x directions random unit directions; both sets projected and the 1-D
//      Wasserstein distance of the projections taken (sets of equal size: the mean absolute difference
//      of the sorted projections, as the official code computes it; of different sizes: the integral of
//      |difference| of the two quantile functions, which is the same thing generalised); reported x1000
//      per level and averaged over levels.
// Descriptors are normalised, so one affine change of pixel values applied to both sets ([0, 255] or
// [-1, 1]) leaves the distance unchanged. Random numbers (positions, directions) are Philox draws indexed
// by (image, level, patch) and (level, direction): the result depends on the seed only, never on the
// batch split or the thread count. The numbers differ from the official code's (numpy's generator) only
// by the random draws.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "../backend/cpu/random.hpp"
#include "../core/error.hpp"
#include "../core/random.hpp"
#include "../core/tensor.hpp"
#include "binned_cdf.hpp"

namespace pgg::metrics {

inline constexpr index_t swd_patch = 7;                       // neighbourhood side
inline constexpr index_t swd_patch_area = swd_patch * swd_patch; // descriptor values per channel

namespace swd_detail {

// scipy.ndimage's 'mirror' border (OpenCV's REFLECT_101): index -1 reads 1, index n reads n - 2.
inline index_t mirror(index_t i, index_t n) { return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i); }

inline constexpr float binomial[5] = {1 / 16.f, 4 / 16.f, 6 / 16.f, 4 / 16.f, 1 / 16.f};

// One output sample of a 1-D filter pass: up to five (input index, weight) taps.
struct Taps {
    int count = 0;
    std::array<index_t, 5> at{};
    std::array<float, 5> weight{};
};

// Blur then keep even samples: output i of n / 2 reads inputs 2i-2 .. 2i+2, mirrored.
inline std::vector<Taps> down_taps(index_t n) {
    std::vector<Taps> taps(static_cast<std::size_t>(n / 2));
    for (index_t i = 0; i < n / 2; ++i) {
        Taps& tp = taps[std::size_t(i)];
        for (int t = 0; t < 5; ++t) tp.at[t] = mirror(2 * i + t - 2, n), tp.weight[t] = binomial[t];
        tp.count = 5;
    }
    return taps;
}

// Input j placed at 2j of a 2n-sample signal of zeros, then the blur x2 (x4 over both axes): output i
// reads that signal at i-2 .. i+2, mirrored on its 2n samples; the zeros drop out.
inline std::vector<Taps> up_taps(index_t n) {
    std::vector<Taps> taps(static_cast<std::size_t>(2 * n));
    for (index_t i = 0; i < 2 * n; ++i) {
        Taps& tp = taps[std::size_t(i)];
        for (int t = 0; t < 5; ++t) {
            const index_t j = mirror(i + t - 2, 2 * n);
            if (j % 2 == 0) tp.at[tp.count] = j / 2, tp.weight[tp.count++] = 2 * binomial[t];
        }
    }
    return taps;
}

// Vertical pass over whole rows (vectorises): out row y = sum of weight x in row at, w values per row.
inline void filter_rows(const float* in, index_t w, const std::vector<Taps>& taps, float* out) {
    for (std::size_t y = 0; y < taps.size(); ++y) {
        const Taps& tp = taps[y];
        float* o = out + index_t(y) * w;
        const float* r0 = in + tp.at[0] * w;
        for (index_t x = 0; x < w; ++x) o[x] = tp.weight[0] * r0[x];
        for (int t = 1; t < tp.count; ++t) {
            const float* r = in + tp.at[t] * w;
            const float wt = tp.weight[t];
            for (index_t x = 0; x < w; ++x) o[x] += wt * r[x];
        }
    }
}

// Horizontal pass: h rows of w_in values to rows of taps.size() values.
inline void filter_columns(const float* in, index_t h, index_t w_in, const std::vector<Taps>& taps, float* out) {
    const index_t w_out = index_t(taps.size());
    for (index_t y = 0; y < h; ++y)
        for (index_t x = 0; x < w_out; ++x) {
            const Taps& tp = taps[std::size_t(x)];
            float s = 0;
            for (int t = 0; t < tp.count; ++t) s += tp.weight[t] * in[y * w_in + tp.at[t]];
            out[y * w_out + x] = s;
        }
}

// The filter taps of every level of a pyramid of h x w images, built once and shared by all images.
class Pyramid {
public:
    Pyramid(index_t h, index_t w, int levels) {
        PGG_CHECK(levels >= 1, "laplacian pyramid: needs at least one level, got ", levels);
        PGG_CHECK(h % (index_t(1) << (levels - 1)) == 0 && w % (index_t(1) << (levels - 1)) == 0 &&
                      (h >> (levels - 1)) >= swd_patch + 1 && (w >> (levels - 1)) >= swd_patch + 1,
                  "laplacian pyramid: ", h, "x", w, " images cannot be halved ", levels - 1,
                  " times down to at least 8x8 (7x7 patches need it)");
        for (int l = 0; l < levels; ++l) sizes_.push_back({h >> l, w >> l});
        for (int l = 0; l + 1 < levels; ++l) {
            const auto [hl, wl] = sizes_[std::size_t(l)];
            steps_.push_back({down_taps(hl), down_taps(wl), up_taps(hl / 2), up_taps(wl / 2)});
        }
    }
    int levels() const { return int(sizes_.size()); }
    index_t height(int l) const { return sizes_[std::size_t(l)][0]; }
    index_t width(int l) const { return sizes_[std::size_t(l)][1]; }

    // The pyramid of one image of c planes: out[l] holds c planes of height(l) x width(l).
    void build(const float* image, index_t c, std::vector<std::vector<float>>& out, std::vector<float>& scratch) const {
        out.resize(sizes_.size());
        for (std::size_t l = 0; l < sizes_.size(); ++l) out[l].resize(std::size_t(c * sizes_[l][0] * sizes_[l][1]));
        std::copy(image, image + out[0].size(), out[0].begin());
        const index_t h0 = sizes_[0][0], w0 = sizes_[0][1];
        scratch.resize(std::size_t(h0 * w0 / 2 + h0 * w0));
        float* half = scratch.data();               // a half-height pass (h/2 x w)
        float* full = scratch.data() + h0 * w0 / 2; // an up-sampled level (h x w)
        for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) {
            const index_t h = sizes_[l][0], w = sizes_[l][1], area = h * w;
            const Step& s = steps_[l];
            for (index_t ch = 0; ch < c; ++ch) {
                float* fine = out[l].data() + ch * area;
                float* coarse = out[l + 1].data() + ch * area / 4;
                filter_rows(fine, w, s.down_rows, half);
                filter_columns(half, h / 2, w, s.down_cols, coarse);
                filter_columns(coarse, h / 2, w / 2, s.up_cols, half);
                filter_rows(half, w, s.up_rows, full);
                for (index_t i = 0; i < area; ++i) fine[i] -= full[i];
            }
        }
    }

private:
    struct Step {
        std::vector<Taps> down_rows, down_cols, up_rows, up_cols;
    };
    std::vector<std::array<index_t, 2>> sizes_;
    std::vector<Step> steps_;
};

// The 7x7 neighbourhood centred at (y, x) in each of c planes of h x w: c * 49 values, channel by channel,
// row by row.
inline void copy_patch(const float* level, index_t c, index_t h, index_t w, index_t y, index_t x, float* out) {
    for (index_t ch = 0; ch < c; ++ch)
        for (index_t dy = 0; dy < swd_patch; ++dy) {
            const float* src = level + (ch * h + y - swd_patch / 2 + dy) * w + x - swd_patch / 2;
            std::copy(src, src + swd_patch, out + (ch * swd_patch + dy) * swd_patch);
        }
}

// A patch centre drawn uniformly in [3, h - 3) x [3, w - 3), as the official randint(H, S - H), from
// Philox block `block` of `gen`.
inline std::array<index_t, 2> patch_centre(const Generator& gen, std::uint64_t block, index_t h, index_t w) {
    std::uint32_t r[4];
    gen.block(block, r);
    const index_t half = swd_patch / 2;
    return {half + index_t((std::uint64_t(r[0]) * std::uint64_t(h - 2 * half)) >> 32),
            half + index_t((std::uint64_t(r[1]) * std::uint64_t(w - 2 * half)) >> 32)};
}

// Per descriptor component: the mean and 1 / standard deviation (numpy's std, ddof 0) of its channel over
// all `count` descriptors. Sums run over fixed blocks added in order, so the thread count never changes
// them. A channel without spread (constant images) is only centred.
struct Normalisation {
    std::vector<float> mean, inv_std;
};
inline Normalisation channel_normalisation(const float* x, index_t count, index_t dim, int channels) {
    constexpr index_t block = 4096;
    const index_t per = dim / channels, blocks = (count + block - 1) / block;
    std::vector<double> part(static_cast<std::size_t>(blocks * channels));
    auto pass = [&](auto&& term) {
        std::fill(part.begin(), part.end(), 0.0);
#pragma omp parallel for schedule(static)
        for (index_t b = 0; b < blocks; ++b)
            for (index_t n = b * block; n < std::min(count, (b + 1) * block); ++n)
                for (int ch = 0; ch < channels; ++ch) {
                    double s = 0;
                    for (index_t k = 0; k < per; ++k) s += term(x[n * dim + ch * per + k], ch);
                    part[std::size_t(b * channels + ch)] += s;
                }
        std::vector<double> total(std::size_t(channels), 0.0);
        for (index_t b = 0; b < blocks; ++b)
            for (int ch = 0; ch < channels; ++ch) total[std::size_t(ch)] += part[std::size_t(b * channels + ch)];
        for (double& t : total) t /= double(count * per);
        return total;
    };
    const std::vector<double> mean = pass([](float v, index_t) { return double(v); });
    const std::vector<double> var = pass([&](float v, index_t ch) {
        const double d = double(v) - mean[std::size_t(ch)];
        return d * d;
    });
    Normalisation norm;
    for (index_t d = 0; d < dim; ++d) {
        const double sd = std::sqrt(var[std::size_t(d / per)]);
        norm.mean.push_back(float(mean[std::size_t(d / per)]));
        norm.inv_std.push_back(sd > 0 ? float(1 / sd) : 1.0f);
    }
    return norm;
}

// Directions go dir_block at a time: each pass over the descriptors feeds dir_block products per value read.
inline constexpr int dir_block = 16;

// proj[k * count + n + r] = (normalised row r of xb) . direction k, for rows r < R.
template <int R>
inline void project_rows(const float* xb, index_t dim, const float* dirs_t, index_t n, index_t count, float* proj) {
    float acc[R][dir_block] = {};
    for (index_t d = 0; d < dim; ++d) {
        const float* dk = dirs_t + d * dir_block;
        for (int r = 0; r < R; ++r) {
            const float v = xb[r * dim + d];
#pragma omp simd
            for (int k = 0; k < dir_block; ++k) acc[r][k] += v * dk[k];
        }
    }
    for (int r = 0; r < R; ++r)
        for (int k = 0; k < dir_block; ++k) proj[k * count + n + r] = acc[r][k];
}

// The projections of all `count` descriptors, each normalised on the fly, on dir_block directions
// (dirs_t: dim x dir_block) into proj (dir_block x count).
inline void project(const float* x, index_t count, index_t dim, const Normalisation& norm, const float* dirs_t, float* proj,
                    std::vector<float>& xb) {
    constexpr index_t rows = 64;
    xb.resize(static_cast<std::size_t>(rows * dim));
    for (index_t n0 = 0; n0 < count; n0 += rows) {
        const index_t nb = std::min(rows, count - n0);
        for (index_t i = 0; i < nb; ++i)
            for (index_t d = 0; d < dim; ++d)
                xb[std::size_t(i * dim + d)] = (x[(n0 + i) * dim + d] - norm.mean[std::size_t(d)]) * norm.inv_std[std::size_t(d)];
        index_t i = 0;
        for (; i + 4 <= nb; i += 4) project_rows<4>(xb.data() + i * dim, dim, dirs_t, n0 + i, count, proj);
        for (; i < nb; ++i) project_rows<1>(xb.data() + i * dim, dim, dirs_t, n0 + i, count, proj);
    }
}

// Ascending sort by LSD radix on order-preserving integer keys, 3 passes of 11 bits: several times
// faster than std::sort on the millions of projections per direction. buf: scratch.
inline void radix_sort(float* v, index_t n, std::vector<std::uint32_t>& buf) {
    constexpr int bits = 11, buckets = 1 << bits, passes = 3;
    buf.resize(static_cast<std::size_t>(2 * n));
    std::uint32_t *keys = buf.data(), *next = buf.data() + n;
    std::vector<index_t> start(std::size_t(passes * buckets), 0);
    for (index_t i = 0; i < n; ++i) {
        const auto u = std::bit_cast<std::uint32_t>(v[i]);
        keys[i] = (u & 0x80000000u) ? ~u : u | 0x80000000u; // negatives reversed below positives
        for (int p = 0; p < passes; ++p) ++start[std::size_t(p * buckets + ((keys[i] >> (p * bits)) & (buckets - 1)))];
    }
    for (int p = 0; p < passes; ++p) {
        index_t* s = start.data() + p * buckets;
        index_t sum = 0;
        for (int k = 0; k < buckets; ++k) sum += std::exchange(s[k], sum);
        for (index_t i = 0; i < n; ++i) next[s[(keys[i] >> (p * bits)) & (buckets - 1)]++] = keys[i];
        std::swap(keys, next);
    }
    for (index_t i = 0; i < n; ++i) v[i] = std::bit_cast<float>((keys[i] & 0x80000000u) ? keys[i] & 0x7fffffffu : ~keys[i]);
}

// W1 between the empirical distributions of sa (n values) and sb (m values), both sorted ascending:
// the integral over t in [0, 1] of |Qa(t) - Qb(t)|, Q the quantile functions (steps at i/n and j/m,
// compared exactly as integers i*m and j*n). With n == m it is the mean of |sa[i] - sb[i]|.
inline double wasserstein_sorted(const float* sa, index_t n, const float* sb, index_t m) {
    if (n == m) {
        double sum = 0;
        for (index_t i = 0; i < n; ++i) sum += std::abs(double(sa[i]) - double(sb[i]));
        return sum / double(n);
    }
    double sum = 0;
    index_t i = 0, j = 0, t = 0; // t: the position reached, in units of 1 / (n m)
    while (i < n && j < m) {
        const index_t ea = (i + 1) * m, eb = (j + 1) * n, e = std::min(ea, eb);
        sum += double(e - t) * std::abs(double(sa[i]) - double(sb[j]));
        t = e;
        i += ea == e, j += eb == e;
    }
    return sum / (double(n) * double(m));
}

// Raw form of metrics::sliced_wasserstein: a holds `count_a` and b `count_b` descriptors of `dim`
// values each (row by row, `channels` equal runs per row), dirs `num_dirs` rows of `dim` values. Each
// thread takes dir_block directions at a time (with dir_block x (count_a + count_b) floats of
// projections and sort scratch); a direction's distance is the same whichever thread computes it.
inline double sliced_wasserstein(const float* a, index_t count_a, const float* b, index_t count_b, index_t dim, int channels,
                                 const float* dirs, index_t num_dirs) {
    const Normalisation na = channel_normalisation(a, count_a, dim, channels);
    const Normalisation nb = channel_normalisation(b, count_b, dim, channels);
    const index_t blocks = (num_dirs + dir_block - 1) / dir_block;
    std::vector<double> per_dir(static_cast<std::size_t>(num_dirs));
#pragma omp parallel
    {
        std::vector<float> pa(static_cast<std::size_t>(dir_block * count_a)), pb(static_cast<std::size_t>(dir_block * count_b)), xb;
        std::vector<float> dirs_t(static_cast<std::size_t>(dim * dir_block));
        std::vector<std::uint32_t> buf;
#pragma omp for schedule(dynamic, 1)
        for (index_t blk = 0; blk < blocks; ++blk) {
            const index_t j0 = blk * dir_block;
            const int kb = int(std::min<index_t>(dir_block, num_dirs - j0));
            std::fill(dirs_t.begin(), dirs_t.end(), 0.0f);
            for (int k = 0; k < kb; ++k)
                for (index_t d = 0; d < dim; ++d) dirs_t[std::size_t(d * dir_block + k)] = dirs[(j0 + k) * dim + d];
            project(a, count_a, dim, na, dirs_t.data(), pa.data(), xb);
            project(b, count_b, dim, nb, dirs_t.data(), pb.data(), xb);
            for (int k = 0; k < kb; ++k) {
                float* sa = pa.data() + k * count_a;
                float* sb = pb.data() + k * count_b;
                radix_sort(sa, count_a, buf);
                radix_sort(sb, count_b, buf);
                per_dir[std::size_t(j0 + k)] = wasserstein_sorted(sa, count_a, sb, count_b);
            }
        }
    }
    double total = 0;
    for (double s : per_dir) total += s;
    return total / double(num_dirs);
}

template <class T>
void check_images(const Tensor<T>& images, const char* what) {
    PGG_CHECK(images.rank() == 4 && (images.c() == 1 || images.c() == 3), what, ": expected images (N, 1 or 3, H, W), got ",
              images.shape());
}

} // namespace swd_detail

// The Laplacian pyramid of each image of a batch (N, C, H, W): `levels` tensors (N, C, H >> l, W >> l),
// finest first; the last is the Gaussian residual.
template <class T>
std::vector<Tensor<float>> laplacian_pyramid(const Tensor<T>& images, int levels) {
    swd_detail::check_images(images, "laplacian_pyramid");
    const swd_detail::Pyramid pyr(images.h(), images.w(), levels);
    const index_t c = images.c(), per_image = c * images.h() * images.w();
    std::vector<Tensor<float>> out;
    for (int l = 0; l < levels; ++l) out.emplace_back(Shape{images.n(), c, pyr.height(l), pyr.width(l)});
    std::vector<float> image(static_cast<std::size_t>(per_image)), scratch;
    std::vector<std::vector<float>> level;
    for (index_t i = 0; i < images.n(); ++i) {
        std::copy(images.data() + i * per_image, images.data() + (i + 1) * per_image, image.begin());
        pyr.build(image.data(), c, level, scratch);
        for (int l = 0; l < levels; ++l)
            std::copy(level[std::size_t(l)].begin(), level[std::size_t(l)].end(), out[std::size_t(l)][i].data());
    }
    return out;
}

// Descriptors (rows of C * 49 values: channel, row, column) of the 7x7 neighbourhoods of one pyramid level
// (N, C, h, w) centred at `centres` ((y, x), each at least 3 from every border): centres.size() / N per
// image, image 0's first.
inline Tensor<float> patch_descriptors(const Tensor<float>& level, const std::vector<std::array<index_t, 2>>& centres) {
    swd_detail::check_images(level, "patch_descriptors");
    const index_t n = level.n(), c = level.c(), h = level.h(), w = level.w(), count = index_t(centres.size());
    PGG_CHECK(n > 0 && count % n == 0, "patch_descriptors: ", count, " centres do not split evenly over ", n, " images");
    Tensor<float> out({count, c * swd_patch_area});
    for (index_t i = 0; i < count; ++i) {
        const auto [y, x] = centres[std::size_t(i)];
        PGG_CHECK(y >= swd_patch / 2 && y < h - swd_patch / 2 && x >= swd_patch / 2 && x < w - swd_patch / 2,
                  "patch_descriptors: centre (", y, ", ", x, ") puts a 7x7 patch outside the ", h, "x", w, " level");
        swd_detail::copy_patch(level[i / (count / n)].data(), c, h, w, y, x, out.data() + i * c * swd_patch_area);
    }
    return out;
}

// `count` random unit directions in `dim` dimensions (Gaussian components, normalised): rows (count, dim).
inline Tensor<float> random_directions(index_t count, index_t dim, Generator& gen) {
    Tensor<double> g({count, dim});
    fill_normal(g, gen);
    Tensor<float> out({count, dim});
    for (index_t j = 0; j < count; ++j) {
        const double* v = g.data() + j * dim;
        double sq = 0;
        for (index_t d = 0; d < dim; ++d) sq += v[d] * v[d];
        const double inv = 1 / std::sqrt(sq);
        for (index_t d = 0; d < dim; ++d) out.data()[j * dim + d] = float(v[d] * inv);
    }
    return out;
}

// The sliced Wasserstein distance between descriptor sets a (M, D) and b (M', D), D made of `channels`
// runs (one per image channel): each set normalised per channel by its own statistics, both projected
// on each row of `directions` (J, D) as given, and the mean over directions of the 1-D Wasserstein
// distance between the projections returned (not x1000): for M == M', the mean over sorted pairs of
// |a_i - b_i|. The same descriptors give exactly 0.
inline double sliced_wasserstein(const Tensor<float>& a, const Tensor<float>& b, const Tensor<float>& directions, int channels) {
    PGG_CHECK(a.rank() == 2 && b.rank() == 2 && a.c() == b.c() && a.n() > 0 && b.n() > 0,
              "sliced_wasserstein: needs two non-empty descriptor sets (M, D) of one D, got ", a.shape(), " and ", b.shape());
    PGG_CHECK(directions.rank() == 2 && directions.c() == a.c(), "sliced_wasserstein: directions ", directions.shape(),
              " do not match descriptors of ", a.c(), " values");
    PGG_CHECK(channels > 0 && a.c() % channels == 0, "sliced_wasserstein: ", a.c(), " values per descriptor do not split into ",
              channels, " channels");
    return swd_detail::sliced_wasserstein(a.data(), a.n(), b.data(), b.n(), a.c(), channels, directions.data(), directions.n());
}

struct SwdOptions {
    std::uint64_t seed = 1;
    int patches_per_image = 128; // 7x7 neighbourhoods per image and level
    int directions = 128;        // random directions per repeat
    int repeats = 4;             // the result averages repeats x directions directions
    index_t min_resolution = 16; // the coarsest level (the Gaussian residual)
    // Gray images as the official code sees them: tiled to 3 identical channels. Each descriptor is then
    // 3x larger, three copies of the gray one, and each copy is normalised exactly as the gray channel, so
    // its projection on (d_r, d_g, d_b) is the gray descriptor's projection on d_r + d_g + d_b: we store
    // gray descriptors and fold the 147-dimensional directions. The values differ from untiled gray (49
    // dimensions) only through those directions: a folded direction has a random length (1 on average
    // in squared length) instead of exactly 1, and is drawn from other random numbers.
    bool tile_gray_to_rgb = false;
    // Memory: each set keeps the descriptors of its first exact_images images, and the distance between
    // sets of at most that many images is exact. Past them a set keeps, per level and direction, only the
    // counts of its projections in `bins` bins (SwdAccumulator), so memory stops growing.
    index_t exact_images = 1024;
    int bins = 4096;
};

struct SwdResult {
    std::vector<index_t> resolutions; // level sizes, finest first
    std::vector<double> distances;    // SWD x 1000 per level (the official SWDx1e3_<res>)
    double mean = 0;                  // their average (SWDx1e3_avg)
};

// SWD between a set of real and a set of generated images, streamed: add batches of any size. Batches
// use the OpenMP threads across their images, compute() across directions.
//
// Memory is flat whatever the number of images. Up to exact_images images per set, the descriptors are
// kept (patches_per_image x 49 x C floats per image and level: 25,088 bytes for gray, 75,264 for RGB) and
// compute() is exact. When a set passes exact_images, it switches once to bins:
//   - its descriptors so far fix a reference normalisation per level, and, for the first set to switch,
//     the bin edges of each level and direction: `bins` equal-mass quantiles of its projections;
//   - every projection (stored, then streamed) is counted in its bin; the descriptors are freed;
//   - compute() takes the exact 1-D Wasserstein distance between the two piecewise-linear CDFs that the
//     counts describe (binned_cdf.hpp). For gray images (tiled or not) the final normalisation over all
//     images is an increasing affine map of the reference one on every projection, so it is applied
//     exactly; RGB images keep the reference statistics of their first exact_images images.
// With the defaults, at 512x512 gray (6 levels, 512 directions): 150 MB of descriptors per set before the
// switch, 50 MB of counts per set and 101 MB of shared edges after it (docs/metrics.md measures the error).
class SwdAccumulator {
public:
    SwdAccumulator(index_t resolution, int channels, SwdOptions options = {})
        : opt_(options), channels_(channels), resolution_(resolution), resolutions_(level_sizes(resolution, options)),
          pyramid_(resolution, resolution, int(resolutions_.size())) {
        PGG_CHECK(channels == 1 || channels == 3, "SwdAccumulator: channels must be 1 or 3, got ", channels);
        PGG_CHECK(!opt_.tile_gray_to_rgb || channels == 1, "SwdAccumulator: tile_gray_to_rgb needs gray images, got ", channels,
                  " channels");
        PGG_CHECK(opt_.patches_per_image > 0 && opt_.directions > 0 && opt_.repeats > 0,
                  "SwdAccumulator: patches_per_image, directions and repeats must be positive");
        PGG_CHECK(opt_.exact_images > 0 && opt_.bins > 0 && opt_.bins < 65535,
                  "SwdAccumulator: exact_images must be positive and bins in [1, 65534]");
        const index_t drawn = opt_.tile_gray_to_rgb ? 3 * dim() : dim();
        Generator gen(opt_.seed, directions_stream);
        for (std::size_t l = 0; l < resolutions_.size(); ++l) {
            Tensor<float> d = random_directions(num_dirs(), drawn, gen);
            dirs_.push_back(opt_.tile_gray_to_rgb ? fold_tiled(d) : d);
        }
        edges_.resize(resolutions_.size());
        for (Set* s : {&reals_, &fakes_}) s->reset(resolutions_.size());
    }

    template <class T>
    void add_reals(const Tensor<T>& images) {
        add(images, reals_);
    }
    template <class T>
    void add_fakes(const Tensor<T>& images) {
        add(images, fakes_);
    }
    // Forgets the fakes and keeps the reals, to compare several generators (or snapshots) with one real set.
    void clear_fakes() { fakes_.reset(resolutions_.size()); }
    // Reserves descriptor memory for this many images per set (avoids reallocating while growing).
    void reserve(index_t images) {
        for (auto* s : {&reals_, &fakes_})
            for (auto& d : s->desc) d.reserve(std::size_t(std::min(images, opt_.exact_images) * descriptor_values()));
    }

    index_t reals() const { return reals_.images; }
    index_t fakes() const { return fakes_.images; }
    const std::vector<index_t>& resolutions() const { return resolutions_; }
    std::size_t bytes_per_image() const { return resolutions_.size() * std::size_t(descriptor_values()) * sizeof(float); }
    // The bytes held now: descriptors, bin counts and bin edges.
    std::size_t memory_bytes() const {
        std::size_t b = 0;
        for (const Set* s : {&reals_, &fakes_})
            for (std::size_t l = 0; l < resolutions_.size(); ++l) {
                b += s->desc[l].size() * sizeof(float);
                for (const BinnedCdf& c : s->cdf[l]) b += c.counts.size() * sizeof(std::uint32_t);
            }
        for (const auto& level : edges_)
            for (const BinEdges& e : level) b += e.bytes();
        return b;
    }

    // The distances; the sets may differ in size. When only one of them has switched to bins, a binned
    // copy of the other is compared with it.
    SwdResult compute() const {
        PGG_CHECK(reals_.images > 0 && fakes_.images > 0, "SwdAccumulator::compute: needs reals and fakes, has ", reals_.images,
                  " reals and ", fakes_.images, " fakes");
        if (reals_.binned != fakes_.binned) {
            Set r = reals_, f = fakes_;
            bin(r.binned ? f : r);
            return distances(r, f);
        }
        return distances(reals_, fakes_);
    }

private:
    struct Set;

    SwdResult distances(const Set& reals, const Set& fakes) const {
        SwdResult res;
        res.resolutions = resolutions_;
        for (std::size_t l = 0; l < resolutions_.size(); ++l) {
            const double d = reals.binned ? binned_distance(reals, fakes, l)
                                          : swd_detail::sliced_wasserstein(reals.desc[l].data(), reals.images * opt_.patches_per_image,
                                                                           fakes.desc[l].data(), fakes.images * opt_.patches_per_image,
                                                                           dim(), int(channels_), dirs_[l].data(), num_dirs());
            res.distances.push_back(1000 * d);
        }
        for (double d : res.distances) res.mean += d;
        res.mean /= double(res.distances.size());
        return res;
    }

    // Philox streams: patch positions of reals and fakes are drawn independently, as in the official code.
    static constexpr std::uint64_t reals_stream = 0, fakes_stream = 1, directions_stream = 2;

    struct Set {
        std::uint64_t stream;
        index_t images = 0;
        bool binned = false;
        std::vector<std::vector<float>> desc;              // per level: images x patches x (C x 49), until binned
        std::vector<swd_detail::Normalisation> ref;        // per level, once binned: the projections' normalisation
        std::vector<std::vector<double>> sum, sum_sq;      // per level and channel, once binned: for the final one
        std::vector<std::vector<BinnedCdf>> cdf;           // per level and direction, once binned
        void reset(std::size_t levels) {
            images = 0, binned = false;
            desc.assign(levels, {}), ref.assign(levels, {}), cdf.assign(levels, {});
            sum.assign(levels, {}), sum_sq.assign(levels, {});
        }
    };

    // Full resolution, then halved while at least min_resolution (the official loop).
    static std::vector<index_t> level_sizes(index_t resolution, const SwdOptions& opt) {
        PGG_CHECK(opt.min_resolution >= swd_patch + 1 && resolution >= opt.min_resolution, "SwdAccumulator: resolution ",
                  resolution, " and min_resolution ", opt.min_resolution, " must satisfy 8 <= min_resolution <= resolution");
        std::vector<index_t> sizes;
        for (index_t r = resolution; r >= opt.min_resolution; r /= 2) sizes.push_back(r);
        return sizes;
    }

    index_t dim() const { return channels_ * swd_patch_area; }
    index_t num_dirs() const { return index_t(opt_.repeats) * opt_.directions; }
    index_t descriptor_values() const { return index_t(opt_.patches_per_image) * dim(); }

    // (J, 147) directions to (J, 49): d_r + d_g + d_b (see tile_gray_to_rgb).
    static Tensor<float> fold_tiled(const Tensor<float>& dirs) {
        Tensor<float> out({dirs.n(), swd_patch_area});
        for (index_t j = 0; j < dirs.n(); ++j)
            for (index_t d = 0; d < swd_patch_area; ++d) {
                const float* v = dirs.data() + j * 3 * swd_patch_area + d;
                out.data()[j * swd_patch_area + d] = v[0] + v[swd_patch_area] + v[2 * swd_patch_area];
            }
        return out;
    }

    template <class T>
    void add(const Tensor<T>& images, Set& set) {
        PGG_CHECK(images.rank() == 4 && images.c() == channels_ && images.h() == resolution_ && images.w() == resolution_,
                  "SwdAccumulator: expected images (N, ", channels_, ", ", resolution_, ", ", resolution_, "), got ", images.shape());
        index_t done = 0;
        if (!set.binned) {
            done = std::min(images.n(), opt_.exact_images - set.images);
            for (auto& d : set.desc) d.resize(std::size_t((set.images + done) * descriptor_values()));
            std::vector<float*> out;
            for (auto& d : set.desc) out.push_back(d.data() + set.images * descriptor_values());
            describe(images, 0, done, set, out);
            set.images += done;
            if (done == images.n()) return;
            switch_to_bins(set);
        }
        const index_t n = images.n() - done;
        std::vector<std::vector<float>> desc(resolutions_.size(), std::vector<float>(std::size_t(n * descriptor_values())));
        std::vector<float*> out;
        for (auto& d : desc) out.push_back(d.data());
        describe(images, done, n, set, out);
        for (std::size_t l = 0; l < resolutions_.size(); ++l) {
            add_sums(desc[l].data(), n, set.sum[l], set.sum_sq[l]);
            count(desc[l].data(), n * opt_.patches_per_image, set, l);
        }
        set.images += n;
    }

    // Descriptors of images [i0, i0 + n) of the batch, the set's images set.images onwards, into out[level].
    template <class T>
    void describe(const Tensor<T>& images, index_t i0, index_t n, const Set& set, const std::vector<float*>& out) const {
        const index_t per_image = channels_ * resolution_ * resolution_, patches = opt_.patches_per_image, first = set.images;
        const int levels = pyramid_.levels();
        const Generator gen(opt_.seed, set.stream);
#pragma omp parallel
        {
            std::vector<float> image(static_cast<std::size_t>(per_image)), scratch;
            std::vector<std::vector<float>> level;
#pragma omp for schedule(dynamic, 1)
            for (index_t i = 0; i < n; ++i) {
                const T* src = images.data() + (i0 + i) * per_image;
                std::transform(src, src + per_image, image.begin(), [](T v) { return float(v); });
                pyramid_.build(image.data(), channels_, level, scratch);
                for (int l = 0; l < levels; ++l) {
                    const index_t h = pyramid_.height(l), w = pyramid_.width(l);
                    float* o = out[std::size_t(l)] + i * descriptor_values();
                    for (index_t p = 0; p < patches; ++p) {
                        const auto block = std::uint64_t(((first + i) * levels + l) * patches + p);
                        const auto [y, x] = swd_detail::patch_centre(gen, block, h, w);
                        swd_detail::copy_patch(level[std::size_t(l)].data(), channels_, h, w, y, x, o + p * dim());
                    }
                }
            }
        }
    }

    // Per-channel sums of values and squares over the descriptors of n images, image by image in order
    // (the same totals whatever the batches).
    void add_sums(const float* x, index_t n, std::vector<double>& sum, std::vector<double>& sum_sq) const {
        sum.resize(std::size_t(channels_), 0.0), sum_sq.resize(std::size_t(channels_), 0.0);
        const index_t per = swd_patch_area;
        for (index_t i = 0; i < n; ++i)
            for (index_t ch = 0; ch < channels_; ++ch) {
                double s = 0, s2 = 0;
                for (index_t p = 0; p < opt_.patches_per_image; ++p) {
                    const float* v = x + (i * opt_.patches_per_image + p) * dim() + ch * per;
                    for (index_t k = 0; k < per; ++k) s += v[k], s2 += double(v[k]) * v[k];
                }
                sum[std::size_t(ch)] += s, sum_sq[std::size_t(ch)] += s2;
            }
    }

    // Projections of `count` descriptors with the set's reference normalisation, dir_block directions at a
    // time per thread: f(direction, projections) for each direction of level l.
    template <class F>
    void for_each_projection(const float* x, index_t count, const swd_detail::Normalisation& norm, std::size_t l, F&& f) const {
        const index_t blocks = (num_dirs() + swd_detail::dir_block - 1) / swd_detail::dir_block;
#pragma omp parallel
        {
            std::vector<float> proj(static_cast<std::size_t>(swd_detail::dir_block * count)), xb;
            std::vector<float> dirs_t(static_cast<std::size_t>(dim() * swd_detail::dir_block));
#pragma omp for schedule(dynamic, 1)
            for (index_t blk = 0; blk < blocks; ++blk) {
                const index_t j0 = blk * swd_detail::dir_block;
                const int kb = int(std::min<index_t>(swd_detail::dir_block, num_dirs() - j0));
                std::fill(dirs_t.begin(), dirs_t.end(), 0.0f);
                for (int k = 0; k < kb; ++k)
                    for (index_t d = 0; d < dim(); ++d)
                        dirs_t[std::size_t(d * swd_detail::dir_block + k)] = dirs_[l].data()[(j0 + k) * dim() + d];
                swd_detail::project(x, count, dim(), norm, dirs_t.data(), proj.data(), xb);
                for (int k = 0; k < kb; ++k) f(j0 + k, proj.data() + k * count);
            }
        }
    }

    void count(const float* x, index_t n, Set& set, std::size_t l) const {
        for_each_projection(x, n, set.ref[l], l, [&](index_t j, float* p) {
            BinnedCdf& c = set.cdf[l][std::size_t(j)];
            const BinEdges& e = edges_[l][std::size_t(j)];
            for (index_t i = 0; i < n; ++i) c.add(e, p[i]);
        });
    }

    // The first set to switch fixes the bin edges of each level and direction, from its projections
    // under its reference normalisation; then it is binned.
    void switch_to_bins(Set& set) {
        const index_t n = set.images * opt_.patches_per_image;
        for (std::size_t l = 0; l < resolutions_.size(); ++l) {
            if (!edges_[l].empty()) continue;
            const float* x = set.desc[l].data();
            edges_[l].resize(std::size_t(num_dirs()));
            for_each_projection(x, n, swd_detail::channel_normalisation(x, n, dim(), int(channels_)), l, [&](index_t j, float* p) {
                std::sort(p, p + n);
                edges_[l][std::size_t(j)] = BinEdges(p, std::size_t(n), opt_.bins);
            });
        }
        bin(set);
    }

    // The set's descriptors fix its reference normalisation, are counted in the bins (the edges exist),
    // and are freed.
    void bin(Set& set) const {
        const index_t n = set.images * opt_.patches_per_image;
        for (std::size_t l = 0; l < resolutions_.size(); ++l) {
            const float* x = set.desc[l].data();
            set.ref[l] = swd_detail::channel_normalisation(x, n, dim(), int(channels_));
            add_sums(x, set.images, set.sum[l], set.sum_sq[l]);
            set.cdf[l].assign(std::size_t(num_dirs()), BinnedCdf(opt_.bins));
            count(x, n, set, l);
            std::vector<float>().swap(set.desc[l]);
        }
        set.binned = true;
    }

    // Mean over directions of W1 between the binned sets of level l. Gray: each set's projections are
    // mapped from its reference normalisation (mean m_r, 1/std s_r) to the one of all its images (m, s):
    // p -> (s / s_r) p + s (m_r - m) sum(direction).
    double binned_distance(const Set& reals, const Set& fakes, std::size_t l) const {
        auto affine = [&](const Set& set, const float* dir) -> std::array<double, 2> {
            if (channels_ != 1) return {1.0, 0.0};
            const double values = double(set.images) * double(opt_.patches_per_image) * double(swd_patch_area);
            const double mean = set.sum[l][0] / values, var = std::max(0.0, set.sum_sq[l][0] / values - mean * mean);
            const double inv = var > 0 ? 1 / std::sqrt(var) : 1.0, dir_sum = std::accumulate(dir, dir + dim(), 0.0);
            return {inv / double(set.ref[l].inv_std[0]), inv * (double(set.ref[l].mean[0]) - mean) * dir_sum};
        };
        double total = 0;
        for (index_t j = 0; j < num_dirs(); ++j) {
            const float* dir = dirs_[l].data() + j * dim();
            const auto [ar, br] = affine(reals, dir);
            const auto [af, bf] = affine(fakes, dir);
            total += wasserstein_1d(reals.cdf[l][std::size_t(j)], fakes.cdf[l][std::size_t(j)], edges_[l][std::size_t(j)], ar, br, af, bf);
        }
        return total / double(num_dirs());
    }

    SwdOptions opt_;
    index_t channels_, resolution_;
    std::vector<index_t> resolutions_;
    swd_detail::Pyramid pyramid_;
    std::vector<Tensor<float>> dirs_;          // per level: (repeats x directions, C x 49)
    std::vector<std::vector<BinEdges>> edges_; // per level and direction, from the first set to switch to bins
    Set reals_{reals_stream}, fakes_{fakes_stream};
};

} // namespace pgg::metrics
