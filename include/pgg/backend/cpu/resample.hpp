#pragma once
// Pooling, nearest upsampling, image resizing and channel concatenation on the CPU.
// Backward passes compute dx = (gradient) + beta * dx, so that beta = 1 accumulates.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../../core/tensor.hpp"
#include "parallel.hpp"

namespace pgg {

namespace cpu_detail {
template <class T, class D>
void require_nchw_pair(const Tensor<T, D>& big, const Tensor<T, D>& small, const char* what) {
    PGG_CHECK(big.rank() == 4 && small.rank() == 4, what, ": NCHW tensors expected, got ", big.shape(), " and ", small.shape());
    PGG_CHECK(big.n() == small.n() && big.c() == small.c() && big.h() == 2 * small.h() && big.w() == 2 * small.w(), what,
              ": ", big.shape(), " is not twice ", small.shape(), " in height and width");
}
template <class T, class D>
Tensor<T, D>& half_size(const Tensor<T, D>& x, Tensor<T, D>& y, const char* what) {
    PGG_CHECK(x.rank() == 4 && x.h() % 2 == 0 && x.w() % 2 == 0, what, ": input ", x.shape(), " needs even height and width");
    if (y.shape().empty()) y = Tensor<T, D>({x.n(), x.c(), x.h() / 2, x.w() / 2});
    require_nchw_pair(x, y, what);
    return y;
}
template <class T, class D>
void require_resize_pair(const Tensor<T, D>& x, const Tensor<T, D>& y, const char* what) {
    PGG_CHECK(x.rank() == 4 && y.rank() == 4 && x.n() == y.n() && x.c() == y.c() && x.h() > 0 && x.w() > 0, what,
              ": NCHW tensors with equal N and C expected, got ", x.shape(), " and ", y.shape());
}
// out = [a, b]'s checks; out is allocated when empty.
template <class T, class D>
void prepare_concat(const Tensor<T, D>& a, const Tensor<T, D>& b, Tensor<T, D>& out) {
    PGG_CHECK(a.rank() == 4 && b.rank() == 4 && a.n() == b.n() && a.h() == b.h() && a.w() == b.w(),
              "concat_channels: ", a.shape(), " and ", b.shape(), " differ outside the channels");
    const Shape s{a.n(), a.c() + b.c(), a.h(), a.w()};
    if (out.shape().empty()) out = Tensor<T, D>(s);
    PGG_CHECK(out.shape() == s, "concat_channels: output ", out.shape(), " expected ", s);
}
template <class T, class D>
void require_concat_split(const Tensor<T, D>& dout, const Tensor<T, D>& da, const Tensor<T, D>& db) {
    PGG_CHECK(dout.rank() == 4 && da.rank() == 4 && db.rank() == 4 && dout.c() == da.c() + db.c() &&
                  dout.numel() == da.numel() + db.numel(),
              "concat_channels_backward: ", dout.shape(), " is not ", da.shape(), " + ", db.shape(), " along channels");
}
// fn(plane) over the N*C planes in parallel.
template <class F>
void for_planes(index_t planes, index_t work, F&& fn) {
#pragma omp parallel for schedule(static) if (work >= parallel_grain)
    for (index_t pl = 0; pl < planes; ++pl) fn(pl);
}
} // namespace cpu_detail

// 2x2 average pooling, stride 2.
template <class T>
void avg_pool2x_forward(const Tensor<T, cpu>& x, Tensor<T, cpu>& y) {
    cpu_detail::half_size(x, y, "avg_pool2x_forward");
    const index_t H = y.h(), W = y.w(), Wi = x.w();
    cpu_detail::for_planes(x.shape().planes(), x.numel(), [&](index_t pl) {
        const T* s = x.data() + pl * 4 * H * W;
        T* d = y.data() + pl * H * W;
        for (index_t i = 0; i < H; ++i)
            for (index_t j = 0; j < W; ++j) {
                const T* r = s + 2 * i * Wi + 2 * j;
                d[i * W + j] = T(0.25) * (r[0] + r[1] + r[Wi] + r[Wi + 1]);
            }
    });
}
template <class T>
void avg_pool2x_backward(const Tensor<T, cpu>& dy, Tensor<T, cpu>& dx, T beta = T(0)) {
    cpu_detail::require_nchw_pair(dx, dy, "avg_pool2x_backward");
    const index_t H = dy.h(), W = dy.w(), Wi = dx.w();
    cpu_detail::for_planes(dx.shape().planes(), dx.numel(), [&](index_t pl) {
        const T* s = dy.data() + pl * H * W;
        T* d = dx.data() + pl * 4 * H * W;
        for (index_t i = 0; i < 2 * H; ++i)
            for (index_t j = 0; j < Wi; ++j) {
                T g = T(0.25) * s[(i / 2) * W + j / 2];
                d[i * Wi + j] = beta == T(0) ? g : beta * d[i * Wi + j] + g;
            }
    });
}

// 2x2 max pooling, stride 2. Backward recomputes the arg-max from x (the first maximum wins).
template <class T>
void max_pool2x_forward(const Tensor<T, cpu>& x, Tensor<T, cpu>& y) {
    cpu_detail::half_size(x, y, "max_pool2x_forward");
    const index_t H = y.h(), W = y.w(), Wi = x.w();
    cpu_detail::for_planes(x.shape().planes(), x.numel(), [&](index_t pl) {
        const T* s = x.data() + pl * 4 * H * W;
        T* d = y.data() + pl * H * W;
        for (index_t i = 0; i < H; ++i)
            for (index_t j = 0; j < W; ++j) {
                const T* r = s + 2 * i * Wi + 2 * j;
                d[i * W + j] = std::max(std::max(r[0], r[1]), std::max(r[Wi], r[Wi + 1]));
            }
    });
}
template <class T>
void max_pool2x_backward(const Tensor<T, cpu>& x, const Tensor<T, cpu>& dy, Tensor<T, cpu>& dx, T beta = T(0)) {
    cpu_detail::require_nchw_pair(dx, dy, "max_pool2x_backward");
    PGG_CHECK(x.shape() == dx.shape(), "max_pool2x_backward: x ", x.shape(), " and dx ", dx.shape(), " differ");
    const index_t H = dy.h(), W = dy.w(), Wi = dx.w();
    cpu_detail::for_planes(dx.shape().planes(), dx.numel(), [&](index_t pl) {
        const T* xs = x.data() + pl * 4 * H * W;
        const T* g = dy.data() + pl * H * W;
        T* d = dx.data() + pl * 4 * H * W;
        for (index_t i = 0; i < H; ++i) {
            const T *top = xs + 2 * i * Wi, *bot = top + Wi;
            T *dtop = d + 2 * i * Wi, *dbot = dtop + Wi;
            // branch-free, so that the loop vectorises: the first maximum in (a, b, c, d) order wins
#pragma omp simd
            for (index_t j = 0; j < W; ++j) {
                const T a = top[2 * j], b = top[2 * j + 1], c = bot[2 * j], e = bot[2 * j + 1];
                const T m = std::max(std::max(a, b), std::max(c, e)), v = g[i * W + j];
                const bool ia = a == m, ib = !ia && b == m, ic = !ia && !ib && c == m, ie = !ia && !ib && !ic;
                const T ga = ia ? v : T(0), gb = ib ? v : T(0), gc = ic ? v : T(0), ge = ie ? v : T(0);
                dtop[2 * j] = beta == T(0) ? ga : beta * dtop[2 * j] + ga;
                dtop[2 * j + 1] = beta == T(0) ? gb : beta * dtop[2 * j + 1] + gb;
                dbot[2 * j] = beta == T(0) ? gc : beta * dbot[2 * j] + gc;
                dbot[2 * j + 1] = beta == T(0) ? ge : beta * dbot[2 * j + 1] + ge;
            }
        }
    });
}

// Nearest-neighbour 2x upsampling.
template <class T>
void upsample2x_forward(const Tensor<T, cpu>& x, Tensor<T, cpu>& y) {
    PGG_CHECK(x.rank() == 4, "upsample2x_forward: NCHW input expected, got ", x.shape());
    if (y.shape().empty()) y = Tensor<T, cpu>({x.n(), x.c(), 2 * x.h(), 2 * x.w()});
    cpu_detail::require_nchw_pair(y, x, "upsample2x_forward");
    const index_t H = x.h(), W = x.w(), Wo = y.w();
    cpu_detail::for_planes(y.shape().planes(), y.numel(), [&](index_t pl) {
        const T* s = x.data() + pl * H * W;
        T* d = y.data() + pl * 4 * H * W;
        for (index_t i = 0; i < 2 * H; ++i)
            for (index_t j = 0; j < Wo; ++j) d[i * Wo + j] = s[(i / 2) * W + j / 2];
    });
}
template <class T>
void upsample2x_backward(const Tensor<T, cpu>& dy, Tensor<T, cpu>& dx, T beta = T(0)) {
    cpu_detail::require_nchw_pair(dy, dx, "upsample2x_backward");
    const index_t H = dx.h(), W = dx.w(), Wo = dy.w();
    cpu_detail::for_planes(dx.shape().planes(), dy.numel(), [&](index_t pl) {
        const T* s = dy.data() + pl * 4 * H * W;
        T* d = dx.data() + pl * H * W;
        for (index_t i = 0; i < H; ++i)
            for (index_t j = 0; j < W; ++j) {
                const T* r = s + 2 * i * Wo + 2 * j;
                T v = r[0] + r[1] + r[Wo] + r[Wo + 1];
                d[i * W + j] = beta == T(0) ? v : beta * d[i * W + j] + v;
            }
    });
}

// Bilinear resize of every plane to y's height and width, half-pixel centres (PyTorch's
// align_corners=False, no antialiasing): for enlarging and mild shrinking.
template <class T>
void resize_bilinear(const Tensor<T, cpu>& x, Tensor<T, cpu>& y) {
    cpu_detail::require_resize_pair(x, y, "resize_bilinear");
    const index_t H = x.h(), W = x.w(), Ho = y.h(), Wo = y.w();
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
    cpu_detail::for_planes(x.shape().planes(), y.numel() * 4, [&](index_t pl) {
        const T* s = x.data() + pl * H * W;
        T* d = y.data() + pl * Ho * Wo;
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

// Area (box-filter) resize: each output pixel is the exact area-weighted mean of the input pixels it
// covers. The right filter for shrinking (no aliasing); for integer factors it is plain block averaging.
template <class T>
void resize_area(const Tensor<T, cpu>& x, Tensor<T, cpu>& y) {
    cpu_detail::require_resize_pair(x, y, "resize_area");
    const index_t H = x.h(), W = x.w(), Ho = y.h(), Wo = y.w();
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
    cpu_detail::for_planes(x.shape().planes(), x.numel(), [&](index_t pl) {
        const T* s = x.data() + pl * H * W;
        T* d = y.data() + pl * Ho * Wo;
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

// out = [a, b] along channels.
template <class T>
void concat_channels(const Tensor<T, cpu>& a, const Tensor<T, cpu>& b, Tensor<T, cpu>& out) {
    cpu_detail::prepare_concat(a, b, out);
    const index_t na = a.numel() / a.n(), nb = b.numel() / b.n();
#pragma omp parallel for schedule(static) if (out.numel() >= cpu_detail::parallel_grain)
    for (index_t n = 0; n < a.n(); ++n) {
        std::memcpy(out.data() + n * (na + nb), a.data() + n * na, sizeof(T) * na);
        std::memcpy(out.data() + n * (na + nb) + na, b.data() + n * nb, sizeof(T) * nb);
    }
}
// Splits the gradient of a concatenation: da = dout[:, :Ca] + beta * da, db likewise.
template <class T>
void concat_channels_backward(const Tensor<T, cpu>& dout, Tensor<T, cpu>& da, Tensor<T, cpu>& db, T beta = T(0)) {
    cpu_detail::require_concat_split(dout, da, db);
    const index_t na = da.numel() / da.n(), nb = db.numel() / db.n();
#pragma omp parallel for schedule(static) if (dout.numel() >= cpu_detail::parallel_grain)
    for (index_t n = 0; n < dout.n(); ++n) {
        const T* s = dout.data() + n * (na + nb);
        T* pa = da.data() + n * na;
        T* pb = db.data() + n * nb;
        for (index_t q = 0; q < na; ++q) pa[q] = beta == T(0) ? s[q] : beta * pa[q] + s[q];
        for (index_t q = 0; q < nb; ++q) pb[q] = beta == T(0) ? s[na + q] : beta * pb[q] + s[na + q];
    }
}

} // namespace pgg
