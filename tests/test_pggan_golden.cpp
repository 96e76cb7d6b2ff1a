// One whole PG-GAN training step of examples/cxr_pggan against PyTorch: the stage's own code (the
// WGAN-GP D step with its exact second-order penalty gradient, Adam on D, the G step through the
// updated D, Adam on G, the Gs average) in float32 on given weights, latents, reals and mixing factors,
// checked quantity by quantity against the float64 results of tests/golden/make_pggan_step_golden.py
// (tests/golden/pggan_step/*.safetensors): at 4x4, at 8x8 and at 8x8 while fading in.
//
// Every check is a relative error ||pgg - reference|| / ||reference|| (over each tensor, or |a - b| / |b|
// for a scalar) of at most 1e-4, and so is, entry by entry, the error of Adam's update beyond float32
// rounding; a non-finite value anywhere fails. With PGG_GOLDEN_VERBOSE set in the environment, every
// error is printed.
#include "../examples/cxr_pggan/stage_impl.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>
#include <string>

namespace {

using namespace pgg;
using pggan::ParamStore;

// The width the golden files were made for (make_pggan_step_golden.py: FMAP_BASE, FMAP_MAX, LATENT).
using Width = pggan::Width<24, 12, 12>;
constexpr double tolerance = 1e-4;

// ||a - b|| / ||b|| in double; NaN when either holds a non-finite value; 0 when both are exactly zero
// (the old path's gradients at alpha = 0), infinity when only the reference is.
template <class A, class B>
double rel_norm(const Tensor<A>& a, const Tensor<B>& b) {
    REQUIRE(a.shape() == b.shape());
    double num = 0, den = 0;
    for (index_t i = 0; i < a.numel(); ++i) {
        const double x = double(a.data()[i]), y = double(b.data()[i]);
        if (!std::isfinite(x) || !std::isfinite(y)) return std::numeric_limits<double>::quiet_NaN();
        num += (x - y) * (x - y);
        den += y * y;
    }
    if (den == 0) return num == 0 ? 0.0 : std::numeric_limits<double>::infinity();
    return std::sqrt(num / den);
}
double rel_scalar(double a, double b) {
    if (!std::isfinite(a) || !std::isfinite(b)) return std::numeric_limits<double>::quiet_NaN();
    return b == 0 ? (a == 0 ? 0.0 : std::numeric_limits<double>::infinity()) : std::abs(a - b) / std::abs(b);
}

// The largest error of an entry's update p1 - p0 relative to the reference update, beyond the float32
// spacing at p1 (that much rounding is all float32 can do): max over i of
// max(0, |p1_i - ref_i| - ulp(ref_i)) / |ref_i - p0_i|; NaN when anything is not finite.
double update_error(const Tensor<float>& p1, const Tensor<double>& ref, const Tensor<float>& p0) {
    REQUIRE(p1.shape() == ref.shape());
    REQUIRE(p0.shape() == ref.shape());
    double worst = 0;
    for (index_t i = 0; i < p1.numel(); ++i) {
        const double x = p1.data()[i], y = ref.data()[i], step = std::abs(y - double(p0.data()[i]));
        if (!std::isfinite(x) || !std::isfinite(y)) return std::numeric_limits<double>::quiet_NaN();
        const float m = std::abs(float(y));
        const double excess = std::max(0.0, std::abs(x - y) - double(std::nextafter(m, std::numeric_limits<float>::infinity()) - m));
        if (excess > 0) worst = std::max(worst, step > 0 ? excess / step : std::numeric_limits<double>::infinity());
    }
    return worst;
}

class Golden {
public:
    explicit Golden(const std::string& name)
        : f_(io::SafetensorsFile::read(std::string(PGG_TEST_SOURCE_DIR) + "/golden/pggan_step/" + name + ".safetensors")) {}

