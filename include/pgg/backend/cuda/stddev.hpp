#pragma once
// Minibatch standard deviation on the GPU, with the first and second derivatives; the formulas and the
// strided group membership are those of kernels/stddev.hpp. One thread per (group, position)
// handles the G members; per-group sums are block reductions in double.
#include "../../kernels/stddev.hpp"
#include "eval.hpp"
#include "launch.hpp"

namespace pgg {

namespace cuda_detail {

// Mean over the members of group m at position q (element (m + M j) * P + q of x).
template <class T>
__device__ __forceinline__ double group_mean(const T* x, index_t m, index_t q, index_t M, index_t G, index_t P) {
    double mu = 0;
    for (index_t j = 0; j < G; ++j) mu += x[(m + M * j) * P + q];
    return mu / double(G);
}

template <class T>
__global__ void stddev_sigma_kernel(const T* x, T* sigma, StddevGeom g) {
    PGG_GRID_LOOP(k, g.M * g.P) {
        const index_t m = k / g.P, q = k % g.P;
        const double mu = group_mean(x, m, q, g.M, g.G, g.P);
        double var = 0;
        for (index_t j = 0; j < g.G; ++j) {
            const double d = x[(m + g.M * j) * g.P + q] - mu;
            var += d * d;
        }
        sigma[k] = T(::sqrt(var / double(g.G) + 1e-8));
    }
}
// c / sigma per (group, position), c = (1/G) sum_j d_j d'_j: what the tangent s' averages.
template <class T>
__global__ void stddev_tangent_terms_kernel(const T* x, const T* xt, const T* sigma, double* out, StddevGeom g) {
    PGG_GRID_LOOP(k, g.M * g.P) {
        const index_t m = k / g.P, q = k % g.P;
        const double mu = group_mean(x, m, q, g.M, g.G, g.P), mut = group_mean(xt, m, q, g.M, g.G, g.P);
        double c = 0;
        for (index_t j = 0; j < g.G; ++j) {
            const index_t at = (m + g.M * j) * g.P + q;
            c += (x[at] - mu) * (xt[at] - mut);
        }
        out[k] = c / double(g.G) / double(sigma[k]);
    }
}
// dst (N, C + 1, HW) = [src (N, C, HW), value[n mod M] tiled].
template <class T, class V>
__global__ void stddev_write_kernel(const T* src, const V* value, T* dst, StddevGeom g) {
    PGG_GRID_LOOP(k, g.N * (g.C + 1) * g.HW) {
        const index_t n = k / ((g.C + 1) * g.HW), r = k % ((g.C + 1) * g.HW);
        dst[k] = r < g.P ? src[n * g.P + r] : T(value[n % g.M]);
    }
}
// out[m] = sum of channel C of dy over the members and pixels of group m; one block per group.
template <class T>
__global__ void stddev_extra_sums_kernel(const T* dy, double* out, StddevGeom g) {
    const index_t m = blockIdx.x;
    double acc = 0;
    for (index_t t = threadIdx.x; t < g.G * g.HW; t += blockDim.x) {
        const index_t n = m + g.M * (t / g.HW);
        acc += dy[(n * (g.C + 1) + g.C) * g.HW + t % g.HW];
    }
    acc = block_reduce<ReduceOp::sum>(acc);
    if (threadIdx.x == 0) out[m] = acc;
}
template <class T>
__global__ void stddev_backward_kernel(const T* x, const T* sigma, const T* dy, const double* gs, T* dx, T beta,
                                       StddevGeom g) {
    PGG_GRID_LOOP(k, g.M * g.P) {
        const index_t m = k / g.P, q = k % g.P;
        const double mu = group_mean(x, m, q, g.M, g.G, g.P);
        const double s = gs[m] / (double(g.G) * double(sigma[k]) * double(g.P));
        for (index_t j = 0; j < g.G; ++j) {
            const index_t n = m + g.M * j;
            const double v = dy[n * (g.C + 1) * g.HW + q] + s * (x[n * g.P + q] - mu);
            store(dx + n * g.P + q, T(v), beta);
        }
    }
}
template <class T>
__global__ void stddev_tangent_backward_kernel(const T* x, const T* xt, const T* sigma, const T* dy, const T* dyt,
                                               const double* gs, const double* gst, T* dx, T* dxt, T beta,
                                               StddevGeom g) {
    PGG_GRID_LOOP(k, g.M * g.P) {
        const index_t m = k / g.P, q = k % g.P;
        const double G = double(g.G), P = double(g.P), sd = double(sigma[k]);
        const double mu = group_mean(x, m, q, g.M, g.G, g.P), mut = group_mean(xt, m, q, g.M, g.G, g.P);
        double c = 0;
        for (index_t j = 0; j < g.G; ++j) {
            const index_t at = (m + g.M * j) * g.P + q;
            c += (x[at] - mu) * (xt[at] - mut);
        }
        c /= G;
        for (index_t j = 0; j < g.G; ++j) {
            const index_t n = m + g.M * j, at = n * g.P + q, yat = n * (g.C + 1) * g.HW + q;
            const double d = x[at] - mu, dt = xt[at] - mut;
            const double vx = dy[yat] + gs[m] * d / (G * sd * P) + gst[m] / P * (dt / (G * sd) - c * d / (G * sd * sd * sd));
            const double vt = dyt[yat] + gst[m] * d / (G * sd * P);
            store(dx + at, T(vx), beta);
            store(dxt + at, T(vt), beta);
        }
    }
}

template <class T>
Tensor<double, cuda> extra_channel_sums(const Tensor<T, cuda>& dy, const StddevGeom& g) {
    Tensor<double, cuda> out({g.M});
    stddev_extra_sums_kernel<<<unsigned(g.M), block_threads, 0, stream()>>>(dy.data(), out.data(), g);
    PGG_CUDA_LAUNCHED("stddev_extra_sums_kernel");
    return out;
}

} // namespace cuda_detail

template <>
struct StddevKernels<cuda> {
    template <class T>
    static void forward(const Tensor<T, cuda>& x, Tensor<T, cuda>& y, Tensor<T, cuda>& sigma, const StddevGeom& g) {
        using namespace cuda_detail;
        launch(stddev_sigma_kernel<T>, g.M * g.P, "stddev_sigma_kernel", x.data(), sigma.data(), g);
        const Tensor<T, cuda> s = mean_per_sample(sigma);
        launch(stddev_write_kernel<T, T>, y.numel(), "stddev_write_kernel", x.data(), s.data(), y.data(), g);
    }
    template <class T>
    static void backward(const Tensor<T, cuda>& x, const Tensor<T, cuda>& sigma, const Tensor<T, cuda>& dy, Tensor<T, cuda>& dx,
                         T beta, const StddevGeom& g) {
        using namespace cuda_detail;
        const Tensor<double, cuda> gs = extra_channel_sums(dy, g);
        launch(stddev_backward_kernel<T>, g.M * g.P, "stddev_backward_kernel", x.data(), sigma.data(), dy.data(), gs.data(),
               dx.data(), beta, g);
    }
    template <class T>
    static void tangent(const Tensor<T, cuda>& x, const Tensor<T, cuda>& xt, const Tensor<T, cuda>& sigma, Tensor<T, cuda>& yt,
                        const StddevGeom& g) {
        using namespace cuda_detail;
        Tensor<double, cuda> terms({g.M, g.P});
        launch(stddev_tangent_terms_kernel<T>, g.M * g.P, "stddev_tangent_terms_kernel", x.data(), xt.data(), sigma.data(),
               terms.data(), g);
        const Tensor<double, cuda> st = mean_per_sample(terms);
        launch(stddev_write_kernel<T, double>, yt.numel(), "stddev_write_kernel", xt.data(), st.data(), yt.data(), g);
    }
    template <class T>
    static void tangent_backward(const Tensor<T, cuda>& x, const Tensor<T, cuda>& xt, const Tensor<T, cuda>& sigma,
                                 const Tensor<T, cuda>& dy, const Tensor<T, cuda>& dyt, Tensor<T, cuda>& dx,
                                 Tensor<T, cuda>& dxt, T beta, const StddevGeom& g) {
        using namespace cuda_detail;
        const Tensor<double, cuda> gs = extra_channel_sums(dy, g), gst = extra_channel_sums(dyt, g);
        launch(stddev_tangent_backward_kernel<T>, g.M * g.P, "stddev_tangent_backward_kernel", x.data(), xt.data(),
               sigma.data(), dy.data(), dyt.data(), gs.data(), gst.data(), dx.data(), dxt.data(), beta, g);
    }
};

} // namespace pgg
