#include "reference.hpp"

#include <algorithm>
#include <functional>

using namespace pgg;
using pggtest::random_tensor;

namespace {
// Shapes with odd sizes, batch 1, and one large enough to run on several threads.
const std::vector<Shape> shapes = {{1, 1, 1, 1}, {1, 3, 5, 7}, {2, 5, 3, 3}, {3, 17, 9, 11}, {4, 64, 32, 32}};

template <class E, class F>
void check_elementwise(const Tensor<float>& a, const Tensor<float>& b, const E& expr, F&& ref, double tol = 1e-6) {
    Tensor<float> out = expr;
    REQUIRE(out.shape() == a.shape());
    for (index_t i = 0; i < a.numel(); ++i) {
        double want = ref(double(a.data()[i]), double(b.data()[i]));
        INFO("element " << i << " a=" << a.data()[i] << " b=" << b.data()[i]);
        CHECK(out.data()[i] == Approx(want).epsilon(tol).margin(tol));
    }
}
} // namespace

TEST_CASE("expr: arithmetic, math functions and comparisons", "[expr]") {
    for (const Shape& s : shapes) {
        INFO("shape " << s);
        auto a = random_tensor<float>(s, 1, -2.0f, 2.0f);
        auto b = random_tensor<float>(s, 2, 0.5f, 3.0f); // positive: log, sqrt, division
        check_elementwise(a, b, a + b * 2.0f - 1.0f, [](double x, double y) { return x + 2 * y - 1; });
        check_elementwise(a, b, a / b, [](double x, double y) { return x / y; });
        check_elementwise(a, b, 3.0f - a * a, [](double x, double) { return 3 - x * x; });
        check_elementwise(a, b, -a + square(b), [](double x, double y) { return -x + y * y; });
        check_elementwise(a, b, exp(a) + log(b), [](double x, double y) { return std::exp(x) + std::log(y); }, 1e-5);
        check_elementwise(a, b, sqrt(b) * rsqrt(b), [](double, double) { return 1.0; }, 1e-5);
        check_elementwise(a, b, tanh(a) + sigmoid(a * 10.0f), [](double x, double) { return std::tanh(x) + 1 / (1 + std::exp(-10 * x)); }, 1e-5);
        check_elementwise(a, b, abs(a), [](double x, double) { return std::abs(x); });
        check_elementwise(a, b, (a > 0.0f) + (a <= b) * 2.0f + (a == a) * 4.0f, [](double x, double y) {
            return double(x > 0) + 2.0 * (x <= y) + 4.0;
        });
        check_elementwise(a, b, where(a > 0.0f, a, 0.2f * a), [](double x, double) { return x > 0 ? x : 0.2 * x; });
        check_elementwise(a, b, lerp(a, b, 0.25f), [](double x, double y) { return x + (y - x) * 0.25; });
        check_elementwise(a, b, clamp(a, -0.5f, 0.75f), [](double x, double) { return std::clamp(x, -0.5, 0.75); });
        check_elementwise(a, b, maximum(a, b) - minimum(a, 0.0f), [](double x, double y) { return std::max(x, y) - std::min(x, 0.0); });
    }
}

TEST_CASE("expr: sigmoid stays finite for large magnitudes", "[expr]") {
    auto x = Tensor<float>::from({4}, {-200.0f, -30.0f, 30.0f, 200.0f});
    Tensor<float> y = sigmoid(x);
    CHECK(y.data()[0] == 0.0f);
    CHECK(y.data()[1] == Approx(std::exp(-30.0)).epsilon(1e-4));
    CHECK(y.data()[2] == 1.0f);
    CHECK(y.data()[3] == 1.0f);
}

TEST_CASE("expr: per-channel, per-sample and per-pixel broadcasts", "[expr]") {
    for (const Shape& s : shapes) {
        INFO("shape " << s);
        auto x = random_tensor<float>(s, 3);
        auto bc = random_tensor<float>({s.c()}, 4);
        auto bs = random_tensor<float>({s.n()}, 5);
        auto bp = random_tensor<float>({s.n(), 1, s.h(), s.w()}, 6);
        Tensor<float> y = x * per_channel(bc) + per_sample(bs) - x * per_pixel(bp);
        for (index_t n = 0; n < s.n(); ++n)
            for (index_t c = 0; c < s.c(); ++c)
                for (index_t h = 0; h < s.h(); ++h)
                    for (index_t w = 0; w < s.w(); ++w) {
                        double v = x.at(n, c, h, w);
                        double want = v * bc.data()[c] + bs.data()[n] - v * bp.at(n, 0, h, w);
                        REQUIRE(y.at(n, c, h, w) == Approx(want).margin(1e-6));
                    }
        // A broadcast alone takes the destination's shape.
        Tensor<float> z(s);
        z = per_channel(bc) * 2.0f;
        CHECK(z.at(s.n() - 1, s.c() - 1, s.h() - 1, s.w() - 1) == 2.0f * bc.data()[s.c() - 1]);
    }
}

