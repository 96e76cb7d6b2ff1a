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
    struct bind : detail::WeightBias<T, D, Opt, In> {
        using value_type = T;
        using device_type = D;
        using Spec = Dense;
        using Base = detail::WeightBias<T, D, Opt, In>;
        using Base::bias, Base::weight, Base::weight_grad;
        static T scale() { return Opt.gain > 0 ? T(Opt.gain) / std::sqrt(T(In)) : T(1); }

        bind() : Base(Shape{Out, In}, Out) {}

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
            if (!acc.param_grads) return;
            matmul(dy, x_, weight_grad, true, false, scale(), acc.params ? T(1) : T(0));                  // dW = s dy^T x
            this->bias_gradient(dy, acc.params);
        }

        const Tensor<T, D>& tangent(const Tensor<T, D>& xt) {
            xt_ = xt;
            yt_.resize_({xt.n(), Out});
            matmul(xt, weight, yt_, false, true, scale());
            return yt_;
        }
        void backward_tangent(const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt,
                              Accumulate acc = {}) {
            const bool primal = detail::nonzero(dy);
            const T beta = detail::prepare_grad(dx, x_.shape(), acc.input);
            if (primal) matmul(dy, weight, dx, false, false, scale(), beta);
            else if (beta == T(0)) dx.zero_();
            matmul(dyt, weight, dxt, false, false, scale(), detail::prepare_grad(dxt, x_.shape(), acc.input));
            if (!acc.param_grads) return;
            if (primal) matmul(dy, x_, weight_grad, true, false, scale(), acc.params ? T(1) : T(0));
            matmul(dyt, xt_, weight_grad, true, false, scale(), primal || acc.params ? T(1) : T(0));
            this->bias_gradient(dy, acc.params);
        }

    private:
        Tensor<T, D> x_, y_, xt_, yt_;
    };
};

} // namespace pgg::nn
