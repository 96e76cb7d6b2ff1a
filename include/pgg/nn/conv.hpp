#pragma once
// Conv2d and ConvTranspose2d, with optional bias and equalized learning rate.
#include <cmath>
#include <optional>

#include "../core/ops.hpp"
#include "../core/random.hpp"
#include "layer.hpp"

namespace pgg::nn {

// Options of a convolution or dense layer. `gain` > 0 turns on the equalized learning rate
// (Karras et al.): weights are stored ~N(0, 1) and scaled at run time by gain / sqrt(fan_in).
struct LayerOptions {
    int stride = 1;
    int padding = -1; // -1: (kernel - 1) / 2, "same" for odd kernels
    bool bias = true;
    float gain = 0.0f;
};
inline constexpr float sqrt2 = 1.41421356237309504880f;
// The PG-GAN's defaults: equalized learning rate with gain sqrt(2), bias.
inline constexpr LayerOptions equalized{.gain = sqrt2};
template <float Gain>
inline constexpr LayerOptions equalized_gain{.gain = Gain};

namespace detail {
// Fills a weight (and bias) of fan-in `fan_in`: N(0, 1) and zero bias under the equalized learning
// rate; otherwise PyTorch's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for both.
template <class T, class D>
void init_weights(const LayerOptions& o, index_t fan_in, Tensor<T, D>& w, Tensor<T, D>* b, Generator& g) {
    if (o.gain > 0) {
        fill_normal(w, g);
        if (b) b->zero_();
    } else {
        const T bound = T(1) / std::sqrt(T(fan_in));
        fill_uniform(w, g, -bound, bound);
        if (b) fill_uniform(*b, g, -bound, bound);
    }
}
// The weight and optional bias of a convolution or dense layer: the tensors, their gradients,
// initialisation, names, and the bias gradient (sum of dy per output channel).
template <class T, class D, LayerOptions Opt, index_t FanIn>
struct WeightBias {
    Tensor<T, D> weight, weight_grad, bias, bias_grad;

    WeightBias(const Shape& w, index_t out)
        : weight(w), weight_grad(w), bias(Shape{Opt.bias ? out : 0}), bias_grad(Shape{Opt.bias ? out : 0}) {}
    void reset_parameters(Generator& g) { init_weights(Opt, FanIn, weight, Opt.bias ? &bias : nullptr, g); }
    template <class F>
    void for_each_parameter(F&& f, const std::string& prefix = "") {
        f(prefix + "weight", weight, weight_grad);
        if constexpr (Opt.bias) f(prefix + "bias", bias, bias_grad);
    }
    void train(bool) {}

protected:
    void bias_gradient(const Tensor<T, D>& dy, bool accumulate) {
        if constexpr (Opt.bias) {
            db_ = sum_per_channel(dy);
            write_grad(bias_grad, db_, accumulate);
        }
    }

private:
    Tensor<T, D> db_;
};
} // namespace detail

// 2-d convolution, PyTorch layout: weight (Out, In, K, K), bias (Out).
template <int In, int Out, int K, LayerOptions Opt = LayerOptions{}>
struct Conv2d {
    static_assert(In > 0 && Out > 0 && K > 0 && Opt.stride > 0, "Conv2d: channels, kernel and stride must be positive");
    static constexpr int in_channels = In;
    static constexpr int out_channels = Out;
    static constexpr Conv2dParams params{K, Opt.stride, Opt.padding < 0 ? (K - 1) / 2 : Opt.padding};

    template <class T, class D>
    struct bind : detail::WeightBias<T, D, Opt, In * K * K> {
        using value_type = T;
        using device_type = D;
        using Spec = Conv2d;
        using Base = detail::WeightBias<T, D, Opt, In * K * K>;
        using Base::bias, Base::weight, Base::weight_grad;
        // The run-time weight scale: gain / sqrt(fan_in) with the equalized learning rate, else 1.
        static T scale() { return Opt.gain > 0 ? T(Opt.gain) / T(std::sqrt(double(In * K * K))) : T(1); }

        bind() : Base(Shape{Out, In, K, K}, Out) {}

        const Tensor<T, D>& forward(const Tensor<T, D>& x) { return forward(x, std::nullopt); }
        // The forward pass followed by a leaky ReLU of slope `leaky` (in [0, 1]), applied with the bias
        // as the kernel stores its output: Sequential fuses Conv2d + LeakyReLU so (activation.hpp).
        const Tensor<T, D>& forward(const Tensor<T, D>& x, std::optional<T> leaky) {
            PGG_CHECK(x.rank() == 4 && x.c() == In, "Conv2d<", In, ", ", Out, ", ", K, ">: input ", x.shape(),
                      " should be (N, ", In, ", H, W)");
            x_ = x;
            conv(x, y_, Opt.bias ? &bias : nullptr, leaky);
            return y_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            const T beta = detail::prepare_grad(dx, x_.shape(), acc.input);
            conv2d_backward_data(dy, effective_weight(), dx, params, beta);
            if (!acc.param_grads) return;
            weight_gradient(x_, dy, acc.params);
            this->bias_gradient(dy, acc.params);
        }

