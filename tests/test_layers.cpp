#include "layer_check.hpp"

using namespace pgg;
using namespace pgg::nn;
using pggtest::check_layer;
using pggtest::check_layer_tangent;

TEST_CASE("Conv2d: gradients, with and without equalized learning rate", "[layer]") {
    check_layer<Conv2d<3, 4, 3>>({2, 3, 5, 6});
    check_layer<Conv2d<3, 4, 3, equalized>>({2, 3, 5, 6});
    check_layer<Conv2d<2, 3, 1, LayerOptions{.bias = false}>>({1, 2, 4, 3});
    check_layer<Conv2d<2, 3, 4, LayerOptions{.stride = 2, .padding = 1}>>({2, 2, 6, 6});
    check_layer<Conv2d<2, 3, 3>>({1, 2, 3, 64}); // wide rows: the direct CPU kernels (in float)
    check_layer_tangent<Conv2d<3, 4, 3, equalized>>({2, 3, 5, 6});
    check_layer_tangent<Conv2d<2, 3, 1, equalized_gain<1.0f>>>({2, 2, 4, 4});
}

TEST_CASE("Bias: one value per channel, gradients", "[layer]") {
    check_layer<Bias<3>>({2, 3, 4, 4});
    check_layer<Bias<5>>({4, 5});
    check_layer_tangent<Bias<3>>({2, 3, 4, 4});
}

TEST_CASE("Conv2d: equalized learning rate scales by gain / sqrt(fan_in)", "[layer]") {
    Net<Conv2d<2, 1, 1, equalized_gain<2.0f>>> c;
    Generator g(3);
    c.reset_parameters(g);
    CHECK(max(abs(c.bias)) == 0.0f);
    c.weight = Tensor<float>::from({1, 2, 1, 1}, {1.0f, 1.0f}).expr() * 1.0f;
    auto x = Tensor<float>::from({1, 2, 1, 1}, {3.0f, 5.0f});
    CHECK(c.forward(x).data()[0] == Approx((3 + 5) * 2.0 / std::sqrt(2.0)));
}

TEST_CASE("ConvTranspose2d: gradients", "[layer]") {
    check_layer<ConvTranspose2d<3, 2, 4>>({2, 3, 3, 4});
    check_layer<ConvTranspose2d<2, 3, 2, LayerOptions{.stride = 2, .padding = 0}>>({1, 2, 3, 3});
    Net<ConvTranspose2d<3, 2, 4>> up;
    CHECK(up.forward(Tensor<float>({1, 3, 8, 8})).shape() == Shape{1, 2, 16, 16});
}

TEST_CASE("Dense: gradients", "[layer]") {
    check_layer<Dense<12, 5>>({3, 12});
    check_layer<Dense<12, 5, equalized>>({3, 12});
    check_layer_tangent<Dense<12, 5, equalized>>({3, 12});
    Net<Dense<4, 2>> d;
    CHECK_THROWS_WITH(d.forward(Tensor<float>({3, 5})), Catch::Contains("should be (N, 4)"));
}

TEST_CASE("activations: gradients and curvature", "[layer]") {
    check_layer<LeakyReLU<>>({2, 3, 4, 5});
    check_layer<ReLU>({2, 3, 4, 5});
    check_layer<Sigmoid>({2, 3, 4, 5});
    check_layer<Tanh>({2, 3, 4, 5});
    check_layer_tangent<LeakyReLU<>>({2, 3, 4, 5});
    check_layer_tangent<Sigmoid>({2, 3, 4, 5});
    check_layer_tangent<Tanh>({2, 3, 4, 5});
}

TEST_CASE("PixelNorm: unit mean square per pixel, gradients", "[layer]") {
    check_layer<PixelNorm>({2, 5, 3, 3});
    Net<PixelNorm> pn;
    auto x = pggtest::random_tensor<float>({2, 16, 4, 4}, 9);
    Tensor<float> ms = mean_over_channels(square(pn.forward(x)));
    CHECK(max(abs(ms - 1.0f)) < 1e-5f);
}

TEST_CASE("resampling layers: gradients and tangents", "[layer]") {
    check_layer<Upsample2x>({2, 3, 3, 4});
    check_layer<AvgPool2x>({2, 3, 4, 6});
    check_layer<MaxPool2x>({2, 3, 4, 6});
    check_layer<Flatten>({2, 3, 2, 2});
    check_layer<Reshape<3, 2, 2>>({2, 12});
    check_layer_tangent<Upsample2x>({2, 3, 3, 4});
    check_layer_tangent<AvgPool2x>({2, 3, 4, 6});
    check_layer_tangent<Flatten>({2, 3, 2, 2});
    check_layer_tangent<Reshape<3, 2, 2>>({2, 12});
}

