#pragma once
// Data-parallel training's gradient sums: every parameter gradient, weighted by this process's share
// of the minibatch, summed over the processes through flat buffers (a few all-reduces instead of one
// per tensor). Device-neutral: the buffer lives with the gradients, and the Reducer must sum that
// memory (MPI host memory, NCCL GPU memory).
#include <vector>

#include "../nn/layer.hpp"
#include "../optim/optimizer.hpp"
#include "reducer.hpp"

namespace pgg::dist {

namespace detail {
template <class T, class D>
void check_memory(const Reducer& reduce) {
    static_assert(std::is_same_v<T, float>, "gradient sums: float gradients");
    constexpr bool host = std::is_same_v<D, cpu>;
    PGG_CHECK(reduce.device_memory() != host, "gradient sums: gradients in ", host ? "host" : "GPU",
              " memory and a reducer of ", reduce.device_memory() ? "GPU" : "host",
              " memory (MPI sums the CPU's gradients, NCCL a GPU's)");
}
// flat[at ...] = scale * the gradients of params [p0, p1), one after the other. Scale 0 writes zeros
// whatever the gradients hold (a process without samples).
template <class T, class D>
void pack(const optim::ParameterList<T, D>& params, std::size_t p0, std::size_t p1, T scale, Tensor<T, D>& flat, index_t at) {
    for (std::size_t i = p0; i < p1; ++i) {
        const Tensor<T, D>& g = params[i].grad;
        if (scale == T(0)) flat.slice(at, at + g.numel()).fill(T(0));
        else flat.slice(at, at + g.numel()).reshape(g.shape()) = g * scale;
        at += g.numel();
    }
}
template <class T, class D>
void unpack(optim::ParameterList<T, D>& params, std::size_t p0, std::size_t p1, const Tensor<T, D>& flat, index_t at) {
    for (std::size_t i = p0; i < p1; ++i) {
        Tensor<T, D>& g = params[i].grad;
        g.copy_(flat.slice(at, at + g.numel()).reshape(g.shape()));
        at += g.numel();
    }
}
} // namespace detail

// grad = sum over processes of (scale * grad), for every parameter of `params`, in one all-reduce.
// `flat` is the caller's buffer, kept between steps so that a step allocates nothing after the first.
template <class T, class D>
void sum_gradients(optim::ParameterList<T, D>& params, Reducer& reduce, T scale, Tensor<T, D>& flat) {
    detail::check_memory<T, D>(reduce);
    index_t total = 0;
    for (const auto& p : params) total += p.grad.numel();
    flat.resize_({total});
    detail::pack(params, 0, params.size(), scale, flat, 0);
    reduce.sum(flat.data(), std::size_t(total));
    detail::unpack(params, 0, params.size(), flat, 0);
}

// The same sums, started during the backward pass that makes the gradients final: pass it as
// Accumulate::done (or WganGpOptions::last_pass_done) to the network's Sequential, which tells it after
// each of its layers; once a bucket's layers are all done, its all-reduce starts while the layers
// below still run. Buckets are whole layers from the last back, at least 1 MiB each where the layers
// allow (PyTorch's DistributedDataParallel starts with a bucket of that size): a network of B blocks
// makes at most B all-reduces.
//
//     OverlappedSum<float, cpu> sums(params, net.parameters_per_layer());
//     sums.begin(reducer, share);
//     net.backward(dy, dx, {.done = &sums});
//     sums.end();   // grads = the sums over the processes
template <class T, class D>
class OverlappedSum final : public nn::LayerDone {
public:
    // Layer i of the network holds the next per_layer[i] tensors of `params` (which are in layer order).
    OverlappedSum(optim::ParameterList<T, D>& params, const std::vector<std::size_t>& per_layer, index_t bucket_values = index_t(1) << 18)
        : params_(params), bucket_of_(per_layer.size()) {
        std::vector<std::size_t> first(per_layer.size() + 1, 0); // first tensor of each layer
        std::vector<index_t> at(params.size() + 1, 0);            // first flat value of each tensor
        for (std::size_t l = 0; l < per_layer.size(); ++l) first[l + 1] = first[l] + per_layer[l];
        PGG_CHECK(first.back() == params.size(), "OverlappedSum: the layers hold ", first.back(), " tensors, the list ",
                  params.size());
        for (std::size_t i = 0; i < params.size(); ++i) at[i + 1] = at[i] + params[i].grad.numel();
        for (std::size_t hi = per_layer.size(); hi > 0;) { // layers [lo, hi) in one bucket
            std::size_t lo = hi - 1;
            while (lo > 0 && at[first[hi]] - at[first[lo]] < bucket_values) --lo;
            buckets_.push_back({lo, first[lo], first[hi], at[first[lo]], at[first[hi]] - at[first[lo]]});
            for (std::size_t l = lo; l < hi; ++l) bucket_of_[l] = buckets_.size() - 1;
            hi = lo;
        }
        total_ = at.back();
    }

    void begin(Reducer& reduce, T scale) {
        detail::check_memory<T, D>(reduce);
        if (reduce_) reduce_->wait(); // a step abandoned by an exception: its sums end before the buffer is reused
        flat_.resize_({total_});      // here, not before: one process never needs it
        reduce_ = &reduce;
        scale_ = scale;
        for (auto& b : buckets_) b.started = false;
    }
    // The bucket starts when its first layer is done: in a backward pass, the last of its layers.
    void operator()(std::size_t layer) override {
        PGG_CHECK(reduce_ && layer < bucket_of_.size(), "OverlappedSum: layer ", layer, " done outside begin() and end()");
        Bucket& b = buckets_[bucket_of_[layer]];
        PGG_CHECK(!b.started, "OverlappedSum: layer ", layer, " done after its bucket's sum started (told in two passes?)");
        if (layer == b.first_layer) start(b);
        else reduce_->progress();
    }
    // Starts the buckets whose layers were not all reported, waits for every sum, writes them back.
    void end() {
        PGG_CHECK(reduce_, "OverlappedSum: end() without begin()");
        for (auto& b : buckets_)
            if (!b.started) start(b);
        reduce_->wait();
        for (const auto& b : buckets_) detail::unpack(params_, b.p0, b.p1, flat_, b.at);
        reduce_ = nullptr;
    }
    std::size_t buckets() const { return buckets_.size(); }

private:
    struct Bucket {
        std::size_t first_layer, p0, p1; // its layers start here; its tensors [p0, p1)
        index_t at, n;                   // its values in the flat buffer
        bool started = false;
    };
    void start(Bucket& b) {
        detail::pack(params_, b.p0, b.p1, scale_, flat_, b.at);
        reduce_->start_sum(flat_.data() + b.at, std::size_t(b.n));
        b.started = true;
    }

    optim::ParameterList<T, D>& params_;
    std::vector<Bucket> buckets_;
    std::vector<std::size_t> bucket_of_; // per layer
    index_t total_ = 0;
    Tensor<T, D> flat_;
    Reducer* reduce_ = nullptr;
    T scale_ = T(1);
};

} // namespace pgg::dist