    template <class T>
    Tensor<T> get(const std::string& name) const {
        INFO("golden tensor " << name);
        REQUIRE(f_.contains(name));
        const auto& dims = f_.tensors().at(name).shape;
        Tensor<T> t(Shape::from_range(dims.begin(), dims.end()));
        f_.copy_to(name, t);
        return t;
    }
    double meta(const std::string& key) const { return std::stod(f_.string_metadata(key)); }
    // The float32 tensors named prefix + name, by name.
    ParamStore store(const std::string& prefix) const {
        ParamStore s;
        for (const auto& [name, info] : f_.tensors())
            if (name.rfind(prefix, 0) == 0) s[name.substr(prefix.size())] = get<float>(name);
        return s;
    }

private:
    io::SafetensorsFile f_;
};

std::set<std::string> names(const ParamStore& s) {
    std::set<std::string> out;
    for (const auto& kv : s) out.insert(kv.first);
    return out;
}

// Checks one quantity's error against the tolerance (and prints it under PGG_GOLDEN_VERBOSE).
class Checker {
public:
    explicit Checker(std::string tag) : tag_(std::move(tag)), verbose_(std::getenv("PGG_GOLDEN_VERBOSE") != nullptr) {}
    void operator()(const std::string& what, double err) {
        INFO(tag_ << ": " << what << ": relative error " << err);
        CHECK(err <= tolerance); // false for NaN
        if (verbose_) std::printf("%-8s %-40s %.3e\n", tag_.c_str(), what.c_str(), err);
    }

private:
    std::string tag_;
    bool verbose_;
};

template <int R>
void check_step(const std::string& tag) {
    const Golden g(tag);
    REQUIRE(int(g.meta("resolution")) == R);
    REQUIRE(int(g.meta("fmap_base")) == Width::fmap_base);
    REQUIRE(int(g.meta("fmap_max")) == Width::fmap_max);
    REQUIRE(int(g.meta("latent_size")) == Width::latent_size);
    REQUIRE(int(g.meta("channels")) == 1);
    // the reference used the Adam settings that a stage gets by default
    const pggan::AdamSettings adam;
    REQUIRE(g.meta("adam_beta1") == adam.beta1);
    REQUIRE(g.meta("adam_beta2") == adam.beta2);
    REQUIRE(g.meta("adam_eps") == adam.eps);
    const double alpha = g.meta("alpha");
    Checker check(tag);

    // the stage with the golden weights, by name: every parameter of its networks is in the file and
    // every parameter in the file is in its networks
    pggan::Stores s;
    s.G = g.store("G0.");
    s.D = g.store("D0.");
    auto stage = pggan::make_stage<R, 1, Width, cpu>(adam);
    Generator gen(1);
    stage->load(s, gen);
    pggan::Stores loaded;
    stage->save(loaded);
    REQUIRE(names(loaded.G) == names(s.G));
    REQUIRE(names(loaded.D) == names(s.D));
    REQUIRE(names(loaded.Gs) == names(s.G));
    stage->set_alpha(alpha);
    stage->set_learning_rates(g.meta("lr_G"), g.meta("lr_D"));

    const Tensor<float> reals = g.get<float>("reals");
    const pggan::StepInputs in{g.get<float>("z_d"), g.get<float>("z_g"), g.get<float>("mixing")};

    // forward passes before the step: G(z_d) through the stage's G, D on the reals and on those fakes
    // through a network of the stage's D type with the same weights
    Tensor<float> fake;
    stage->generate(in.z_d, fake, false);
    check("G(z_d)", rel_norm(fake, g.get<float>("fake")));
    nn::Net<typename pggan::detail::StageNets<R, 1, Width>::Dis> d;
    d.reset_parameters(gen);
    REQUIRE(pggan::load_parameters(s.D, d).empty());
    if constexpr (R > 4) d.template get<0>().alpha = float(alpha);
    check("D(reals)", rel_norm(d.forward(reals), g.get<float>("d_real")));
    check("D(G(z_d))", rel_norm(d.forward(fake), g.get<float>("d_fake")));

    // the step, as training runs it
    const pggan::StepOptions o{.norm_scale = g.meta("norm_scale"),
                               .lambda = g.meta("lambda"),
                               .drift = g.meta("drift"),
                               .G_smoothing = g.meta("G_smoothing")};
    const pggan::StepStats st = stage->train_minibatch(reals, in, o);
    CHECK(st.d_applied);
    CHECK(st.g_applied);
    auto scalar = [&](const std::string& name) { return g.get<double>(name).data()[0]; };
    check("D loss", rel_scalar(st.d.loss, scalar("loss")));
    check("D loss: Wasserstein term", rel_scalar(st.d.d_fake - st.d.d_real, scalar("wasserstein")));
    check("D loss: mean D(real)", rel_scalar(st.d.d_real, scalar("d_real_mean")));
    check("D loss: mean D(fake)", rel_scalar(st.d.d_fake, scalar("d_fake_mean")));
    check("D loss: gradient penalty", rel_scalar(st.d.penalty, scalar("penalty")));
    check("D loss: drift", rel_scalar(st.d.drift, scalar("drift")));
    check("D loss: mean |grad| / norm_scale", rel_scalar(st.d.grad_norm, scalar("grad_norm")));
    check("G loss", rel_scalar(st.g_loss, scalar("g_loss")));

    // the gradients that the step applied: D's of the D step (penalty included), G's of the G step
    ParamStore grad_G, grad_D;
    stage->save_gradients(grad_G, grad_D);
    REQUIRE(names(grad_G) == names(s.G));
    REQUIRE(names(grad_D) == names(s.D));
    for (const auto& [name, grad] : grad_D) check("grad D " + name, rel_norm(grad, g.get<float>("grad_D." + name)));
    for (const auto& [name, grad] : grad_G) check("grad G " + name, rel_norm(grad, g.get<float>("grad_G." + name)));

    // the parameters after Adam, and Gs = lerp(G1, G0, G_smoothing). Adam's first step moves each entry
    // by about lr, 1e-3 of a typical weight, which a relative error of 1e-4 over the tensor would not
    // resolve (a wrong sign, or a wrong lr, would pass): so every entry's update is checked as well.
    pggan::Stores after;
    stage->save(after);
    for (const auto& [name, p1] : after.D) {
        const Tensor<double> ref = g.get<double>("D1." + name);
        check("D after Adam " + name, rel_norm(p1, ref));
        check("D Adam update (per entry) " + name, update_error(p1, ref, s.D[name]));
    }
    for (const auto& [name, p1] : after.G) {
        const Tensor<double> ref = g.get<double>("G1." + name);
        check("G after Adam " + name, rel_norm(p1, ref));
        check("G Adam update (per entry) " + name, update_error(p1, ref, s.G[name]));
        Tensor<double> gs(ref.shape());
        for (index_t i = 0; i < ref.numel(); ++i)
            gs.data()[i] = ref.data()[i] + (double(s.G[name].data()[i]) - ref.data()[i]) * o.G_smoothing;
        check("Gs " + name, rel_norm(after.Gs[name], gs));
    }
}

} // namespace

