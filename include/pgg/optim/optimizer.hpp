#pragma once
// What the optimisers share: the parameter list and the test for non-finite gradients.
#include <cmath>
#include <vector>

#include "../core/ops.hpp"
#include "../nn/layer.hpp"

namespace pgg::optim {

template <class T, class D>
using ParameterList = std::vector<nn::Parameter<T, D>>;

// True when every gradient is finite: one pass per gradient and, on a GPU, one wait for the answer.
template <class T, class D>
bool gradients_finite(const ParameterList<T, D>& params) {
    std::vector<const Tensor<T, D>*> grads;
    for (const auto& p : params) grads.push_back(&p.grad);
    return Executor<D>::all_finite(grads);
}

// One zero-filled tensor per parameter (optimiser moments, averages).
template <class T, class D>
std::vector<Tensor<T, D>> zeros_like(const ParameterList<T, D>& params) {
    std::vector<Tensor<T, D>> out;
    for (const auto& p : params) out.emplace_back(p.value.shape());
    return out;
}

} // namespace pgg::optim
