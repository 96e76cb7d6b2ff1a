#pragma once
// The training stage at one resolution (see stage.hpp). Included only by the generated
// stage_<width>_<R>.cpp (and, compiled by nvcc, stage_cuda_<width>_<R>.cu) files, so that each
// resolution compiles in a translation unit of its own. The networks live on device Dev; the interface
// takes and returns host tensors, and a step copies only the reals in and a few scalars out.
#include <algorithm>
#include <optional>

#include "networks.hpp"
#include "stage.hpp"

namespace pggan {

namespace detail {
// The networks a stage trains: the 4x4 start, or R fading in over R/2 (alpha 0 once stable).
template <int R, int C, class W>
struct StageNets {
    using Gen = GFade<R, C, W>;
    using Dis = DFade<R, C, W>;
};
template <int C, class W>
struct StageNets<4, C, W> {
    using Gen = G<4, C, W>;
    using Dis = D<4, C, W>;
};
} // namespace detail

template <int R, int C, class W, class Dev>
class Stage final : public StageBase {
    using GNet = pgg::nn::Net<typename detail::StageNets<R, C, W>::Gen, float, Dev>;
    using DNet = pgg::nn::Net<typename detail::StageNets<R, C, W>::Dis, float, Dev>;
    using Tensor = pgg::Tensor<float, Dev>;
    using HostTensor = pgg::Tensor<float>;
    using index_t = pgg::index_t;

public:
    explicit Stage(const AdamSettings& a)
        : gp_(pgg::nn::parameters(g_)), gsp_(pgg::nn::parameters(gs_)), dp_(pgg::nn::parameters(d_)),
          adam_g_(gp_, {.lr = 1e-3, .beta1 = a.beta1, .beta2 = a.beta2, .eps = a.eps}),
          adam_d_(dp_, {.lr = 1e-3, .beta1 = a.beta1, .beta2 = a.beta2, .eps = a.eps}), ema_(gp_, gsp_) {}

    int resolution() const override { return R; }
    int latent_size() const override { return W::latent_size; }

    void set_alpha(double alpha) override {
        if constexpr (R > 4) {
            g_.template get<GNet::size - 1>().alpha = float(alpha);
            gs_.template get<GNet::size - 1>().alpha = float(alpha);
            d_.template get<0>().alpha = float(alpha);
        } else {
            PGG_CHECK(alpha == 0, "the 4x4 stage does not fade");
        }
    }

    void load(const Stores& s, pgg::Generator& gen) override {
        g_.reset_parameters(gen);
        d_.reset_parameters(gen);
        load_parameters(s.G, g_);
        load_parameters(s.D, d_);
        for (std::size_t i = 0; i < gp_.size(); ++i) gsp_[i].value.copy_(gp_[i].value);
        load_parameters(s.Gs, gs_);
    }
    void save(Stores& s) override {
        save_parameters(g_, s.G);
        save_parameters(gs_, s.Gs);
        save_parameters(d_, s.D);
    }
    void set_augment(const pgg::nn::AugmentOptions& o) override { aug_d_.augment.options = o; }
    void set_learning_rates(double g, double d) override {
        adam_g_.set_lr(g);
        adam_d_.set_lr(d);
    }
    void reset_optimizers() override {
        adam_g_.reset();
        adam_d_.reset();
    }
    void save_optimizers(Stores& s) override {
        save_adam(adam_g_, s.adam_G);
        save_adam(adam_d_, s.adam_D);
    }
    void load_optimizers(const Stores& s) override {
        load_adam(s.adam_G, adam_g_);
        load_adam(s.adam_D, adam_d_);
    }
    void save_optimizers(pgg::io::SafetensorsWriter& w) override {
        pgg::io::add_adam(w, adam_g_, "adam_G.");
        pgg::io::add_adam(w, adam_d_, "adam_D.");
    }
    void load_optimizers(const pgg::io::SafetensorsFile& f) override {
        pgg::io::load_adam(f, adam_g_, "adam_G.");
        pgg::io::load_adam(f, adam_d_, "adam_D.");
    }