TEST_CASE("expr: mismatched shapes and broadcasts are reported", "[expr]") {
    Tensor<float> a({2, 3, 4, 4}), b({2, 3, 4, 5}), bias({4});
    CHECK_THROWS_WITH(Tensor<float>(a + b), Catch::Contains("[2, 3, 4, 4]") && Catch::Contains("[2, 3, 4, 5]"));
    CHECK_THROWS_WITH(Tensor<float>(a * per_channel(bias)), Catch::Contains("per_channel broadcast of 4 values"));
    Tensor<float> c({2, 3, 4, 5});
    CHECK_THROWS_WITH(c = a * 2.0f, Catch::Contains("assigning a result of shape"));
}

TEST_CASE("expr: casts between element types", "[expr]") {
    auto img = Tensor<std::uint8_t>::from({1, 1, 1, 4}, {0, 64, 128, 255});
    Tensor<float> x = cast<float>(img) / 127.5f - 1.0f;
    CHECK(x.data()[0] == -1.0f);
    CHECK(x.data()[3] == 1.0f);
    Tensor<std::uint8_t> back = cast<std::uint8_t>(clamp((x + 1.0f) * 127.5f + 0.5f, 0.0f, 255.0f));
    for (int i = 0; i < 4; ++i) CHECK(back.data()[i] == img.data()[i]);
}

TEST_CASE("expr: assignment evaluates in one pass without allocating", "[expr]") {
    auto a = random_tensor<float>({8, 64, 32, 32}, 7);
    auto b = random_tensor<float>({8, 64, 32, 32}, 8);
    auto bias = random_tensor<float>({64}, 9);
    Tensor<float> y({8, 64, 32, 32});
    const auto before = memory_stats<cpu>();
    y = where(a * per_channel(bias) + b > 0.0f, a, 0.2f * a) * rsqrt(square(b) + 1e-8f);
    y = lerp(y, a, 0.5f);
    const auto after = memory_stats<cpu>();
    CHECK(after.allocations == before.allocations);
    CHECK(after.bytes_live == before.bytes_live);
    // and the result is right
    double v = a.data()[123] * bias.data()[0] + b.data()[123] > 0 ? a.data()[123] : 0.2 * a.data()[123];
    v /= std::sqrt(double(b.data()[123]) * b.data()[123] + 1e-8);
    CHECK(y.data()[123] == Approx(0.5 * v + 0.5 * a.data()[123]).epsilon(1e-5));
}

TEST_CASE("expr: expression nodes are trivially copyable", "[expr]") {
    Tensor<float> a({2, 2}), bias({2});
    auto e = where(a > 0.0f, exp(a), 0.2f * a) + per_channel(bias);
    STATIC_REQUIRE(std::is_trivially_copyable_v<decltype(e)>);
    STATIC_REQUIRE(std::is_trivially_copyable_v<decltype(cast<double>(a))>);
}

