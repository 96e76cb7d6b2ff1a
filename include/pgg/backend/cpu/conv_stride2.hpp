#pragma once
// Direct 3x3 convolutions with stride 2 and padding 1 (a ResNet's downsampling layers): forward and
// backward-data as direct::flat_images over re-laid-out inputs, instead of im2col + GEMM (forward) and
// a GEMM per sample + col2im (backward-data), which ran at 25-60% of the stride-1 layers' speed at
// the abnormality classifier's shapes (docs/performance.md); the weight gradient of few-channel inputs
// (the stem) over the forward's layout.
//
// Forward: output (oy, ox) reads input (2 oy + ky - 1, 2 ox + kx - 1). Per input channel, six planes
// as wide as the output hold the even input rows (ky = 1) and the odd ones (ky = 0 and 2, a plane row
// apart), each at the three column offsets kx: every tap reads a contiguous run of output pixels.
// Backward-data: each of the input gradient's four phases (row and column parity) is a stride-1
// correlation of dy with the 1, 2, 2 or 4 taps that reach it (even rows: ky = 1 at dy row a; odd rows:
// ky = 0 at row a + 1 and ky = 2 at row a; columns alike). dy is laid out at two column offsets with
// a zero row below; the phases are computed side by side and interleaved into dx.
#include <algorithm>

#include "../../kernels/conv.hpp"
#include "conv_direct.hpp"
#if PGG_SIMD

