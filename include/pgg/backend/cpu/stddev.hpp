#pragma once
// Minibatch standard deviation (Karras et al.), with the first and second derivatives.
//
// x (N, C, H, W) is split into M = N / G groups with strided membership: member j of group m is
// sample m + M j. Per group and position, sigma = sqrt(biased variance over the members + 1e-8);
// s_m = mean of sigma over C, H, W; y = [x, s tiled as one more channel] (N, C + 1, H, W).
// With d_j = x_j - mean and P = C H W:
//   ds_m/dx_j = d_j / (G sigma P)
//   tangent s'_m = (1/P) sum c / sigma, c = (1/G) sum_j d_j d'_j
//   d s'_m / dx_k = (1/P) (d'_k / (G sigma) - c d_k / (G sigma^3)),  d s'_m / dx'_k = d_k / (G sigma P).
#include <cmath>
#include <cstring>

#include "../../core/tensor.hpp"
#include "parallel.hpp"

namespace pgg {

namespace cpu_detail {
struct StddevGeom {
    index_t N, C, HW, G, M, P;
};
template <class T, class D>
StddevGeom stddev_geom(const Tensor<T, D>& x, index_t group) {
    PGG_CHECK(x.rank() == 4, "minibatch_stddev: NCHW input expected, got ", x.shape());
    const index_t G = std::min<index_t>(group, x.n());
    PGG_CHECK(G >= 1 && x.n() % G == 0, "minibatch_stddev: batch ", x.n(), " is not divisible by the group size ", G);
    return {x.n(), x.c(), x.h() * x.w(), G, x.n() / G, x.c() * x.h() * x.w()};
}
// Copies `src` (N, C, HW) into the first C channels of `dst` (N, C + 1, HW) and fills channel C of
// sample n with value[n mod M].
template <class T>
void write_with_extra_channel(const T* src, const double* value, const StddevGeom& g, T* dst) {
#pragma omp parallel for schedule(static) if (g.N * g.P >= parallel_grain)
    for (index_t n = 0; n < g.N; ++n) {
        std::memcpy(dst + n * (g.C + 1) * g.HW, src + n * g.P, sizeof(T) * g.P);
        T* extra = dst + (n * (g.C + 1) + g.C) * g.HW;
        for (index_t i = 0; i < g.HW; ++i) extra[i] = T(value[n % g.M]);
    }
}
// Sum of channel C of dy over the members and pixels of each group.
template <class T>
void extra_channel_sums(const T* dy, const StddevGeom& g, double* out) {
    for (index_t m = 0; m < g.M; ++m) out[m] = 0;
    for (index_t n = 0; n < g.N; ++n) {
        const T* e = dy + (n * (g.C + 1) + g.C) * g.HW;
        double acc = 0;
        for (index_t i = 0; i < g.HW; ++i) acc += e[i];
        out[n % g.M] += acc;
    }
}
} // namespace cpu_detail

// y = [x, s]; sigma (M, C, H, W) is kept for the backward passes.
template <class T>
void minibatch_stddev_forward(const Tensor<T, cpu>& x, index_t group, Tensor<T, cpu>& y, Tensor<T, cpu>& sigma) {
    const auto g = cpu_detail::stddev_geom(x, group);
    if (!(y.shape() == Shape{g.N, g.C + 1, x.h(), x.w()})) y = Tensor<T, cpu>({g.N, g.C + 1, x.h(), x.w()});
    if (!(sigma.shape() == Shape{g.M, g.C, x.h(), x.w()})) sigma = Tensor<T, cpu>({g.M, g.C, x.h(), x.w()});
    std::vector<double> s(g.M, 0.0);
    const T* px = x.data();
    for (index_t m = 0; m < g.M; ++m) {
        const double total = cpu_detail::parallel_sum(g.P, g.P * g.G >= cpu_detail::parallel_grain, [&](index_t q) {
            double mu = 0, var = 0;
            for (index_t j = 0; j < g.G; ++j) mu += px[(m + g.M * j) * g.P + q];
            mu /= double(g.G);
            for (index_t j = 0; j < g.G; ++j) {
                const double d = px[(m + g.M * j) * g.P + q] - mu;
                var += d * d;
            }
            const double sd = std::sqrt(var / double(g.G) + 1e-8);
            sigma.data()[m * g.P + q] = T(sd);
            return sd;
        });
        s[m] = total / double(g.P);
    }
    cpu_detail::write_with_extra_channel(px, s.data(), g, y.data());
}

// dx = dy[:, :C] + ds/dx^T (sums of dy's extra channel) + beta * dx.
template <class T>
void minibatch_stddev_backward(const Tensor<T, cpu>& x, index_t group, const Tensor<T, cpu>& sigma, const Tensor<T, cpu>& dy,
                               Tensor<T, cpu>& dx, T beta) {
    const auto g = cpu_detail::stddev_geom(x, group);
    std::vector<double> gs(g.M);
    cpu_detail::extra_channel_sums(dy.data(), g, gs.data());
    const T *px = x.data(), *pdy = dy.data(), *ps = sigma.data();
    T* pdx = dx.data();
#pragma omp parallel for schedule(static) if (g.P * g.N >= cpu_detail::parallel_grain)
    for (index_t q = 0; q < g.P; ++q)
        for (index_t m = 0; m < g.M; ++m) {
            double mu = 0;
            for (index_t j = 0; j < g.G; ++j) mu += px[(m + g.M * j) * g.P + q];
            mu /= double(g.G);
            const double k = gs[m] / (double(g.G) * ps[m * g.P + q] * double(g.P));
            for (index_t j = 0; j < g.G; ++j) {
                const index_t n = m + g.M * j;
                const double v = pdy[n * (g.C + 1) * g.HW + q] + k * (px[n * g.P + q] - mu);
                pdx[n * g.P + q] = T(v) + (beta == T(0) ? T(0) : beta * pdx[n * g.P + q]);
            }
        }
}

// Tangent forward: yt = [xt, s'] with s'_m = (1/P) sum over C, H, W of c / sigma.
template <class T>
void minibatch_stddev_tangent(const Tensor<T, cpu>& x, const Tensor<T, cpu>& xt, index_t group, const Tensor<T, cpu>& sigma,
                              Tensor<T, cpu>& yt) {
    const auto g = cpu_detail::stddev_geom(x, group);
    if (!(yt.shape() == Shape{g.N, g.C + 1, x.h(), x.w()})) yt = Tensor<T, cpu>({g.N, g.C + 1, x.h(), x.w()});
    std::vector<double> st(g.M, 0.0);
    const T *px = x.data(), *pt = xt.data(), *ps = sigma.data();
    for (index_t m = 0; m < g.M; ++m) {
        const double total = cpu_detail::parallel_sum(g.P, g.P * g.G >= cpu_detail::parallel_grain, [&](index_t q) {
            double mu = 0, mut = 0, c = 0;
            for (index_t j = 0; j < g.G; ++j) mu += px[(m + g.M * j) * g.P + q], mut += pt[(m + g.M * j) * g.P + q];
            mu /= double(g.G), mut /= double(g.G);
            for (index_t j = 0; j < g.G; ++j) c += (px[(m + g.M * j) * g.P + q] - mu) * (pt[(m + g.M * j) * g.P + q] - mut);
            return c / double(g.G) / ps[m * g.P + q];
        });
        st[m] = total / double(g.P);
    }
    cpu_detail::write_with_extra_channel(pt, st.data(), g, yt.data());
}

// Tangent backward: the vector-Jacobian product of (x, xt) -> (y, yt) for seeds (dy, dyt).
template <class T>
void minibatch_stddev_tangent_backward(const Tensor<T, cpu>& x, const Tensor<T, cpu>& xt, index_t group,
                                       const Tensor<T, cpu>& sigma, const Tensor<T, cpu>& dy, const Tensor<T, cpu>& dyt,
                                       Tensor<T, cpu>& dx, Tensor<T, cpu>& dxt, T beta) {
    const auto g = cpu_detail::stddev_geom(x, group);
    std::vector<double> gs(g.M), gst(g.M);
    cpu_detail::extra_channel_sums(dy.data(), g, gs.data());
    cpu_detail::extra_channel_sums(dyt.data(), g, gst.data());
    const T *px = x.data(), *pt = xt.data(), *ps = sigma.data(), *pdy = dy.data(), *pdyt = dyt.data();
    T *pdx = dx.data(), *pdxt = dxt.data();
    const double G = double(g.G), P = double(g.P);
#pragma omp parallel for schedule(static) if (g.P * g.N >= cpu_detail::parallel_grain)
    for (index_t q = 0; q < g.P; ++q)
        for (index_t m = 0; m < g.M; ++m) {
            double mu = 0, mut = 0, c = 0;
            for (index_t j = 0; j < g.G; ++j) mu += px[(m + g.M * j) * g.P + q], mut += pt[(m + g.M * j) * g.P + q];
            mu /= G, mut /= G;
            for (index_t j = 0; j < g.G; ++j) c += (px[(m + g.M * j) * g.P + q] - mu) * (pt[(m + g.M * j) * g.P + q] - mut);
            c /= G;
            const double sd = ps[m * g.P + q];
            for (index_t j = 0; j < g.G; ++j) {
                const index_t n = m + g.M * j, at = n * g.P + q, yat = n * (g.C + 1) * g.HW + q;
                const double d = px[at] - mu, dt = pt[at] - mut;
                const double vx = pdy[yat] + gs[m] * d / (G * sd * P) + gst[m] / P * (dt / (G * sd) - c * d / (G * sd * sd * sd));
                const double vt = pdyt[yat] + gst[m] * d / (G * sd * P);
                pdx[at] = T(vx) + (beta == T(0) ? T(0) : beta * pdx[at]);
                pdxt[at] = T(vt) + (beta == T(0) ? T(0) : beta * pdxt[at]);
            }
        }
}

} // namespace pgg
