#include "reference.hpp"

using namespace pgg;
using namespace pggtest;

TEST_CASE("avg_pool2x and upsample2x: forward and backward", "[resample]") {
    for (Shape s : {Shape{1, 1, 2, 2}, Shape{2, 3, 6, 10}, Shape{3, 5, 64, 64}}) {
        INFO("shape " << s);
        auto x = random_tensor<double>(s, 1);
        Tensor<double> y;
        avg_pool2x_forward(x, y);
        REQUIRE(y.shape() == Shape{s.n(), s.c(), s.h() / 2, s.w() / 2});
        for (index_t pl = 0; pl < s.planes(); ++pl)
            for (index_t i = 0; i < s.h() / 2; ++i)
                for (index_t j = 0; j < s.w() / 2; ++j) {
                    index_t n = pl / s.c(), c = pl % s.c();
                    double want = (x.at(n, c, 2 * i, 2 * j) + x.at(n, c, 2 * i + 1, 2 * j) + x.at(n, c, 2 * i, 2 * j + 1) +
                                   x.at(n, c, 2 * i + 1, 2 * j + 1)) / 4;
                    REQUIRE(y.at(n, c, i, j) == Approx(want).epsilon(1e-14));
                }
        // Adjoint identities: <dy, P x> = <P^T dy, x> and likewise for upsampling.
        auto dy = random_tensor<double>(y.shape(), 2);
        Tensor<double> dx(s);
        avg_pool2x_backward(dy, dx);
        CHECK(sum(dy * y) == Approx(sum(dx * x)).epsilon(1e-12));
        Tensor<double> dx_acc = x.clone(); // accumulating: the old contents plus the same gradient
        avg_pool2x_backward(dy, dx_acc, 1.0);
        CHECK(max(abs(dx_acc - x - dx)) < 1e-12);
        Tensor<double> u;
        upsample2x_forward(y, u);
        REQUIRE(u.shape() == s);
        index_t copies = 0; // every output pixel is its input pixel
        for (index_t pl = 0; pl < s.planes(); ++pl)
            for (index_t i = 0; i < s.h(); ++i)
                for (index_t j = 0; j < s.w(); ++j)
                    copies += u.at(pl / s.c(), pl % s.c(), i, j) == y.at(pl / s.c(), pl % s.c(), i / 2, j / 2);
        CHECK(copies == s.numel());
        auto du = random_tensor<double>(s, 3);
        Tensor<double> dyu = random_tensor<double>(y.shape(), 4);
        Tensor<double> keep = dyu.clone();
        upsample2x_backward(du, dyu, 1.0); // accumulates
        Tensor<double> only(y.shape());
        upsample2x_backward(du, only);
        CHECK(sum(du * u) == Approx(sum(only * y)).epsilon(1e-12));
        Tensor<double> diff = dyu - keep - only;
        CHECK(max(abs(diff)) < 1e-12);
    }
    Tensor<float> odd({1, 1, 3, 4}), y;
    CHECK_THROWS_WITH(avg_pool2x_forward(odd, y), Catch::Contains("even height and width"));
}

TEST_CASE("max_pool2x: forward picks the maximum, backward routes to it", "[resample]") {
    auto x = random_tensor<float>({2, 3, 8, 6}, 5);
    Tensor<float> y;
    max_pool2x_forward(x, y);
    auto dy = random_tensor<float>(y.shape(), 6);
    Tensor<float> dx(x.shape());
    max_pool2x_backward(x, dy, dx);
    for (index_t n = 0; n < 2; ++n)
        for (index_t c = 0; c < 3; ++c)
            for (index_t i = 0; i < 4; ++i)
                for (index_t j = 0; j < 3; ++j) {
                    float m = -1e9f;
                    index_t bi = 0, bj = 0;
                    for (index_t a = 0; a < 2; ++a)
                        for (index_t b = 0; b < 2; ++b)
                            if (x.at(n, c, 2 * i + a, 2 * j + b) > m) m = x.at(n, c, 2 * i + a, 2 * j + b), bi = a, bj = b;
                    CHECK(y.at(n, c, i, j) == m);
                    for (index_t a = 0; a < 2; ++a)
                        for (index_t b = 0; b < 2; ++b)
                            CHECK(dx.at(n, c, 2 * i + a, 2 * j + b) == (a == bi && b == bj ? dy.at(n, c, i, j) : 0.0f));
                }
}

TEST_CASE("resize_bilinear matches PyTorch's align_corners=False", "[resample]") {
    auto x = Tensor<float>::from({1, 1, 2, 2}, {0, 1, 2, 3});
    Tensor<float> y({1, 1, 4, 4});
    resize_bilinear(x, y);
    // torch.nn.functional.interpolate(x, size=4, mode='bilinear', align_corners=False)
    const float want[16] = {0, 0.25f, 0.75f, 1, 0.5f, 0.75f, 1.25f, 1.5f, 1.5f, 1.75f, 2.25f, 2.5f, 2, 2.25f, 2.75f, 3};
    for (int i = 0; i < 16; ++i) CHECK(y.data()[i] == Approx(want[i]).margin(1e-6));
    auto z = random_tensor<float>({2, 3, 7, 5}, 1);
    Tensor<float> same(z.shape());
    resize_bilinear(z, same);
    CHECK(max(abs(same - z)) < 1e-6f);
}

TEST_CASE("resize_area: block averages, mean preserved, constants kept", "[resample]") {
    auto x = random_tensor<double>({2, 3, 16, 12}, 2);
    Tensor<double> a({2, 3, 8, 6}), p;
    resize_area(x, a);
    avg_pool2x_forward(x, p);
    CHECK(max(abs(a - p)) < 1e-12);
    Tensor<double> b({2, 3, 5, 7}); // non-integer factors
    resize_area(x, b);
    Tensor<double> mx = mean_per_sample(x), mb = mean_per_sample(b);
    // exact only when the factors divide evenly; here within the variation of a few pixels
    CHECK(max(abs(mx - mb)) < 0.05);
    Tensor<double> c = Tensor<double>::full({1, 1, 9, 13}, 0.3), d({1, 1, 4, 5});
    resize_area(c, d);
    CHECK(max(abs(d - 0.3)) < 1e-12);
}

TEST_CASE("concat_channels and its backward", "[resample]") {
    auto a = random_tensor<float>({2, 3, 4, 5}, 1);
    auto b = random_tensor<float>({2, 2, 4, 5}, 2);
    Tensor<float> out;
    concat_channels(a, b, out);
    REQUIRE(out.shape() == Shape{2, 5, 4, 5});
    CHECK(out.at(1, 2, 3, 4) == a.at(1, 2, 3, 4));
    CHECK(out.at(1, 3, 0, 1) == b.at(1, 0, 0, 1));
    Tensor<float> da(a.shape()), db(b.shape());
    concat_channels_backward(out, da, db);
    CHECK(max(abs(da - a)) == 0.0f);
    CHECK(max(abs(db - b)) == 0.0f);
    Tensor<float> wrong({2, 3, 4, 4});
    CHECK_THROWS_WITH(concat_channels(a, wrong, out), Catch::Contains("differ outside the channels"));
}
