#pragma once
// GaussianDropout (Srivastava et al. 2014): in training, multiplies by noise ~ N(1, p / (1 - p)), which
// matches the variance of dropout with rate p without zeroing units; in inference, the identity.
// Kept active at inference by train(true), it gives Monte-Carlo dropout samples. The template argument is
// the default rate; `rate` changes it at run time (a command-line option, say) without a new type.
//
// Noise streams: every dropout layer of a network must draw its own noise (layers sharing a stream
// would multiply by correlated noise). reset_parameters(g) gives each layer a stream of its own derived
// from g, and set_dropout(net, rate, seed) numbers the streams of (seed) in forward order.
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
            fill_normal(noise_.resize_(x.shape()), generator, T(1), T(std::sqrt(rate / (1.0 - rate))));
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
