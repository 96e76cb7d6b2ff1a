#pragma once
// Augment: differentiable image augmentation for a discriminator's inputs (Karras et al. 2020, "Training
// generative adversarial networks with limited data"; Zhao et al. 2020, "Differentiable augmentation").
//
// Each forward pass draws, per sample, an affine map y = A x + b from AugmentOptions: a geometric
// transform (flips, 90-degree rotations, integer translation, isotropic scaling, rotation, anisotropic
// scaling, fractional translation; one bilinear resampling with mirrored borders), brightness, contrast,
// additive Gaussian noise and a cutout square, each applied with probability p. The map is fixed for the
// pass, so the layer is linear in x: its tangent is A x' and both vector-Jacobian products are A^T,
// which keeps a WGAN-GP penalty's second-order path exact through it.
//
// In inference mode (train(false)) the layer is the identity.
//
// Draws are a pure function of (seed, call, sample id): reseed(seed, ids) numbers the forward passes
// that follow 0, 1, 2, ... and gives the rows their ids (default 0..N-1), so a sample of a minibatch
// split into chunks, or across processes, gets the same augmentation as in one pass over the whole.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "../kernels/augment.hpp"
#include "layer.hpp"

namespace pgg::nn {

// The augmentations and their strengths (ADA's pipeline, Karras et al. 2020, Appendix B); 0 turns
// one off. Sizes are fractions of the image size.
struct AugmentOptions {
    double p = 0;                   // probability of each augmentation, per sample
    bool xflip = false;             // lateral flip (off: chest anatomy is not mirror-symmetric)
    bool rotate90 = false;          // rotation by a multiple of 90 degrees
    double translate = 0.125;       // integer translation, uniform within +-this
    double scale = 0.2;             // isotropic scaling by 2^N(0, scale^2)
    double rotate = 10;             // rotation, uniform within +-this many degrees
    double aniso = 0.2;             // anisotropic scaling by 2^N(0, aniso^2) and its inverse
    double translate_frac = 0.125;  // fractional translation, N(0, translate_frac^2)
    double brightness = 0.2;        // added: N(0, brightness^2)
    double contrast = 0.5;          // gain 2^N(0, contrast^2)
    double noise = 0.1;             // Gaussian noise of standard deviation |N(0, noise^2)|
    double cutout = 0.5;            // a square of this side set to 0