TEST_CASE("PG-GAN step against PyTorch: 4x4", "[pggan][golden]") { check_step<4>("r4"); }

TEST_CASE("PG-GAN step against PyTorch: 8x8, stable (the fade-in networks at alpha 0)", "[pggan][golden]") {
    check_step<8>("r8");
}

TEST_CASE("PG-GAN step against PyTorch: 8x8 fading in over 4x4, alpha 0.5", "[pggan][golden]") {
    check_step<8>("r8_fade");
}

// docs/design.md: a training loop's steady state allocates nothing (every buffer is the layer's, the
// loss's or the stage's own, sized on the first step). Fading 8x8, so that Lerp runs in both networks;
// the whole minibatch at once, then in two equal chunks.
TEST_CASE("PG-GAN stage: after its first step, a training step allocates nothing", "[pggan]") {
    auto stage = pggan::make_stage<8, 1, Width, cpu>(pggan::AdamSettings{});
    Generator gen(3), latents(4), mixing(5);
    stage->load(pggan::Stores{}, gen);
    stage->set_alpha(0.5);
    Tensor<float> reals({8, 1, 8, 8});
    fill_normal(reals, gen);
    for (const int per_device : {0, 4}) {
        INFO("max_per_device " << per_device);
        const pggan::StepOptions o{.max_per_device = per_device};
        const auto start = memory_stats<cpu>().allocations;
        stage->train_minibatch(reals, latents, mixing, o);
        const auto before = memory_stats<cpu>().allocations;
        if (per_device == 0) CHECK(before > start); // the first step sizes the buffers: the counter sees it
        const pggan::StepStats st = stage->train_minibatch(reals, latents, mixing, o);
        CHECK(memory_stats<cpu>().allocations == before);
        CHECK(std::isfinite(st.d.loss));
        CHECK(std::isfinite(st.g_loss));
        CHECK(st.d_applied);
        CHECK(st.g_applied);
    }
}
