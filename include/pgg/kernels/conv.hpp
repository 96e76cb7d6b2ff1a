#pragma once
// Convolutions on any device: their parameters and geometry, the shape checks, and the checked tensor
// front ends over each device's ConvKernels.
#include <algorithm>
#include <optional>

#include "../core/ops.hpp"

namespace pgg {

// Square kernel, stride and zero padding of a 2-d convolution.
struct Conv2dParams {
    index_t kernel = 3;
    index_t stride = 1;
    index_t padding = 1;
};

inline index_t conv_output_size(index_t in, const Conv2dParams& p) { return (in + 2 * p.padding - p.kernel) / p.stride + 1; }
// Output size of a transposed convolution (PyTorch's formula, with output_padding).
inline index_t conv_transpose_output_size(index_t in, const Conv2dParams& p, index_t output_padding = 0) {
    return (in - 1) * p.stride - 2 * p.padding + p.kernel + output_padding;
}

// Geometry of one convolution x (N, Cin, H, W) * w (Cout, Cin, k, k) -> y (N, Cout, Ho, Wo).
struct ConvGeom {
    index_t N, Cin, H, W, Cout, Ho, Wo, k, s, p;
    index_t K() const { return Cin * k * k; }
    index_t HWo() const { return Ho * Wo; }
};

// What a forward pass does to each output value v (the convolution plus beta times the old output)
// before it stores it: adds the channel's bias (when `bias` is set: Cout values in the device's
// memory), then applies a leaky ReLU max(v, slope v) (when `leaky`; 0 <= slope <= 1). Done in the
// kernel, they save the passes over the output that a separate bias and activation make.
template <class T>
struct ConvEpilogue {
    const T* bias = nullptr;
    bool leaky = false;
    T slope = T(0);