        // y' = W x' (no bias: it does not depend on x).
        const Tensor<T, D>& tangent(const Tensor<T, D>& xt) {
            xt_ = xt;
            conv(xt, yt_);
            return yt_;
        }
        // dx = W^T dy, dx' = W^T dy', dW = dy x^T + dy' x'^T, db = sum dy.
        void backward_tangent(const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt,
                              Accumulate acc = {}) {
            const Tensor<T, D>& w = effective_weight();
            const bool primal = detail::nonzero(dy);
            const T beta = detail::prepare_grad(dx, x_.shape(), acc.input);
            if (primal) conv2d_backward_data(dy, w, dx, params, beta);
            else if (beta == T(0)) dx.zero_();
            conv2d_backward_data(dyt, w, dxt, params, detail::prepare_grad(dxt, x_.shape(), acc.input));
            if (!acc.param_grads) return;
            if (primal) weight_gradient(x_, dy, acc.params);
            weight_gradient(xt_, dyt, primal || acc.params);
            this->bias_gradient(dy, acc.params);
        }

    private:
        const Tensor<T, D>& effective_weight() {
            if constexpr (Opt.gain > 0) {
                weight_scaled_.resize_(weight.shape()) = weight * scale();
                return weight_scaled_;
            } else {
                return weight;
            }
        }
        void conv(const Tensor<T, D>& x, Tensor<T, D>& y, const Tensor<T, D>* b = nullptr, std::optional<T> leaky = {}) {
            y.resize_({x.n(), Out, conv_output_size(x.h(), params), conv_output_size(x.w(), params)});
            conv2d_forward(x, effective_weight(), y, params, T(0), b, leaky);
        }
        // weight_grad (+)= scale * conv_backward_weights(x, dy)
        void weight_gradient(const Tensor<T, D>& x, const Tensor<T, D>& dy, bool accumulate) {
            const T s = scale();
            conv2d_backward_weights(x, dy, weight_grad, params, accumulate ? T(1) / s : T(0));
            if (s != T(1)) weight_grad = weight_grad * s;
        }

        Tensor<T, D> x_, y_, xt_, yt_, weight_scaled_;
    };
};

// Transposed convolution, PyTorch layout: weight (In, Out, K, K), output size (h - 1) * stride - 2 *
// padding + K (no output_padding). With K = 2 * stride and padding = stride / 2 it exactly doubles.
template <int In, int Out, int K, LayerOptions Opt = LayerOptions{.stride = 2, .padding = 1}>
struct ConvTranspose2d {
    static_assert(In > 0 && Out > 0 && K > 0 && Opt.stride > 0, "ConvTranspose2d: channels, kernel, stride must be positive");
    static constexpr int in_channels = In;
    static constexpr int out_channels = Out;
    static constexpr Conv2dParams params{K, Opt.stride, Opt.padding < 0 ? (K - 1) / 2 : Opt.padding};

    // PyTorch computes the fan-in of a transposed convolution's weight from its dimension 1.
    template <class T, class D>
    struct bind : detail::WeightBias<T, D, Opt, Out * K * K> {
        using value_type = T;
        using device_type = D;
        using Spec = ConvTranspose2d;
        using Base = detail::WeightBias<T, D, Opt, Out * K * K>;
        using Base::bias, Base::weight, Base::weight_grad;

        bind() : Base(Shape{In, Out, K, K}, Out) {}

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            PGG_CHECK(x.rank() == 4 && x.c() == In, "ConvTranspose2d<", In, ", ", Out, ", ", K, ">: input ", x.shape(),
                      " should be (N, ", In, ", H, W)");
            x_ = x;
            y_.resize_({x.n(), Out, conv_transpose_output_size(x.h(), params), conv_transpose_output_size(x.w(), params)});
            conv_transpose2d_forward(x, weight, y_, params);
            if constexpr (Opt.bias) y_ = y_ + per_channel(bias);
            return y_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            conv_transpose2d_backward_data(dy, weight, dx, params, detail::prepare_grad(dx, x_.shape(), acc.input));
            if (!acc.param_grads) return;
            conv_transpose2d_backward_weights(x_, dy, weight_grad, params, acc.params ? T(1) : T(0));
            this->bias_gradient(dy, acc.params);
        }

    private:
        Tensor<T, D> x_, y_;
    };
};

} // namespace pgg::nn
