// The cxr_unet example's parts: the UNet type, mask cleaning and cropping, augmentation, the split,
// and the trivial baselines a trained UNet must beat by far (tests/cxr_unet/unet_end_to_end.sh).
#include <filesystem>

#include "layer_check.hpp"
#include "../examples/cxr_unet/data.hpp"
#include "../examples/cxr_unet/postprocess.hpp"
#include "../examples/cxr_unet/unet.hpp"

using namespace pgg;
using namespace pggtest;

TEST_CASE("UNet: shapes, dropout streams, and its gradient against finite differences", "[example][unet]") {
    using Small = cxr_unet::UNet<2, 1>;
    // fixed noise for every pass: each dropout layer restarts its own stream
    check_layer<Small>({2, 1, 4, 4}, {}, [](nn::Net<Small, double>& net) {
        pgg::nn::set_dropout(net, 0.2f, 7);
    });
    nn::Net<cxr_unet::UNet<4, 2>> net;
    Generator g(1);
    net.reset_parameters(g);
    pgg::nn::set_dropout(net, 0.1f, 3);
    const auto streams = pgg::nn::dropout_generators(net);
    CHECK(streams.size() == 2 * (2 * 2 + 1)); // two per conv pair; 2 * depth + 1 pairs
    CHECK(streams[0]->stream != streams[1]->stream);
    Tensor<float> x({2, 1, 16, 16});
    fill_uniform(x, g);
    CHECK(net.forward(x).shape() == Shape{2, 1, 16, 16});
    net.train(false);
    const Tensor<float> a = net.forward(x).clone();
    CHECK(max(abs(net.forward(x) - a)) == 0.0f); // inference is deterministic
    net.train(true);
    CHECK(max(abs(net.forward(x) - a)) > 0.0f);  // Monte-Carlo passes differ
}

TEST_CASE("segment: mask cleaning keeps two lungs, drops specks, fills holes, rejects implausible masks", "[example][unet]") {
    const index_t S = 64;
    std::vector<float> p(S * S, 0.0f);
    auto rect = [&](index_t x0, index_t y0, index_t x1, index_t y1, float v) {
        for (index_t y = y0; y < y1; ++y)
            for (index_t x = x0; x < x1; ++x) p[y * S + x] = v;
    };
    rect(8, 10, 26, 50, 0.9f);  // right lung
    rect(36, 12, 56, 52, 0.8f); // left lung
    rect(14, 20, 18, 24, 0.1f); // a hole
    rect(60, 60, 62, 62, 0.9f); // a speck
    cxr_unet::CleanMask m = cxr_unet::clean_mask(p.data(), S, S);
    CHECK(m.problem.empty());
    CHECK(m.lungs == 2);
    CHECK(m.mask[22 * S + 16] == 1); // hole filled
    CHECK(m.mask[61 * S + 61] == 0); // speck gone
    CHECK((m.x0 == 8 && m.y0 == 10 && m.x1 == 56 && m.y1 == 52));
    CHECK(m.area == Approx(double(18 * 40 + 20 * 40) / double(S * S)));
    // the box on a 640 x 320 original, widened by 10% of its size on each side and clipped
    const cxr_unet::Box b = cxr_unet::crop_box(m, 320, 640, 0.1);
    CHECK((b.x0 == 32 && b.x1 == 608 && b.y0 == 29 && b.y1 == 281));

    std::vector<float> none(S * S, 0.2f);
    CHECK(cxr_unet::clean_mask(none.data(), S, S).problem == "no lung pixels above the threshold");
    std::vector<float> speck(S * S, 0.0f);
    speck[5 * S + 5] = 1.0f;
    CHECK_THAT(cxr_unet::clean_mask(speck.data(), S, S).problem, Catch::Contains("lungs cover 0.0% of the image"));
    std::vector<float> all(S * S, 1.0f);
    CHECK_THAT(cxr_unet::clean_mask(all.data(), S, S).problem, Catch::Contains("lungs cover 100.0%"));
}

TEST_CASE("segment: the crop of the original resized to the output size", "[example][unet]") {
    Tensor<std::uint8_t> img({1, 1, 300, 200});
    for (index_t y = 0; y < 300; ++y)
        for (index_t x = 0; x < 200; ++x) img.data()[y * 200 + x] = std::uint8_t(x < 100 ? 40 : 200);
    // a box over the left half only: uniform 40 after any resampling
    const Tensor<std::uint8_t> left = cxr_unet::crop_resize(img, {10, 20, 90, 280}, 64);
    CHECK(left.shape() == Shape{1, 1, 64, 64});
    CHECK(max(abs(cast<float>(left) - 40.0f)) == 0.0f);
    // straddling the edge at x = 100: left half dark, right half bright, for shrinking and enlarging
    for (index_t size : {32, 512}) {
        const Tensor<std::uint8_t> both = cxr_unet::crop_resize(img, {50, 0, 150, 300}, size);
        CHECK(both.data()[size / 2 * size + 2] == 40);
        CHECK(both.data()[size / 2 * size + size - 3] == 200);
    }
}

