#pragma once
// SGD with momentum and weight decay, PyTorch's rule: g += wd w; b = mu b + g (first step: b = g);
// w -= lr (nesterov ? g + mu b : b). A step with non-finite gradients is skipped and counted.
#include "optimizer.hpp"

namespace pgg::optim {

struct SgdOptions {
    double lr = 1e-2;
    double momentum = 0.0;
    double weight_decay = 0.0;
    bool nesterov = false;
};

template <class T, class D = cpu>
class SGD {
public:
    SGD(ParameterList<T, D> params, SgdOptions o = {}) : params_(std::move(params)), opt_(o) { buf_ = zeros_like(params_); }

    bool step() {
        if (!gradients_finite(params_)) {
            ++skipped_;
            return false;
        }
        const T lr = T(opt_.lr), mu = T(opt_.momentum), wd = T(opt_.weight_decay);
        for (std::size_t i = 0; i < params_.size(); ++i) {
            auto& p = params_[i];
            if (!p.value.numel()) continue;
            if (wd != T(0)) p.grad = p.grad + wd * p.value;
            if (mu == T(0)) {
                p.value = p.value - lr * p.grad;
                continue;
            }
            if (t_ == 0) buf_[i].copy_(p.grad);
            else buf_[i] = mu * buf_[i] + p.grad;
            if (opt_.nesterov) p.value = p.value - lr * (p.grad + mu * buf_[i]);
            else p.value = p.value - lr * buf_[i];
        }
        ++t_;
        return true;
    }
    void set_lr(double lr) { opt_.lr = lr; }
    long skipped() const { return skipped_; }
    long steps() const { return t_; }
    void set_steps(long t) { t_ = t; }
    // Momentum buffers, in the order of the parameters (for checkpoints).
    std::vector<Tensor<T, D>>& momentum_buffers() { return buf_; }
    const ParameterList<T, D>& parameters() const { return params_; }

private:
    ParameterList<T, D> params_;
    SgdOptions opt_;
    std::vector<Tensor<T, D>> buf_;
    long t_ = 0, skipped_ = 0;
};

} // namespace pgg::optim
