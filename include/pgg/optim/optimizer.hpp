#pragma once
// What the optimisers share: the parameter list and the test for non-finite gradients.
#include <cmath>
#include <vector>

#include "../core/ops.hpp"
#include "../nn/layer.hpp"

namespace pgg::optim {

template <class T, class D>
using ParameterList = std::vector<nn::Parameter<T, D>>;

// True when every gradient is finite. A NaN or Inf anywhere makes the sum of squares non-finite.
template <class T, class D>
bool gradients_finite(const ParameterList<T, D>& params) {
    for (const auto& p : params)
        if (p.grad.numel() && !std::isfinite(double(sum_sq(p.grad)))) return false;
    return true;
}

// One zero-filled tensor per parameter (optimiser moments, averages).
template <class T, class D>
std::vector<Tensor<T, D>> zeros_like(const ParameterList<T, D>& params) {
    std::vector<Tensor<T, D>> out;
    for (const auto& p : params) out.emplace_back(p.value.shape());
    return out;
}

} // namespace pgg::optim
