#pragma once
// GaussianDropout (Srivastava et al. 2014): in training, multiplies by noise ~ N(1, p / (1 - p)), which
// matches the variance of dropout with rate p without zeroing units; in inference, the identity.
// Kept active at inference by train(true), it gives Monte-Carlo dropout samples. The template argument is
// the default rate; `rate` changes it at run time (a command-line option, say) without a new type.
//
// Noise streams: every dropout layer of a network must draw its own noise (layers sharing a stream
// would multiply by correlated noise). reset_parameters(g) gives each layer a stream of its own derived
// from g, and set_dropout(net, rate, seed) numbers the streams of (seed) in forward order.
// Data parallelism: set_dropout_share(net, first, total) makes a forward pass over samples
// [first, first + N) of a minibatch of `total` draw exactly the noise those samples get when one pass
// takes the whole minibatch, and move the stream past the whole minibatch's noise.
#include <cmath>
#include <vector>

#include "../core/ops.hpp"
#include "../core/random.hpp"
#include "../util/hash.hpp"
#include "layer.hpp"
#include "visit.hpp"

namespace pgg::nn {

template <float Rate = 0.5f>
struct GaussianDropout {
    static_assert(Rate >= 0.0f && Rate < 1.0f, "GaussianDropout: the rate must lie in [0, 1)");
    static constexpr int in_channels = any_channels;
    static constexpr int out_channels = same_channels;

    template <class T, class D>
    struct bind : ParameterFree {
        using value_type = T;
        using device_type = D;
        using Spec = GaussianDropout;

        // The noise stream; seed it (and save it in checkpoints) for reproducible runs.
        Generator generator{0x5eed, 0xd40};
        float rate = Rate;
        index_t share_first = 0, share_total = 0; // 0: the input is the whole minibatch

        // A stream of its own from g's position, which then moves on by a block: the next dropout
        // layer initialised from g gets another stream.
        void reset_parameters(Generator& g) {
            const Generator at = g.take(1);
            generator = Generator(mix64(at.seed ^ 0xd40), mix64(at.stream ^ mix64(at.offset)));
        }

        void train(bool on) { training_ = on; }
        bool training() const { return training_; }

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            x_shape_ = x.shape();
            PGG_CHECK(rate >= 0.0f && rate < 1.0f, "GaussianDropout: the rate ", rate, " is not in [0, 1)");
            if (!active()) {
                y_ = x;
                return y_;
            }
            const T sd = T(std::sqrt(rate / (1.0 - rate)));
            if (share_total == 0) {
                fill_normal(noise_.resize_(x.shape()), generator, T(1), sd);
            } else { // value k of a fill is block (offset + k / per_block): whole samples start on a block
                constexpr index_t per_block = RandomValues<T>::per_block;
                const index_t per_sample = x.numel() / std::max<index_t>(1, x.n());
                PGG_CHECK(per_sample % per_block == 0 && share_first + x.n() <= share_total, "GaussianDropout: a share of samples [",
                          share_first, ", ", share_first + x.n(), ") of ", share_total, " with ", per_sample, " values each");
                Generator at = generator;
                at.offset += std::uint64_t(share_first * per_sample / per_block);
                fill_normal(noise_.resize_(x.shape()), at, T(1), sd);
                generator.offset += std::uint64_t((share_total * per_sample + per_block - 1) / per_block);
            }
            y_out_.resize_(x.shape()) = x * noise_;
            y_ = y_out_;
            return y_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            if (!active()) detail::write_grad(dx, dy, acc.input);
            else detail::write_grad(dx, dy * noise_, acc.input);
        }

    private:
        bool active() const { return training_ && rate != 0.0f; }
        bool training_ = true;
        Shape x_shape_;
        Tensor<T, D> y_, y_out_, noise_;
    };
};

// Sets the rate of every Gaussian dropout layer in `net` and gives each its own noise stream of `seed`.
template <class Net>
void set_dropout(Net& net, float rate, std::uint64_t seed) {
    std::uint64_t stream = 0;
    for_each_layer(net, [&](auto& layer) {
        if constexpr (requires { layer.rate; layer.generator; }) {
            layer.rate = rate;
            layer.generator = Generator(seed, 0xd40 + stream++);
        }
    });
}

// The next forward passes of `net` take samples [first, first + N) of minibatches of `total`
// (total 0: whole minibatches again).
template <class Net>
void set_dropout_share(Net& net, index_t first, index_t total) {
    for_each_layer(net, [&](auto& layer) {
        if constexpr (requires { layer.rate; layer.generator; }) layer.share_first = first, layer.share_total = total;
    });
}

// The noise streams of the dropout layers of `net`, in forward order (to save them in checkpoints).
template <class Net>
std::vector<Generator*> dropout_generators(Net& net) {
    std::vector<Generator*> out;
    for_each_layer(net, [&](auto& layer) {
        if constexpr (requires { layer.rate; layer.generator; }) out.push_back(&layer.generator);
    });
    return out;
}

} // namespace pgg::nn