namespace pgg::cpu_detail::direct {

// The shapes these serve: 3x3, stride 2, padding 1, three quarters of the lanes in use (the last
// vector of an image is partial) and, on AVX2, the weights' bound of forward_small.
inline bool stride2_eligible(const ConvGeom& g, index_t K) {
    const index_t hwo = g.HWo(), vecs = (hwo + V - 1) / V;
    return g.k == 3 && g.s == 2 && g.p == 1 && 4 * hwo >= 3 * vecs * V && (simd::registers >= 32 || K <= 1152);
}
inline bool forward_stride2_eligible(const ConvGeom& g) { return stride2_eligible(g, g.K()); }
// Even input sides, so that the four phases are each as large as the output.
inline bool backward_data_stride2_eligible(const ConvGeom& g) {
    return stride2_eligible(g, 4 * g.Cout) && g.H == 2 * g.Ho && g.W == 2 * g.Wo;
}

// The forward's layout of one sample: planes [ci][kx][row parity] of (Ho + 1) x Wo floats.
inline index_t parity_plane(const ConvGeom& g) { return (g.Ho + 1) * g.Wo; }
inline index_t parity_planes_size(const ConvGeom& g) { return g.Cin * 6 * parity_plane(g); }

// Tap r = (ci, ky, kx) of output pixel q is at p[roff[r] + q].
inline const index_t* parity_tap_offsets(const ConvGeom& g) {
    const index_t K = g.K(), plane = parity_plane(g);
    index_t* roff = scratch<index_t>(8, K);
    for (index_t r = 0; r < K; ++r) {
        const index_t ci = r / 9, ky = (r / 3) % 3, kx = r % 3;
        roff[r] = ((ci * 3 + kx) * 2 + (ky != 1)) * plane + (ky == 2 ? g.Wo : 0);
    }
    return roff;
}

// Lays sample x (Cin, H, W) out as the parity planes.
inline void parity_planes(const float* x, const ConvGeom& g, float* p) {
    const index_t Wo = g.Wo, plane = parity_plane(g);
    for (index_t ci = 0; ci < g.Cin; ++ci, p += 6 * plane) {
        const float* xc = x + ci * g.H * g.W;
        // rows no input row reaches: the odd planes' first (row -1), the even planes' last and, for an
        // odd height, the odd planes' last
        for (index_t kx = 0; kx < 3; ++kx) {
            float* even = p + 2 * kx * plane + g.Ho * Wo;
            float* odd = p + (2 * kx + 1) * plane;
            std::fill(even, even + Wo, 0.0f);
            std::fill(odd, odd + Wo, 0.0f);
            if (g.H % 2) std::fill(odd + g.Ho * Wo, odd + plane, 0.0f);
        }
        // Input row iy is row iy / 2 (even) or (iy + 1) / 2 (odd) of the three kx planes: its even
        // columns at kx = 1, its odd ones at kx = 2 and, a column later, at kx = 0.
        for (index_t iy = 0; iy < g.H; ++iy) {
            const index_t odd = iy % 2, row = ((iy + odd) / 2) * Wo;
            const float* src = xc + iy * g.W;
            float* d0 = p + odd * plane + row;           // kx = 0: src[2c - 1]
            float* d1 = p + (2 + odd) * plane + row;     // kx = 1: src[2c]
            float* d2 = p + (4 + odd) * plane + row;     // kx = 2: src[2c + 1]
            const index_t pairs = std::min(Wo, g.W / 2); // columns with both 2c and 2c + 1 inside
            d0[0] = 0.0f;
            for (index_t c = 0; c < pairs; ++c) {
                d1[c] = src[2 * c];
                d2[c] = src[2 * c + 1];
            }
            for (index_t c = 1; c <= pairs && c < Wo; ++c) d0[c] = d2[c - 1];
            if (pairs < Wo) { // odd width: the last column has no right neighbour
                d1[pairs] = src[2 * pairs];
                d2[pairs] = 0.0f;
            }
        }
    }
}

// y = e(conv(x, w) + beta * y).
inline void forward_stride2(const float* x, const float* w, float* y, const ConvGeom& g, float beta, bool parallel,
                            const ConvEpilogue<float>& e = {}) {
    const index_t hwo = g.HWo(), K = g.K(), sample = parity_planes_size(g);
    const float* wpk = pack_weights(w, g.Cout, K);
    const index_t* roff = parity_tap_offsets(g);
    const index_t per_task = samples_per_task(g.N, hwo, parallel);
    auto task = [&](index_t t) {
        const index_t n0 = t * per_task, ns = std::min(per_task, g.N - n0);
        float* buf = scratch<float>(9, ns * sample);
        for (index_t s = 0; s < ns; ++s) parity_planes(x + (n0 + s) * g.Cin * g.H * g.W, g, buf + s * sample);
        flat_images(wpk, roff, K, g.Cout, buf, sample, ns, hwo, y + n0 * g.Cout * hwo, g.Cout * hwo, beta, e);
    };
    for_each_task((g.N + per_task - 1) / per_task, parallel, task);
}

// The weight gradient from the parity planes, as direct::backward_weights does for stride 1 (one
// "row" of the image's hwo pixels): for few input channels, where the channels-last path does not
// apply, and images of whole vectors of at least 64 pixels, so that the horizontal sums stay cheap.
inline bool backward_weights_stride2_eligible(const ConvGeom& g) {
    return g.k == 3 && g.s == 2 && g.p == 1 && g.HWo() % V == 0 && g.HWo() >= 64 && g.Cin <= 128;
}

// partial[thread][co * K + r] += dW of its samples.
inline void backward_weights_stride2(const float* x, const float* dy, const ConvGeom& g, float* partial, bool parallel) {
    const index_t hwo = g.HWo(), K = g.K(), sample = parity_planes_size(g), wsize = g.Cout * K;
    const index_t* roff = parity_tap_offsets(g);
    auto task = [&](index_t n, float* acc) {
        float* buf = scratch<float>(9, sample);
        parity_planes(x + n * g.Cin * g.H * g.W, g, buf);
        for (index_t co = 0; co < g.Cout; co += CB) {
            const int c = int(std::min<index_t>(CB, g.Cout - co));
            const Band b{dy + (n * g.Cout + co) * hwo, hwo, buf, 1, hwo, 0};
            for (index_t r = 0; r < K; r += RB) {
                const int nr = int(std::min<index_t>(RB, K - r));
                float* out = acc + co * K + r;
                with_size<CB>(c, [&]<int C>() { with_size<RB>(nr, [&]<int R>() { block<C, R>(b, roff + r, out, K); }); });
            }
        }
    };
    if (parallel) { // static: the samples a thread sums must not depend on timing (reproducible rounding)
#pragma omp parallel for schedule(static)
        for (index_t n = 0; n < g.N; ++n) task(n, partial + thread_id() * wsize);
    } else {
        for (index_t n = 0; n < g.N; ++n) task(n, partial);
    }
}

// dx = conv_backward_data(dy, w) + beta * dx.
inline void backward_data_stride2(const float* dy, const float* w, float* dx, const ConvGeom& g, float beta, bool parallel) {
    const index_t Ho = g.Ho, Wo = g.Wo, hwo = g.HWo(), Cin = g.Cin, Cout = g.Cout;
    const index_t plane = (Ho + 1) * Wo, sample = Cout * 2 * plane; // planes [co][column shift]
    // Phase ph = 2 py + px, rows of parity py: py = 0 takes ky = 1 at dy row a; py = 1 takes ky = 0 at
    // row a + 1 and ky = 2 at row a (j = 0, 1); columns alike. Its T = (1 + py)(1 + px) taps j = (jy, jx),
    // jy = j >> px, jx = j & px; tap r = (co, j) = co T + j.
    auto k_of = [](index_t parity, index_t j) { return parity ? 2 * j : index_t(1); };   // kernel index
    auto shift_of = [](index_t parity, index_t j) { return parity ? 1 - j : index_t(0); }; // rows or columns of dy
    index_t K[4], wsize = 0;
    for (index_t ph = 0; ph < 4; ++ph) {
        K[ph] = Cout << (ph / 2 + ph % 2);
        wsize += packed_taps_size(Cin, K[ph]);
    }
    const float* wpk[4];
    const index_t* roff[4];
    float* wbuf = scratch<float>(6, wsize);
    index_t* rbuf = scratch<index_t>(8, K[0] + K[1] + K[2] + K[3]);
    for (index_t ph = 0; ph < 4; ++ph) {
        const index_t py = ph / 2, px = ph % 2, lt = py + px, T = index_t(1) << lt;
        pack_taps(Cin, K[ph], [&](index_t ci, index_t r) {
            const index_t co = r >> lt, j = r & (T - 1);
            return w[((co * Cin + ci) * 3 + k_of(py, j >> px)) * 3 + k_of(px, j & px)];
        }, wbuf);
        for (index_t r = 0; r < K[ph]; ++r) {
            const index_t co = r >> lt, j = r & (T - 1);
            rbuf[r] = (co * 2 + shift_of(px, j & px)) * plane + shift_of(py, j >> px) * Wo;
        }
        wpk[ph] = wbuf, roff[ph] = rbuf;
        wbuf += packed_taps_size(Cin, K[ph]);
        rbuf += K[ph];
    }
    const index_t per_task = samples_per_task(g.N, hwo, parallel), W = g.W;
    auto task = [&](index_t t) {
        const index_t n0 = t * per_task, ns = std::min(per_task, g.N - n0);
        float* buf = scratch<float>(9, ns * sample);
        for (index_t s = 0; s < ns; ++s) // buf[s][co][shift][row][c] = dy[n0 + s][co][row][c + shift], zero outside
            for (index_t co = 0; co < Cout; ++co) {
                const float* src = dy + ((n0 + s) * Cout + co) * hwo;
                float* d = buf + s * sample + co * 2 * plane;
                std::copy(src, src + hwo, d);
                std::fill(d + hwo, d + plane, 0.0f);
                d += plane;
                std::copy(src + 1, src + hwo, d);
                for (index_t a = 1; a <= Ho; ++a) d[a * Wo - 1] = 0.0f;
                std::fill(d + hwo, d + plane, 0.0f);
            }
        float* out = scratch<float>(0, 4 * ns * Cin * hwo); // [phase][s][ci][a][b]
        for (index_t ph = 0; ph < 4; ++ph)
            flat_images(wpk[ph], roff[ph], K[ph], Cin, buf, sample, ns, hwo, out + ph * ns * Cin * hwo, Cin * hwo, 0.0f);
        for (index_t s = 0; s < ns; ++s)
            for (index_t ci = 0; ci < Cin; ++ci)
                for (index_t iy = 0; iy < g.H; ++iy) {
                    float* d = dx + (((n0 + s) * Cin + ci) * g.H + iy) * W;
                    const index_t ph = 2 * (iy % 2), q = (s * Cin + ci) * hwo + (iy / 2) * Wo;
                    const float* even = out + ph * ns * Cin * hwo + q; // columns 2b
                    const float* odd = out + (ph + 1) * ns * Cin * hwo + q;
                    if (beta == 0.0f) {
                        for (index_t b = 0; b < Wo; ++b) d[2 * b] = even[b], d[2 * b + 1] = odd[b];
                    } else {
                        for (index_t b = 0; b < Wo; ++b) {
                            d[2 * b] = even[b] + beta * d[2 * b];
                            d[2 * b + 1] = odd[b] + beta * d[2 * b + 1];
                        }
                    }
                }
    };
    for_each_task((g.N + per_task - 1) / per_task, parallel, task);
}

} // namespace pgg::cpu_detail::direct
#endif
