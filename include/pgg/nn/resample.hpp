#pragma once
// Resolution changes: Upsample2x (nearest), AvgPool2x, MaxPool2x, and Flatten / Reshape.
#include "../core/ops.hpp"
#include "layer.hpp"

namespace pgg::nn {

namespace detail {
// A layer y = A x with A fixed and linear (no parameters): its tangent is A x' and its
// vector-Jacobian products are A^T dy and A^T dy'. Op supplies apply(x, y) and adjoint(dy, dx, beta).
template <class Op>
struct LinearMap {
    static constexpr int in_channels = any_channels;
    static constexpr int out_channels = same_channels;

    template <class T, class D>
    struct bind : ParameterFree {
        using value_type = T;
        using device_type = D;
        using Spec = LinearMap;

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            x_shape_ = x.shape();
            Op::apply(x, y_);
            return y_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            Op::adjoint(dy, dx, detail::prepare_grad(dx, x_shape_, acc.input));
        }
        const Tensor<T, D>& tangent(const Tensor<T, D>& xt) {
            Op::apply(xt, yt_);
            return yt_;
        }
        void backward_tangent(const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt,
                              Accumulate acc = {}) {
            Op::adjoint(dy, dx, detail::prepare_grad(dx, x_shape_, acc.input));
            Op::adjoint(dyt, dxt, detail::prepare_grad(dxt, x_shape_, acc.input));
        }

    private:
        Shape x_shape_;
        Tensor<T, D> y_, yt_;
    };
};

struct UpsampleOp {
    template <class T, class D>
    static void apply(const Tensor<T, D>& x, Tensor<T, D>& y) {
        upsample2x_forward(x, y.resize_({x.n(), x.c(), 2 * x.h(), 2 * x.w()}));
    }
    template <class T, class D>
    static void adjoint(const Tensor<T, D>& dy, Tensor<T, D>& dx, T beta) { upsample2x_backward(dy, dx, beta); }
};
struct AvgPoolOp {
    template <class T, class D>
    static void apply(const Tensor<T, D>& x, Tensor<T, D>& y) {
        avg_pool2x_forward(x, y.resize_({x.n(), x.c(), x.h() / 2, x.w() / 2}));
    }
    template <class T, class D>
    static void adjoint(const Tensor<T, D>& dy, Tensor<T, D>& dx, T beta) { avg_pool2x_backward(dy, dx, beta); }
};
} // namespace detail

// Nearest-neighbour 2x upsampling (PyTorch: Upsample(scale_factor=2)).
using Upsample2x = detail::LinearMap<detail::UpsampleOp>;
// 2x2 average pooling with stride 2 (PyTorch: AvgPool2d(2)).
using AvgPool2x = detail::LinearMap<detail::AvgPoolOp>;

// 2x2 max pooling with stride 2 (PyTorch: MaxPool2d(2)); the gradient goes to the first maximum.
struct MaxPool2x {
    static constexpr int in_channels = any_channels;
    static constexpr int out_channels = same_channels;

    template <class T, class D>
    struct bind : ParameterFree {
        using value_type = T;
        using device_type = D;
        using Spec = MaxPool2x;

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            x_ = x;
            max_pool2x_forward(x, y_.resize_({x.n(), x.c(), x.h() / 2, x.w() / 2}));
            return y_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            max_pool2x_backward(x_, dy, dx, detail::prepare_grad(dx, x_.shape(), acc.input));
        }

    private:
        Tensor<T, D> x_, y_;
    };
};

// Global average pooling (PyTorch: AdaptiveAvgPool2d(1) then flatten): (N, C, H, W) -> (N, C), the
// mean of each channel's plane. A classifier's head, whatever the input size.
struct GlobalAvgPool {
    static constexpr int in_channels = any_channels;
    static constexpr int out_channels = same_channels;

