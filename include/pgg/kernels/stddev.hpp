#pragma once
// Minibatch standard deviation (Karras et al.), with the first and second derivatives, on any device:
// the geometry, the shape checks and the tensor front ends over each device's StddevKernels.
//
// x (N, C, H, W) is split into M = N / G groups with strided membership: member j of group m is
// sample m + M j. Per group and position, sigma = sqrt(biased variance over the members + 1e-8);
// s_m = mean of sigma over C, H, W; y = [x, s tiled as one more channel] (N, C + 1, H, W).
// With d_j = x_j - mean and P = C H W:
//   ds_m/dx_j = d_j / (G sigma P)
//   tangent s'_m = (1/P) sum c / sigma, c = (1/G) sum_j d_j d'_j
//   d s'_m / dx_k = (1/P) (d'_k / (G sigma) - c d_k / (G sigma^3)),  d s'_m / dx'_k = d_k / (G sigma P).
#include <algorithm>

#include "../core/tensor.hpp"

namespace pgg {

struct StddevGeom {
    index_t N, C, HW, G, M, P;
};

namespace detail {
template <class T, class D>
StddevGeom stddev_geom(const Tensor<T, D>& x, index_t group) {
    PGG_CHECK(x.rank() == 4, "minibatch_stddev: NCHW input expected, got ", x.shape());
    const index_t G = std::min<index_t>(group, x.n());
    PGG_CHECK(G >= 1 && x.n() % G == 0, "minibatch_stddev: batch ", x.n(), " is not divisible by the group size ", G);
    return {x.n(), x.c(), x.h() * x.w(), G, x.n() / G, x.c() * x.h() * x.w()};
}
template <class T, class D>
void require_stddev_shape(const Tensor<T, D>& t, const Shape& s, const char* what) {
    PGG_CHECK(t.shape() == s, "minibatch_stddev: ", what, " has shape ", t.shape(), ", expected ", s);
}
// The checks of the backward passes: sigma from the forward pass, dy shaped like y, dx like x.
template <class T, class D>
StddevGeom stddev_backward_geom(const Tensor<T, D>& x, index_t group, const Tensor<T, D>& sigma, const Tensor<T, D>& dy,
                                const Tensor<T, D>& dx) {
    const StddevGeom g = stddev_geom(x, group);
    require_stddev_shape(sigma, {g.M, g.C, x.h(), x.w()}, "sigma");
    require_stddev_shape(dy, {g.N, g.C + 1, x.h(), x.w()}, "dy");
    require_stddev_shape(dx, x.shape(), "dx");
    return g;
}
} // namespace detail

// A device's minibatch stddev passes on checked, allocated tensors; specialised in
// backend/<device>/stddev.hpp.
template <class Device>
struct StddevKernels;

// y = [x, s]; sigma (M, C, H, W) is kept for the backward passes.
template <class T, class D>
void minibatch_stddev_forward(const Tensor<T, D>& x, index_t group, Tensor<T, D>& y, Tensor<T, D>& sigma) {
    const auto g = detail::stddev_geom(x, group);
    y.resize_({g.N, g.C + 1, x.h(), x.w()});
    sigma.resize_({g.M, g.C, x.h(), x.w()});
    StddevKernels<D>::forward(x, y, sigma, g);
}

// dx = dy[:, :C] + ds/dx^T (sums of dy's extra channel) + beta * dx.
template <class T, class D>
void minibatch_stddev_backward(const Tensor<T, D>& x, index_t group, const Tensor<T, D>& sigma, const Tensor<T, D>& dy,
                               Tensor<T, D>& dx, T beta) {
    const auto g = detail::stddev_backward_geom(x, group, sigma, dy, dx);
    StddevKernels<D>::backward(x, sigma, dy, dx, beta, g);
}

// Tangent forward: yt = [xt, s'] with s'_m = (1/P) sum over C, H, W of c / sigma.
template <class T, class D>
void minibatch_stddev_tangent(const Tensor<T, D>& x, const Tensor<T, D>& xt, index_t group, const Tensor<T, D>& sigma,
                              Tensor<T, D>& yt) {
    const auto g = detail::stddev_geom(x, group);
    detail::require_stddev_shape(xt, x.shape(), "xt");
    detail::require_stddev_shape(sigma, {g.M, g.C, x.h(), x.w()}, "sigma");
    yt.resize_({g.N, g.C + 1, x.h(), x.w()});
    StddevKernels<D>::tangent(x, xt, sigma, yt, g);
}

// Tangent backward: the vector-Jacobian product of (x, xt) -> (y, yt) for seeds (dy, dyt).
template <class T, class D>
void minibatch_stddev_tangent_backward(const Tensor<T, D>& x, const Tensor<T, D>& xt, index_t group, const Tensor<T, D>& sigma,
                                       const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt,
                                       T beta) {
    const auto g = detail::stddev_backward_geom(x, group, sigma, dy, dx);
    detail::require_stddev_shape(xt, x.shape(), "xt");
    detail::require_stddev_shape(dyt, dy.shape(), "dyt");
    detail::require_stddev_shape(dxt, x.shape(), "dxt");
    StddevKernels<D>::tangent_backward(x, xt, sigma, dy, dyt, dx, dxt, beta, g);
}

} // namespace pgg
