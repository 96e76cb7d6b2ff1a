#pragma once
// Dense (fully connected) layer, PyTorch layout: weight (Out, In), bias (Out); input (N, In).
#include "conv.hpp"

namespace pgg::nn {

template <int In, int Out, LayerOptions Opt = LayerOptions{}>
struct Dense {
    static_assert(In > 0 && Out > 0, "Dense: feature counts must be positive");
    static constexpr int in_channels = In; // the features of a (N, In) tensor are its dimension 1
    static constexpr int out_channels = Out;

    template <class T, class D>
    struct bind {
        using value_type = T;
        using device_type = D;
        using Spec = Dense;
        static T scale() { return Opt.gain > 0 ? T(Opt.gain) / std::sqrt(T(In)) : T(1); }

        Tensor<T, D> weight{Shape{Out, In}}, weight_grad{Shape{Out, In}};
        Tensor<T, D> bias{Shape{Opt.bias ? Out : 0}}, bias_grad{Shape{Opt.bias ? Out : 0}};

        void reset_parameters(Generator& g) { detail::init_weights(Opt, In, weight, Opt.bias ? &bias : nullptr, g); }
        template <class F>
        void for_each_parameter(F&& f, const std::string& prefix = "") {
            f(prefix + "weight", weight, weight_grad);
            if constexpr (Opt.bias) f(prefix + "bias", bias, bias_grad);
        }
        void train(bool) {}

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            PGG_CHECK(x.rank() == 2 && x.size(1) == In, "Dense<", In, ", ", Out, ">: input ", x.shape(), " should be (N, ",
                      In, "); add Flatten before it");
            x_ = x;
            y_.resize_({x.n(), Out});
            matmul(x, weight, y_, false, true, scale()); // y = s x W^T
            if constexpr (Opt.bias) y_ = y_ + per_channel(bias);
            return y_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            matmul(dy, weight, dx, false, false, scale(), detail::prepare_grad(dx, x_.shape(), acc.input)); // dx = s dy W
            matmul(dy, x_, weight_grad, true, false, scale(), acc.params ? T(1) : T(0));                  // dW = s dy^T x
            if constexpr (Opt.bias) bias_gradient(dy, acc.params);
        }

        const Tensor<T, D>& forward_tangent(const Tensor<T, D>& x, const Tensor<T, D>& xt) {
            forward(x);
            xt_ = xt;
            yt_.resize_({x.n(), Out});
            matmul(xt, weight, yt_, false, true, scale());
            return y_;
        }
        const Tensor<T, D>& tangent_output() const { return yt_; }
        void backward_tangent(const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt,
                              Accumulate acc = {}) {
            matmul(dy, weight, dx, false, false, scale(), detail::prepare_grad(dx, x_.shape(), acc.input));
            matmul(dyt, weight, dxt, false, false, scale(), detail::prepare_grad(dxt, x_.shape(), acc.input));
            matmul(dy, x_, weight_grad, true, false, scale(), acc.params ? T(1) : T(0));
            matmul(dyt, xt_, weight_grad, true, false, scale(), T(1));
            if constexpr (Opt.bias) bias_gradient(dy, acc.params);
        }

    private:
        void bias_gradient(const Tensor<T, D>& dy, bool accumulate) {
            db_ = sum_per_channel(dy);
            detail::write_grad(bias_grad, db_, accumulate);
        }
        Tensor<T, D> x_, y_, xt_, yt_, db_;
    };
};

} // namespace pgg::nn