TEST_CASE("GlobalAvgPool: the mean of each channel's plane, gradients and tangents", "[layer]") {
    check_layer<GlobalAvgPool>({2, 3, 4, 5});
    check_layer_tangent<GlobalAvgPool>({2, 3, 4, 5});
    Net<GlobalAvgPool> pool;
    auto x = pggtest::random_tensor<float>({2, 3, 4, 5}, 4);
    const Tensor<float> y = pool.forward(x).clone();
    REQUIRE(y.shape() == Shape{2, 3});
    for (index_t n = 0; n < 2; ++n)
        for (index_t c = 0; c < 3; ++c) {
            double m = 0;
            for (index_t i = 0; i < 20; ++i) m += x.data()[(n * 3 + c) * 20 + i];
            CHECK(std::abs(y.data()[n * 3 + c] - m / 20) < 1e-6);
        }
    x.data()[7] = NAN; // a NaN reaches its own channel's mean only
    const Tensor<float> yn = pool.forward(x);
    CHECK(std::isnan(yn.data()[0]));
    CHECK(std::isfinite(yn.data()[1]));
}

TEST_CASE("MinibatchStddev: strided groups, gradients and curvature", "[layer]") {
    // 8 samples in groups of 4: sample i in group i mod 2
    Net<MinibatchStddev<4>, double> mb;
    auto x = pggtest::random_tensor<double>({8, 3, 2, 2}, 4);
    const Tensor<double>& y = mb.forward(x);
    REQUIRE(y.shape() == Shape{8, 4, 2, 2});
    for (int m = 0; m < 2; ++m) {
        double s = 0;
        for (index_t q = 0; q < 12; ++q) {
            double mu = 0, var = 0;
            for (int j = 0; j < 4; ++j) mu += x.data()[(m + 2 * j) * 12 + q] / 4;
            for (int j = 0; j < 4; ++j) var += std::pow(x.data()[(m + 2 * j) * 12 + q] - mu, 2) / 4;
            s += std::sqrt(var + 1e-8) / 12;
        }
        for (int j = 0; j < 4; ++j) CHECK(y.at(m + 2 * j, 3, 1, 1) == Approx(s).epsilon(1e-12));
    }
    CHECK(y.at(5, 1, 0, 1) == x.at(5, 1, 0, 1));
    check_layer<MinibatchStddev<4>>({8, 3, 2, 2});
    check_layer<MinibatchStddev<4>>({2, 3, 2, 2}); // group = min(4, N)
    check_layer_tangent<MinibatchStddev<4>>({8, 3, 2, 2});
    check_layer_tangent<MinibatchStddev<2>>({4, 2, 3, 3});
    CHECK_THROWS_WITH(mb.forward(Tensor<double>({6, 3, 2, 2})), Catch::Contains("not divisible by the group size 4"));
}

TEST_CASE("GaussianDropout: noise N(1, p/(1-p)) in training, identity in inference", "[layer]") {
    using Drop = GaussianDropout<0.2f>;
    check_layer<Drop>({2, 3, 4, 4}, {}, [](Net<Drop, double>& l) { l.generator.offset = 0; }); // fixed noise
    Net<Drop> d;
    Tensor<float> ones = Tensor<float>::full({64, 16, 32, 32}, 1.0f);
    const Tensor<float>& y = d.forward(ones);
    CHECK(mean(y) == Approx(1.0).margin(0.01));
    CHECK(std::sqrt(mean(square(y - 1.0f))) == Approx(std::sqrt(0.2 / 0.8)).margin(0.01));
    d.train(false);
    CHECK(max(abs(d.forward(ones) - 1.0f)) == 0.0f);

    // Two dropout layers of one network draw different noise after reset_parameters, and again after
    // set_dropout; the same seed gives the same noise.
    Net<Sequential<Drop, Drop>> two;
    Generator g(3);
    two.reset_parameters(g);
    auto noise = [&](auto& layer) { return layer.forward(Tensor<float>::full({4, 8, 8, 8}, 1.0f)).clone(); };
    const Tensor<float> a0 = noise(two.get<0>()), a1 = noise(two.get<1>());
    CHECK(max(abs(a0 - a1)) > 0.1f);
    set_dropout(two, 0.2f, 11);
    const Tensor<float> b0 = noise(two.get<0>()), b1 = noise(two.get<1>());
    CHECK(max(abs(b0 - b1)) > 0.1f);
    CHECK(max(abs(b0 - a0)) > 0.1f);
    set_dropout(two, 0.2f, 11);
    CHECK(max(abs(noise(two.get<0>()) - b0)) == 0.0f);
    CHECK(dropout_generators(two).size() == 2);

    // Shares of a minibatch (data parallelism): samples [2, 5) and [5, 7) of 7 get the noise a pass over
    // all 7 gives them, and the stream moves past the whole minibatch; a bad share is an error.
    const Tensor<float> ones7 = Tensor<float>::full({7, 3, 4, 4}, 1.0f);
    set_dropout(two, 0.2f, 5);
    const Tensor<float> whole = two.forward(ones7).clone(), next = two.forward(ones7).clone();
    set_dropout(two, 0.2f, 5);
    set_dropout_share(two, 2, 7);
    CHECK(max(abs(two.forward(ones7.slice(2, 5)) - whole.slice(2, 5))) == 0.0f);
    set_dropout(two, 0.2f, 5);
    set_dropout_share(two, 5, 7);
    CHECK(max(abs(two.forward(ones7.slice(5, 7)) - whole.slice(5, 7))) == 0.0f);
    set_dropout_share(two, 0, 0);
    CHECK(max(abs(two.forward(ones7) - next)) == 0.0f); // the streams moved past the whole minibatch
    set_dropout_share(two, 6, 7);
    CHECK_THROWS_WITH(two.forward(ones7.slice(0, 2)), Catch::Contains("a share of samples [6, 8) of 7"));
}

