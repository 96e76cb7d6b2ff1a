#pragma once
// Winograd F(2x2, 3x3) convolution for 3x3 kernels, stride 1, padding 1 (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016): each 2x2 block of output pixels (a tile) is
// A^T [(G g G^T) .* (B^T d B)] A for its 4x4 input patch d, so a tile costs 16 products per input and
// output channel instead of 36, 2.25x fewer. The 16 element-wise products, summed over the input
// channels, are 16 independent GEMMs (output channels x input channels times input channels x tiles),
// which run on the sgemm micro-kernel; the transforms are additions.
//
// The vector lanes hold the same pixel of V images, so every transform is whole-vector arithmetic
// whatever the image size: a task transposes its input region from NCHW to
// [channel][row][column][lane], transforms and multiplies, and transposes the output back. With fewer
// samples than lanes, each image is cut into bands of tile rows and a lane holds one band of one
// sample. Each tile's arithmetic is the same whichever lane holds it, so a sample's result does not
// depend on the rest of the minibatch (data-parallel training splits minibatches). A task is one
// group of lanes and a few tiles, so that its transformed inputs and products stay in L2.
// For the input gradient the same code runs on the flipped kernel (conv_backward_data).
#include "conv_direct.hpp"
#if PGG_SIMD

namespace pgg::cpu_detail::winograd {

using simd::D;
using simd::V;
using simd::Vec;
namespace hn = simd::hn;

// Where it is used, by the layer's shape alone: 3x3, stride 1, the output as large as the input, even
// sides (whole tiles), and at least 64 channels in and out, where the GEMMs outweigh the
// transforms. Measured against the direct kernels (docs/performance.md): 1.2-1.8x faster at 64 to 512
// channels from 4x4 to 32x32 with either instruction set; with 32 channels about even. Larger images
// with 64 channels stay direct on AVX-512, whose direct kernel is at its best there (0.92x at 64x64).
inline bool eligible(const ConvGeom& g) {
    const index_t c = std::min(g.Cin, g.Cout);
    return g.k == 3 && g.s == 1 && g.p == 1 && g.Ho == g.H && g.Wo == g.W && g.H % 2 == 0 && g.W % 2 == 0 && c >= 64 &&
           (g.H * g.W <= 1024 || c >= 128 || simd::registers < 32);
}

// u = G g G^T for a 3x3 kernel g, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
inline void transform_kernel(const float* g, float* u) {
    float t[4][3];
    for (int j = 0; j < 3; ++j) {
        t[0][j] = g[j];
        t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
        t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
        t[3][j] = g[6 + j];
    }
    for (int i = 0; i < 4; ++i) {
        u[4 * i] = t[i][0];
        u[4 * i + 1] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
        u[4 * i + 2] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
        u[4 * i + 3] = t[i][2];
    }
}

// d := B^T d B in place, d[4 i + j] one vector per patch pixel, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
PGG_INLINE void transform_input(Vec* d) {
    for (int j = 0; j < 4; ++j) {
        const Vec d0 = d[j], d1 = d[4 + j], d2 = d[8 + j], d3 = d[12 + j];
        d[j] = hn::Sub(d0, d2);
        d[4 + j] = hn::Add(d1, d2);
        d[8 + j] = hn::Sub(d2, d1);
        d[12 + j] = hn::Sub(d1, d3);
    }
    for (int i = 0; i < 4; ++i) {
        Vec* r = d + 4 * i;
        const Vec d0 = r[0], d1 = r[1], d2 = r[2], d3 = r[3];
        r[0] = hn::Sub(d0, d2);
        r[1] = hn::Add(d1, d2);
        r[2] = hn::Sub(d2, d1);
        r[3] = hn::Sub(d1, d3);
    }
}

// y = A^T m A, the 2x2 output tile [y00 y01 y10 y11] of the 16 products m, A^T = [1 1 1 0; 0 1 -1 -1].
PGG_INLINE void transform_output(const Vec* m, Vec* y) {
    Vec s[2][4];
    for (int j = 0; j < 4; ++j) {
        s[0][j] = hn::Add(hn::Add(m[j], m[4 + j]), m[8 + j]);
        s[1][j] = hn::Sub(hn::Sub(m[4 + j], m[8 + j]), m[12 + j]);
    }
    for (int a = 0; a < 2; ++a) {
        y[2 * a] = hn::Add(hn::Add(s[a][0], s[a][1]), s[a][2]);
        y[2 * a + 1] = hn::Sub(hn::Sub(s[a][1], s[a][2]), s[a][3]);
    }
}

// The transformed kernels, for each of the 16 products the (Cout, Cin) matrix packed as the direct
// kernels' strips (direct::Strips): product e, strip from channel c0 of M rows at
// u + e Cout Cin + c0 Cin as [ci][M].
inline const float* pack_kernels(const float* w, index_t Cout, index_t Cin) {
    const direct::Strips st(Cout);
    float* u = scratch<float>(6, 16 * Cout * Cin);
    auto strip = [&](index_t s) {
        const index_t c0 = st.begin(s), m = st.rows(s);
        float t[16];
        for (index_t i = 0; i < m; ++i)
            for (index_t ci = 0; ci < Cin; ++ci) {
                transform_kernel(w + ((c0 + i) * Cin + ci) * 9, t);
                for (int e = 0; e < 16; ++e) u[e * Cout * Cin + c0 * Cin + ci * m + i] = t[e];
            }
    };
    for_each_task(st.count(), worth_threads(Cout * Cin * 16), strip);
    return u;
}

// A group of lanes: ns samples from n0, each cut into nb bands of tb tile rows; lane l holds band l / ns
// of sample n0 + l % ns, and the lanes past ns nb are unused.
struct Group {
    index_t n0, ns, nb, tb;
    Group(index_t n0_, index_t ns_, index_t th) : n0(n0_), ns(ns_) {
        tb = (th + std::min(V / ns, th) - 1) / std::min(V / ns, th);
        nb = (th + tb - 1) / tb;
    }
    index_t lanes() const { return ns * nb; }
    index_t sample(index_t l) const { return n0 + l % ns; }
    index_t row0(index_t l) const { return 2 * tb * (l / ns); } // the band's first pixel row
};

// A task's tiles [q0, q1) of a band's tb x (W / 2) tiles in row order, and the input they read: every
// column (with the zero padding) when they span several tile rows, else only their own.
struct Region {
    index_t q0, q1, ty0, ty1, c0, cols; // tile rows [ty0, ty1], input columns [c0, c0 + cols) (c0 may be -1)
    Region(index_t q0_, index_t q1_, index_t tw, index_t W) : q0(q0_), q1(q1_), ty0(q0_ / tw), ty1((q1_ - 1) / tw) {
        if (ty0 == ty1) {
            c0 = 2 * (q0 % tw) - 1;
            cols = 2 * (q1 - q0) + 2;
        } else {
            c0 = -1;
            cols = W + 2;
        }
    }
    index_t rows() const { return 2 * (ty1 - ty0) + 4; } // input rows from 2 ty0 - 1
};

// Pixels [0, len) of V rows transposed: to(j) receives the vector of pixel j, lane l from src[l]
// (0 where src[l] is null).
template <class To>
PGG_INLINE void transpose_in(const float* const* src, index_t len, To&& to) {
    const D d;
    Vec r[V];
    for (index_t j0 = 0; j0 < len; j0 += V) {
        const index_t n = std::min(V, len - j0);
        const simd::Mask m = simd::first(n);
        for (index_t l = 0; l < V; ++l)
            r[l] = !src[l] ? hn::Zero(d) : n == V ? hn::LoadU(d, src[l] + j0) : hn::MaskedLoad(m, d, src[l] + j0);
        simd::transpose(r);
        for (index_t j = 0; j < n; ++j) to(j0 + j, r[j]);
    }
}

// y = e(conv(x, w) + beta * y), see eligible().
inline void forward(const float* x, const float* w, float* y, const ConvGeom& g, float beta, bool parallel,
                    const ConvEpilogue<float>& e) {
    const index_t Cin = g.Cin, Cout = g.Cout, H = g.H, W = g.W, hw = H * W, tw = W / 2, th = H / 2;
    constexpr index_t NR = sgemm::NR;
    // Groups of V samples, then one group of the rest in bands; each group's tasks of per_task tiles,
    // an even count (strips of NR = 2 V lanes are two tiles) whose transformed inputs (16 Cin floats
    // per tile and lane) take about 512 KiB.
    const index_t budget = std::max<index_t>(2, 8192 / (V * Cin) / 2 * 2);
    const index_t full = g.N / V, rest = g.N % V;
    auto tasks_of = [&](const Group& gr) {
        const index_t tiles = gr.tb * tw, per_task = std::min(budget, (tiles + 1) / 2 * 2);
        return std::pair{per_task, (tiles + per_task - 1) / per_task};
    };
    const Group whole(0, V, th), last(full * V, rest ? rest : V, th);
    const auto [per_whole, spatial_whole] = tasks_of(whole);
    const auto [per_last, spatial_last] = tasks_of(last);
    const float* u = pack_kernels(w, Cout, Cin);
    const direct::Strips st(Cout);
    auto task = [&](index_t t) {
        const bool in_whole = t < full * spatial_whole;
        Group gr = in_whole ? whole : last;
        if (in_whole) gr.n0 = (t / spatial_whole) * V;
        const index_t per_task = in_whole ? per_whole : per_last;
        const index_t q0 = (in_whole ? t % spatial_whole : t - full * spatial_whole) * per_task;
        const index_t q1 = std::min(gr.tb * tw, q0 + per_task), nq = q1 - q0;
        const index_t strips = (nq + 1) / 2, lanes = strips * NR, used = gr.lanes();
        const Region rg(q0, q1, tw, W);
        const index_t R = rg.rows(), iy0 = 2 * rg.ty0 - 1;
        // The input region, [ci][row][column][lane], zero outside the image.
        float* xt = scratch<float>(9, Cin * R * rg.cols * V);
        float* bp = scratch<float>(0, 16 * Cin * lanes); // transformed inputs: [e][strip][ci][NR]
        float* mo = scratch<float>(1, 16 * direct::FM * lanes); // a strip's products: [e][co][lane]
        const D d;
        const index_t cl = std::max<index_t>(rg.c0, 0), cr = std::min(rg.c0 + rg.cols, W); // inside the image
        for (index_t ci = 0; ci < Cin; ++ci) {
            float* xc = xt + ci * R * rg.cols * V;
            for (index_t r = 0; r < R; ++r) {
                float* row = xc + r * rg.cols * V;
                const float* src[V];
                bool any = false;
                for (index_t l = 0; l < V; ++l) {
                    const index_t iy = iy0 + r + gr.row0(l);
                    src[l] = l < used && iy >= 0 && iy < H ? x + (gr.sample(l) * Cin + ci) * hw + iy * W + cl : nullptr;
                    any = any || src[l];
                }
                if (!any) {
                    std::fill_n(row, rg.cols * V, 0.0f);
                    continue;
                }
                if (cl > rg.c0) hn::StoreU(hn::Zero(d), d, row);
                if (rg.c0 + rg.cols > cr) hn::StoreU(hn::Zero(d), d, row + (rg.cols - 1) * V);
                transpose_in(src, cr - cl, [&](index_t j, Vec v) { hn::StoreU(v, d, row + (cl - rg.c0 + j) * V); });
            }
            // Transformed inputs of each tile.
            for (index_t q = q0; q < q1; ++q) {
                const index_t ty = q / tw, tx = q % tw, j = q - q0;
                const float* p = xc + ((2 * ty - 1 - iy0) * rg.cols + (2 * tx - 1 - rg.c0)) * V;
                Vec dv[16];
                for (int a = 0; a < 4; ++a)
                    for (int b = 0; b < 4; ++b) dv[4 * a + b] = hn::LoadU(d, p + (a * rg.cols + b) * V);
                transform_input(dv);
                float* o = bp + ((j / 2) * Cin + ci) * NR + (j % 2) * V;
                for (int k = 0; k < 16; ++k) hn::StoreU(dv[k], d, o + k * Cin * lanes);
            }
            if (nq % 2) // the unused half of the last strip
                for (int k = 0; k < 16; ++k) hn::StoreU(hn::Zero(d), d, bp + k * Cin * lanes + ((strips - 1) * Cin + ci) * NR + V);
        }
        // Output tiles, one channel at a time: [row][column][lane] for the region, then transposed
        // back to the samples' planes with beta and the epilogue.
        const index_t oc0 = rg.c0 + 1, ocols = rg.cols - 2, orows = R - 2, oy0 = 2 * rg.ty0;
        float* ot = scratch<float>(3, orows * ocols * V);
        const Vec vb = hn::Set(d, beta), slope = hn::Set(d, e.slope);
        // A strip of output channels at a time: its 16 GEMMs, mo[e] (M x lanes) = u[e] (M x Cin)
        // bp[e] (Cin x lanes), then its output tiles while the products are in L2.
        for (index_t s = 0; s < st.count(); ++s) {
            const index_t c0 = st.begin(s), rows = st.rows(s);
            for (int k = 0; k < 16; ++k) {
                const float* uk = u + k * Cout * Cin + c0 * Cin;
                const float* bk = bp + k * Cin * lanes;
                float* mk = mo + k * rows * lanes;
                direct::with_size<direct::FM>(rows, [&]<int M>() {
                    for (index_t sj = 0; sj < strips; ++sj) {
                        const float* b = bk + sj * Cin * NR;
                        sgemm::kernel_with<M, 2>(
                            Cin, uk,
                            [b](index_t p, Vec* r) {
                                r[0] = hn::Load(D(), b + p * sgemm::NR);
                                r[1] = hn::Load(D(), b + p * sgemm::NR + V);
                            },
                            mk + sj * NR, lanes, 1.0f, 0.0f);
                    }
                });
            }
            for (index_t i = 0; i < rows; ++i) {
                const index_t co = c0 + i;
                for (index_t q = q0; q < q1; ++q) {
                    const index_t ty = q / tw, tx = q % tw, j = q - q0;
                    Vec m[16], yv[4];
                    for (int k = 0; k < 16; ++k) m[k] = hn::LoadU(d, mo + (k * rows + i) * lanes + j * V);
                    transform_output(m, yv);
                    float* o = ot + ((2 * ty - oy0) * ocols + 2 * tx - oc0) * V;
                    hn::StoreU(yv[0], d, o);
                    hn::StoreU(yv[1], d, o + V);
                    hn::StoreU(yv[2], d, o + ocols * V);
                    hn::StoreU(yv[3], d, o + ocols * V + V);
                }
                const Vec bias = hn::Set(d, e.bias ? e.bias[co] : 0.0f);
                for (index_t r = 0; r < orows; ++r) {
                    // Pixels of this output row in the region: all of them, or the tiles' columns.
                    const index_t oy = oy0 + r;
                    const index_t lo = rg.ty0 == rg.ty1 ? oc0 : (oy / 2 == rg.ty0 ? 2 * (q0 % tw) : 0);
                    const index_t hi = rg.ty0 == rg.ty1 ? oc0 + ocols : (oy / 2 == rg.ty1 ? 2 * ((q1 - 1) % tw) + 2 : W);
                    const float* srow = ot + (r * ocols + lo - oc0) * V;
                    const index_t len = hi - lo;
                    Vec v[V];
                    for (index_t j0 = 0; j0 < len; j0 += V) {
                        const index_t n = std::min(V, len - j0);
                        for (index_t j = 0; j < V; ++j) v[j] = j < n ? hn::LoadU(d, srow + (j0 + j) * V) : hn::Zero(d);
                        simd::transpose(v);
                        const simd::Mask mk = simd::first(n);
                        for (index_t l = 0; l < used; ++l) {
                            const index_t iy = oy + gr.row0(l); // past the image in a short last band
                            if (iy >= H) continue;
                            float* out = y + (gr.sample(l) * Cout + co) * hw + iy * W + lo + j0;
                            Vec a = v[l];
                            if (beta != 0.0f) a = hn::MulAdd(vb, hn::MaskedLoad(mk, d, out), a);
                            if (e.bias) a = hn::Add(a, bias);
                            if (e.leaky) a = hn::Max(a, hn::Mul(slope, a));
                            if (n == V) hn::StoreU(a, d, out);
                            else hn::BlendedStore(a, mk, d, out);
                        }
                    }
                }
            }
        }
    };
    for_each_task(full * spatial_whole + (rest ? spatial_last : 0), parallel, task);
}

} // namespace pgg::cpu_detail::winograd
#endif