    bool active() const { return p > 0; }
};

// DiffAugment's policy "translation, color, cutout" (Zhao et al. 2020): always applied (p = 1); the
// colour augmentations of a gray image are brightness and contrast.
inline AugmentOptions diffaugment_options() {
    return {.p = 1, .translate = 0.125, .scale = 0, .rotate = 0, .aniso = 0, .translate_frac = 0, .brightness = 0.2,
            .contrast = 0.5, .noise = 0, .cutout = 0.5};
}

namespace detail {
// Successive uniforms and normals from one sample's stream.
class AugmentDraws {
public:
    explicit AugmentDraws(const Generator& g) : g_(g) {}
    double uniform() {
        if (left_ == 0) {
            PGG_CHECK(block_ < AugmentNoise::first_block, "Augment: too many draws per sample");
            RandomValues<double>::uniform(g_, block_++, 0.0, 1.0, buf_);
            left_ = 2;
        }
        return buf_[2 - left_--];
    }
    double normal() { return std::sqrt(-2 * std::log(uniform())) * std::cos(2 * std::numbers::pi * uniform()); }
    bool happens(double p) { return uniform() < p; }

private:
    Generator g_;
    std::uint64_t block_ = 0;
    double buf_[2] = {0, 0};
    int left_ = 0;
};

// 2x3 affine maps (the last row 0 0 1 implied), composed as matrices.
struct Affine {
    double m[6] = {1, 0, 0, 0, 1, 0};
    Affine then(const Affine& b) const { // this * b: b maps first
        const double* a = m;
        return {{a[0] * b.m[0] + a[1] * b.m[3], a[0] * b.m[1] + a[1] * b.m[4], a[0] * b.m[2] + a[1] * b.m[5] + a[2],
                 a[3] * b.m[0] + a[4] * b.m[3], a[3] * b.m[1] + a[4] * b.m[4], a[3] * b.m[2] + a[4] * b.m[5] + a[5]}};
    }
    static Affine scale(double sx, double sy) { return {{sx, 0, 0, 0, sy, 0}}; }
    static Affine shift(double tx, double ty) { return {{1, 0, tx, 0, 1, ty}}; }
    static Affine rotation(double a) { return {{std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0}}; }
};
} // namespace detail

// One sample's parameters (a row of augment_param::count values) drawn from stream g for an H x W
// image. Returns false when no augmentation was drawn (the row is then the identity).
//
// The geometric augmentations are drawn as the map from output to source coordinates directly: each
// one's distribution is symmetric under inversion (translations and rotations symmetric about 0,
// log-scales normal about 0, the flips and quarter turns a group), so this is the same distribution
// as drawing the transforms and inverting their product.
template <class T>
bool draw_augment(const AugmentOptions& o, const Generator& g, std::uint64_t id, index_t H, index_t W, T* row) {
    using namespace augment_param;
    using detail::Affine;
    detail::AugmentDraws r(g);
    const double p = std::clamp(o.p, 0.0, 1.0);
    bool any = false;
    Affine a;
    auto apply = [&](const Affine& b) { a = a.then(b), any = true; };
    if (o.xflip && r.happens(p) && r.uniform() < 0.5) apply(Affine::scale(-1, 1));
    if (o.rotate90 && r.happens(p)) apply(Affine::rotation(std::floor(r.uniform() * 4) * std::numbers::pi / 2));
    if (o.translate > 0 && r.happens(p)) {
        const double tx = std::round((r.uniform() * 2 - 1) * o.translate * double(W));
        const double ty = std::round((r.uniform() * 2 - 1) * o.translate * double(H));
        apply(Affine::shift(tx, ty));
    }
    if (o.scale > 0 && r.happens(p)) {
        const double s = std::exp2(r.normal() * o.scale);
        apply(Affine::scale(s, s));
    }
    if (o.rotate > 0 && r.happens(p)) apply(Affine::rotation((r.uniform() * 2 - 1) * o.rotate * std::numbers::pi / 180));
    if (o.aniso > 0 && r.happens(p)) {
        const double s = std::exp2(r.normal() * o.aniso);
        apply(Affine::scale(s, 1 / s));
    }
    if (o.translate_frac > 0 && r.happens(p)) apply(Affine::shift(r.normal() * o.translate_frac * double(W), r.normal() * o.translate_frac * double(H)));
    double c = 1, b = 0, sd = 0, cut = 0, cx = 0, cy = 0;
    if (o.brightness > 0 && r.happens(p)) b = r.normal() * o.brightness, any = true;
    if (o.contrast > 0 && r.happens(p)) c = std::exp2(r.normal() * o.contrast), any = true;
    if (o.noise > 0 && r.happens(p)) sd = std::abs(r.normal() * o.noise), any = true;
    if (o.cutout > 0 && r.happens(p)) cx = r.uniform(), cy = r.uniform(), cut = o.cutout / 2, any = true;
    for (int k = 0; k < 6; ++k) row[k] = T(a.m[k]);
    row[gain] = T(c);
    row[offset] = T(c * b); // brightness, then contrast about 0 (mid-gray of images in [-1, 1])
    row[noise_sd] = T(sd);
    row[id_lo] = T(id & 0xffff);
    row[id_hi] = T(id >> 16 & 0xffff);
    row[cut_x] = T(cx);
    row[cut_y] = T(cy);
    row[cut_half] = T(cut);
    return any;
}

struct Augment {
    static constexpr int in_channels = any_channels;
    static constexpr int out_channels = same_channels;

    template <class T, class D>
    struct bind : ParameterFree {
        using value_type = T;
        using device_type = D;
        using Spec = Augment;

        AugmentOptions options;

        void train(bool on) { training_ = on; } // in inference mode, the identity