TEST_CASE("Augment: a per-sample affine map with exact gradients and tangents, drawn by (seed, call, sample id)", "[layer]") {
    using namespace augment_param;
    const AugmentOptions all{.p = 1, .xflip = true, .rotate90 = true}; // every augmentation, default strengths
    const AugmentOptions off{.p = 1, .translate = 0, .scale = 0, .rotate = 0, .aniso = 0, .translate_frac = 0, .brightness = 0,
                             .contrast = 0, .noise = 0, .cutout = 0};
    std::vector<AugmentOptions> each(11, off); // and each one alone
    each[0].xflip = true, each[1].rotate90 = true, each[2].translate = 0.25, each[3].scale = 0.3, each[4].rotate = 30;
    each[5].aniso = 0.3, each[6].translate_frac = 0.2, each[7].brightness = 0.2, each[8].contrast = 0.5, each[9].noise = 0.1;
    each[10].cutout = 0.5;
    each.push_back(all);
    for (std::size_t k = 0; k < each.size(); ++k) {
        INFO("augmentation set " << k);
        auto same_draw = [&](Net<Augment, double>& l) { l.options = each[k], l.reseed(7); };
        check_layer<Augment>({3, 2, 8, 6}, {.max_points = 30}, same_draw);
        check_layer_tangent<Augment>({3, 2, 8, 6}, {.max_points = 30}, same_draw);
    }

    // Known maps on one 1 x 1 x 4 x 4 image with values 0..15.
    Tensor<float> x({1, 1, 4, 4});
    for (index_t k = 0; k < 16; ++k) x.data()[k] = float(k);
    auto run = [&](std::initializer_list<std::pair<int, float>> set) {
        Tensor<float> p({1, count});
        p.fill(0.0f);
        p.data()[a00] = p.data()[a11] = p.data()[gain] = 1.0f;
        for (auto [c, v] : set) p.data()[c] = v;
        Tensor<float> y;
        augment_forward(x, p, AugmentNoise{}, true, y);
        return y;
    };
    CHECK(max(abs(run({}) - x)) == 0.0f); // the identity copies exactly
    const Tensor<float> shifted = run({{a02, 2.0f}}); // source column j + 2, mirrored: 2 3 2 1
    CHECK(std::vector<float>(shifted.data(), shifted.data() + 4) == std::vector<float>{2, 3, 2, 1});
    const Tensor<float> turned = run({{a00, 0.0f}, {a01, -1.0f}, {a10, 1.0f}, {a11, 0.0f}}); // y(i, j) = x(j, 3 - i)
    for (index_t i = 0; i < 4; ++i)
        for (index_t j = 0; j < 4; ++j) CHECK(turned.data()[i * 4 + j] == x.data()[j * 4 + 3 - i]);
    const Tensor<float> half = run({{a02, 0.5f}}); // halfway between columns
    CHECK(half.data()[0] == 0.5f);
    CHECK(half.data()[3] == 2.5f); // between column 3 and its mirror 2
    const Tensor<float> cut = run({{gain, 2.0f}, {offset, -1.0f}, {cut_x, 0.25f}, {cut_y, 0.25f}, {cut_half, 0.25f}});
    CHECK(cut.data()[0] == 0.0f);                   // pixel (0, 0): inside the square around (1, 1) of half side 1
    CHECK(cut.data()[2 * 4 + 2] == 2 * 10.0f - 1); // outside: gain x + offset

    // Noise: N(0, sd^2) per pixel, a function of (seed, call, id) only.
    Tensor<float> zeros = Tensor<float>::full({1, 1, 64, 64}, 0.0f), p({1, count});
    p.fill(0.0f);
    p.data()[a00] = p.data()[a11] = p.data()[gain] = 1.0f;
    p.data()[noise_sd] = 0.5f;
    p.data()[id_lo] = 3.0f;
    Tensor<float> n1, n2;
    augment_forward(zeros, p, AugmentNoise{5, 1}, true, n1);
    CHECK(std::abs(mean(n1)) < 0.03);
    CHECK(std::sqrt(mean(square(n1))) == Approx(0.5).margin(0.02));
    augment_forward(zeros, p, AugmentNoise{5, 1}, false, n2);
    CHECK(max(abs(n2)) == 0.0f); // the linear part has no noise
    augment_forward(zeros, p, AugmentNoise{5, 2}, true, n2);
    CHECK(max(abs(n2 - n1)) > 0.1f); // another call, other noise

    // p = 0 passes the input itself; rows with ids draw what those samples draw in the whole batch.
    Net<Augment> aug;
    const Tensor<float> batch = pggtest::random_tensor<float>({10, 1, 16, 16}, 3);
    CHECK(aug.forward(batch).shares_storage(batch));
    aug.options = all;
    aug.reseed(11);
    const Tensor<float> whole = aug.forward(batch).clone();
    CHECK(!aug.identity());
    aug.reseed(11, {7, 2});
    Tensor<float> two({2, 1, 16, 16});
    two.slice(0, 1).copy_(batch.slice(7, 8));
    two.slice(1, 2).copy_(batch.slice(2, 3));
    const Tensor<float>& y = aug.forward(two);
    CHECK(max(abs(y.slice(0, 1) - whole.slice(7, 8))) == 0.0f);
    CHECK(max(abs(y.slice(1, 2) - whole.slice(2, 3))) == 0.0f);
    CHECK(max(abs(aug.forward(two).slice(0, 1) - whole.slice(7, 8))) > 0.01f); // call 1 draws anew
    CHECK_THROWS_WITH(aug.forward(batch), Catch::Contains("2 sample ids for 10 samples"));
    aug.reseed(11);
    aug.train(false); // inference: the identity
    CHECK(aug.forward(batch).shares_storage(batch));
}

