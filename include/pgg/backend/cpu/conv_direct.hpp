#pragma once
// Direct weight gradient for stride-1 convolutions whose output rows are a multiple of V wide.
//
// dW[co, (ci, ky, kx)] = sum over pixels of dy[co, oy, ox] * x[ci, oy + ky - p, ox + kx - p]. Both
// factors are contiguous along ox, so the reduction is vectorised along the pixels: CB output channels
// x RB kernel taps of vector accumulators (4 x 6 = 24 of 32 registers, 2 x 6 = 12 of AVX2's 16),
// summed horizontally once per band of about 1024 pixels. No patch matrix is built; each band's input
// rows are copied once with their zero padding. This replaced im2col + GEMM where the patch matrix
// dominated (few channels).
#include "sgemm.hpp"
#if PGG_SIMD
#include <algorithm>
#include <cstring>
#include <utility>

#include "parallel.hpp"
#include "workspace.hpp"

namespace pgg::cpu_detail::direct {

using simd::D;
using simd::V;
using simd::Vec;
namespace hn = simd::hn;

inline constexpr int CB = simd::registers >= 32 ? 4 : 2, RB = 6;

// Calls fn.template operator()<n>() for the run-time n in [1, N]: kernels take their block size as a
// template argument so that the accumulators stay in registers.
template <int N, class F>
PGG_INLINE void with_size(index_t n, F&& fn) {
    [&]<int... I>(std::integer_sequence<int, I...>) {
        (void)((n == I + 1 ? (fn.template operator()<I + 1>(), true) : false) || ...);
    }(std::make_integer_sequence<int, N>{});
}

struct Band {
    const float* dy;    // dy at (sample, co0, oy0, 0)
    index_t hwo;        // dy's plane size
    const float* xb;    // padded input rows of the band
    index_t rows, wo, wp;
};

template <int C, int R>
void block(const Band& b, const index_t* roff, float* dw, index_t K) {
    const D dd;
    Vec acc[C][R];
    for (int c = 0; c < C; ++c)
        for (int r = 0; r < R; ++r) acc[c][r] = hn::Zero(dd);
    for (index_t oy = 0; oy < b.rows; ++oy) {
        const float* d0 = b.dy + oy * b.wo;
        const float* x0 = b.xb + oy * b.wp;
        for (index_t ox = 0; ox < b.wo; ox += V) {
            Vec d[C];
#pragma GCC unroll 4
            for (int c = 0; c < C; ++c) d[c] = hn::LoadU(dd, d0 + c * b.hwo + ox);
#pragma GCC unroll 6
            for (int r = 0; r < R; ++r) {
                const Vec xv = hn::LoadU(dd, x0 + roff[r] + ox);
#pragma GCC unroll 4
                for (int c = 0; c < C; ++c) acc[c][r] = hn::MulAdd(d[c], xv, acc[c][r]);
            }
        }
    }
    for (int c = 0; c < C; ++c)
        for (int r = 0; r < R; ++r) dw[c * K + r] += simd::sum(acc[c][r]);
}

// n floats from src to dst. The kernels' input rows are a few dozen floats: whole vectors, the last
// one overlapping, instead of a library call per row (measured on a Narrow 16x16 step: the row copies
// went from 7.5% to 6.6% of it).
inline void copy_row(const float* src, index_t n, float* dst) {
    if (n < V) {
        std::memcpy(dst, src, std::size_t(n) * sizeof(float));
        return;
    }
    const D d;
    for (index_t i = 0; i + V <= n; i += V) hn::StoreU(hn::LoadU(d, src + i), d, dst + i);
    if (n % V) hn::StoreU(hn::LoadU(d, src + n - V), d, dst + n - V);
}

// Copies input rows [iy0, iy0 + count) of every channel of one sample into `band` (channel
// planes `plane` floats apart, rows `wp` wide), with `pad` zero columns on the left, zeros past the
// image and zero rows outside it.
inline void fill_band(const float* x, index_t Cin, index_t H, index_t W, index_t iy0, index_t count, index_t pad, index_t wp,
                      index_t plane, float* band) {
    for (index_t ci = 0; ci < Cin; ++ci)
        for (index_t t = 0; t < count; ++t) {
            float* d = band + ci * plane + t * wp;
            const index_t iy = iy0 + t;
            if (iy < 0 || iy >= H) {
                std::fill(d, d + wp, 0.0f);
                continue;
            }
            const index_t left = std::min(pad, wp), copy = std::clamp<index_t>(wp - pad, 0, W);
            std::fill(d, d + left, 0.0f);
            copy_row(x + (ci * H + iy) * W, copy, d + left);
            std::fill(d + left + copy, d + wp, 0.0f);
        }
}

// Rows of output per band (a task): about 1024 pixels.
inline index_t band_rows(index_t ho, index_t wo) { return std::clamp<index_t>(1024 / wo, 1, ho); }

// Offsets of the K = Cin k k taps in a band of `plane`-float channel planes with rows `wp` wide.
inline const index_t* tap_offsets(index_t K, index_t k, index_t plane, index_t wp) {
    index_t* roff = scratch<index_t>(8, K);
    for (index_t r = 0; r < K; ++r) roff[r] = (r / (k * k)) * plane + ((r / k) % k) * wp + r % k;
    return roff;
}

// Where it beats im2col + GEMM (measured, docs/performance.md): output rows of at least 64 pixels, so
// that the horizontal sums stay cheap, and at most 128 input channels, above which the GEMM's
// packed panels reuse the cache better.
inline bool eligible(index_t stride, index_t cin, index_t wo) { return stride == 1 && wo % V == 0 && wo >= 64 && cin <= 128; }

// acc[co * K + r] += dW over every sample; `partial` holds one Cout x K block per thread.
// x: (N, Cin, H, W), dy: (N, Cout, Ho, Wo), stride 1, padding p, kernel k.
inline void backward_weights(const float* x, const float* dy, index_t N, index_t Cin, index_t H, index_t W, index_t Cout,
                             index_t Ho, index_t Wo, index_t k, index_t p, float* partial, bool parallel) {
    const index_t K = Cin * k * k, wp = Wo + k - 1, hwo = Ho * Wo;
    const index_t per_band = band_rows(Ho, Wo), bands = (Ho + per_band - 1) / per_band;
    const index_t plane = (per_band + k - 1) * wp;
    const index_t* roff = tap_offsets(K, k, plane, wp);
    auto task = [&](index_t t, float* acc) {
        const index_t n = t / bands, oy0 = (t % bands) * per_band, rows = std::min(per_band, Ho - oy0);
        float* xb = scratch<float>(9, Cin * plane);
        fill_band(x + n * Cin * H * W, Cin, H, W, oy0 - p, rows + k - 1, p, wp, plane, xb);
        const Band b{dy + n * Cout * hwo + oy0 * Wo, hwo, xb, rows, Wo, wp};
        for (index_t co = 0; co < Cout; co += CB) {
            const int c = int(std::min<index_t>(CB, Cout - co));
            Band bc = b;
            bc.dy += co * hwo;
            for (index_t r = 0; r < K; r += RB) {
                const int nr = int(std::min<index_t>(RB, K - r));
                float* out = acc + co * K + r;
                with_size<CB>(c, [&]<int C>() { with_size<RB>(nr, [&]<int R>() { block<C, R>(bc, roff + r, out, K); }); });
            }
        }
    };
    const index_t tasks = N * bands, wsize = Cout * K;
    if (parallel) { // static: the tasks a thread sums must not depend on timing (reproducible rounding)
#pragma omp parallel for schedule(static)
        for (index_t t = 0; t < tasks; ++t) task(t, partial + thread_id() * wsize);
    } else {
        for (index_t t = 0; t < tasks; ++t) task(t, partial);
    }
}

// ---------------------------------------------------------------------------------------------
// Direct forward (implicit GEMM) for stride 1 and few input channels: the sgemm micro-kernel's
// MR x NR register block, with its B operand read straight from the padded input rows at the
// offset of each kernel tap instead of from a patch matrix.

inline constexpr index_t FM = sgemm::MR, FN = sgemm::NR;

// Lanes of the FN = 2V that a block of an output Wo wide fills: rows wider than V are cut into runs of
// FN (the last one masked), rows of at most V go two at a time.
inline double forward_lane_use(index_t wo) { return wo > V ? double(wo) / double((wo + FN - 1) / FN * FN) : 2.0 * double(wo) / FN; }
// Stride 1 and at least 3/4 of the lanes in use: measured faster than im2col + GEMM at every such
// PG-GAN and fashion_mnist shape on AVX-512 (docs/performance.md). AVX2's block is half as tall and
// half as wide, so it reads twice the data per FLOP: there the band of input rows must stay in L2
// (at most 1 MiB; measured at 32x32 with 512 channels, a 2.4 MiB band: 0.85x of im2col + GEMM).
inline bool forward_eligible(index_t stride, index_t cin, index_t ho, index_t wo, index_t k) {
    const double band_bytes = 4.0 * double(cin) * double(band_rows(ho, wo) + k - 1) * double(wo + k - 1);
    return stride == 1 && forward_lane_use(wo) >= 0.75 && (simd::registers >= 32 || band_bytes <= 1048576.0);
}

// One block: M output channels x two V-pixel vectors. Vector v reads the input at x + xo[v] + roff[r]
// and writes the output at y + yo[v], lanes limited by m[v] (masked lanes are neither read nor written).
// Full: every lane of both vectors is used, and plain loads replace masked ones in the inner loop
// (the masked loads measured 2.5x slower there).
// The lanes of vector v in use: n[v] (0 to V). w: the strip's M weights per tap. `e`: the epilogue from
// the block's first channel on.
template <int M, bool Full>
void forward_block(index_t K, const float* __restrict w, const float* __restrict x, const index_t xo[2],
                   const index_t* __restrict roff, float* __restrict y, const index_t yo[2], const index_t n[2],
                   index_t hwo, float beta, const ConvEpilogue<float>& e) {
    const D d;
    Vec acc[M][2];
    for (int i = 0; i < M; ++i) acc[i][0] = acc[i][1] = hn::Zero(d);
    const float *x0 = x + xo[0], *x1 = x + xo[1];
    const simd::Mask m0 = simd::first(n[0]), m1 = simd::first(n[1]);
    for (index_t r = 0; r < K; ++r) {
        Vec v0, v1;
        if constexpr (Full) {
            v0 = hn::LoadU(d, x0 + roff[r]);
            v1 = hn::LoadU(d, x1 + roff[r]);
        } else {
            v0 = hn::MaskedLoad(m0, d, x0 + roff[r]);
            v1 = hn::MaskedLoad(m1, d, x1 + roff[r]);
        }
#pragma GCC unroll 12
        for (int i = 0; i < M; ++i) {
            const Vec a = hn::Set(d, w[r * M + i]);
            acc[i][0] = hn::MulAdd(a, v0, acc[i][0]);
            acc[i][1] = hn::MulAdd(a, v1, acc[i][1]);
        }
    }
    const Vec vb = hn::Set(d, beta), slope = hn::Set(d, e.slope);
    for (int i = 0; i < M; ++i)
        for (int v = 0; v < 2; ++v) {
            if (n[v] == 0) continue;
            float* out = y + i * hwo + yo[v];
            const simd::Mask m = v == 0 ? m0 : m1;
            if (beta != 0.0f) acc[i][v] = hn::MulAdd(vb, hn::MaskedLoad(m, d, out), acc[i][v]);
            if (e.bias) acc[i][v] = hn::Add(acc[i][v], hn::Set(d, e.bias[i]));
            if (e.leaky) acc[i][v] = hn::Max(acc[i][v], hn::Mul(slope, acc[i][v]));
            if (n[v] == V) hn::StoreU(acc[i][v], d, out);
            else hn::BlendedStore(acc[i][v], m, d, out);
        }
}

template <bool Full, class... Args>
void dispatch_rows(index_t rows, Args&&... args) {
    with_size<FM>(rows, [&]<int M>() { forward_block<M, Full>(args...); });
}

// Output channels in strips of FM rows. A last strip of less than 2/3 FM is merged with the one before
// and the two split evenly (64 channels on AVX-512: four strips of 12 and two of 8, where a last strip
// of 4 ran about 1.5x slower per FLOP and took 10% of a Narrow 16x16 step's direct convolutions).
struct Strips {
    index_t cout, whole; // `whole` strips of FM, then the rest in one or two
    bool split;
    explicit Strips(index_t c) : cout(c) {
        const index_t rest = c % FM;
        split = rest != 0 && 3 * rest < 2 * FM && c > FM;
        whole = c / FM - (split ? 1 : 0);
    }
    index_t count() const { return whole + (split ? 2 : cout > whole * FM ? 1 : 0); }
    index_t begin(index_t s) const {
        if (s <= whole) return s * FM;
        return split && s == whole + 1 ? whole * FM + (cout - whole * FM + 1) / 2 : cout;
    }
    index_t rows(index_t s) const { return begin(s + 1) - begin(s); }
};

// Weights as strips of Strips(Cout), the strip of M rows from channel c0 at wpk + c0 K as [r][M]
// with w(co, r), for K taps: one broadcast per output channel and tap. Large layers pack on the
// threads, which would otherwise wait (the classifier's 128-channel layers pack 147,456 weights per pass).
inline index_t packed_taps_size(index_t Cout, index_t K) { return Cout * K; }
template <class F>
void pack_taps(index_t Cout, index_t K, F&& w, float* wpk) {
    const Strips st(Cout);
    auto strip = [&](index_t s) {
        const index_t c0 = st.begin(s), m = st.rows(s);
        for (index_t r = 0; r < K; ++r)
            for (index_t i = 0; i < m; ++i) wpk[c0 * K + r * m + i] = w(c0 + i, r);
    };
    for_each_task(st.count(), worth_threads(Cout * K), strip);
}

// A (Cout, K) weight matrix packed so.
inline const float* pack_weights(const float* w, index_t Cout, index_t K) {
    float* wpk = scratch<float>(6, packed_taps_size(Cout, K));
    pack_taps(Cout, K, [&](index_t co, index_t r) { return w[co * K + r]; }, wpk);
    return wpk;
}

// y = e(conv(x, w) + beta * y) for stride 1, any kernel and padding (see forward_eligible).
inline void forward(const float* x, const float* w, float* y, index_t N, index_t Cin, index_t H, index_t W, index_t Cout,
                    index_t Ho, index_t Wo, index_t k, index_t p, float beta, bool parallel,
                    const ConvEpilogue<float>& e = {}) {
    const index_t K = Cin * k * k, wp = Wo + k - 1, hwo = Ho * Wo;
    const Strips st(Cout);
    const index_t strips = st.count();
    const index_t per_band = band_rows(Ho, Wo), bands = (Ho + per_band - 1) / per_band;
    const index_t plane = (per_band + k - 1) * wp;
    const float* wpk = pack_weights(w, Cout, K);
    const index_t* roff = tap_offsets(K, k, plane, wp);
    auto block = [&](index_t n, index_t s, const float* xb, const index_t xo[2], const index_t yo[2], const index_t m[2]) {
        const index_t c0 = st.begin(s), rows = st.rows(s);
        const float* ws = wpk + c0 * K;
        float* ys = y + (n * Cout + c0) * hwo;
        const ConvEpilogue<float> es = e.from(c0);
        if (m[0] == V && m[1] == V) return dispatch_rows<true>(rows, K, ws, xb, xo, roff, ys, yo, m, hwo, beta, es);
        return dispatch_rows<false>(rows, K, ws, xb, xo, roff, ys, yo, m, hwo, beta, es);
    };
    auto lanes = [](index_t n) { return std::clamp<index_t>(n, 0, V); };
    auto task = [&](index_t t) {
        const index_t n = t / bands, oy0 = (t % bands) * per_band, rows = std::min(per_band, Ho - oy0);
        float* xb = scratch<float>(9, Cin * plane);
        fill_band(x + n * Cin * H * W, Cin, H, W, oy0 - p, rows + k - 1, p, wp, plane, xb);
        if (Wo > V) { // runs of FN along each row
            for (index_t oy = 0; oy < rows; ++oy)
                for (index_t x0 = 0; x0 < Wo; x0 += FN) {
                    const index_t xo[2] = {oy * wp + x0, oy * wp + x0 + V};
                    const index_t yo[2] = {(oy0 + oy) * Wo + x0, (oy0 + oy) * Wo + x0 + V};
                    const index_t m[2] = {lanes(Wo - x0), lanes(Wo - x0 - V)};
                    for (index_t s = 0; s < strips; ++s) block(n, s, xb, xo, yo, m);
                }
        } else { // two rows per block
            for (index_t oy = 0; oy < rows; oy += 2) {
                const index_t xo[2] = {oy * wp, (oy + 1) * wp};
                const index_t yo[2] = {(oy0 + oy) * Wo, (oy0 + oy + 1) * Wo};
                const index_t m[2] = {lanes(Wo), oy + 1 < rows ? lanes(Wo) : 0};
                for (index_t s = 0; s < strips; ++s) block(n, s, xb, xo, yo, m);
            }
        }
    };
    for_each_task(N * bands, parallel, task);
}

// The implicit GEMM over whole images: for `ns` samples laid out in `buf` (`in_stride` floats apart)
// so that tap r of pixel q (an image's hwo pixels in row order) is buf[roff[r] + q], the Cout planes
// of sample s at y + s * out_stride (hwo apart) = e(packed weights x taps + beta * y). Vectors of V
// consecutive pixels, the last of an image masked where V does not divide hwo, so rows narrower than a
// vector fill its lanes.
inline void flat_images(const float* wpk, const index_t* roff, index_t K, index_t Cout, const float* buf, index_t in_stride,
                        index_t ns, index_t hwo, float* y, index_t out_stride, float beta,
                        const ConvEpilogue<float>& e = {}) {
    const index_t vecs = (hwo + V - 1) / V, nv = ns * vecs;
    const Strips strips(Cout);
    // Pairs of vectors outside, strips of weights inside: the pair's inputs stay in cache while
    // the weights stream past in order (the other way round measured 10-30% slower).
    for (index_t q = 0; q < nv; q += 2) {
        index_t xo[2], yo[2], m[2];
        for (index_t v = 0; v < 2; ++v) {
            const index_t qq = std::min(q + v, nv - 1), s = qq / vecs, off = (qq % vecs) * V;
            xo[v] = s * in_stride + off;
            yo[v] = s * out_stride + off;
            m[v] = q + v < nv ? std::min(V, hwo - off) : 0;
        }
        const bool full = m[0] == V && m[1] == V;
        for (index_t st = 0; st < strips.count(); ++st) {
            const index_t c0 = strips.begin(st), rws = strips.rows(st);
            float* ys = y + c0 * hwo;
            const ConvEpilogue<float> es = e.from(c0);
            if (full) dispatch_rows<true>(rws, K, wpk + c0 * K, buf, xo, roff, ys, yo, m, hwo, beta, es);
            else dispatch_rows<false>(rws, K, wpk + c0 * K, buf, xo, roff, ys, yo, m, hwo, beta, es);
        }
    }
}

// Samples per task of flat_images: about 512 output pixels, but enough tasks for every thread.
inline index_t samples_per_task(index_t N, index_t hwo, bool parallel) {
    const index_t threads = parallel ? max_threads() : 1;
    return std::clamp<index_t>(512 / hwo, 1, std::max<index_t>(1, (N + threads - 1) / threads));
}

// Direct forward for narrow images: rows of a divisor of V pixels and images of a multiple of V
// pixels (the 4x4 and 8x8 layers on AVX-512). k copies of the input, each shifted by one kernel column
// and zero-padded but as wide as the output, make the V pixels of a vector (V / Wo whole output rows)
// one contiguous load at every tap. This replaced a gathered patch matrix, which took about 30% of an
// 8x8 training step.
// With 16 registers (AVX2) a block holds half the pixels, so the weights stream from memory twice as
// often per pixel: measured 0.68x of im2col + GEMM at 4x4 with 512 channels, so there it serves only
// layers of at most 128 input channels (3x3).
inline bool forward_small_eligible(index_t stride, index_t ho, index_t wo, index_t K) {
    return stride == 1 && wo < V && V % wo == 0 && (ho * wo) % V == 0 && (simd::registers >= 32 || K <= 1152);
}

// One channel plane of forward_small's copies: d[row][ox] = src[row - p][ox + kx - p], zero outside
// the image, Ho + k - 1 rows of Wo. Rows of a few pixels: where the output is as large as the input
// (padding (k - 1) / 2) the plane is one shifted copy with a column of zeros per row, else plain loops
// (a library call per row cost 14% of the 8x8 pass, a masked loop per pixel 4% of a training step).
inline void shifted_plane(const float* src, index_t H, index_t W, index_t Ho, index_t Wo, index_t k, index_t p, index_t kx,
                          float* d) {
    const index_t rows = Ho + k - 1;
    if (H == Ho && W == Wo) {
        const index_t n = H * W, shift = kx - p;
        const index_t lo = std::clamp<index_t>(-shift, 0, n), hi = std::clamp<index_t>(n - shift, lo, n);
        std::fill_n(d, p * W, 0.0f);
        float* m = d + p * W;
        std::fill_n(m, lo, 0.0f);
        copy_row(src + lo + shift, hi - lo, m + lo);
        std::fill_n(m + hi, n - hi, 0.0f);
        const index_t c0 = shift > 0 ? std::max<index_t>(0, W - shift) : 0, c1 = shift > 0 ? W : std::min(W, -shift);
        for (index_t r = 0; r < H; ++r) // the pixels that wrapped in from a neighbouring row
            for (index_t c = c0; c < c1; ++c) m[r * W + c] = 0.0f;
        std::fill_n(m + n, (rows - p - H) * W, 0.0f);
        return;
    }
    const index_t lo = std::clamp<index_t>(p - kx, 0, Wo), hi = std::clamp<index_t>(W + p - kx, lo, Wo);
    for (index_t r = 0; r < rows; ++r, d += Wo) {
        const index_t iy = r - p, at = iy * W + kx - p;
        const bool inside = iy >= 0 && iy < H;
        for (index_t c = 0; c < Wo; ++c) d[c] = inside && c >= lo && c < hi ? src[at + c] : 0.0f;
    }
}

inline void forward_small(const float* x, const float* w, float* y, index_t N, index_t Cin, index_t H, index_t W,
                          index_t Cout, index_t Ho, index_t Wo, index_t k, index_t p, float beta, bool parallel,
                          const ConvEpilogue<float>& e = {}) {
    const index_t K = Cin * k * k, hwo = Ho * Wo;
    const index_t rows = Ho + k - 1, plane = rows * Wo, copy = Cin * plane, sample = k * copy; // one sample's copies
    const index_t per_task = samples_per_task(N, hwo, parallel);
    const float* wpk = pack_weights(w, Cout, K);
    index_t* roff = scratch<index_t>(8, K);
    for (index_t r = 0; r < K; ++r) roff[r] = (r % k) * copy + (r / (k * k)) * plane + ((r / k) % k) * Wo;
    auto task = [&](index_t t) {
        const index_t n0 = t * per_task, ns = std::min(per_task, N - n0);
        float* buf = scratch<float>(9, ns * sample);
        // buf[s][kx][ci][row][ox] = x[n0 + s][ci][row - p][ox + kx - p]
        for (index_t s = 0; s < ns; ++s)
            for (index_t kx = 0; kx < k; ++kx)
                for (index_t ci = 0; ci < Cin; ++ci)
                    shifted_plane(x + ((n0 + s) * Cin + ci) * H * W, H, W, Ho, Wo, k, p, kx,
                                  buf + s * sample + kx * copy + ci * plane);
        flat_images(wpk, roff, K, Cout, buf, sample, ns, hwo, y + n0 * Cout * hwo, Cout * hwo, beta, e);
    };
    for_each_task((N + per_task - 1) / per_task, parallel, task);
}

} // namespace pgg::cpu_detail::direct
#endif
