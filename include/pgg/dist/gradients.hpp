#pragma once
// Data-parallel training's one collective per network and step: every parameter gradient, weighted by
// this process's share of the minibatch, summed over the processes in one flat buffer (one all-reduce
// instead of one per tensor). Device-neutral: the buffer lives with the gradients, and the Reducer must
// sum that memory (MPI host memory, NCCL GPU memory).
#include "../optim/optimizer.hpp"
#include "reducer.hpp"

namespace pgg::dist {

// grad = sum over processes of (scale * grad), for every parameter of `params`; scale 0 contributes
// zeros whatever the gradients hold (a process without samples in this minibatch). `flat` is the
// caller's buffer, kept between steps so that a step allocates nothing after the first.
template <class T, class D>
void sum_gradients(optim::ParameterList<T, D>& params, Reducer& reduce, T scale, Tensor<T, D>& flat) {
    static_assert(std::is_same_v<T, float>, "sum_gradients: float gradients");
    constexpr bool host = std::is_same_v<D, cpu>;
    PGG_CHECK(reduce.device_memory() != host, "sum_gradients: gradients in ", host ? "host" : "GPU",
              " memory and a reducer of ", reduce.device_memory() ? "GPU" : "host",
              " memory (MPI sums the CPU's gradients, NCCL a GPU's)");
    index_t total = 0;
    for (const auto& p : params) total += p.grad.numel();
    flat.resize_({total});
    index_t at = 0;
    for (const auto& p : params) {
        const index_t n = p.grad.numel();
        if (scale == T(0)) flat.slice(at, at + n).fill(T(0));
        else flat.slice(at, at + n).reshape(p.grad.shape()) = p.grad * scale;
        at += n;
    }
    reduce.sum(flat.data(), std::size_t(total));
    at = 0;
    for (auto& p : params) {
        const index_t n = p.grad.numel();
        p.grad.copy_(flat.slice(at, at + n).reshape(p.grad.shape()));
        at += n;
    }
}

} // namespace pgg::dist