TEST_CASE("reductions over everything, per sample, per channel and over channels", "[expr][reduce]") {
    for (const Shape& s : shapes) {
        INFO("shape " << s);
        auto x = random_tensor<double>(s, 10, -3.0, 2.0);
        const index_t N = s.n(), C = s.c(), HW = s.plane();
        auto v = [&](index_t n, index_t c, index_t i) {
            double t = x.data()[(n * C + c) * HW + i];
            return 2 * t + 1; // reduce an expression, not just a tensor
        };
        double all = 0, all_sq = 0, all_max = -1e300;
        std::vector<double> ps(N, 0), pc(C, 0), psq(N, 0), pcmax(C, -1e300), oc(N * HW, 0);
        for (index_t n = 0; n < N; ++n)
            for (index_t c = 0; c < C; ++c)
                for (index_t i = 0; i < HW; ++i) {
                    double t = v(n, c, i);
                    all += t, all_sq += t * t, all_max = std::max(all_max, t);
                    ps[n] += t, psq[n] += t * t, pc[c] += t, pcmax[c] = std::max(pcmax[c], t);
                    oc[n * HW + i] += t;
                }
        auto e = x * 2.0 + 1.0;
        CHECK(sum(e) == Approx(all).epsilon(1e-12));
        CHECK(mean(e) == Approx(all / s.numel()).epsilon(1e-12));
        CHECK(sum_sq(e) == Approx(all_sq).epsilon(1e-12));
        CHECK(max(e) == all_max);

        Tensor<double> r = sum_per_sample(e);
        REQUIRE(r.shape() == Shape{N});
        for (index_t n = 0; n < N; ++n) CHECK(r.data()[n] == Approx(ps[n]).epsilon(1e-12));
        r = mean_per_sample(e);
        for (index_t n = 0; n < N; ++n) CHECK(r.data()[n] == Approx(ps[n] / (C * HW)).epsilon(1e-12));
        r = sum_sq_per_sample(e);
        for (index_t n = 0; n < N; ++n) CHECK(r.data()[n] == Approx(psq[n]).epsilon(1e-12));

        Tensor<double> q = mean_per_channel(e);
        REQUIRE(q.shape() == Shape{C});
        for (index_t c = 0; c < C; ++c) CHECK(q.data()[c] == Approx(pc[c] / (N * HW)).epsilon(1e-12));
        q = max_per_channel(e);
        for (index_t c = 0; c < C; ++c) CHECK(q.data()[c] == pcmax[c]);

        Tensor<double> o = mean_over_channels(e);
        REQUIRE(o.shape() == Shape{N, 1, s.h(), s.w()});
        for (index_t k = 0; k < N * HW; ++k) CHECK(o.data()[k] == Approx(oc[k] / C).epsilon(1e-12));
    }
}

TEST_CASE("reductions: float sums of many elements keep double accuracy", "[expr][reduce]") {
    Tensor<float> x = Tensor<float>::full({1 << 22}, 0.1f);
    CHECK(sum(x) == Approx(double(0.1f) * (1 << 22)).epsilon(1e-7));
}

TEST_CASE("pixel norm as one expression with a reduction over channels", "[expr][reduce]") {
    auto x = random_tensor<float>({2, 16, 4, 4}, 11);
    Tensor<float> ms = mean_over_channels(square(x));
    Tensor<float> y = x * per_pixel(Tensor<float>(rsqrt(ms + 1e-8f)));
    for (index_t n = 0; n < 2; ++n)
        for (index_t i = 0; i < 16; ++i) {
            double acc = 0;
            for (index_t c = 0; c < 16; ++c) acc += double(y.data()[(n * 16 + c) * 16 + i]) * y.data()[(n * 16 + c) * 16 + i];
            CHECK(acc / 16 == Approx(1.0).epsilon(1e-5));
        }
}

TEST_CASE("max propagates NaN as NumPy does, and the test comparisons fail on non-finite values", "[expr][reduce]") {
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    for (index_t n : {1, 5, 31, 32, 33, 100000}) // the tail, one lane block, and several threads' worth
        for (index_t at : {index_t(0), n / 2, n - 1}) {
            Tensor<float> x = random_tensor<float>({n}, 3);
            x.data()[at] = nan;
            INFO("n " << n << ", NaN at " << at);
            CHECK(std::isnan(max(x)));
            CHECK(std::isnan(max(abs(x))));
            Tensor<float> per_sample = max_per_sample(x.reshape({1, n, 1, 1}));
            CHECK(std::isnan(per_sample.data()[0]));
            CHECK(std::isnan(sum(x)));
        }
    Tensor<float> t = random_tensor<float>({4, 3, 2, 2}, 4), m = max_per_channel(t);
    CHECK(std::isfinite(max(m)));
    t.data()[7] = nan; // channel 1 of sample 0
    m = max_per_channel(t);
    CHECK(std::isnan(m.data()[1]));
    CHECK(std::isfinite(m.data()[0]));
    CHECK(max(Tensor<float>::full({3}, -inf)) == -inf);

    // rel_error and max_abs_diff give NaN, so that no comparison (<, >, ==) can pass
    const std::vector<double> ref(t.numel(), 0.5);
    for (float bad : {nan, inf}) {
        Tensor<float> a = Tensor<float>::full(t.shape(), 0.5f);
        CHECK(pggtest::rel_error(a, ref) == 0);
        a.data()[5] = bad;
        const double e = pggtest::rel_error(a, ref);
        CHECK_FALSE(e < 1e-6);
        CHECK_FALSE(e > 1e-6);
        CHECK_FALSE(e == 0);
        CHECK(std::isnan(pggtest::max_abs_diff(a, ref)));
    }
}