TEST_CASE("UNet data: seeded split, identity and plausible augmentation", "[example][unet]") {
    const auto s1 = cxr_unet::split_indices(250, 0.2, 1), s2 = cxr_unet::split_indices(250, 0.2, 1);
    CHECK(s1.validation == s2.validation);
    CHECK(s1.validation.size() == 50);
    CHECK(s1.train.size() == 200);
    CHECK(cxr_unet::split_indices(250, 0.2, 2).validation != s1.validation);

    const index_t S = 32;
    Tensor<float> img({1, 1, S, S}), mask({1, 1, S, S}), oi({1, 1, S, S}), om({1, 1, S, S});
    Generator g(5);
    fill_uniform(img, g);
    mask.zero_();
    for (index_t y = 8; y < 24; ++y)
        for (index_t x = 8; x < 24; ++x) mask.data()[y * S + x] = 1.0f;
    pgg::app::AugmentOptions none{0, 0, 0, 0, 0, false};
    pgg::app::augment(img.data(), mask.data(), S, none, Generator(1), oi.data(), om.data());
    CHECK(max(abs(oi - img)) < 1e-6f);
    CHECK(max(abs(om - mask)) < 1e-6f);
    pgg::app::AugmentOptions o; // the defaults: small rotations, shifts, zoom; brightness, contrast
    for (int k = 0; k < 8; ++k) {
        pgg::app::augment(img.data(), mask.data(), S, o, Generator(1, k), oi.data(), om.data());
        CHECK(max(abs(oi - 0.5f)) <= 0.5f); // intensities stay in [0, 1]
        CHECK(sum(om) == Approx(256.0).epsilon(0.25)); // the square moves and turns, its area barely changes
        // without a mask (cxr_classifier), the image is warped identically
        Tensor<float> alone({1, 1, S, S});
        pgg::app::augment(img.data(), nullptr, S, o, Generator(1, k), alone.data());
        CHECK(max(abs(alone - oi)) == 0.0f);
    }
}

#ifdef PGG_CXR_DIR
TEST_CASE("UNet baselines on the shared CXRs: trivial masks score far below a trained UNet", "[example][unet][cxr]") {
    // what tests/cxr_unet/unet_end_to_end.sh's threshold (0.90 at 64x64) must be far above
    const cxr_unet::Pairs pairs = cxr_unet::read_pairs(PGG_CXR_DIR "/images", PGG_CXR_DIR "/masks", 64);
    const auto split = cxr_unet::split_indices(index_t(pairs.names.size()), 0.2, 1);
    Tensor<float> mean_mask({1, 1, 64, 64}), ellipse({1, 1, 64, 64}), everything = Tensor<float>::full({1, 1, 64, 64}, 1.0f);
    mean_mask.zero_();
    for (index_t i : split.train) mean_mask = mean_mask + pairs.masks[i];
    mean_mask = mean_mask * (1.0f / float(split.train.size()));
    for (index_t y = 0; y < 64; ++y)
        for (index_t x = 0; x < 64; ++x) { // two ellipses where lungs usually are
            const double u = (std::abs(x - 31.5) - 14) / 10, v = (y - 30.0) / 20;
            ellipse.data()[y * 64 + x] = u * u + v * v <= 1 ? 1.0f : 0.0f;
        }
    double d_mean = 0, d_ellipse = 0, d_all = 0;
    for (index_t i : split.validation) {
        d_mean += metrics::dice(mean_mask, pairs.masks[i]);
        d_ellipse += metrics::dice(ellipse, pairs.masks[i]);
        d_all += metrics::dice(everything, pairs.masks[i]);
    }
    const double n = double(split.validation.size());
    INFO("validation Dice of the mean training mask " << d_mean / n << ", two ellipses " << d_ellipse / n << ", all lung " << d_all / n);
    CHECK(d_mean / n < 0.82);
    CHECK(d_ellipse / n < 0.82);
    CHECK(d_all / n < 0.6);
    WARN("trivial baselines (validation Dice): mean training mask " << d_mean / n << ", two ellipses " << d_ellipse / n
                                                                    << ", all lung " << d_all / n);
}
#endif
