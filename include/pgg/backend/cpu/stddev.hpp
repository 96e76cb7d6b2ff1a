#pragma once
// Minibatch standard deviation on the CPU: the kernels behind the front ends of kernels/stddev.hpp,
// where the formulas are written out. Sums over positions are parallel and accumulate in double.
#include <cmath>
#include <cstring>
#include <vector>

#include "../../core/tensor.hpp"
#include "../../kernels/stddev.hpp"
#include "parallel.hpp"

namespace pgg {

namespace cpu_detail {
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

template <>
struct StddevKernels<cpu> {
    template <class T>
    static void forward(const Tensor<T, cpu>& x, Tensor<T, cpu>& y, Tensor<T, cpu>& sigma, const StddevGeom& g) {
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

    template <class T>
    static void backward(const Tensor<T, cpu>& x, const Tensor<T, cpu>& sigma, const Tensor<T, cpu>& dy, Tensor<T, cpu>& dx, T beta,
                         const StddevGeom& g) {
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

    template <class T>
    static void tangent(const Tensor<T, cpu>& x, const Tensor<T, cpu>& xt, const Tensor<T, cpu>& sigma, Tensor<T, cpu>& yt,
                        const StddevGeom& g) {
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

    template <class T>
    static void tangent_backward(const Tensor<T, cpu>& x, const Tensor<T, cpu>& xt, const Tensor<T, cpu>& sigma,
                                 const Tensor<T, cpu>& dy, const Tensor<T, cpu>& dyt, Tensor<T, cpu>& dx, Tensor<T, cpu>& dxt,
                                 T beta, const StddevGeom& g) {
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
};

} // namespace pgg
