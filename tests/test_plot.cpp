#include <catch2/catch.hpp>

#include <pgg/pgg.hpp>

using namespace pgg;

namespace {
plot::Color at(const Tensor<std::uint8_t>& img, index_t x, index_t y) {
    const index_t h = img.h(), w = img.w();
    return {img.data()[(0 * h + y) * w + x], img.data()[(1 * h + y) * w + x], img.data()[(2 * h + y) * w + x]};
}
} // namespace

TEST_CASE("plot::render draws series inside a fixed y range", "[plot]") {
    const plot::Color red{214, 39, 40};
    // a horizontal line at 0.5 on the range 0..1 lies midway between the panel's top (16) and bottom (220 - 22)
    const auto img = plot::render({{"rate", {{"half", red, {0, 1}, {0.5, 0.5}}}, 0.0, 1.0}}, 400, 220);
    REQUIRE(img.shape() == Shape{1, 3, 220, 400});
    const index_t mid = 16 + (198 - 16) / 2;
    CHECK(at(img, 200, mid) == red);
    CHECK(at(img, 200, mid - 10) != red);
}

TEST_CASE("plot::bars draws one bar per group with its interval", "[plot]") {
    const plot::Color blue{31, 119, 180}, gray{90, 90, 90};
    const std::vector<plot::Bar> groups{{"a", blue, 0.75, 0.7, 0.8, {0.72, 0.78}}, {"b", gray, 0.25, 0.2, 0.3, {}}};
    const index_t W = 412, H = 254; // plot area x 56..400, y 28..228: 0 at 228, 1 at 28
    const auto img = plot::bars("AUC", groups, 0.0, 1.0, W, H);
    REQUIRE(img.shape() == Shape{1, 3, H, W});
    const index_t slot = (400 - 56) / 2, a = 56 + slot / 2, b = 56 + slot + slot / 2;
    const auto y = [](double v) { return index_t(228 - std::lround(v * 200)); };
    // the top edge of each bar in its colour at its value, the whisker (black) at the bar's centre above it
    CHECK(at(img, a - 20, y(0.75)) == blue);
    CHECK(at(img, b - 20, y(0.25)) == gray);
    CHECK(at(img, a, y(0.79)) == (plot::Color{0, 0, 0}));
    // inside a bar: its colour lightened; above it: background
    CHECK(at(img, b - 20, y(0.1)) == (plot::Color{90 / 2 + 128, 90 / 2 + 128, 90 / 2 + 128}));
    CHECK(at(img, b - 20, y(0.5)) == (plot::Color{255, 255, 255}));
    CHECK_THROWS_WITH(plot::bars("AUC", groups, 1.0, 1.0), Catch::Contains("empty y range"));
}
