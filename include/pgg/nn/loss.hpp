#pragma once
// Losses. Each returns the mean loss over the batch and writes d(loss)/d(input) into `grad`, which a
// network's backward pass then takes as its output gradient.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "../core/ops.hpp"
#include "../core/random.hpp"
#include "layer.hpp"

namespace pgg::nn {

// Binary cross-entropy on logits x with targets t in [0, 1]: mean of softplus(x) - t x.
template <class T, class D>
double bce_with_logits(const Tensor<T, D>& logits, const Tensor<T, D>& targets, Tensor<T, D>& grad) {
    PGG_CHECK(logits.shape() == targets.shape(), "bce_with_logits: logits ", logits.shape(), " and targets ", targets.shape());
    const double n = double(logits.numel());
    // softplus(x) = max(x, 0) + log(1 + exp(-|x|)), stable for any x
    const double total = sum(maximum(logits, 0) + log(1 + exp(-abs(logits))) - targets * logits);
    grad.resize_(logits.shape()) = (sigmoid(logits) - targets) * T(1.0 / n);
    return total / n;
}

// Softmax cross-entropy of logits (N, K) against integer labels in [0, K).
template <class T>
double softmax_cross_entropy(const Tensor<T, cpu>& logits, const std::vector<std::int32_t>& labels, Tensor<T, cpu>& grad) {
    PGG_CHECK(logits.rank() == 2 && index_t(labels.size()) == logits.size(0), "softmax_cross_entropy: logits ",
              logits.shape(), " for ", labels.size(), " labels");
    const index_t N = logits.size(0), K = logits.size(1);
    grad.resize_(logits.shape());
    double total = 0;
    for (index_t n = 0; n < N; ++n) {
        PGG_CHECK(labels[n] >= 0 && labels[n] < K, "softmax_cross_entropy: label ", labels[n], " of sample ", n,
                  " outside [0, ", K, ")");
        const T* x = logits.data() + n * K;
        T* g = grad.data() + n * K;
        const double mx = *std::max_element(x, x + K);
        double z = 0;
        for (index_t k = 0; k < K; ++k) z += std::exp(double(x[k]) - mx);
        for (index_t k = 0; k < K; ++k) g[k] = T((std::exp(double(x[k]) - mx) / z - (k == labels[n])) / double(N));
        total += std::log(z) + mx - double(x[labels[n]]);
    }
    return total / double(N);
}

// Soft Dice loss on probabilities p and binary targets t, per sample then averaged:
// 1 - (2 sum p t + eps) / (sum p + sum t + eps).
template <class T, class D>
double soft_dice(const Tensor<T, D>& probs, const Tensor<T, D>& targets, Tensor<T, D>& grad, double eps = 1.0) {
    PGG_CHECK(probs.shape() == targets.shape(), "soft_dice: probabilities ", probs.shape(), " and targets ", targets.shape());
    const index_t N = probs.n();
    // the N per-sample sums on the host (a copy on a GPU), the pixel-wise work on the device
    const Tensor<T> inter = to<cpu>(Tensor<T, D>(sum_per_sample(probs * targets)));
    const Tensor<T> denom = to<cpu>(Tensor<T, D>(sum_per_sample(probs + targets)));
    double total = 0;
    Tensor<T> a({N}), b({N}); // d loss / d p = a_n t + b_n (constant per sample)
    for (index_t n = 0; n < N; ++n) {
        const double I = inter.data()[n], S = denom.data()[n];
        total += 1 - (2 * I + eps) / (S + eps);
        a.data()[n] = T(-2 / (S + eps) / double(N));
        b.data()[n] = T((2 * I + eps) / ((S + eps) * (S + eps)) / double(N));
    }
    const Tensor<T, D> da = to<D>(a), db = to<D>(b);
    grad.resize_(probs.shape()) = per_sample(da) * targets + per_sample(db);
    return total / double(N);
}

// Non-saturating logistic GAN losses on discriminator scores: the generator's softplus(-D(fake)),
// and the discriminator's softplus(D(fake)) + softplus(-D(real)). Means over the batch.
template <class T, class D>
double logistic_generator(const Tensor<T, D>& fake_scores, Tensor<T, D>& grad) {
    const double n = double(fake_scores.numel());
    const double total = sum(maximum(-fake_scores, 0) + log(1 + exp(-abs(fake_scores))));
    grad.resize_(fake_scores.shape()) = (sigmoid(fake_scores) - 1) * T(1.0 / n);
    return total / n;
}
template <class T, class D>
double logistic_discriminator(const Tensor<T, D>& real_scores, const Tensor<T, D>& fake_scores, Tensor<T, D>& grad_real,
                              Tensor<T, D>& grad_fake) {
    const double n = double(real_scores.numel());
    const double total = sum(maximum(fake_scores, 0) + log(1 + exp(-abs(fake_scores)))) +
                         sum(maximum(-real_scores, 0) + log(1 + exp(-abs(real_scores))));
    grad_fake.resize_(fake_scores.shape()) = sigmoid(fake_scores) * T(1.0 / n);
    grad_real.resize_(real_scores.shape()) = (sigmoid(real_scores) - 1) * T(1.0 / n);
    return total / n;
}

// The parts of a WGAN-GP discriminator loss (means over the batch).
struct WganGpParts {
    double loss = 0;      // d_fake - d_real + penalty + drift
    double d_real = 0;    // mean D(real)
    double d_fake = 0;    // mean D(fake)
    double penalty = 0;   // lambda * mean (|grad| / norm_scale - 1)^2
    double drift = 0;     // drift * mean D(real)^2
    double grad_norm = 0; // mean |grad D(mixed)| / norm_scale
    double real_sign = 0;    // mean sign(D(real)): ADA's overfitting heuristic r_t (for logits)
    double real_vs_fake = 0; // mean sign(D(real_n) - D(fake_n)): 2 P(D(real) > D(fake)) - 1, paired by sample
};

struct WganGpOptions {
    double lambda = 10.0;
    double drift = 1e-3;
    // The gradient norm is divided by this before (|g| - 1)^2: 2^floor(lod) when D runs on images
    // below the full resolution (docs/cxr_pggan.md, "Scale of the penalty").
    double norm_scale = 1.0;
    // Told after each of D's layers in the last backward pass, where D's parameter gradients become final.
    LayerDone* last_pass_done = nullptr;
};

// The tensors of one WGAN-GP evaluation. A training loop keeps them from step to step, so that after
// its first step an evaluation allocates nothing.
template <class T, class D>
struct WganGpBuffers {
    Tensor<T, D> mixing, mixed, ones, zeros, g, norm, coef, u, dx, dxt, seed, fake_scores;
};

// One WGAN-GP evaluation of discriminator `d` (a bound layer with tangent passes): leaves the exact
// gradient of the whole loss, penalty included, in d's parameter gradients and returns the parts.
// mixed = real + mixing (fake - real), with the given mixing factors (N), one per sample.
template <class Net, class T, class D>
WganGpParts wgan_gp_discriminator(Net& d, const Tensor<T, D>& real, const Tensor<T, D>& fake, const Tensor<T, D>& mixing,
                                  const WganGpOptions& o, WganGpBuffers<T, D>& b) {
    PGG_CHECK(real.shape() == fake.shape(), "wgan_gp: real ", real.shape(), " and fake ", fake.shape(), " differ");
    const index_t N = real.n();
    PGG_CHECK(mixing.shape() == Shape{N}, "wgan_gp: mixing factors ", mixing.shape(), " for ", N, " samples");
    const T inv_n = T(1.0 / double(N));
    WganGpParts parts;
    b.mixed.resize_(real.shape()) = real + (fake - real) * per_sample(mixing);
    for (Tensor<T, D>* t : {&b.g, &b.u, &b.dx, &b.dxt}) t->resize_(real.shape());

    // 1. g = grad_x sum D(mixed); only the input gradient: step 2 writes the parameter gradients.
    const Tensor<T, D>& s_mixed = d.forward(b.mixed);
    b.ones.resize_(s_mixed.shape()).fill(T(1));
    b.zeros.resize_(s_mixed.shape()).fill(T(0));
    d.backward(b.ones, b.g, Accumulate{.input = false, .param_grads = false});
    b.norm.resize_({N}) = sum_sq_per_sample(b.g);
    b.norm = sqrt(b.norm) * T(1.0 / o.norm_scale);
    parts.grad_norm = mean(b.norm);
    parts.penalty = o.lambda * mean(square(b.norm - 1));
    // 2. grad_theta P = grad_theta <u, g> with u = dP/dg fixed: tangent pass along u, seeds (0, 1).
    //    dP/dg_n = 2 lambda / N (|g_n|/s - 1) g_n / (|g_n| s); norms of zero get no push.
    b.coef.resize_({N}) = where(b.norm > 0, T(2 * o.lambda) * inv_n * (b.norm - 1) / (b.norm * T(o.norm_scale * o.norm_scale)), 0);
    b.u = b.g * per_sample(b.coef);
    d.tangent(b.u); // at the x of step 1's forward: no second primal pass
    d.backward_tangent(b.zeros, b.ones, b.dx, b.dxt, Accumulate{false, false});
    // 3. + grad of mean D(fake)
    const Tensor<T, D>& s_fake = d.forward(fake);
    parts.d_fake = mean(s_fake);
    b.fake_scores.resize_(s_fake.shape()).copy_(s_fake); // the next forward overwrites s_fake
    b.seed.resize_(s_fake.shape()).fill(inv_n);
    d.backward(b.seed, b.dx, Accumulate{false, true});
    // 4. + grad of -mean D(real) + drift mean D(real)^2
    const Tensor<T, D>& s_real = d.forward(real);
    parts.d_real = mean(s_real);
    parts.drift = o.drift * mean(square(s_real));
    parts.real_sign = mean(where(s_real > 0, T(1), where(s_real < 0, T(-1), T(0))));
    parts.real_vs_fake = mean(where(s_real > b.fake_scores, T(1), where(s_real < b.fake_scores, T(-1), T(0))));
    b.seed = (T(2 * o.drift) * s_real - 1) * inv_n;
    d.backward(b.seed, b.dx, Accumulate{false, true, true, o.last_pass_done});
    parts.loss = parts.d_fake - parts.d_real + parts.penalty + parts.drift;
    return parts;
}

// The same with one mixing factor u ~ U[0, 1] per sample drawn from `gen`.
template <class Net, class T, class D>
WganGpParts wgan_gp_discriminator(Net& d, const Tensor<T, D>& real, const Tensor<T, D>& fake, Generator& gen,
                                  const WganGpOptions& o, WganGpBuffers<T, D>& b) {
    fill_uniform(b.mixing.resize_({real.n()}), gen);
    return wgan_gp_discriminator(d, real, fake, b.mixing, o, b);
}

// Both, with buffers of their own (allocated per call).
template <class Net, class T, class D>
WganGpParts wgan_gp_discriminator(Net& d, const Tensor<T, D>& real, const Tensor<T, D>& fake, const Tensor<T, D>& mixing,
                                  const WganGpOptions& o = {}) {
    WganGpBuffers<T, D> b;
    return wgan_gp_discriminator(d, real, fake, mixing, o, b);
}
template <class Net, class T, class D>
WganGpParts wgan_gp_discriminator(Net& d, const Tensor<T, D>& real, const Tensor<T, D>& fake, Generator& gen,
                                  const WganGpOptions& o = {}) {
    WganGpBuffers<T, D> b;
    return wgan_gp_discriminator(d, real, fake, gen, o, b);
}

} // namespace pgg::nn
