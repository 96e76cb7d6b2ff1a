#include "layer_check.hpp"
#include "small_discriminator.hpp"

using namespace pgg;
using namespace pgg::nn;
using pggtest::check_layer;
using pggtest::check_layer_tangent;

using pggtest::SmallD;

TEST_CASE("Sequential: parameter names map onto a PyTorch state_dict", "[sequential]") {
    Net<SmallD> d;
    std::vector<std::string> names;
    for (auto& p : parameters(d)) names.push_back(p.name);
    const std::vector<std::string> want = {"fromrgb.weight", "fromrgb.bias", "block8.conv0.weight", "block8.conv0.bias",
                                           "block8.conv1.weight", "block8.conv1.bias", "conv.weight", "conv.bias",
                                           "dense0.weight", "dense0.bias", "dense1.weight", "dense1.bias"};
    CHECK(names == want);
    Net<Sequential<Conv2d<1, 2, 3>, ReLU, Conv2d<2, 2, 3>>> plain;
    CHECK(parameters(plain)[2].name == "2.weight");
    STATIC_REQUIRE(SmallD::in_channels == 1);
    STATIC_REQUIRE(SmallD::out_channels_for<1> == 1);
    STATIC_REQUIRE(Sequential<Conv2d<3, 5, 3>, Flatten>::out_channels_for<3> == any_channels);
    STATIC_REQUIRE(pggtest::SmallBlock::out_channels_for<4> == 6);
}

TEST_CASE("Sequential: first-order gradients of a nested network", "[sequential]") {
    check_layer<SmallD>({4, 1, 8, 8}, {.max_points = 25});
    check_layer<Sequential<Conv2d<2, 3, 3>, Tanh, Sequential<Upsample2x, Conv2d<3, 2, 1>>, PixelNorm>>({2, 2, 3, 3});
}

TEST_CASE("Sequential: the tangent pass of a whole discriminator", "[sequential]") {
    check_layer_tangent<SmallD>({4, 1, 8, 8}, {.max_points = 25});
}

// Conv2d + LeakyReLU: the convolution applies the activation as it stores its output (one pass fewer);
// the results are those of the two layers run one after the other.
TEST_CASE("Sequential: Conv2d fused with the leaky ReLU after it", "[sequential]") {
    using Fused = Sequential<Conv2d<3, 16, 3>, LeakyReLU<0.2f>, Conv2d<16, 8, 3, LayerOptions{.stride = 2}>, ReLU>;
    STATIC_REQUIRE(nn::detail::fuses_activation<Conv2d<3, 16, 3>, LeakyReLU<0.2f>, float, cpu>());
    STATIC_REQUIRE_FALSE(nn::detail::fuses_activation<Conv2d<3, 16, 3>, Tanh, float, cpu>());
    STATIC_REQUIRE_FALSE(nn::detail::fuses_activation<Conv2d<3, 16, 3>, LeakyReLU<-0.5f>, float, cpu>());
    STATIC_REQUIRE_FALSE(nn::detail::fuses_activation<Dense<3, 4>, ReLU, float, cpu>());
    check_layer<Fused>({2, 3, 6, 6});
    check_layer_tangent<Fused>({2, 3, 6, 6});

    // float, at a size the direct kernels take, against the four layers one by one
    Net<Fused> fused;
    Net<Conv2d<3, 16, 3>> c0;
    Net<LeakyReLU<0.2f>> a0;
    Net<Conv2d<16, 8, 3, LayerOptions{.stride = 2}>> c1;
    Net<ReLU> a1;
    Generator g(7);
    fused.reset_parameters(g);
    for (auto& b : {&fused.get<0>().bias, &fused.get<2>().bias}) fill_normal(*b, g); // nonzero biases
    c0.weight.copy_(fused.get<0>().weight), c0.bias.copy_(fused.get<0>().bias);
    c1.weight.copy_(fused.get<2>().weight), c1.bias.copy_(fused.get<2>().bias);
    const auto x = pggtest::random_tensor<float>({4, 3, 32, 32}, 8);
    const Tensor<float> y = fused.forward(x).clone();
    const Tensor<float>& want = a1.forward(c1.forward(a0.forward(c0.forward(x))));
    CHECK(pggtest::rel_error(y, pggtest::to_double(want)) < 1e-6);
    const auto dy = pggtest::random_tensor<float>(y.shape(), 9);
    Tensor<float> dx, dx_want, g2, g1, g0;
    const Accumulate set{.input = false};
    fused.backward(dy, dx, set);
    a1.backward(dy, g2, set);
    c1.backward(g2, g1, set);
    a0.backward(g1, g0, set);
    c0.backward(g0, dx_want, set);
    CHECK(pggtest::rel_error(dx, pggtest::to_double(dx_want)) < 1e-6);
    CHECK(pggtest::rel_error(fused.get<0>().weight_grad, pggtest::to_double(c0.weight_grad)) < 1e-6);
    CHECK(pggtest::rel_error(fused.get<2>().bias_grad, pggtest::to_double(c1.bias_grad)) < 1e-6);
}

