#pragma once
// Pooling, nearest upsampling, image resizing and channel concatenation on the CPU: the kernels behind
// the front ends of kernels/resample.hpp, one OpenMP task per plane (or per sample).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../../core/tensor.hpp"
#include "../../kernels/resample.hpp"
#include "parallel.hpp"

namespace pgg {

namespace cpu_detail {
// fn(plane) over the N*C planes in parallel.
template <class F>
void for_planes(index_t planes, index_t work, F&& fn) {
#pragma omp parallel for schedule(static) if (work >= parallel_grain)
    for (index_t pl = 0; pl < planes; ++pl) fn(pl);
}
template <class T>
T blend(T old, T v, T beta) {
    return beta == T(0) ? v : beta * old + v;
}
// y(i, j) = f(x's 2x2 window at (2i, 2j): top left, top right, bottom left, bottom right) in every
// plane; H x W is y's size.
template <class T, class F>
void for_windows(const T* x, T* y, index_t planes, index_t H, index_t W, F f) {
    const index_t Wi = 2 * W;
    for_planes(planes, planes * 4 * H * W, [&](index_t pl) {
        const T* s = x + pl * 4 * H * W;
        T* d = y + pl * H * W;
        for (index_t i = 0; i < H; ++i)
            for (index_t j = 0; j < W; ++j) {
                const T* r = s + 2 * i * Wi + 2 * j;
                d[i * W + j] = f(r[0], r[1], r[Wi], r[Wi + 1]);
            }
    });
}

// Each value v of every H x W plane of x to its 2x2 block of y's 2H x 2W plane: y = f(v, old y). The
// two output rows are written straight from the input row, so the loop vectorises (the index
// divisions of an output-order loop kept it scalar: 1.7% of a Narrow 16x16 training step).
template <class T, class F>
void for_blocks(const T* x, T* y, index_t planes, index_t H, index_t W, F f) {
    const index_t Wo = 2 * W;
    for_planes(planes, planes * 4 * H * W, [&](index_t pl) {
        const T* s = x + pl * H * W;
        T* d = y + pl * 4 * H * W;
        for (index_t i = 0; i < H; ++i) {
            const T* r = s + i * W;
            T *top = d + 2 * i * Wo, *bot = top + Wo;
            for (index_t j = 0; j < W; ++j) {
                const T v = r[j];
                top[2 * j] = f(v, top[2 * j]);
                top[2 * j + 1] = f(v, top[2 * j + 1]);
                bot[2 * j] = f(v, bot[2 * j]);
                bot[2 * j + 1] = f(v, bot[2 * j + 1]);
            }
        }
    });
}
} // namespace cpu_detail

template <>
struct ResampleKernels<cpu> {
    template <class T>
    static void avg_pool(const T* x, T* y, index_t planes, index_t H, index_t W) {
        cpu_detail::for_windows(x, y, planes, H, W, [](T a, T b, T c, T d) { return T(0.25) * (a + b + c + d); });
    }
    template <class T>
    static void avg_pool_backward(const T* dy, T* dx, index_t planes, index_t H, index_t W, T beta) {
        if (beta == T(0)) cpu_detail::for_blocks(dy, dx, planes, H, W, [](T v, T) { return T(0.25) * v; });
        else cpu_detail::for_blocks(dy, dx, planes, H, W, [beta](T v, T old) { return beta * old + T(0.25) * v; });
    }
    template <class T>
    static void max_pool(const T* x, T* y, index_t planes, index_t H, index_t W) {
        cpu_detail::for_windows(x, y, planes, H, W, [](T a, T b, T c, T d) { return std::max(std::max(a, b), std::max(c, d)); });
    }
    template <class T>
    static void max_pool_backward(const T* x, const T* dy, T* dx, index_t planes, index_t H, index_t W, T beta) {
        const index_t Wi = 2 * W;
        cpu_detail::for_planes(planes, planes * 4 * H * W, [&](index_t pl) {
            const T* xs = x + pl * 4 * H * W;
            const T* g = dy + pl * H * W;
            T* d = dx + pl * 4 * H * W;
            for (index_t i = 0; i < H; ++i) {
                const T *top = xs + 2 * i * Wi, *bot = top + Wi;
                T *dtop = d + 2 * i * Wi, *dbot = dtop + Wi;
                // branch-free, so that the loop vectorises: the first maximum in (a, b, c, d) order wins
#pragma omp simd
                for (index_t j = 0; j < W; ++j) {
                    const T a = top[2 * j], b = top[2 * j + 1], c = bot[2 * j], e = bot[2 * j + 1];
                    const T m = std::max(std::max(a, b), std::max(c, e)), v = g[i * W + j];
                    const bool ia = a == m, ib = !ia && b == m, ic = !ia && !ib && c == m, ie = !ia && !ib && !ic;
                    dtop[2 * j] = cpu_detail::blend(dtop[2 * j], ia ? v : T(0), beta);
                    dtop[2 * j + 1] = cpu_detail::blend(dtop[2 * j + 1], ib ? v : T(0), beta);
                    dbot[2 * j] = cpu_detail::blend(dbot[2 * j], ic ? v : T(0), beta);
                    dbot[2 * j + 1] = cpu_detail::blend(dbot[2 * j + 1], ie ? v : T(0), beta);
                }
            }
        });
    }
    template <class T>
    static void upsample(const T* x, T* y, index_t planes, index_t H, index_t W) {
        cpu_detail::for_blocks(x, y, planes, H, W, [](T v, T) { return v; });
    }
    template <class T>
    static void upsample_backward(const T* dy, T* dx, index_t planes, index_t H, index_t W, T beta) {
        const index_t Wo = 2 * W;
        cpu_detail::for_planes(planes, planes * 4 * H * W, [&](index_t pl) {
            const T* s = dy + pl * 4 * H * W;
            T* d = dx + pl * H * W;
            for (index_t i = 0; i < H; ++i)
                for (index_t j = 0; j < W; ++j) {
                    const T* r = s + 2 * i * Wo + 2 * j;
                    d[i * W + j] = cpu_detail::blend(d[i * W + j], r[0] + r[1] + r[Wo] + r[Wo + 1], beta);
                }
        });
    }
    template <class T>
    static void bilinear(const T* x, T* y, index_t planes, index_t H, index_t W, index_t Ho, index_t Wo) {
        auto coord = [](index_t o, index_t in, index_t out, index_t& i0, index_t& i1, double& f) {
            double s = (o + 0.5) * double(in) / double(out) - 0.5;
            s = std::max(s, 0.0);
            i0 = std::min<index_t>(index_t(s), in - 1);
            i1 = std::min<index_t>(i0 + 1, in - 1);
            f = s - double(i0);
        };
        std::vector<index_t> x0(Wo), x1(Wo);
        std::vector<double> fx(Wo);
        for (index_t j = 0; j < Wo; ++j) coord(j, W, Wo, x0[j], x1[j], fx[j]);
        cpu_detail::for_planes(planes, planes * Ho * Wo * 4, [&](index_t pl) {
            const T* s = x + pl * H * W;
            T* d = y + pl * Ho * Wo;
            for (index_t i = 0; i < Ho; ++i) {
                index_t y0, y1;
                double fy;
                coord(i, H, Ho, y0, y1, fy);
                for (index_t j = 0; j < Wo; ++j) {
                    double top = s[y0 * W + x0[j]] * (1 - fx[j]) + s[y0 * W + x1[j]] * fx[j];
                    double bot = s[y1 * W + x0[j]] * (1 - fx[j]) + s[y1 * W + x1[j]] * fx[j];
                    d[i * Wo + j] = T(top * (1 - fy) + bot * fy);
                }
            }
        });
    }
    template <class T>
    static void area(const T* x, T* y, index_t planes, index_t H, index_t W, index_t Ho, index_t Wo) {
        struct Span {
            index_t first;
            std::vector<double> weight; // per input index from `first`, summing to 1
        };
        auto spans = [](index_t in, index_t out) {
            std::vector<Span> v(out);
            const double scale = double(in) / double(out);
            for (index_t o = 0; o < out; ++o) {
                double a = o * scale, b = (o + 1) * scale;
                index_t i0 = index_t(std::floor(a)), i1 = std::min<index_t>(in, index_t(std::ceil(b)));
                v[o].first = i0;
                for (index_t i = i0; i < i1; ++i) v[o].weight.push_back((std::min(b, double(i + 1)) - std::max(a, double(i))) / scale);
            }
            return v;
        };
        const auto sx = spans(W, Wo), sy = spans(H, Ho);
        cpu_detail::for_planes(planes, planes * H * W, [&](index_t pl) {
            const T* s = x + pl * H * W;
            T* d = y + pl * Ho * Wo;
            std::vector<double> row(W);
            for (index_t i = 0; i < Ho; ++i) {
                std::fill(row.begin(), row.end(), 0.0);
                for (std::size_t a = 0; a < sy[i].weight.size(); ++a)
                    for (index_t j = 0; j < W; ++j) row[j] += sy[i].weight[a] * s[(sy[i].first + index_t(a)) * W + j];
                for (index_t j = 0; j < Wo; ++j) {
                    double v = 0;
                    for (std::size_t b = 0; b < sx[j].weight.size(); ++b) v += sx[j].weight[b] * row[sx[j].first + index_t(b)];
                    d[i * Wo + j] = T(v);
                }
            }
        });
    }
    // n samples of na + nb values each.
    template <class T>
    static void concat(const T* a, const T* b, T* out, index_t n, index_t na, index_t nb) {
#pragma omp parallel for schedule(static) if (n * (na + nb) >= cpu_detail::parallel_grain)
        for (index_t s = 0; s < n; ++s) {
            std::memcpy(out + s * (na + nb), a + s * na, sizeof(T) * na);
            std::memcpy(out + s * (na + nb) + na, b + s * nb, sizeof(T) * nb);
        }
    }
    template <class T>
    static void concat_backward(const T* dout, T* da, T* db, index_t n, index_t na, index_t nb, T beta) {
#pragma omp parallel for schedule(static) if (n * (na + nb) >= cpu_detail::parallel_grain)
        for (index_t s = 0; s < n; ++s) {
            const T* g = dout + s * (na + nb);
            T* pa = da + s * na;
            T* pb = db + s * nb;
            for (index_t q = 0; q < na; ++q) pa[q] = cpu_detail::blend(pa[q], g[q], beta);
            for (index_t q = 0; q < nb; ++q) pb[q] = cpu_detail::blend(pb[q], g[na + q], beta);
        }
    }
};

} // namespace pgg