    StepStats train_minibatch(const HostTensor& host_reals, pgg::Generator& latents, pgg::Generator& mixing,
                              const StepOptions& o) override {
        // the augmentations' seed from the mixing stream's position, which every step moves on
        const std::uint64_t seed = pgg::mix64(mixing.seed ^ pgg::mix64(mixing.stream ^ pgg::mix64(mixing.offset)));
        return step(
            host_reals, o, seed, {}, [&](Tensor& z, bool) { pgg::fill_normal(z, latents); },
            [&](const Tensor& real, const Tensor& fake, index_t, index_t, const pgg::nn::WganGpOptions& gp) {
                return pgg::nn::wgan_gp_discriminator(aug_d_, real, fake, mixing, gp, gp_buffers_);
            });
    }
    StepStats train_minibatch(const HostTensor& host_reals, const StepInputs& in, const StepOptions& o) override {
        const index_t N = host_reals.rank() > 0 ? host_reals.size(0) : 0;
        const pgg::Shape z_shape{N, W::latent_size};
        PGG_CHECK(in.z_d.shape() == z_shape && in.z_g.shape() == z_shape && in.mixing.shape() == pgg::Shape{N},
                  "train_minibatch: latents ", in.z_d.shape(), " and ", in.z_g.shape(), ", mixing factors ",
                  in.mixing.shape(), " for ", N, " reals");
        const Tensor& u = pgg::on_device(in.mixing, mixing_);
        PGG_CHECK(in.sample_ids.empty() || index_t(in.sample_ids.size()) == N, "train_minibatch: ", in.sample_ids.size(),
                  " sample ids for ", N, " reals");
        return step(
            host_reals, o, in.augment_seed, in.sample_ids, [&](Tensor& z, bool g_step) { z.copy_(g_step ? in.z_g : in.z_d); },
            [&](const Tensor& real, const Tensor& fake, index_t b0, index_t b1, const pgg::nn::WganGpOptions& gp) {
                return pgg::nn::wgan_gp_discriminator(aug_d_, real, fake, u.slice(b0, b1), gp);
            });
    }
    void save_gradients(ParamStore& G, ParamStore& D) override {
        g_.for_each_parameter([&](const std::string& name, auto&, auto& grad) { G[name] = pgg::to<pgg::cpu>(grad); });
        d_.for_each_parameter([&](const std::string& name, auto&, auto& grad) { D[name] = pgg::to<pgg::cpu>(grad); });
    }

private:
    // One D step and one G step. latents(z, g_step) fills z (N, latent_size) with the D step's latents,
    // then with the G step's; penalty(real, fake, b0, b1, options) is the WGAN-GP loss of samples [b0, b1).
    // D's inputs are augmented with draws of (augment_seed, the samples' ids): calls 0-2 for the
    // penalty's mixed images, the fakes and the reals of the D step, call 0 of augment_seed + 1 for the
    // G step's fakes, chunk by chunk, so that chunks draw what one pass over the minibatch would.
    template <class Latents, class Penalty>
    StepStats step(const HostTensor& host_reals, const StepOptions& o, std::uint64_t augment_seed, const std::vector<index_t>& ids,
                   Latents&& latents, Penalty&& penalty) {
        PGG_CHECK(host_reals.rank() == 4 && host_reals.c() == C && host_reals.h() == R && host_reals.w() == R, "stage ", R,
                  "x", R, ": reals have shape ", host_reals.shape());
        const Tensor& reals = pgg::on_device(host_reals, reals_);
        const index_t N = reals.n(), NG = o.reduce ? o.global_minibatch : N;
        PGG_CHECK(NG >= N, "stage: a share of ", N, " samples of a minibatch of ", NG);
        const index_t chunks = o.max_per_device > 0 ? (N + o.max_per_device - 1) / o.max_per_device : 1;
        auto chunk = [&](index_t k) { return std::pair{N * k / chunks, N * (k + 1) / chunks}; };
        pgg::nn::WganGpOptions gp{.lambda = o.lambda, .drift = o.drift, .norm_scale = o.norm_scale};
        StepStats st;
        // Data-parallel: each share's mean gradient, weighted by its part of the minibatch, summed over the
        // processes. D's sums start during the last backward pass of a single chunk (where its gradients
        // become final), G's during the last chunk's backward pass.
        const double share = double(N) / double(NG);
        if (o.reduce) {
            if (!d_sums_) d_sums_.emplace(dp_, d_.parameters_per_layer());
            if (!g_sums_) g_sums_.emplace(gp_, g_.parameters_per_layer());
            d_sums_->begin(*o.reduce, float(share));
            if (chunks == 1) gp.last_pass_done = &*d_sums_;
        }
        auto augment_chunk = [&](std::uint64_t s, index_t b0, index_t b1) {
            std::vector<index_t> chunk_ids(std::size_t(b1 - b0));
            for (index_t i = b0; i < b1; ++i) chunk_ids[std::size_t(i - b0)] = ids.empty() ? i : ids[std::size_t(i)];
            aug_d_.augment.reseed(s, std::move(chunk_ids));
        };

        // D step: the gradient of the whole minibatch's loss, accumulated chunk by chunk.
        z_.resize_({N, W::latent_size});
        latents(z_, false);
        for (index_t k = 0; k < chunks; ++k) {
            const auto [b0, b1] = chunk(k);
            const double w = double(b1 - b0) / double(N);
            augment_chunk(augment_seed, b0, b1);
            const Tensor& fake = g_.forward(z_.slice(b0, b1));
            const auto parts = penalty(reals.slice(b0, b1), fake, b0, b1, gp);
            st.d.loss += w * parts.loss;
            st.d.d_real += w * parts.d_real;
            st.d.d_fake += w * parts.d_fake;
            st.d.penalty += w * parts.penalty;
            st.d.drift += w * parts.drift;
            st.d.grad_norm += w * parts.grad_norm;
            st.d.real_sign += w * parts.real_sign;
            st.d.real_vs_fake += w * parts.real_vs_fake;
            if (chunks > 1) accumulate(dp_, d_acc_, k == 0, float(w));
        }
        if (chunks > 1)
            for (std::size_t i = 0; i < dp_.size(); ++i) dp_[i].grad.copy_(d_acc_[i]);
        if (o.reduce) {
            d_sums_->end();
            double parts[] = {st.d.loss,      st.d.d_real,    st.d.d_fake,         st.d.penalty, st.d.drift,
                              st.d.grad_norm, st.d.real_sign, st.d.real_vs_fake};
            for (double& v : parts) v *= share;
            o.reduce->sum(parts, std::size(parts));
            st.d = {parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6], parts[7]};
        }
        st.d_applied = adam_d_.step();

