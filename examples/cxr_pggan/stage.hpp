#pragma once
// One training stage: the networks at one resolution (fading in over the one below, or the 4x4 start),
// their optimisers and Gs, behind a small virtual interface so that the training loop can switch
// resolutions at run time while every network type stays a compile-time Sequential.
#include <memory>
#include <string>

#include <pgg/dist/gradients.hpp>
#include <pgg/pgg.hpp>

#include "param_store.hpp"

namespace pggan {

struct Stores {
    ParamStore G, Gs, D;
    AdamStore adam_G, adam_D; // carried to the next stage only when reset_opt_for_new_lod is false
};

struct StepOptions {
    int max_per_device = 0;   // split minibatches into chunks of at most this many (0: no limit)
    double norm_scale = 1;    // WGAN-GP: 2^floor(lod)
    double lambda = 10, drift = 1e-3;
    double G_smoothing = 0.999;
    // Data parallelism (docs/distributed.md): this process holds its share of a minibatch of
    // `global_minibatch` samples, and `reduce` sums the gradients and statistics over the processes
    // (nullptr: this process holds the whole minibatch).
    pgg::dist::Reducer* reduce = nullptr;
    pgg::index_t global_minibatch = 0;
};

// What one minibatch (a D step and a G step) reports.
struct StepStats {
    pgg::nn::WganGpParts d;
    double g_loss = 0; // -mean D(G(z))
    bool d_applied = true, g_applied = true;
};

// Given inputs of one minibatch in place of the random draws (to compare a step with another
// implementation): the latents of the D step and of the G step (N, latent_size), and the gradient
// penalty's mixing factors (N), and the augmentations' seed and the samples' ids (empty: 0..N-1; a
// process's share of a minibatch gives the ids its samples have in the whole, nn/augment.hpp).
struct StepInputs {
    pgg::Tensor<float> z_d, z_g, mixing;
    std::uint64_t augment_seed = 0;
    std::vector<pgg::index_t> sample_ids;
};

struct AdamSettings {
    double beta1 = 0, beta2 = 0.99, eps = 1e-8;
};

class StageBase {
public:
    virtual ~StageBase() = default;
    virtual int resolution() const = 0;
    virtual int latent_size() const = 0;
    // Fade weight of the old path (lod - floor(lod)); 0 when stable.
    virtual void set_alpha(double alpha) = 0;
    // Takes the stored parameters by name; the rest keep a fresh initialisation from `gen` (Gs copies G's).
    virtual void load(const Stores& s, pgg::Generator& gen) = 0;
    virtual void save(Stores& s) = 0;
    virtual void set_learning_rates(double g, double d) = 0;
    // What D's inputs go through in training: reals, fakes and the penalty's mixed images alike.
    virtual void set_augment(const pgg::nn::AugmentOptions& o) = 0;
    virtual void reset_optimizers() = 0;
    // Adam's state by parameter name, to carry it into the next stage (new layers' moments start at 0).
    virtual void save_optimizers(Stores& s) = 0;
    virtual void load_optimizers(const Stores& s) = 0;
    virtual void save_optimizers(pgg::io::SafetensorsWriter& w) = 0;
    virtual void load_optimizers(const pgg::io::SafetensorsFile& f) = 0;
    // One D step (WGAN-GP on `reals`) and one G step; latents from `latents`, penalty mixing and the
    // augmentations' seed from `mixing`.
    virtual StepStats train_minibatch(const pgg::Tensor<float>& reals, pgg::Generator& latents, pgg::Generator& mixing,
                                      const StepOptions& o) = 0;
    // The same step on given latents and mixing factors.
    virtual StepStats train_minibatch(const pgg::Tensor<float>& reals, const StepInputs& in, const StepOptions& o) = 0;
    // The gradients that the last train_minibatch applied, by parameter name: G's of its G step and D's
    // of its D step (the G step's pass through D touches no parameter gradient).
    virtual void save_gradients(ParamStore& G, ParamStore& D) = 0;
    // Images from latents z (N, latent_size) through Gs (or G when `use_gs` is false).
    virtual void generate(const pgg::Tensor<float>& z, pgg::Tensor<float>& images, bool use_gs = true) = 0;
};

// The stage at resolution R for C channels and width W on device Dev (defined in stage_impl.hpp,
// instantiated by generated stage_<W>_<R>.cpp and stage_cuda_<W>_<R>.cu files).
template <int R, int C, class W, class Dev>
std::unique_ptr<StageBase> make_stage(const AdamSettings& adam);

// Where the networks train: "cpu", or "cuda" in builds with the CUDA backend.
// Throws, naming what this build has, unless that stage was compiled (cheap: nothing is allocated).
void require_stage(int fmap_base, int fmap_max, int latent_size, int resolution, int channels,
                   const std::string& device = "cpu");

// The compiled (fmap_base, fmap_max, latent_size) presets; throws for others, naming what exists.
std::unique_ptr<StageBase> create_stage(int fmap_base, int fmap_max, int latent_size, int resolution, int channels,
                                        const AdamSettings& adam, const std::string& device = "cpu");

} // namespace pggan