    template <class T, class D>
    struct bind : ParameterFree {
        using value_type = T;
        using device_type = D;
        using Spec = GlobalAvgPool;

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            PGG_CHECK(x.rank() == 4, "GlobalAvgPool: input ", x.shape(), " should be (N, C, H, W)");
            x_shape_ = x.shape();
            pool(x, y_);
            return y_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            detail::prepare_grad(dx, x_shape_, acc.input);
            spread(dy, dx, acc.input);
        }
        const Tensor<T, D>& tangent(const Tensor<T, D>& xt) {
            pool(xt, yt_);
            return yt_;
        }
        void backward_tangent(const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt,
                              Accumulate acc = {}) {
            backward(dy, dx, acc);
            backward(dyt, dxt, acc);
        }

    private:
        // Each (n, c) plane as one "sample" of a (N * C, 1, H, W) view, so the per-sample reductions and
        // broadcasts of every backend do the work.
        Shape planes() const { return {x_shape_.n() * x_shape_.c(), 1, x_shape_.h(), x_shape_.w()}; }
        void pool(const Tensor<T, D>& x, Tensor<T, D>& y) {
            y.resize_({x_shape_.n(), x_shape_.c()});
            Tensor<T, D> flat = y.reshape({x_shape_.n() * x_shape_.c()});
            flat = mean_per_sample(x.reshape(planes()));
        }
        void spread(const Tensor<T, D>& dy, Tensor<T, D>& dx, bool accumulate) {
            Tensor<T, D> view = dx.reshape(planes());
            const Tensor<T, D> g = dy.reshape({x_shape_.n() * x_shape_.c()});
            const T inv = T(1) / T(x_shape_.h() * x_shape_.w());
            if (accumulate) view = view + per_sample(g) * inv;
            else view = per_sample(g) * inv;
        }

        Shape x_shape_;
        Tensor<T, D> y_, yt_;
    };
};

namespace detail {
// Views x as (N, Dims...) (or (N, prod) when Dims is empty): no copy.
template <int... Dims>
struct ReshapeOp {
    template <class T, class D>
    static Shape target(const Tensor<T, D>& x) {
        if constexpr (sizeof...(Dims) == 0) return {x.n(), x.numel() / std::max<index_t>(x.n(), 1)};
        else return {x.n(), index_t(Dims)...};
    }
};

template <int... Dims>
struct Reshape {
    static_assert(sizeof...(Dims) <= 3, "Reshape: at most three dimensions after the batch");
    static constexpr int in_channels = any_channels;
    static constexpr int out_channels = [] {
        const int dims[] = {Dims..., any_channels};
        return dims[0];
    }();

    template <class T, class D>
    struct bind : ParameterFree {
        using value_type = T;
        using device_type = D;
        using Spec = Reshape;

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            x_shape_ = x.shape();
            const Shape s = ReshapeOp<Dims...>::target(x);
            PGG_CHECK(s.numel() == x.numel(), "Reshape: input ", x.shape(), " does not hold ", s);
            y_ = x.reshape(s);
            return y_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            write_grad(dx, dy.reshape(x_shape_), acc.input);
        }
        const Tensor<T, D>& tangent(const Tensor<T, D>& xt) {
            yt_ = xt.reshape(y_.shape());
            return yt_;
        }
        void backward_tangent(const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt,
                              Accumulate acc = {}) {
            write_grad(dx, dy.reshape(x_shape_), acc.input);
            write_grad(dxt, dyt.reshape(x_shape_), acc.input);
        }

    private:
        Shape x_shape_;
        Tensor<T, D> y_, yt_;
    };
};
} // namespace detail

// (N, C, H, W) -> (N, C*H*W), a view.
using Flatten = detail::Reshape<>;
// (N, ...) -> (N, Dims...), a view; e.g. Reshape<512, 4, 4> after the generator's first dense layer.
template <int... Dims>
using Reshape = detail::Reshape<Dims...>;

} // namespace pgg::nn
