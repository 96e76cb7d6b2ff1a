// The PG-GAN networks of examples/cxr_pggan: parameter counts against the official code's (docs/cxr_pggan.md), and a forward
// pass at 512x512. Compiling this file is also how docs/ measures the compile time of a 512 pair.
#include "../examples/cxr_pggan/networks.hpp"
#include "../examples/cxr_pggan/param_store.hpp"

#include <catch2/catch.hpp>

#include "reference.hpp"

using namespace pgg;
using namespace pgg::nn;
using pggtest::rel_error;
using pggtest::to_double;

namespace {
template <class Spec>
index_t count_parameters() {
    Net<Spec> net;
    index_t n = 0;
    for (auto& p : parameters(net)) n += p.value.numel();
    return n;
}
} // namespace

TEST_CASE("PG-GAN 512x512: parameter counts match the official networks", "[pggan]") {
    // The official G keeps a toRGB for every resolution and D a fromRGB for every resolution.
    const index_t g = count_parameters<pggan::G<512, 1>>() + count_parameters<pggan::ToRGB<4, 1, pggan::Official>>() +
                      count_parameters<pggan::ToRGB<8, 1, pggan::Official>>() + count_parameters<pggan::ToRGB<16, 1, pggan::Official>>() +
                      count_parameters<pggan::ToRGB<32, 1, pggan::Official>>() + count_parameters<pggan::ToRGB<64, 1, pggan::Official>>() +
                      count_parameters<pggan::ToRGB<128, 1, pggan::Official>>() + count_parameters<pggan::ToRGB<256, 1, pggan::Official>>();
    const index_t d = count_parameters<pggan::D<512, 1>>() + count_parameters<pggan::FromRGB<4, 1, pggan::Official>>() +
                      count_parameters<pggan::FromRGB<8, 1, pggan::Official>>() + count_parameters<pggan::FromRGB<16, 1, pggan::Official>>() +
                      count_parameters<pggan::FromRGB<32, 1, pggan::Official>>() + count_parameters<pggan::FromRGB<64, 1, pggan::Official>>() +
                      count_parameters<pggan::FromRGB<128, 1, pggan::Official>>() + count_parameters<pggan::FromRGB<256, 1, pggan::Official>>();
    CHECK(g == 23067048);
    CHECK(d == 23075169);
}

TEST_CASE("PG-GAN 512x512: G makes an image, D scores it, gradients flow back to the latent", "[pggan]") {
    Net<pggan::G<512, 1>> g;
    Net<pggan::D<512, 1>> d;
    Generator gen(1);
    g.reset_parameters(gen);
    d.reset_parameters(gen);
    Tensor<float> z({1, pggan::Official::latent_size}), dimg, dz;
    fill_normal(z, gen);
    const Tensor<float>& img = g.forward(z);
    REQUIRE(img.shape() == Shape{1, 1, 512, 512});
    const Tensor<float>& score = d.forward(img);
    REQUIRE(score.shape() == Shape{1, 1});
    CHECK(std::isfinite(sum(score)));
    d.backward(Tensor<float>::full({1, 1}, -1.0f), dimg); // the generator's loss -D(G(z))
    g.backward(dimg, dz);
    CHECK(std::isfinite(sum_sq(dz)));
    CHECK(sum_sq(dz) > 0);
    CHECK(sum_sq(parameters(g)[0].grad) > 0);
    std::vector<std::string> names;
    for (auto& p : parameters(g)) names.push_back(p.name);
    CHECK(names.front() == "b4.dense.weight");
    CHECK(std::find(names.begin(), names.end(), "b64.conv1.weight") != names.end());
    CHECK(names.back() == "torgb512.bias");
}

TEST_CASE("PG-GAN 32x32: a WGAN-GP discriminator step at full width", "[pggan]") {
    Net<pggan::G<32, 1>> g;
    Net<pggan::D<32, 1>> d;
    Generator gen(2);
    g.reset_parameters(gen);
    d.reset_parameters(gen);
    Tensor<float> z({4, pggan::Official::latent_size}), real({4, 1, 32, 32});
    fill_normal(z, gen);
    fill_uniform(real, gen, -1.0f, 1.0f);
    const Tensor<float> fake = g.forward(z).clone();
    const WganGpParts parts = wgan_gp_discriminator(d, real, fake, gen, {.norm_scale = 16.0});
    CHECK(std::isfinite(parts.loss));
    CHECK(parts.grad_norm > 0);
    CHECK(optim::gradients_finite(parameters(d)));
}

