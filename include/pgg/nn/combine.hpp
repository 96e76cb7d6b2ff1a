#pragma once
// Two-path layers, still composed at compile time:
//   Lerp<A, B>:       y = A(x) + alpha (B(x) - A(x)), alpha set at run time (PG-GAN's fade-in:
//                     A the new, higher-resolution path, B the old one, alpha = lod - floor(lod));
//   SkipConcat<Inner>: y = [x, Inner(x)] along channels (a UNet level's skip connection);
//   Residual<Branch>:  y = x + Branch(x) (a ResNet block's identity shortcut; Branch keeps the shape).
// Paths are named like Sequential's layers: by position ("0.", "1.") or by Named<"...">.
#include "../core/ops.hpp"
#include "sequential.hpp"

namespace pgg::nn {

template <class A, class B>
struct Lerp {
    static_assert(detail::ChannelCheck<1, A::in_channels, B::in_channels>::ok);
    static constexpr int in_channels = A::in_channels == any_channels ? B::in_channels : A::in_channels;
    template <int In>
    static constexpr int out_channels_for = detail::out_channels_for<A, In>();
    static_assert(detail::ChannelCheck<1, detail::out_channels_for<A, in_channels>(), detail::out_channels_for<B, in_channels>()>::ok,
                  "Lerp: both paths must produce the same channels");

    template <class T, class D>
    struct bind {
        using value_type = T;
        using device_type = D;
        using Spec = Lerp;

        Net<A, T, D> a;
        Net<B, T, D> b;
        T alpha = T(0); // 0: path A only, 1: path B only

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            x_shape_ = x.shape();
            const Tensor<T, D>& ya = a.forward(x);
            const Tensor<T, D>& yb = b.forward(x);
            PGG_CHECK(ya.shape() == yb.shape(), "Lerp: paths give shapes ", ya.shape(), " and ", yb.shape());
            y_.resize_(ya.shape()) = lerp(ya, yb, alpha);
            return y_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            da_.resize_(dy.shape()) = dy * (T(1) - alpha);
            db_.resize_(dy.shape()) = dy * alpha;
            a.backward(da_, dx, acc);
            b.backward(db_, dx, Accumulate{true, acc.params, acc.param_grads});
        }
        const Tensor<T, D>& tangent(const Tensor<T, D>& xt) {
            yt_.resize_(y_.shape()) = lerp(a.tangent(xt), b.tangent(xt), alpha);
            return yt_;
        }
        void backward_tangent(const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt,
                              Accumulate acc = {}) {
            da_.resize_(dy.shape()) = dy * (T(1) - alpha);
            db_.resize_(dy.shape()) = dy * alpha;
            dat_.resize_(dy.shape()) = dyt * (T(1) - alpha);
            dbt_.resize_(dy.shape()) = dyt * alpha;
            a.backward_tangent(da_, dat_, dx, dxt, acc);
            b.backward_tangent(db_, dbt_, dx, dxt, Accumulate{true, acc.params, acc.param_grads});
        }
        template <class F>
        void for_each_parameter(F&& f, const std::string& prefix = "") {
            a.for_each_parameter(f, detail::is_named<A>() ? prefix : prefix + "0.");
            b.for_each_parameter(f, detail::is_named<B>() ? prefix : prefix + "1.");
        }
        void reset_parameters(Generator& g) {
            a.reset_parameters(g);
            b.reset_parameters(g);
        }
        void train(bool on) {
            a.train(on);
            b.train(on);
        }

    private:
        Shape x_shape_;
        Tensor<T, D> y_, yt_, da_, db_, dat_, dbt_;
    };
};

template <class Inner>
struct SkipConcat {
    static constexpr int in_channels = Inner::in_channels;
    template <int In>
    static constexpr int out_channels_for =
        In == any_channels || detail::out_channels_for<Inner, In>() == any_channels ? any_channels
                                                                                     : In + detail::out_channels_for<Inner, In>();

    template <class T, class D>
    struct bind {
        using value_type = T;
        using device_type = D;
        using Spec = SkipConcat;

        Net<Inner, T, D> inner;

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            x_shape_ = x.shape();
            const Tensor<T, D>& h = inner.forward(x);
            y_.resize_({x.n(), x.c() + h.c(), x.h(), x.w()});
            concat_channels(x, h, y_);
            h_shape_ = h.shape();
            return y_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            dskip_.resize_(x_shape_);
            dh_.resize_(h_shape_);
            concat_channels_backward(dy, dskip_, dh_);
            inner.backward(dh_, dx, acc);
            dx = dx + dskip_;
        }
        template <class F>
        void for_each_parameter(F&& f, const std::string& prefix = "") {
            inner.for_each_parameter(f, detail::is_named<Inner>() ? prefix : prefix + "0.");
        }
        void reset_parameters(Generator& g) { inner.reset_parameters(g); }
        void train(bool on) { inner.train(on); }

    private:
        Shape x_shape_, h_shape_;
        Tensor<T, D> y_, dskip_, dh_;
    };
};

template <class Branch>
struct Residual {
    static constexpr int in_channels = Branch::in_channels;
    static_assert(detail::ChannelCheck<1, in_channels, detail::out_channels_for<Branch, in_channels>()>::ok,
                  "Residual: the branch must keep the channel count (the shortcut is the identity)");
    template <int In>
    static constexpr int out_channels_for = In;

    template <class T, class D>
    struct bind {
        using value_type = T;
        using device_type = D;
        using Spec = Residual;

        Net<Branch, T, D> branch;

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            const Tensor<T, D>& h = branch.forward(x);
            PGG_CHECK(h.shape() == x.shape(), "Residual: the branch maps ", x.shape(), " to ", h.shape());
            y_.resize_(x.shape()) = x + h;
            return y_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            branch.backward(dy, dx, acc);
            dx = dx + dy;
        }
        const Tensor<T, D>& tangent(const Tensor<T, D>& xt) {
            yt_.resize_(xt.shape()) = xt + branch.tangent(xt);
            return yt_;
        }
        void backward_tangent(const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt,
                              Accumulate acc = {}) {
            branch.backward_tangent(dy, dyt, dx, dxt, acc);
            dx = dx + dy;
            dxt = dxt + dyt;
        }
        template <class F>
        void for_each_parameter(F&& f, const std::string& prefix = "") {
            branch.for_each_parameter(f, detail::is_named<Branch>() ? prefix : prefix + "0.");
        }
        void reset_parameters(Generator& g) { branch.reset_parameters(g); }
        void train(bool on) { branch.train(on); }

    private:
        Tensor<T, D> y_, yt_;
    };
};

} // namespace pgg::nn