TEST_CASE("WGAN-GP: the penalty's gradient w.r.t. D's weights is exact", "[sequential][wgan-gp]") {
    // P(theta) = lambda / N sum_n (|g_n| - 1)^2, g = grad_x sum D(x). Its gradient is a second
    // derivative; forward-over-reverse gives it exactly (docs/design.md), finite differences check it.
    const double lambda = 10.0;
    Net<SmallD, double> d;
    Generator gen(5);
    pggtest::randomize_parameters(d, gen);
    auto x = pggtest::random_tensor<double>({4, 1, 8, 8}, 6);
    const index_t N = x.n();
    Tensor<double> ones({N, 1}), zeros({N, 1}), g, u;
    ones.fill(1.0);
    auto gradient_of_sum = [&] {
        d.forward(x);
        g = Tensor<double>();
        d.backward(ones, g);
        return g;
    };
    auto penalty = [&] {
        Tensor<double> gr = gradient_of_sum();
        Tensor<double> norm = sum_sq_per_sample(gr);
        norm = sqrt(norm);
        return lambda / double(N) * sum(square(norm - 1.0));
    };
    // exact: u = dP/dg, then the tangent pass along u with seeds (0, 1)
    Tensor<double> gr = gradient_of_sum();
    Tensor<double> norm = sum_sq_per_sample(gr);
    norm = sqrt(norm);
    u = gr * per_sample(Tensor<double>(2.0 * lambda / double(N) * (norm - 1.0) / norm));
    d.tangent(u); // at the x of gradient_of_sum's forward, after its backward: what the loss does
    Tensor<double> dx, dxt;
    d.backward_tangent(zeros, ones, dx, dxt);
    std::vector<Tensor<double>> exact; // copied: evaluating the penalty runs backward, which overwrites
    d.for_each_parameter([&](const std::string&, Tensor<double>&, Tensor<double>& grad) { exact.push_back(grad.clone()); });
    std::size_t i = 0;
    d.for_each_parameter([&](const std::string& name, Tensor<double>& v, Tensor<double>&) {
        pggtest::check_gradient(name.c_str(), v, exact[i++], penalty, {.max_points = 20});
    });
}

TEST_CASE("WGAN-GP: the whole discriminator loss, penalty included, has exact gradients", "[sequential][wgan-gp]") {
    Net<SmallD, double> d;
    Generator init(8);
    pggtest::randomize_parameters(d, init);
    auto real = pggtest::random_tensor<double>({4, 1, 8, 8}, 9), fake = pggtest::random_tensor<double>({4, 1, 8, 8}, 10);
    const WganGpOptions opt{.lambda = 10.0, .drift = 1e-3, .norm_scale = 2.0};
    const Generator draws(11);
    Generator g = draws;
    const WganGpParts parts = wgan_gp_discriminator(d, real, fake, g, opt);
    CHECK(parts.loss == Approx(parts.d_fake - parts.d_real + parts.penalty + parts.drift));
    CHECK(parts.penalty > 0);
    std::vector<Tensor<double>> exact;
    d.for_each_parameter([&](const std::string&, Tensor<double>&, Tensor<double>& grad) { exact.push_back(grad.clone()); });
    auto loss = [&] {
        Generator same = draws; // the same mixing weights every time
        return wgan_gp_discriminator(d, real, fake, same, opt).loss;
    };
    // A small step: the penalty is a function of D's input gradient, which jumps where a leaky ReLU's
    // input crosses zero; with 1e-5 one of these kinks fell inside the difference stencil.
    std::size_t i = 0;
    d.for_each_parameter([&](const std::string& name, Tensor<double>& v, Tensor<double>&) {
        pggtest::check_gradient(name.c_str(), v, exact[i++], loss, {.max_points = 15, .step = 1e-7});
    });
}