        // G step: loss -mean D(G(z)) on fresh latents; G's gradients add up over the chunks.
        latents(z_, true);
        if (o.reduce) g_sums_->begin(*o.reduce, 1.0f);
        for (index_t k = 0; k < chunks; ++k) {
            const auto [b0, b1] = chunk(k);
            augment_chunk(augment_seed + 1, b0, b1);
            const Tensor& fake = g_.forward(z_.slice(b0, b1));
            const Tensor& score = aug_d_.forward(fake);
            st.g_loss -= double(pgg::sum(score)) / double(NG);
            seed_.resize_(score.shape()).fill(-1.0f / float(NG));
            dfake_.resize_(fake.shape()); // chunks may differ in size
            dz_.resize_({b1 - b0, W::latent_size});
            aug_d_.backward(seed_, dfake_, pgg::nn::Accumulate{.input = false, .param_grads = false}); // only d score / d image
            g_.backward(dfake_, dz_, pgg::nn::Accumulate{false, k > 0, true, o.reduce && k + 1 == chunks ? &*g_sums_ : nullptr});
        }
        if (o.reduce) {
            g_sums_->end();
            o.reduce->sum(&st.g_loss, 1);
        }
        st.g_applied = adam_g_.step();
        ema_.update(o.G_smoothing);
        return st;
    }

public:
    void generate(const HostTensor& host_z, HostTensor& images, bool use_gs) override {
        PGG_CHECK(host_z.rank() == 2 && host_z.size(1) == W::latent_size, "generate: latents ", host_z.shape(),
                  " should be (N, ", W::latent_size, ")");
        const Tensor& z = pgg::on_device(host_z, z_in_);
        GNet& net = use_gs ? gs_ : g_;
        const index_t N = z.size(0), batch = std::max<index_t>(1, 16 * 256 * 256 / (R * R));
        images.resize_({N, C, R, R});
        for (index_t b = 0; b < N; b += batch) {
            const index_t e = std::min(N, b + batch);
            images.slice(b, e).copy_(net.forward(z.slice(b, e)));
        }
    }

private:
    // acc (+)= w * grad for every parameter.
    static void accumulate(const pgg::optim::ParameterList<float, Dev>& params, std::vector<Tensor>& acc, bool first, float w) {
        if (acc.size() != params.size()) {
            acc.clear();
            for (const auto& p : params) acc.emplace_back(p.grad.shape());
        }
        for (std::size_t i = 0; i < params.size(); ++i) {
            if (first) acc[i] = params[i].grad * w;
            else acc[i] = acc[i] + params[i].grad * w;
        }
    }

    GNet g_, gs_;
    DNet d_;
    pgg::nn::Augmented<DNet> aug_d_{d_}; // D behind the augmentations (identity while p is 0)
    pgg::optim::ParameterList<float, Dev> gp_, gsp_, dp_;
    pgg::optim::Adam<float, Dev> adam_g_, adam_d_;
    pgg::optim::ExponentialMovingAverage<float, Dev> ema_;
    // Kept from step to step, so that a step allocates nothing after the first (with equal chunks).
    Tensor z_, seed_, dfake_, dz_, reals_, z_in_, mixing_; // reals_, z_in_, mixing_: device copies of host inputs (GPU only)
    std::optional<pgg::dist::OverlappedSum<float, Dev>> d_sums_, g_sums_; // data-parallel sums, made at the first such step
    pgg::nn::WganGpBuffers<float, Dev> gp_buffers_;
    std::vector<Tensor> d_acc_;
};

template <int R, int C, class W, class Dev>
std::unique_ptr<StageBase> make_stage(const AdamSettings& adam) {
    return std::make_unique<Stage<R, C, W, Dev>>(adam);
}

} // namespace pggan
