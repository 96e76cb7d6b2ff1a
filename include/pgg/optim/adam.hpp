#pragma once
// Adam (Kingma & Ba), with PyTorch's update rule, so that runs can be compared step by step:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// A step whose gradients hold NaN or Inf changes nothing and is counted (skipped()).
#include <cmath>

#include "optimizer.hpp"

namespace pgg::optim {

struct AdamOptions {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
};

template <class T, class D = cpu>
class Adam {
public:
    Adam(ParameterList<T, D> params, AdamOptions o = {}) : params_(std::move(params)), opt_(o) {
        m_ = zeros_like(params_);
        v_ = zeros_like(params_);
    }

    // Applies one update; returns false (and updates nothing) when a gradient is not finite.
    bool step() {
        if (!gradients_finite(params_)) {
            ++skipped_;
            return false;
        }
        ++t_;
        const T b1 = T(opt_.beta1), b2 = T(opt_.beta2);
        const T step_size = T(opt_.lr / (1.0 - std::pow(opt_.beta1, double(t_))));
        const T inv_bc2 = T(1.0 / std::sqrt(1.0 - std::pow(opt_.beta2, double(t_))));
        const T eps = T(opt_.eps);
        for (std::size_t i = 0; i < params_.size(); ++i) {
            auto& p = params_[i];
            if (!p.value.numel()) continue;
            m_[i] = b1 * m_[i] + (1 - b1) * p.grad;
            v_[i] = b2 * v_[i] + (1 - b2) * square(p.grad);
            p.value = p.value - step_size * m_[i] / (sqrt(v_[i]) * inv_bc2 + eps);
        }
        return true;
    }

    // Forgets the moments and the step count (PG-GAN does this at every level-of-detail boundary).
    void reset() {
        for (auto& m : m_) m.zero_();
        for (auto& v : v_) v.zero_();
        t_ = 0;
    }

    double lr() const { return opt_.lr; }
    void set_lr(double lr) { opt_.lr = lr; }
    long steps() const { return t_; }
    long skipped() const { return skipped_; }
    void set_steps(long t) { t_ = t; }
    // Moments, in the order of the parameters (for checkpoints).
    std::vector<Tensor<T, D>>& first_moments() { return m_; }
    std::vector<Tensor<T, D>>& second_moments() { return v_; }
    const ParameterList<T, D>& parameters() const { return params_; }

private:
    ParameterList<T, D> params_;
    AdamOptions opt_;
    std::vector<Tensor<T, D>> m_, v_;
    long t_ = 0, skipped_ = 0;
};

} // namespace pgg::optim