TEST_CASE("WGAN-GP: exact gradients through augmented inputs (D's parameters, G's images)", "[sequential][wgan-gp][augment]") {
    Net<SmallD, double> net;
    Generator init(8);
    pggtest::randomize_parameters(net, init);
    Augmented d(net);
    d.augment.options = {.p = 0.7, .xflip = true};
    auto real = pggtest::random_tensor<double>({4, 1, 8, 8}, 9), fake = pggtest::random_tensor<double>({4, 1, 8, 8}, 10);
    const WganGpOptions opt{.lambda = 10.0, .drift = 1e-3, .norm_scale = 2.0};
    const Generator draws(11);
    auto loss = [&] {
        Generator same = draws; // the same mixing weights and augmentations every time
        d.augment.reseed(5);
        return wgan_gp_discriminator(d, real, fake, same, opt);
    };
    const WganGpParts parts = loss();
    CHECK(parts.penalty > 0);
    CHECK(std::abs(parts.real_sign) <= 1.0);
    std::vector<Tensor<double>> exact;
    d.for_each_parameter([&](const std::string&, Tensor<double>&, Tensor<double>& grad) { exact.push_back(grad.clone()); });
    std::size_t i = 0;
    d.for_each_parameter([&](const std::string& name, Tensor<double>& v, Tensor<double>&) {
        pggtest::check_gradient(name.c_str(), v, exact[i++], [&] { return loss().loss; }, {.max_points = 15, .step = 1e-7});
    });

    // The generator's loss -sum D(augment(fake)): its gradient with respect to the fakes.
    auto g_loss = [&] {
        d.augment.reseed(6);
        return -sum(d.forward(fake));
    };
    g_loss();
    CHECK(!d.augment.identity());
    const Tensor<double> minus_ones = Tensor<double>::full({4, 1}, -1.0);
    Tensor<double> dfake;
    d.backward(minus_ones, dfake, {.input = false, .param_grads = false});
    pggtest::check_gradient("fake images", fake, dfake, g_loss, {.max_points = 30, .step = 1e-7});
}

namespace {
// PG-GAN's discriminator fade-in from 4x4 to 8x8: the new path (fromRGB at 8, a block that halves the
// size) blended with the old one (average pooling, fromRGB at 4), then the 4x4 head.
using FromRGB8 = Named<"fromrgb8", Conv2d<1, 4, 1, equalized>>;
using FromRGB4 = Named<"fromrgb4", Conv2d<1, 6, 1, equalized>>;
using Block8 = Named<"block8", Sequential<Conv2d<4, 4, 3, equalized>, LeakyReLU<>, Conv2d<4, 6, 3, equalized>, AvgPool2x, LeakyReLU<>>>;
using Head = Sequential<MinibatchStddev<2>, Named<"conv", Conv2d<7, 6, 3, equalized>>, LeakyReLU<>, Flatten,
                        Named<"dense0", Dense<96, 8, equalized>>, LeakyReLU<>, Named<"dense1", Dense<8, 1, equalized_gain<1.0f>>>>;
using FadeD = Sequential<Named<"fade", Lerp<Sequential<FromRGB8, LeakyReLU<>, Block8>, Sequential<AvgPool2x, FromRGB4, LeakyReLU<>>>>,
                         Named<"head", Head>>;
} // namespace

