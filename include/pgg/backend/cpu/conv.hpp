#pragma once
// Convolution on the CPU: forward, backward-data and backward-weights through GEMM, plus transposed
// convolution (which is the same three passes with roles swapped).
//
// Output pixels of the whole batch are cut into column tiles. Each tile gathers its input patches
// (im2col) into a small per-thread buffer and multiplies it with the weights; a tile inside one sample
// writes its GEMM result straight into the output, tiles spanning several small images go through a
// scratch block. Tiles run in parallel, one GEMM per thread; when there are too few tiles to share,
// they run one after another and the GEMM itself uses the threads.
#include <algorithm>
#include <cstring>

#include "../../core/tensor.hpp"
#include "../../kernels/conv.hpp"
#include "conv_direct.hpp"
#include "conv_stride2.hpp"
#include "gemm.hpp"
#include "parallel.hpp"
#include "workspace.hpp"

namespace pgg {

namespace cpu_detail {

// A run of output columns [j0, j0 + len) over the flattened (sample, pixel) index.
struct Tile {
    index_t j0, len;
};

struct Tiling {
    index_t tile_cols; // columns per tile
    index_t count;     // number of tiles
    index_t hwo;
    bool per_sample; // every tile lies inside one sample
    Tile tile(index_t t) const {
        if (per_sample) {
            const index_t per = (hwo + tile_cols - 1) / tile_cols;
            const index_t n = t / per, p0 = (t % per) * tile_cols;
            return {n * hwo + p0, std::min(tile_cols, hwo - p0)};
        }
        return {t * tile_cols, tile_cols};
    }
};

// Columns per tile: 512, so that the packed B block of one K step (384 x 512 floats) stays in L2.
// Small images share a tile, except where Eigen computes it: Eigen sums a column in another order by
// its place in the product, and a sample's result may not depend on its minibatch.
template <class T>
inline Tiling make_tiling(const ConvGeom& g, index_t target = 512) {
    const index_t hwo = g.HWo(), total = g.N * hwo;
    constexpr bool eigen = !PGG_SIMD || !std::is_same_v<T, float>;
    Tiling t{0, 0, hwo, eigen || hwo >= target / 2};
    if (t.per_sample) {
        const index_t per = (hwo + target - 1) / target;
        t.tile_cols = (hwo + per - 1) / per;
        t.count = g.N * per;
    } else { // whole samples per tile; the last tile may be short
        const index_t samples = std::max<index_t>(1, target / hwo);
        t.tile_cols = samples * hwo;
        t.count = (total + t.tile_cols - 1) / t.tile_cols;
    }
    return t;
}

// Per-column gather table for images too narrow for row runs to pay off: for column j of a tile,
// base[j] indexes x at (sample, 0, oy*s - p, ox*s - p); iy[j], ix[j] are that row and column.
struct ColumnTable {
    const index_t* base = nullptr;
    const index_t* iy = nullptr;
    const index_t* ix = nullptr;
    ColumnTable shifted(index_t c) const { return {base + c, iy + c, ix + c}; }
};

// Narrow outputs use the gather table: a run-based row costs a few divisions per output row.
inline bool use_column_table(const ConvGeom& g) { return g.Wo < 16; }

inline ColumnTable make_column_table(const ConvGeom& g, index_t j0, index_t len, index_t* buf) {
    ColumnTable t{buf, buf + len, buf + 2 * len};
    const index_t hwo = g.HWo();
    for (index_t j = 0; j < len; ++j) {
        const index_t jj = j0 + j, n = jj / hwo, pix = jj % hwo;
        const index_t iy = (pix / g.Wo) * g.s - g.p, ix = (pix % g.Wo) * g.s - g.p;
        buf[j] = n * g.Cin * g.H * g.W + iy * g.W + ix;
        buf[len + j] = iy;
        buf[2 * len + j] = ix;
    }
    return t;
}

// Where patch values go: column j at p[(j / lanes) * stride + j % lanes], lanes the GEMM's strip width
// NR. Stride `lanes` is a plain row; the packed GEMM operand uses stride K * lanes (each strip holds all
// K rows), so patches are written straight into the panels without an intermediate row.
template <class T>
struct RowDest {
#if PGG_SIMD
    static constexpr index_t lanes = cpu_detail::sgemm::NR;
#else
    static constexpr index_t lanes = 32;
#endif
    T* p;
    index_t stride = lanes;
    // fn(dst, offset, count) for each contiguous piece of columns [j, j + n).
    template <class F>
    PGG_INLINE void pieces(index_t j, index_t n, F&& fn) const {
        if (stride == lanes) return fn(p + j, index_t(0), n);
        for (index_t q = 0; q < n;) {
            const index_t jj = j + q, c = std::min(n - q, lanes - jj % lanes);
            fn(p + (jj / lanes) * stride + jj % lanes, q, c);
            q += c;
        }
    }
};

// Row r = (ci, ky, kx) of the patch matrix, over the tile's columns [j0, j0 + len) of the batch.
template <class T>
void patch_row(const T* x, const ConvGeom& g, index_t j0, index_t len, index_t r, RowDest<T> d, const ColumnTable* table) {
    const index_t ci = r / (g.k * g.k), ky = (r / g.k) % g.k, kx = r % g.k, hwo = g.HWo();
    if (table) {
        const T* xs = x + ci * g.H * g.W + ky * g.W + kx;
        const index_t *base = table->base, *ty = table->iy, *tx = table->ix;
        d.pieces(0, len, [&](T* out, index_t off, index_t c) {
#pragma omp simd
            for (index_t j = off; j < off + c; ++j) {
                const bool ok = ty[j] + ky >= 0 && ty[j] + ky < g.H && tx[j] + kx >= 0 && tx[j] + kx < g.W;
                out[j - off] = ok ? xs[base[j]] : T(0);
            }
        });
        return;
    }
    auto zero = [](T* out, index_t, index_t c) { std::fill(out, out + c, T(0)); };
    for (index_t j = 0; j < len;) {
        const index_t jj = j0 + j, n = jj / hwo, pix = jj % hwo, oy = pix / g.Wo, ox0 = pix % g.Wo;
        const index_t run = std::min(g.Wo - ox0, len - j);
        const index_t iy = oy * g.s - g.p + ky;
        if (iy < 0 || iy >= g.H) {
            d.pieces(j, run, zero);
        } else {
            const T* src = x + ((n * g.Cin + ci) * g.H + iy) * g.W;
            if (g.s == 1) { // contiguous: zeros, a copy, zeros
                const index_t ix0 = ox0 - g.p + kx;
                const index_t lo = std::clamp<index_t>(-ix0, 0, run), hi = std::clamp<index_t>(g.W - ix0, lo, run);
                d.pieces(j, lo, zero);
                d.pieces(j + lo, hi - lo, [&](T* out, index_t off, index_t c) {
                    const T* s = src + ix0 + lo + off;
#pragma omp simd
                    for (index_t q = 0; q < c; ++q) out[q] = s[q];
                });
                d.pieces(j + hi, run - hi, zero);
            } else {
                d.pieces(j, run, [&](T* out, index_t off, index_t c) {
                    for (index_t q = 0; q < c; ++q) {
                        const index_t ix = (ox0 + off + q) * g.s - g.p + kx;
                        out[q] = (ix >= 0 && ix < g.W) ? src[ix] : T(0);
                    }
                });
            }
        }
        j += run;
    }
}

// Patch matrix of a tile (im2col), K rows of `tile.len` columns; columns past the batch are zero.
template <class T>
void im2col(const T* x, const ConvGeom& g, Tile tile, index_t total, T* col) {
    const index_t len = std::min(tile.len, total - tile.j0);
    ColumnTable table;
    if (use_column_table(g)) table = make_column_table(g, tile.j0, len, scratch<index_t>(8, 3 * len));
    for (index_t r = 0; r < g.K(); ++r) {
        patch_row(x, g, tile.j0, len, r, RowDest<T>{col + r * tile.len}, use_column_table(g) ? &table : nullptr);
        std::fill(col + r * tile.len + len, col + (r + 1) * tile.len, T(0));
    }
}

#if PGG_SIMD
// The patch matrix (K x len) packed as the B operand of sgemm::packed.
inline void im2col_packed(const float* x, const ConvGeom& g, index_t j0, index_t len, float* col) {
    using namespace sgemm;
    static_assert(RowDest<float>::lanes == NR, "patch rows are written in the GEMM's strip width");
    const index_t K = g.K(), lanes = round_up(len, NR);
    ColumnTable table;
    if (use_column_table(g)) table = make_column_table(g, j0, len, scratch<index_t>(8, 3 * len));
    for (index_t r = 0; r < K; ++r) {
        patch_row(x, g, j0, len, r, RowDest<float>{col + r * NR, K * NR}, use_column_table(g) ? &table : nullptr);
        if (lanes > len) std::fill(col + packed_b_index(K, r, len), col + packed_b_index(K, r, len) + (lanes - len), 0.0f);
    }
}
// The transposed patch matrix (len x K) packed as the B operand: the backward-weights GEMM.
// Patch rows are built for one strip of NR rows and a chunk of pixels at a time (in L1), then
// transposed V x V in registers so that every write fills consecutive lanes.
inline void im2col_packed_transposed(const float* x, const ConvGeom& g, index_t j0, index_t len, float* col) {
    using namespace sgemm;
    constexpr index_t chunk = 96; // NR x chunk floats = 12 KiB
    const index_t K = g.K();
    float* rows = scratch<float>(7, NR * chunk);
    ColumnTable table;
    if (use_column_table(g)) table = make_column_table(g, j0, len, scratch<index_t>(8, 3 * len));
    for (index_t r0 = 0; r0 < K; r0 += NR) {
        const index_t nr = std::min(NR, K - r0);
        float* strip = col + packed_b_index(len, 0, r0);
        for (index_t c0 = 0; c0 < len; c0 += chunk) {
            const index_t cl = std::min(chunk, len - c0);
            const ColumnTable t = use_column_table(g) ? table.shifted(c0) : ColumnTable{};
            for (index_t q = 0; q < nr; ++q)
                patch_row(x, g, j0 + c0, cl, r0 + q, RowDest<float>{rows + q * chunk}, use_column_table(g) ? &t : nullptr);
            for (index_t q = nr; q < NR; ++q) std::fill(rows + q * chunk, rows + q * chunk + cl, 0.0f);
            index_t j = 0;
            for (; j + V <= cl; j += V) // V x V blocks in registers
                for (index_t h = 0; h < NR; h += V) {
                    Vec v[V];
                    for (index_t i = 0; i < V; ++i) v[i] = hn::LoadU(D(), rows + (h + i) * chunk + j);
                    simd::transpose(v);
                    for (index_t i = 0; i < V; ++i) hn::StoreU(v[i], D(), strip + (c0 + j + i) * NR + h);
                }
            for (; j < cl; ++j)
                for (index_t q = 0; q < NR; ++q) strip[(c0 + j) * NR + q] = rows[q * chunk + j];
        }
    }
}

// The weight gradient for inputs with a multiple of V channels, without a patch matrix. With K
// ordered (ky, kx, ci) instead of (ci, ky, kx), V consecutive patch values of one pixel are V
// channels of one input pixel: after the tile's input is copied channels-last with its zero padding
// (one transposition per input pixel, not one per tap), the GEMM reads its B operand in place.
// This replaced patch rows + V x V register transposes into a packed panel, which took 14-25% of
// the pass. acc (Cout x K, K in that order) += dy of the tile (packed A, len pixels) times patches.
inline bool channels_last_eligible(const ConvGeom& g) { return g.Cin % simd::V == 0; }
// Its register block: the GEMM's (MR x 2 vectors) pads a few output channels to MR (16 of 24 rows
// computed at Cout 16 on AVX-512). K = k^2 Cin is a multiple of 3 V whenever Cin is one of V and k is
// 3, so where Cout is a multiple of WR a WR x 3-vector block (the same 24 accumulators on AVX-512 and
// NEON, 12 on AVX2) covers the gradient without padding and reads fewer operands per FMA.
inline constexpr index_t WR = simd::registers >= 32 ? 8 : 4;
inline bool wide_block_eligible(const ConvGeom& g) { return g.Cout % WR == 0 && g.K() % (3 * simd::V) == 0; }

template <index_t Mr, int Nv>
void weight_gradient_channels_last(const float* x, const ConvGeom& g, index_t j0, index_t len, const float* ap, float* acc) {
    using namespace sgemm;
    constexpr index_t Nr = Nv * V;
    const index_t hwo = g.HWo(), K = g.K(), C = g.Cin;
    const index_t n0 = j0 / hwo, n1 = (j0 + len - 1) / hwo; // samples of the tile
    // padded input rows [r0, r1) of each sample (padded coordinates: input row = r - p)
    const index_t r0 = n0 == n1 ? ((j0 % hwo) / g.Wo) * g.s : 0;
    const index_t r1 = n0 == n1 ? (((j0 + len - 1) % hwo) / g.Wo) * g.s + g.k : (g.Ho - 1) * g.s + g.k;
    const index_t rows = r1 - r0, wu = (g.Wo - 1) * g.s + g.k, plane = rows * wu;
    float* xt = scratch<float>(9, (n1 - n0 + 1) * plane * C);
    const index_t cols = std::clamp<index_t>(wu - g.p, 0, g.W); // input columns that land in the copy
    for (index_t n = n0; n <= n1; ++n)
        for (index_t r = 0; r < rows; ++r) {
            float* d = xt + ((n - n0) * plane + r * wu) * C;
            const index_t iy = r0 + r - g.p;
            if (iy < 0 || iy >= g.H) {
                std::fill(d, d + wu * C, 0.0f);
                continue;
            }
            std::fill(d, d + std::min(g.p, wu) * C, 0.0f);
            std::fill(d + (g.p + cols) * C, d + wu * C, 0.0f);
            for (index_t ix0 = 0; ix0 < cols; ix0 += V) { // V columns x V channels, transposed in registers
                const index_t cnt = std::min<index_t>(V, cols - ix0);
                const simd::Mask m = simd::first(cnt);
                for (index_t c0 = 0; c0 < C; c0 += V) {
                    Vec v[V];
                    for (index_t i = 0; i < V; ++i) v[i] = hn::MaskedLoad(m, D(), x + ((n * C + c0 + i) * g.H + iy) * g.W + ix0);
                    simd::transpose(v);
                    for (index_t q = 0; q < cnt; ++q) hn::StoreU(v[q], D(), d + (g.p + ix0 + q) * C + c0);
                }
            }
        }
    index_t* pos = scratch<index_t>(8, len); // where column j's patch starts in xt, in floats
    for (index_t j = 0; j < len; ++j) {
        const index_t jj = j0 + j, pix = jj % hwo;
        pos[j] = ((jj / hwo - n0) * plane + ((pix / g.Wo) * g.s - r0) * wu + (pix % g.Wo) * g.s) * C;
    }
    auto at = [&](index_t r) { // patch value r of a pixel, relative to its pos
        const index_t tap = r / C;
        return xt + ((tap / g.k) * wu + tap % g.k) * C + r % C;
    };
    const index_t mpad = round_up(g.Cout, Mr), kb = k_step(len);
    alignas(64) float edge[Mr * Nr];
    for (index_t pc = 0; pc < len; pc += kb) { // the K steps of the packed A (see pack_a_all)
        const index_t kc = std::min(kb, len - pc);
        for (index_t c0 = 0; c0 < K; c0 += Nr) {
            const index_t nc = std::min(Nr, K - c0);
            const float* from[Nv];
            for (int v = 0; v < Nv; ++v) from[v] = c0 + v * V < K ? at(c0 + v * V) : from[0]; // past K: dropped
            for (index_t ir = 0; ir < g.Cout; ir += Mr) {
                const index_t mr = std::min(Mr, g.Cout - ir);
                const float* a = ap + pc * mpad + ir * kc;
                float* c = acc + ir * K + c0;
                if (mr == Mr && nc == Nr) {
                    kernel_gather<Mr, Nv>(kc, a, from, pos + pc, c, K, 1.0f);
                } else {
                    kernel_gather<Mr, Nv>(kc, a, from, pos + pc, edge, Nr, 0.0f);
                    for (index_t r = 0; r < mr; ++r)
                        for (index_t q = 0; q < nc; ++q) c[r * K + q] += edge[r * Nr + q];
                }
            }
        }
    }
}
#endif

// Adds the patch matrix of a tile back into the input gradient (the transpose of im2col).
template <class T>
void col2im_add(const T* col, const ConvGeom& g, Tile tile, T* dx) {
    const index_t hwo = g.HWo();
    for (index_t r = 0; r < g.K(); ++r) {
        const index_t ci = r / (g.k * g.k), ky = (r / g.k) % g.k, kx = r % g.k;
        const T* src = col + r * tile.len;
        for (index_t j = 0; j < tile.len;) {
            const index_t jj = tile.j0 + j, n = jj / hwo, pix = jj % hwo, oy = pix / g.Wo, ox0 = pix % g.Wo;
            const index_t run = std::min(g.Wo - ox0, tile.len - j);
            const index_t iy = oy * g.s - g.p + ky;
            if (iy >= 0 && iy < g.H) {
                T* d = dx + ((n * g.Cin + ci) * g.H + iy) * g.W;
                for (index_t q = 0; q < run; ++q) {
                    const index_t ix = (ox0 + q) * g.s - g.p + kx;
                    if (ix >= 0 && ix < g.W) d[ix] += src[j + q];
                }
            }
            j += run;
        }
    }
}

// Tiles run in parallel when they can keep the threads busy, else serially so that the GEMM inside
// can use the threads.
inline bool tiles_in_parallel(index_t count) {
    const int threads = max_threads();
    return threads > 1 && !in_parallel() && count >= 2 * threads;
}

// Writes a GEMM result block `out` (Cout x ld, whole samples side by side) into NCHW y.
template <class T>
void scatter_samples(const T* out, index_t ld, const ConvGeom& g, index_t j0, index_t len, T* y, T beta) {
    const index_t hwo = g.HWo();
    for (index_t j = 0; j < len; j += hwo) {
        const index_t n = (j0 + j) / hwo;
        for (index_t co = 0; co < g.Cout; ++co) {
            T* d = y + (n * g.Cout + co) * hwo;
            const T* s = out + co * ld + j;
            if (beta == T(0)) std::memcpy(d, s, static_cast<std::size_t>(hwo) * sizeof(T));
            else
                for (index_t q = 0; q < hwo; ++q) d[q] = beta * d[q] + s[q];
        }
    }
}

// The epilogue over output columns [j0, j0 + len) of the flattened (sample, pixel) index.
template <class T>
void apply_epilogue(T* y, const ConvGeom& g, index_t j0, index_t len, const ConvEpilogue<T>& e) {
    const index_t hwo = g.HWo();
    for (index_t j = j0, count; j < j0 + len; j += count) {
        const index_t n = j / hwo, off = j % hwo;
        count = std::min(hwo - off, j0 + len - j);
        for (index_t c = 0; c < g.Cout; ++c) {
            T* p = y + (n * g.Cout + c) * hwo + off;
            for (index_t i = 0; i < count; ++i) p[i] = e(p[i], c);
        }
    }
}

// y = e(conv(x, w) + beta * y) on raw NCHW buffers.
template <class T>
void conv_forward(const T* x, const T* w, T* y, const ConvGeom& g, T beta, const ConvEpilogue<T>& e = {}) {
#if PGG_SIMD
    if constexpr (std::is_same_v<T, float>) {
        const bool parallel = max_threads() > 1 && !in_parallel();
        if (direct::forward_eligible(g.s, g.Cin, g.Ho, g.Wo, g.k)) {
            direct::forward(x, w, y, g.N, g.Cin, g.H, g.W, g.Cout, g.Ho, g.Wo, g.k, g.p, beta, parallel, e);
            return;
        }
        if (direct::forward_small_eligible(g.s, g.Ho, g.Wo, g.K())) {
            direct::forward_small(x, w, y, g.N, g.Cin, g.H, g.W, g.Cout, g.Ho, g.Wo, g.k, g.p, beta, parallel, e);
            return;
        }
        if (direct::forward_stride2_eligible(g)) {
            direct::forward_stride2(x, w, y, g, beta, parallel, e);
            return;
        }
    }
#endif
    const Tiling tl = make_tiling<T>(g);
    const index_t total = g.N * g.HWo(), K = g.K(), hwo = g.HWo();
    [[maybe_unused]] const T* wp = w;
#if PGG_SIMD
    if constexpr (std::is_same_v<T, float>) { // weights packed once, shared by the tiles
        float* p = scratch<float>(6, sgemm::packed_a_size(g.Cout, K));
        sgemm::pack_a_all(false, w, K, g.Cout, K, p);
        wp = p;
    }
#endif
    for_each_task(tl.count, tiles_in_parallel(tl.count), [&](index_t t) {
        const Tile tile = tl.tile(t);
        const index_t len = std::min(tile.len, total - tile.j0);
        T* dst = tl.per_sample ? y + (tile.j0 / hwo) * g.Cout * hwo + tile.j0 % hwo : scratch<T>(1, g.Cout * tile.len);
        const index_t ldd = tl.per_sample ? hwo : tile.len;
        const T dst_beta = tl.per_sample ? beta : T(0);
#if PGG_SIMD
        if constexpr (std::is_same_v<T, float>) {
            float* col = scratch<float>(0, sgemm::packed_b_size(K, len));
            im2col_packed(x, g, tile.j0, len, col);
            sgemm::packed(g.Cout, len, K, 1.0f, wp, col, dst_beta, dst, ldd);
        } else
#endif
        {
            T* col = scratch<T>(0, K * tile.len);
            im2col(x, g, tile, total, col);
            gemm(false, false, g.Cout, len, K, T(1), w, K, col, tile.len, dst_beta, dst, ldd);
        }
        if (!tl.per_sample) scatter_samples(dst, tile.len, g, tile.j0, len, y, beta);
        if (!e.none()) apply_epilogue(y, g, tile.j0, len, e); // while the tile is in cache
    });
}

// dx = conv_backward_data(dy, w) + beta * dx.
template <class T>
void conv_backward_data(const T* dy, const T* w, T* dx, const ConvGeom& g, T beta) {
    const index_t kk = g.k * g.k;
    if (g.s == 1 && g.p <= g.k - 1) {
        // Stride 1: the input gradient is a convolution of dy with the flipped, transposed kernel.
        T* wf = scratch<T>(2, g.Cout * g.Cin * kk);
        auto flip = [&](index_t co) {
            for (index_t ci = 0; ci < g.Cin; ++ci)
                for (index_t q = 0; q < kk; ++q) wf[(ci * g.Cout + co) * kk + (kk - 1 - q)] = w[(co * g.Cin + ci) * kk + q];
        };
        for_each_task(g.Cout, worth_threads(g.Cout * g.Cin * kk), flip);
        const ConvGeom b{g.N, g.Cout, g.Ho, g.Wo, g.Cin, g.H, g.W, g.k, 1, g.k - 1 - g.p};
        conv_forward(dy, wf, dx, b, beta);
        return;
    }
#if PGG_SIMD
    if constexpr (std::is_same_v<T, float>) {
        if (direct::backward_data_stride2_eligible(g)) {
            direct::backward_data_stride2(dy, w, dx, g, beta, max_threads() > 1 && !in_parallel());
            return;
        }
    }
#endif
    // Other strides: per sample, patch gradients W^T dy, scattered back with col2im.
    const index_t in_size = g.Cin * g.H * g.W, hwo = g.HWo(), K = g.K();
    const Tiling tl = make_tiling<T>({1, g.Cin, g.H, g.W, g.Cout, g.Ho, g.Wo, g.k, g.s, g.p});
    const index_t per = tl.count; // tiles per sample
    auto sample = [&](index_t n) {
        T* d = dx + n * in_size;
        if (beta == T(0)) std::fill(d, d + in_size, T(0));
        else if (beta != T(1))
            for (index_t q = 0; q < in_size; ++q) d[q] *= beta;
        for (index_t t = 0; t < per; ++t) {
            Tile tile = tl.tile(t);
            tile.len = std::min(tile.len, hwo - tile.j0);
            T* col = scratch<T>(0, K * tile.len);
            gemm(true, false, K, tile.len, g.Cout, T(1), w, K, dy + n * g.Cout * hwo + tile.j0, hwo, T(0), col, tile.len);
            col2im_add(col, g, {n * hwo + tile.j0, tile.len}, dx);
        }
    };
    const int threads = max_threads();
    if (threads > 1 && !in_parallel() && g.N >= threads) {
#pragma omp parallel for schedule(dynamic, 1)
        for (index_t n = 0; n < g.N; ++n) sample(n);
    } else {
        for (index_t n = 0; n < g.N; ++n) sample(n);
    }
}

// dw = conv_backward_weights(x, dy) + beta * dw; per-thread partial sums are added at the end.
template <class T>
void conv_backward_weights(const T* x, const T* dy, T* dw, const ConvGeom& g, T beta) {
    const index_t total = g.N * g.HWo(), K = g.K(), hwo = g.HWo(), wsize = g.Cout * K;
#if PGG_SIMD
    constexpr bool is_float = std::is_same_v<T, float>;
    const bool channels_last = is_float && channels_last_eligible(g);
    const bool use_direct = is_float && !channels_last && direct::eligible(g.s, g.Cin, g.Wo);
    const bool use_stride2 = is_float && !channels_last && direct::backward_weights_stride2_eligible(g);
#else
    const bool channels_last = false, use_direct = false, use_stride2 = false;
#endif
    // Channels-last tiles: as many pixels as keep the tile's input copy near 1 MiB (in L2; fewer
    // read-modify-writes of the gradient), but at least two tiles per thread.
    const index_t target = channels_last ? std::clamp<index_t>(std::min<index_t>(262144 / g.Cin, total / (2 * max_threads())), 256, 4096) : 512;
    const Tiling tl = make_tiling<T>(g, target);
    const bool parallel = use_direct || use_stride2 ? max_threads() > 1 && !in_parallel() : tiles_in_parallel(tl.count);
    const int used = parallel ? max_threads() : 1;
    T* partial = scratch<T>(3, wsize * used); // slot 3 of the calling thread: shared by the team
    std::fill(partial, partial + wsize * used, T(0));
    // The partial sums are (Cout, ky, kx, Cin) on the channels-last path, else (Cout, Cin, ky, kx).
    auto finish = [&] {
        const index_t kk = g.k * g.k;
        auto row = [&](index_t co) {
            for (index_t ci = 0; ci < g.Cin; ++ci)
                for (index_t tap = 0; tap < kk; ++tap) {
                    const index_t q = co * K + ci * kk + tap, from = channels_last ? co * K + tap * g.Cin + ci : q;
                    T s = beta == T(0) ? T(0) : beta * dw[q];
                    for (int t = 0; t < used; ++t) s += partial[t * wsize + from];
                    dw[q] = s;
                }
        };
        if (max_threads() > 1 && !in_parallel() && wsize >= (1 << 16)) {
#pragma omp parallel for schedule(static)
            for (index_t co = 0; co < g.Cout; ++co) row(co);
        } else {
            for (index_t co = 0; co < g.Cout; ++co) row(co);
        }
    };
#if PGG_SIMD
    if constexpr (is_float) {
        if (use_direct || use_stride2) {
            if (use_direct) direct::backward_weights(x, dy, g.N, g.Cin, g.H, g.W, g.Cout, g.Ho, g.Wo, g.k, g.p, partial, parallel);
            else direct::backward_weights_stride2(x, dy, g, partial, parallel);
            finish();
            return;
        }
    }
#endif
    // Static scheduling: which tiles a thread sums must not depend on timing, or the rounding of the
    // result would change from run to run (and a resumed training run would drift from a straight one).
    auto tile_gradient = [&](index_t t) {
        const Tile tile = tl.tile(t);
        const index_t len = std::min(tile.len, total - tile.j0);
        T* acc = partial + (parallel ? thread_id() : 0) * wsize;
        // dy of the tile as a (Cout x len) matrix: in place for one sample, gathered for several
        const T* dyt = dy + (tile.j0 / hwo) * g.Cout * hwo + tile.j0 % hwo;
        index_t lddy = hwo;
        if (!tl.per_sample) {
            T* buf = scratch<T>(1, g.Cout * tile.len);
            for (index_t co = 0; co < g.Cout; ++co)
                for (index_t j = 0; j < len; j += hwo) {
                    const index_t n = (tile.j0 + j) / hwo;
                    std::memcpy(buf + co * tile.len + j, dy + (n * g.Cout + co) * hwo, static_cast<std::size_t>(hwo) * sizeof(T));
                }
            dyt = buf, lddy = tile.len;
        }
#if PGG_SIMD
        if constexpr (std::is_same_v<T, float>) {
            if (channels_last && wide_block_eligible(g)) {
                float* ap = scratch<float>(6, sgemm::packed_a_size<WR>(g.Cout, len));
                sgemm::pack_a_all<WR>(false, dyt, lddy, g.Cout, len, ap);
                weight_gradient_channels_last<WR, 3>(x, g, tile.j0, len, ap, acc);
                return;
            }
            float* ap = scratch<float>(6, sgemm::packed_a_size(g.Cout, len));
            sgemm::pack_a_all(false, dyt, lddy, g.Cout, len, ap);
            if (channels_last) {
                weight_gradient_channels_last<sgemm::MR, 2>(x, g, tile.j0, len, ap, acc);
            } else {
                float* col = scratch<float>(0, sgemm::packed_b_size(len, K));
                im2col_packed_transposed(x, g, tile.j0, len, col);
                sgemm::packed(g.Cout, K, len, 1.0f, ap, col, 1.0f, acc, K);
            }
        } else
#endif
        {
            T* col = scratch<T>(0, K * tile.len);
            im2col(x, g, tile, total, col);
            gemm(false, true, g.Cout, K, len, T(1), dyt, lddy, col, tile.len, T(1), acc, K);
        }
    };
    if (parallel) {
#pragma omp parallel for schedule(static)
        for (index_t t = 0; t < tl.count; ++t) tile_gradient(t);
    } else {
        for (index_t t = 0; t < tl.count; ++t) tile_gradient(t);
    }
    finish();
}

} // namespace cpu_detail

// The CPU's passes for the device-neutral front ends of kernels/conv.hpp.
template <>
struct ConvKernels<cpu> {
    template <class T>
    static void forward(const T* x, const T* w, T* y, const ConvGeom& g, T beta, const ConvEpilogue<T>& e = {}) {
        cpu_detail::conv_forward(x, w, y, g, beta, e);
    }
    template <class T>
    static void backward_data(const T* dy, const T* w, T* dx, const ConvGeom& g, T beta) {
        cpu_detail::conv_backward_data(dy, w, dx, g, beta);
    }
    template <class T>
    static void backward_weights(const T* x, const T* dy, T* dw, const ConvGeom& g, T beta) {
        cpu_detail::conv_backward_weights(x, dy, dw, g, beta);
    }
};

} // namespace pgg
