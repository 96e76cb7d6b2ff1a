#pragma once
// Pointwise activations: LeakyReLU, ReLU, Sigmoid, Tanh. Each is one fused expression per pass, with
// the first and second derivatives that the forward-over-reverse (gradient-penalty) path needs.
#include "../core/ops.hpp"
#include "layer.hpp"

namespace pgg::nn {

namespace detail {
template <class Fn>
struct Pointwise {
    static constexpr int in_channels = any_channels;
    static constexpr int out_channels = same_channels;
    // A leaky ReLU whose slope lies in [0, 1] is max(x, slope x) and keeps the sign of x, so its
    // derivative reads the same off its output as off its input: the layer before it may apply it as
    // it stores its own output (Sequential fuses Conv2d + LeakyReLU so), and `adopt` takes that output
    // in place of the input. -1: not such an activation.
    static constexpr float fusable_slope = [] {
        if constexpr (requires { Fn::slope; }) return Fn::slope >= 0.0f && Fn::slope <= 1.0f ? Fn::slope : -1.0f;
        else return -1.0f;
    }();

    template <class T, class D>
    struct bind : ParameterFree {
        using value_type = T;
        using device_type = D;
        using Spec = Pointwise;

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            x_ = x;
            y_.resize_(x.shape()) = Fn::f(x);
            return y_;
        }
        // y, the activation already applied by the layer before (see fusable_slope).
        const Tensor<T, D>& adopt(const Tensor<T, D>& y)
            requires(fusable_slope >= 0.0f)
        {
            x_ = y;
            return x_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            write_grad(dx, Fn::df(x_) * dy, acc.input);
        }
        const Tensor<T, D>& tangent(const Tensor<T, D>& xt) {
            xt_ = xt;
            yt_.resize_(x_.shape()) = Fn::df(x_) * xt;
            return yt_;
        }
        void backward_tangent(const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt,
                              Accumulate acc = {}) {
            if constexpr (Fn::has_curvature) write_grad(dx, Fn::df(x_) * dy + Fn::d2f(x_) * xt_ * dyt, acc.input);
            else write_grad(dx, Fn::df(x_) * dy, acc.input);
            write_grad(dxt, Fn::df(x_) * dyt, acc.input);
        }

    private:
        Tensor<T, D> x_, y_, xt_, yt_;
    };
};

template <float Slope>
struct LeakyFn {
    static constexpr float slope = Slope;
    static constexpr bool has_curvature = false; // piecewise linear
    template <class X> static auto f(const X& x) { return where(x > 0, x, Slope * x); }
    template <class X> static auto df(const X& x) { return where(x > 0, 1, Slope); }
};
struct SigmoidFn {
    static constexpr bool has_curvature = true;
    template <class X> static auto f(const X& x) { return sigmoid(x); }
    template <class X> static auto df(const X& x) { return sigmoid(x) * (1 - sigmoid(x)); }
    template <class X> static auto d2f(const X& x) { return sigmoid(x) * (1 - sigmoid(x)) * (1 - 2 * sigmoid(x)); }
};
struct TanhFn {
    static constexpr bool has_curvature = true;
    template <class X> static auto f(const X& x) { return tanh(x); }
    template <class X> static auto df(const X& x) { return 1 - square(tanh(x)); }
    template <class X> static auto d2f(const X& x) { return -2 * tanh(x) * (1 - square(tanh(x))); }
};
} // namespace detail

// max(x, 0) + slope * min(x, 0); PG-GAN uses slope 0.2.
template <float Slope = 0.2f>
using LeakyReLU = detail::Pointwise<detail::LeakyFn<Slope>>;
using ReLU = detail::Pointwise<detail::LeakyFn<0.0f>>;
using Sigmoid = detail::Pointwise<detail::SigmoidFn>;
using Tanh = detail::Pointwise<detail::TanhFn>;

} // namespace pgg::nn
