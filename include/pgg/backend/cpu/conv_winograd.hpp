#pragma once
// Winograd F(2x2, 3x3) convolution for 3x3 kernels, stride 1, padding 1 (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016): each 2x2 block of output pixels (a tile) is
// A^T [(G g G^T) .* (B^T d B)] A for its 4x4 input patch d, so a tile costs 16 products per input and
// output channel instead of 36, 2.25x fewer. The 16 element-wise products, summed over the input
// channels, are 16 independent GEMMs (output channels x input channels times input channels x tiles),
// which run on the sgemm micro-kernel; the transforms are additions.
//
// The vector lanes hold V samples (the same pixel of V images), so every transform is whole-vector
// arithmetic whatever the image size: a task transposes its input region from NCHW to
// [channel][row][column][sample], transforms and multiplies, and transposes the output back. A task is
// one group of V samples and a few tiles, so that its transformed inputs and products stay in L2.
// For the input gradient the same code runs on the flipped kernel (conv_backward_data).
#include "conv_direct.hpp"
#if PGG_SIMD

namespace pgg::cpu_detail::winograd {

using simd::D;
using simd::V;
using simd::Vec;
namespace hn = simd::hn;

// Where it is used: 3x3, stride 1, the output as large as the input, even sides (whole tiles), a
// minibatch that fills the lanes, and at least 64 channels in and out, where the GEMMs outweigh the
// transforms. Measured against the direct kernels (docs/performance.md): 1.2-1.8x faster at 64 to 512
// channels from 4x4 to 32x32 with either instruction set; with 32 channels about even. Larger images
// with 64 channels stay direct on AVX-512, whose direct kernel is at its best there (0.92x at 64x64).
inline bool eligible(const ConvGeom& g) {
    const index_t c = std::min(g.Cin, g.Cout);
    return g.k == 3 && g.s == 1 && g.p == 1 && g.Ho == g.H && g.Wo == g.W && g.H % 2 == 0 && g.W % 2 == 0 && g.N >= V &&
           c >= 64 && (g.H * g.W <= 1024 || c >= 128 || simd::registers < 32);
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

// A task's region: tiles [q0, q1) of an image's (Ho / 2) x (Wo / 2) tiles in row order, of samples
// [n0, n0 + ns). Its input columns are all of them (with the zero padding) when it spans several
// tile rows, else those its tiles read.
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

// V samples' pixels [p, p + len) of one channel plane (`plane` floats apart from sample to sample, ns
// of them) transposed: to(j) receives the vector of pixel p + j, lane s from sample s (0 past ns).
template <class To>
PGG_INLINE void transpose_in(const float* src, index_t plane, index_t ns, index_t len, To&& to) {
    const D d;
    Vec r[V];
    for (index_t j0 = 0; j0 < len; j0 += V) {
        const index_t n = std::min(V, len - j0);
        const simd::Mask m = simd::first(n);
        for (index_t s = 0; s < V; ++s)
            r[s] = s < ns ? (n == V ? hn::LoadU(d, src + s * plane + j0) : hn::MaskedLoad(m, d, src + s * plane + j0))
                          : hn::Zero(d);
        simd::transpose(r);
        for (index_t j = 0; j < n; ++j) to(j0 + j, r[j]);
    }
}

// y = e(conv(x, w) + beta * y), see eligible().
inline void forward(const float* x, const float* w, float* y, const ConvGeom& g, float beta, bool parallel,
                    const ConvEpilogue<float>& e) {
    const index_t Cin = g.Cin, Cout = g.Cout, H = g.H, W = g.W, hw = H * W, tw = W / 2, tiles = (H / 2) * tw;
    constexpr index_t NR = sgemm::NR;
    // Tiles per task: an even count (strips of NR = 2 V lanes are two tiles) whose transformed inputs
    // (16 Cin floats per tile and sample) take about 512 KiB.
    const index_t budget = std::max<index_t>(2, 8192 / (V * Cin) / 2 * 2);
    const index_t per_task = std::min(budget, (tiles + 1) / 2 * 2), spatial = (tiles + per_task - 1) / per_task;
    const index_t groups = (g.N + V - 1) / V;
    const float* u = pack_kernels(w, Cout, Cin);
    const direct::Strips st(Cout);
    auto task = [&](index_t t) {
        const index_t n0 = (t / spatial) * V, ns = std::min(V, g.N - n0);
        const index_t q0 = (t % spatial) * per_task, q1 = std::min(tiles, q0 + per_task), nq = q1 - q0;
        const index_t strips = (nq + 1) / 2, lanes = strips * NR;
        const Region rg(q0, q1, tw, W);
        const index_t R = rg.rows(), iy0 = 2 * rg.ty0 - 1;
        // The input region, [ci][row][column][sample], zero outside the image.
        float* xt = scratch<float>(9, Cin * R * rg.cols * V);
        float* bp = scratch<float>(0, 16 * Cin * lanes); // transformed inputs: [e][strip][ci][NR]
        float* mo = scratch<float>(1, 16 * direct::FM * lanes); // a strip's products: [e][co][lane]
        const D d;
        for (index_t ci = 0; ci < Cin; ++ci) {
            float* xc = xt + ci * R * rg.cols * V;
            const float* src = x + (n0 * Cin + ci) * hw;
            const index_t cl = std::max<index_t>(rg.c0, 0), cr = std::min(rg.c0 + rg.cols, W); // inside the image
            for (index_t r = 0; r < R; ++r) {
                float* row = xc + r * rg.cols * V;
                const index_t iy = iy0 + r;
                if (iy < 0 || iy >= H) {
                    std::fill_n(row, rg.cols * V, 0.0f);
                    continue;
                }
                if (cl > rg.c0) hn::StoreU(hn::Zero(d), d, row);
                if (rg.c0 + rg.cols > cr) hn::StoreU(hn::Zero(d), d, row + (rg.cols - 1) * V);
                transpose_in(src + iy * W + cl, Cin * hw, ns, cr - cl,
                             [&](index_t j, Vec v) { hn::StoreU(v, d, row + (cl - rg.c0 + j) * V); });
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
        // Output tiles, one channel at a time: [row][column][sample] for the region, then transposed
        // back to the samples' planes with beta and the epilogue.
        const index_t oc0 = rg.c0 + 1, ocols = rg.cols - 2, orows = R - 2, oy0 = 2 * rg.ty0;
        float* ot = scratch<float>(3, orows * ocols * V);
        const Vec vb = hn::Set(d, beta), slope = hn::Set(d, e.slope);
        // A strip of output channels at a time: its 16 GEMMs, mo[e] (M x lanes) = u[e] (M x Cin)
        // bp[e] (Cin x lanes), then its output tiles while the products are still in cache.
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
                    float* dst = y + (n0 * Cout + co) * hw + oy * W + lo;
                    const index_t len = hi - lo;
                    Vec v[V];
                    for (index_t j0 = 0; j0 < len; j0 += V) {
                        const index_t n = std::min(V, len - j0);
                        for (index_t j = 0; j < V; ++j) v[j] = j < n ? hn::LoadU(d, srow + (j0 + j) * V) : hn::Zero(d);
                        simd::transpose(v);
                        const simd::Mask mk = simd::first(n);
                        for (index_t sm = 0; sm < ns; ++sm) {
                            float* out = dst + sm * Cout * hw + j0;
                            Vec a = v[sm];
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
    for_each_task(groups * spatial, parallel, task);
}

} // namespace pgg::cpu_detail::winograd
#endif
