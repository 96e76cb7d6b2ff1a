#pragma once
// PixelNorm (Karras et al.): each pixel's feature vector scaled to unit mean square,
// y = x / sqrt(mean over channels of x^2 + 1e-8). Used in the generator only, so no tangent path.
#include "../core/ops.hpp"
#include "layer.hpp"

namespace pgg::nn {

struct PixelNorm {
    static constexpr int in_channels = any_channels;
    static constexpr int out_channels = same_channels;

    template <class T, class D>
    struct bind : ParameterFree {
        using value_type = T;
        using device_type = D;
        using Spec = PixelNorm;
        static constexpr T eps = T(1e-8);

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            x_ = x;
            const auto ms = mean_over_channels(square(x));
            r_.resize_(ms.shape()) = ms; // resized: the batch may change between calls
            r_ = rsqrt(r_ + eps);
            y_.resize_(x.shape()) = x * per_pixel(r_);
            return y_;
        }
        // dx = r dy - x r^3 mean_c(x dy)
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            const auto mx = mean_over_channels(x_ * dy);
            m_.resize_(mx.shape()) = mx;
            m_ = m_ * r_ * r_ * r_;
            detail::write_grad(dx, per_pixel(r_) * dy - x_ * per_pixel(m_), acc.input);
        }

    private:
        Tensor<T, D> x_, y_, r_, m_;
    };
};

} // namespace pgg::nn
