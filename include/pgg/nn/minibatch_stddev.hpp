#pragma once
// MinibatchStddev: appends one feature map holding each group's mean standard deviation, so that the
// discriminator can see the variety of a batch (Karras et al., section 3). Groups are strided:
// sample i belongs to group i mod (N / G), G = min(Group, N).
#include "../core/ops.hpp"
#include "layer.hpp"

namespace pgg::nn {

template <int Group = 4>
struct MinibatchStddev {
    static_assert(Group >= 1, "MinibatchStddev: the group size must be positive");
    static constexpr int in_channels = any_channels;
    template <int In>
    static constexpr int out_channels_for = In == any_channels ? any_channels : In + 1;

    template <class T, class D>
    struct bind : ParameterFree {
        using value_type = T;
        using device_type = D;
        using Spec = MinibatchStddev;

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            x_ = x;
            minibatch_stddev_forward(x, Group, y_, sigma_);
            return y_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            minibatch_stddev_backward(x_, Group, sigma_, dy, dx, detail::prepare_grad(dx, x_.shape(), acc.input));
        }
        const Tensor<T, D>& tangent(const Tensor<T, D>& xt) {
            xt_ = xt;
            minibatch_stddev_tangent(x_, xt, Group, sigma_, yt_);
            return yt_;
        }
        void backward_tangent(const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt,
                              Accumulate acc = {}) {
            const T beta = detail::prepare_grad(dx, x_.shape(), acc.input);
            detail::prepare_grad(dxt, x_.shape(), acc.input);
            minibatch_stddev_tangent_backward(x_, xt_, Group, sigma_, dy, dyt, dx, dxt, beta);
        }

    private:
        Tensor<T, D> x_, xt_, y_, yt_, sigma_;
    };
};

} // namespace pgg::nn
