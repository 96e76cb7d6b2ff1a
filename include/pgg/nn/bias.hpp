#pragma once
// Bias<C>: adds one learned value per channel (for a dense layer whose output is reshaped to feature
// maps, as in PG-GAN's first generator layer, which has one bias per map, not per element).
#include "../core/ops.hpp"
#include "layer.hpp"

namespace pgg::nn {

template <int C>
struct Bias {
    static_assert(C > 0, "Bias: channels must be positive");
    static constexpr int in_channels = C;
    static constexpr int out_channels = C;

    template <class T, class D>
    struct bind {
        using value_type = T;
        using device_type = D;
        using Spec = Bias;

        Tensor<T, D> bias{Shape{C}}, bias_grad{Shape{C}};

        void reset_parameters(Generator&) { bias.zero_(); }
        template <class F>
        void for_each_parameter(F&& f, const std::string& prefix = "") {
            f(prefix + "bias", bias, bias_grad);
        }
        void train(bool) {}

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            PGG_CHECK(x.c() == C, "Bias<", C, ">: input ", x.shape(), " has ", x.c(), " channels");
            y_.resize_(x.shape()) = x + per_channel(bias);
            return y_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            detail::write_grad(dx, dy, acc.input);
            if (acc.param_grads) {
                db_ = sum_per_channel(dy);
                detail::write_grad(bias_grad, db_, acc.params);
            }
        }
        // An offset: the tangent passes through unchanged.
        const Tensor<T, D>& tangent(const Tensor<T, D>& xt) {
            yt_ = xt;
            return yt_;
        }
        void backward_tangent(const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt,
                              Accumulate acc = {}) {
            backward(dy, dx, acc);
            detail::write_grad(dxt, dyt, acc.input);
        }

    private:
        Tensor<T, D> y_, yt_, db_;
    };
};

} // namespace pgg::nn