TEST_CASE("PG-GAN fade-in: alpha 1 is the old resolution's network, alpha 0 the new one's", "[pggan]") {
    using W = pggan::Narrow;
    Net<pggan::GFade<8, 1, W>> gf;
    Net<pggan::DFade<8, 1, W>> df;
    Net<pggan::G<4, 1, W>> g4;
    Net<pggan::G<8, 1, W>> g8;
    Net<pggan::D<4, 1, W>> d4;
    Net<pggan::D<8, 1, W>> d8;
    Generator gen(3);
    gf.reset_parameters(gen);
    df.reset_parameters(gen);
    pggan::ParamStore gs, ds;
    pggan::save_parameters(gf, gs);
    pggan::save_parameters(df, ds);
    // the fading networks hold exactly the union of both resolutions' parameters
    CHECK(pggan::load_parameters(gs, g4).empty());
    CHECK(pggan::load_parameters(gs, g8).empty());
    CHECK(pggan::load_parameters(ds, d4).empty());
    CHECK(pggan::load_parameters(ds, d8).empty());
    CHECK(gs.count("torgb4.weight") == 1);
    CHECK(gs.count("b8.conv1.weight") == 1);
    CHECK(ds.count("fromrgb4.0.weight") == 1);

    Tensor<float> z({4, W::latent_size}), img({4, 1, 8, 8}), up, pooled;
    fill_normal(z, gen);
    fill_uniform(img, gen, -1.0f, 1.0f);
    auto& lerp_g = gf.template get<decltype(gf)::size - 1>();
    auto& lerp_d = df.template get<0>();
    lerp_g.alpha = 1;
    upsample2x_forward(g4.forward(z), up);
    CHECK(rel_error(gf.forward(z), to_double(up)) < 1e-6);
    lerp_g.alpha = 0;
    CHECK(rel_error(gf.forward(z), to_double(g8.forward(z))) < 1e-6);
    lerp_d.alpha = 1;
    avg_pool2x_forward(img, pooled);
    CHECK(rel_error(df.forward(img), to_double(d4.forward(pooled))) < 1e-6);
    lerp_d.alpha = 0;
    CHECK(rel_error(df.forward(img), to_double(d8.forward(img))) < 1e-6);
    lerp_d.alpha = 0.25f; // in between: neither network alone
    CHECK(rel_error(df.forward(img), to_double(d8.forward(img))) > 1e-4);
}

TEST_CASE("PG-GAN networks take a different batch size on every call", "[pggan]") {
    using W = pggan::Narrow;
    Net<pggan::GFade<8, 1, W>> g;
    Net<pggan::DFade<8, 1, W>> d;
    Generator gen(4);
    g.reset_parameters(gen);
    d.reset_parameters(gen);
    for (index_t n : {4, 2, 8}) {
        Tensor<float> z({n, W::latent_size}), dimg, dz;
        fill_normal(z, gen);
        const Tensor<float>& img = g.forward(z);
        REQUIRE(img.shape() == Shape{n, 1, 8, 8});
        const WganGpParts parts = wgan_gp_discriminator(d, img.clone(), img.clone(), gen);
        CHECK(std::isfinite(parts.loss));
        const Tensor<float>& score = d.forward(img);
        d.backward(Tensor<float>::full(score.shape(), 1.0f), dimg);
        g.backward(dimg, dz);
        CHECK(dz.shape() == z.shape());
    }
}

TEST_CASE("Accumulate{.param_grads = false}: the same input gradient, parameter gradients untouched", "[pggan]") {
    using W = pggan::Narrow;
    Net<pggan::DFade<8, 1, W>> d;
    Generator gen(5);
    d.reset_parameters(gen);
    d.template get<0>().alpha = 0.3f;
    Tensor<float> img({4, 1, 8, 8}), full, only_input;
    fill_uniform(img, gen, -1.0f, 1.0f);
    const Tensor<float> seed = Tensor<float>::full({4, 1}, 0.25f);
    d.forward(img);
    d.backward(seed, full);
    for (auto& p : parameters(d)) p.grad.fill(7.0f);
    d.forward(img);
    d.backward(seed, only_input, Accumulate{.input = false, .param_grads = false});
    CHECK(rel_error(only_input, to_double(full)) == 0);
    for (auto& p : parameters(d)) CHECK(sum(p.grad) == Approx(7.0 * double(p.grad.numel())));
}