    bool none() const { return !bias && !leaky; }
    // The same epilogue for the channels from c on.
    ConvEpilogue from(index_t c) const { return {bias ? bias + c : nullptr, leaky, slope}; }
    T operator()(T v, index_t c) const {
        if (bias) v += bias[c];
        return leaky ? std::max(v, slope * v) : v;
    }
};

namespace detail {

template <class T, class D>
ConvGeom conv_geom(const Tensor<T, D>& x, const Tensor<T, D>& w, const Conv2dParams& p, const char* what) {
    PGG_CHECK(x.rank() == 4, what, ": input must be NCHW, got ", x.shape());
    PGG_CHECK(w.rank() == 4 && w.size(2) == p.kernel && w.size(3) == p.kernel, what, ": weight ", w.shape(),
              " does not match kernel ", p.kernel);
    PGG_CHECK(w.size(1) == x.c(), what, ": weight ", w.shape(), " expects ", w.size(1), " input channels, input ",
              x.shape(), " has ", x.c());
    PGG_CHECK(p.stride >= 1 && p.padding >= 0 && p.kernel >= 1, what, ": bad kernel/stride/padding ", p.kernel, "/",
              p.stride, "/", p.padding);
    const index_t ho = conv_output_size(x.h(), p), wo = conv_output_size(x.w(), p);
    PGG_CHECK(ho >= 1 && wo >= 1, what, ": input ", x.shape(), " too small for kernel ", p.kernel, " padding ", p.padding);
    return {x.n(), x.c(), x.h(), x.w(), w.size(0), ho, wo, p.kernel, p.stride, p.padding};
}

template <class T, class D>
void ensure_shape(Tensor<T, D>& t, const Shape& s, const char* what) {
    if (t.shape().empty()) t = Tensor<T, D>(s);
    PGG_CHECK(t.shape() == s, what, ": output has shape ", t.shape(), ", expected ", s);
}

} // namespace detail

// A device's three convolution passes on raw pointers, y/dx/dw = result + beta * itself; specialised
// in backend/<device>/conv.hpp. The checked tensor functions below serve every device.
template <class Device>
struct ConvKernels;

// y = conv2d(x, w) + beta * y. x (N, Cin, H, W), w (Cout, Cin, k, k); y allocated when empty.
// With `bias` (Cout) and `leaky` (a slope in [0, 1]): y = leaky_relu(conv2d(x, w) + beta * y + bias),
// in the kernel where the device's kernels take a ConvEpilogue, else in a pass after it.
template <class T, class D>
void conv2d_forward(const Tensor<T, D>& x, const Tensor<T, D>& w, Tensor<T, D>& y, const Conv2dParams& p, T beta = T(0),
                    const Tensor<T, D>* bias = nullptr, std::optional<T> leaky = std::nullopt) {
    const auto g = detail::conv_geom(x, w, p, "conv2d_forward");
    detail::ensure_shape(y, {g.N, g.Cout, g.Ho, g.Wo}, "conv2d_forward");
    PGG_CHECK(!bias || bias->shape() == Shape({g.Cout}), "conv2d_forward: bias ", bias->shape(), " should be (", g.Cout, ")");
    PGG_CHECK(!leaky || (*leaky >= T(0) && *leaky <= T(1)), "conv2d_forward: leaky ReLU slope ", *leaky, " outside [0, 1]");
    const ConvEpilogue<T> e{bias ? bias->data() : nullptr, leaky.has_value(), leaky.value_or(T(0))};
    if constexpr (requires { ConvKernels<D>::forward(x.data(), w.data(), y.data(), g, beta, e); }) {
        ConvKernels<D>::forward(x.data(), w.data(), y.data(), g, beta, e);
    } else {
        ConvKernels<D>::forward(x.data(), w.data(), y.data(), g, beta);
        if (bias) y = y + per_channel(*bias);
        if (leaky) y = where(y > 0, y, *leaky * y);
    }
}

// dx = dL/dx + beta * dx, from dy = dL/dy. dx must have the input's shape (it fixes H and W).
template <class T, class D>
void conv2d_backward_data(const Tensor<T, D>& dy, const Tensor<T, D>& w, Tensor<T, D>& dx, const Conv2dParams& p,
                          T beta = T(0)) {
    PGG_CHECK(dx.rank() == 4, "conv2d_backward_data: dx must be allocated with the input's shape");
    const auto g = detail::conv_geom(dx, w, p, "conv2d_backward_data");
    PGG_CHECK(dy.shape() == Shape({g.N, g.Cout, g.Ho, g.Wo}), "conv2d_backward_data: dy ", dy.shape(), " expected ",
              Shape({g.N, g.Cout, g.Ho, g.Wo}));
    ConvKernels<D>::backward_data(dy.data(), w.data(), dx.data(), g, beta);
}

// dw = dL/dw + beta * dw.
template <class T, class D>
void conv2d_backward_weights(const Tensor<T, D>& x, const Tensor<T, D>& dy, Tensor<T, D>& dw, const Conv2dParams& p,
                             T beta = T(0)) {
    PGG_CHECK(dw.rank() == 4, "conv2d_backward_weights: dw must be allocated with the weight's shape");
    const auto g = detail::conv_geom(x, dw, p, "conv2d_backward_weights");
    PGG_CHECK(dy.shape() == Shape({g.N, g.Cout, g.Ho, g.Wo}), "conv2d_backward_weights: dy ", dy.shape(), " expected ",
              Shape({g.N, g.Cout, g.Ho, g.Wo}));
    ConvKernels<D>::backward_weights(x.data(), dy.data(), dw.data(), g, beta);
}

// Transposed convolution, PyTorch layout: x (N, Cin, h, w), w (Cin, Cout, k, k) -> y (N, Cout, H, W).
// y must be allocated when output_padding matters; when empty it gets output_padding 0.
template <class T, class D>
void conv_transpose2d_forward(const Tensor<T, D>& x, const Tensor<T, D>& w, Tensor<T, D>& y, const Conv2dParams& p,
                              T beta = T(0)) {
    PGG_CHECK(x.rank() == 4 && w.rank() == 4 && w.size(0) == x.c(), "conv_transpose2d_forward: input ", x.shape(),
              " and weight ", w.shape(), " disagree on input channels");
    if (y.shape().empty())
        y = Tensor<T, D>({x.n(), w.size(1), conv_transpose_output_size(x.h(), p), conv_transpose_output_size(x.w(), p)});
    conv2d_backward_data(x, w, y, p, beta);
}
template <class T, class D>
void conv_transpose2d_backward_data(const Tensor<T, D>& dy, const Tensor<T, D>& w, Tensor<T, D>& dx, const Conv2dParams& p,
                                    T beta = T(0)) {
    conv2d_forward(dy, w, dx, p, beta);
}
template <class T, class D>
void conv_transpose2d_backward_weights(const Tensor<T, D>& x, const Tensor<T, D>& dy, Tensor<T, D>& dw,
                                       const Conv2dParams& p, T beta = T(0)) {
    conv2d_backward_weights(dy, x, dw, p, beta);
}

} // namespace pgg