TEST_CASE("Augment: each augmentation happens with probability p, with ADA's strengths", "[layer]") {
    using namespace augment_param;
    const index_t N = 4000;
    Tensor<double> rows({N, count});
    auto draw_all = [&](const AugmentOptions& o) {
        int moved = 0;
        for (index_t n = 0; n < N; ++n) moved += draw_augment(o, Generator(9, std::uint64_t(n)), std::uint64_t(n), 32, 32, rows.data() + n * count);
        return double(moved) / double(N);
    };
    const AugmentOptions none_on{.p = 1, .translate = 0, .scale = 0, .rotate = 0, .aniso = 0, .translate_frac = 0, .brightness = 0,
                                 .contrast = 0, .noise = 0, .cutout = 0};
    CHECK(draw_all(none_on) == 0.0);
    AugmentOptions contrast = none_on;
    contrast.p = 0.3, contrast.contrast = 0.5;
    CHECK(draw_all(contrast) == Approx(0.3).margin(0.025));
    double log_sd = 0;
    int changed = 0;
    for (index_t n = 0; n < N; ++n)
        if (rows.data()[n * count + gain] != 1.0) log_sd += std::pow(std::log2(rows.data()[n * count + gain]), 2), ++changed;
    CHECK(std::sqrt(log_sd / changed) == Approx(0.5).margin(0.03)); // lognormal gain, sd 0.5 in log2
    AugmentOptions everything{.p = 0.5};
    const double moved = draw_all(everything);
    CHECK(moved == Approx(1 - std::pow(0.5, 9)).margin(0.01)); // nine augmentations on by default
    CHECK(draw_all(AugmentOptions{}) == 0.0);                   // p = 0
    for (index_t n = 0; n < N; ++n) {
        const double* r = rows.data() + n * count;
        REQUIRE(std::isfinite(r[a00] + r[a01] + r[a02] + r[a10] + r[a11] + r[a12] + r[gain] + r[offset]));
    }
}