        // Forward passes from here on are calls 0, 1, 2, ... of `seed`; row r of their inputs is sample
        // ids[r] (empty: r). Ids must be below 2^32.
        void reseed(std::uint64_t seed, std::vector<index_t> ids = {}) {
            seed_ = seed;
            call_ = 0;
            ids_ = std::move(ids);
        }

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            PGG_CHECK(x.rank() == 4, "Augment: input ", x.shape(), " should be (N, C, H, W)");
            const index_t N = x.n();
            PGG_CHECK(ids_.empty() || index_t(ids_.size()) == N, "Augment: ", ids_.size(), " sample ids for ", N, " samples");
            x_shape_ = x.shape();
            const AugmentNoise noise{seed_, call_++};
            identity_ = true;
            params_.resize_({N, index_t(augment_param::count)});
            if (options.active() && training_)
                for (index_t n = 0; n < N; ++n) {
                    const std::uint64_t id = std::uint64_t(ids_.empty() ? n : ids_[std::size_t(n)]);
                    PGG_CHECK(id < (std::uint64_t(1) << 32), "Augment: sample id ", id, " is not below 2^32");
                    const Generator g(noise.seed, noise.call << 32 | id);
                    identity_ &= !draw_augment(options, g, id, x.h(), x.w(), params_.data() + n * augment_param::count);
                }
            if (identity_) return x; // nothing drawn: the input itself, at no cost
            device_params_ = on_device(params_, copy_); // params_ itself on the CPU
            augment_forward(x, device_params_, noise, true, y_);
            return y_;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            adjoint(dy, dx, acc.input);
        }
        const Tensor<T, D>& tangent(const Tensor<T, D>& xt) {
            if (identity_) return xt;
            augment_forward(xt, device_params_, AugmentNoise{}, false, yt_);
            return yt_;
        }
        void backward_tangent(const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt,
                              Accumulate acc = {}) {
            adjoint(dy, dx, acc.input);
            adjoint(dyt, dxt, acc.input);
        }

        // Whether the last forward pass left every sample as it was.
        bool identity() const { return identity_; }

    private:
        void adjoint(const Tensor<T, D>& dy, Tensor<T, D>& dx, bool accumulate) {
            if (identity_) {
                detail::prepare_grad(dx, x_shape_, accumulate);
                detail::write_grad(dx, dy, accumulate);
                return;
            }
            augment_adjoint(dy, device_params_, dx, detail::prepare_grad(dx, x_shape_, accumulate));
        }

        std::uint64_t seed_ = 0, call_ = 0;
        std::vector<index_t> ids_;
        Shape x_shape_;
        bool identity_ = true, training_ = true;
        Tensor<T> params_;
        Tensor<T, D> device_params_, copy_, y_, yt_; // device_params_: params_ on D (copy_ off the CPU)
    };
};

// A network that sees its inputs augmented: forward(x) = net(augment(x)), with the backward and
// tangent passes of the composition. Holds `net` by reference; its parameters are net's.
template <class Net>
class Augmented {
public:
    using T = typename Net::value_type;
    using D = typename Net::device_type;
    using Layer = nn::Net<Augment, T, D>;

    explicit Augmented(Net& net) : net_(net) {}
    Layer augment;

    const Tensor<T, D>& forward(const Tensor<T, D>& x) { return net_.forward(augment.forward(x)); }
    void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
        if (augment.identity()) return net_.backward(dy, dx, acc);
        net_.backward(dy, dz_, {.input = false, .params = acc.params, .param_grads = acc.param_grads, .done = acc.done});
        augment.backward(dz_, dx, {.input = acc.input});
    }
    const Tensor<T, D>& tangent(const Tensor<T, D>& xt) { return net_.tangent(augment.tangent(xt)); }
    void backward_tangent(const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt, Accumulate acc = {}) {
        if (augment.identity()) return net_.backward_tangent(dy, dyt, dx, dxt, acc);
        net_.backward_tangent(dy, dyt, dz_, dzt_, {.input = false, .params = acc.params, .param_grads = acc.param_grads, .done = acc.done});
        augment.backward_tangent(dz_, dzt_, dx, dxt, {.input = acc.input});
    }
    template <class F>
    void for_each_parameter(F&& f, const std::string& prefix = "") {
        net_.for_each_parameter(std::forward<F>(f), prefix);
    }

private:
    Net& net_;
    Tensor<T, D> dz_, dzt_;
};

} // namespace pgg::nn