TEST_CASE("Lerp: a fade-in between two paths, gradients and tangents", "[sequential][fade]") {
    STATIC_REQUIRE(FadeD::out_channels_for<1> == 1);
    for (double alpha : {0.0, 0.3, 1.0}) {
        INFO("alpha " << alpha);
        auto set_alpha = [alpha](Net<FadeD, double>& d) { d.get<0>().alpha = alpha; };
        pggtest::check_layer<FadeD>({4, 1, 8, 8}, {.max_points = 20}, set_alpha);
    }
    pggtest::check_layer_tangent<FadeD>({4, 1, 8, 8}, {.max_points = 20}); // alpha 0
    Net<FadeD> d;
    std::vector<std::string> names;
    for (auto& p : parameters(d)) names.push_back(p.name);
    CHECK(names.front() == "fade.0.fromrgb8.weight"); // unnamed paths count from 0
    CHECK(std::find(names.begin(), names.end(), "fade.0.block8.2.bias") != names.end());
    CHECK(std::find(names.begin(), names.end(), "fade.1.fromrgb4.weight") != names.end());
    CHECK(names.back() == "head.dense1.bias");
}

TEST_CASE("WGAN-GP: exact penalty gradient through a fade-in discriminator (4 -> 8)", "[sequential][wgan-gp]") {
    Net<FadeD, double> d;
    Generator init(12);
    pggtest::randomize_parameters(d, init);
    d.get<0>().alpha = 0.35;
    auto real = pggtest::random_tensor<double>({4, 1, 8, 8}, 13), fake = pggtest::random_tensor<double>({4, 1, 8, 8}, 14);
    const Generator draws(15);
    Generator g = draws;
    const WganGpOptions opt{.norm_scale = 2.0};
    wgan_gp_discriminator(d, real, fake, g, opt);
    std::vector<Tensor<double>> exact;
    d.for_each_parameter([&](const std::string&, Tensor<double>&, Tensor<double>& grad) { exact.push_back(grad.clone()); });
    auto loss = [&] {
        Generator same = draws;
        return wgan_gp_discriminator(d, real, fake, same, opt).loss;
    };
    std::size_t i = 0;
    d.for_each_parameter([&](const std::string& name, Tensor<double>& v, Tensor<double>&) {
        pggtest::check_gradient(name.c_str(), v, exact[i++], loss, {.max_points = 10, .step = 1e-7});
    });
}

TEST_CASE("SkipConcat: a UNet level, gradients and channel rule", "[sequential][skip]") {
    using Level = Sequential<Conv2d<2, 3, 3>, ReLU, SkipConcat<Sequential<MaxPool2x, Conv2d<3, 4, 3>, ReLU, Upsample2x>>,
                             Conv2d<7, 2, 1>>;
    STATIC_REQUIRE(Level::out_channels_for<2> == 2);
    STATIC_REQUIRE(SkipConcat<Conv2d<3, 4, 3>>::out_channels_for<3> == 7);
    pggtest::check_layer<Level>({2, 2, 6, 6});
    Net<Level> net;
    CHECK(parameters(net)[2].name == "2.0.1.weight");
}

TEST_CASE("Residual: a ResNet basic block, gradients, curvature and the identity shortcut", "[sequential][residual]") {
    using Block = Residual<Sequential<Named<"conv1", Conv2d<3, 3, 3>>, ReLU, Named<"conv2", Conv2d<3, 3, 3>>>>;
    STATIC_REQUIRE(Block::out_channels_for<3> == 3);
    pggtest::check_layer<Sequential<Conv2d<2, 3, 3, LayerOptions{.stride = 2}>, Block, ReLU>>({2, 2, 7, 6});
    // curvature through the branch (Tanh) and the shortcut's tangent
    pggtest::check_layer_tangent<Residual<Sequential<Conv2d<3, 3, 3>, Tanh, Conv2d<3, 3, 1>>>>({2, 3, 4, 5});
    Net<Block> block;
    CHECK(parameters(block)[2].name == "0.conv2.weight"); // the unnamed branch is path 0
    // a zero last convolution (the classifier's initialisation) leaves the identity
    Generator g(3);
    block.reset_parameters(g);
    block.branch.get<2>().weight.zero_();
    block.branch.get<2>().bias.zero_();
    auto x = pggtest::random_tensor<float>({2, 3, 4, 4}, 5);
    CHECK(max(abs(block.forward(x) - x)) == 0.0f);
    // set_dropout reaches a dropout layer inside a residual branch
    Net<Residual<Sequential<Conv2d<3, 3, 3>, GaussianDropout<>>>> noisy;
    set_dropout(noisy, 0.3f, 7);
    CHECK(noisy.branch.get<1>().rate == 0.3f);
}
