#include <catch2/catch.hpp>

#include <pgg/pgg.hpp>

using namespace pgg;

namespace {
plot::Color at(const Tensor<std::uint8_t>& img, index_t x, index_t y) {
    const index_t h = img.h(), w = img.w();
    return {img.data()[(0 * h + y) * w + x], img.data()[(1 * h + y) * w + x], img.data()[(2 * h + y) * w + x]};
}
bool white(plot::Color c) { return c == plot::Color{255, 255, 255}; }
// Pixels in the rectangle that are not white or light gray (text, lines).
long dark_pixels(const Tensor<std::uint8_t>& img, index_t x0, index_t y0, index_t x1, index_t y1) {
    long n = 0;
    for (index_t y = y0; y < y1; ++y)
        for (index_t x = x0; x < x1; ++x) n += at(img, x, y)[0] < 160;
    return n;
}
} // namespace

TEST_CASE("plot ticks: round steps of 1, 2, 2.5 or 5 times a power of ten, labels with the decimals they need", "[plot]") {
    using plot::detail::nice_ticks, plot::detail::tick_label;
    CHECK(nice_ticks(0.512, 3.01) == std::vector<double>{1.0, 1.5, 2.0, 2.5, 3.0});
    CHECK(nice_ticks(-2.83, 2.45) == std::vector<double>{-2.0, 0.0, 2.0});
    const auto unit = nice_ticks(0.0, 1.0);
    REQUIRE(unit.size() == 6);
    CHECK(std::abs(unit[3] - 0.6) < 1e-12);
    CHECK(nice_ticks(0, 1000, 4) == std::vector<double>{0.0, 250.0, 500.0, 750.0, 1000.0});
    CHECK(tick_label(0.25, 0.25) == "0.25");
    CHECK(tick_label(2.0, 0.5) == "2.0");
    CHECK(tick_label(-2.0, 2.0) == "-2");
    CHECK(tick_label(1500.0, 500.0) == "1500");
}

TEST_CASE("plot::render draws a series where its axes put it, with title, labels and legend", "[plot]") {
    const plot::Color red{214, 39, 40};
    const std::vector<plot::Panel> panels{{"rate", {{"half", red, {0, 1}, {0.5, 0.5}}}, 0.0, 1.0, "kimg", "fraction"}};
    const auto img = plot::render(panels, 400, 240);
    REQUIRE(img.shape() == Shape{1, 3, 240, 400});
    const auto a = plot::detail::panel_axes(panels, 400, 240)[0];
    REQUIRE(a.x0 > 20); // room for the y label and the tick labels
    REQUIRE(a.y1 < 240 - 30);
    // the horizontal line at 0.5, 1.5 pixels wide, centred between the axes' top and bottom
    const index_t x = (a.x0 + a.x1) / 2, y = index_t(std::lround(a.py(0.5)));
    CHECK(std::abs(a.py(0.5) - (a.y0 + a.y1) / 2.0) < 1e-9);
    CHECK(at(img, x, y)[1] < 120); // mostly red: green falls from 255 towards 39
    CHECK(at(img, x, y)[0] > at(img, x, y)[1] + 60);
    CHECK(at(img, x, y - 10)[0] > 200); // not the line
    // the axes box, the title above it, the x label below, the y label on the left, the legend's box
    CHECK(at(img, a.x0, (a.y0 + a.y1) / 2) == (plot::Color{0, 0, 0}));
    CHECK(dark_pixels(img, a.x0, 0, a.x1, a.y0) > 10);
    CHECK(dark_pixels(img, a.x0, a.y1 + 20, a.x1, 240) > 10);
    CHECK(dark_pixels(img, 0, a.y0, 20, a.y1) > 10);
    long legend_edge = 0;
    for (index_t yy = a.y0; yy < a.y1; ++yy)
        for (index_t xx = a.x0; xx < a.x1; ++xx) legend_edge += at(img, xx, yy) == plot::detail::legend_edge;
    CHECK(legend_edge > 20);
    CHECK(white(at(img, a.x0 + 3, a.y1 - 3))); // inside the axes, off the grid and the line: background
}

TEST_CASE("plot::bars draws one bar per group with its interval", "[plot]") {
    const plot::Color blue{31, 119, 180}, gray{90, 90, 90};
    const std::vector<plot::Bar> groups{{"a", blue, 0.75, 0.7, 0.8, {0.72, 0.78}}, {"b", gray, 0.25, 0.2, 0.3, {}}};
    const index_t W = 412, H = 254;
    const auto img = plot::bars("AUC", groups, 0.0, 1.0, W, H);
    REQUIRE(img.shape() == Shape{1, 3, H, W});
    const auto ax = plot::detail::bar_axes(W, H, 0.0, 1.0);
    const index_t slot = (ax.x1 - ax.x0) / 2, a = ax.x0 + slot / 2, b = ax.x0 + slot + slot / 2;
    const auto y = [&](double v) { return index_t(std::lround(ax.py(v))); };
    // the top edge of each bar in its colour at its value, the whisker (black) at the bar's centre above it
    CHECK(at(img, a - 20, y(0.75)) == blue);
    CHECK(at(img, b - 20, y(0.25)) == gray);
    CHECK(at(img, a, y(0.79)) == (plot::Color{0, 0, 0}));
    // inside a bar: its colour lightened; above it: background
    CHECK(at(img, b - 20, y(0.1)) == (plot::Color{90 / 2 + 128, 90 / 2 + 128, 90 / 2 + 128}));
    CHECK(white(at(img, b - 20, y(0.55))));
    CHECK_THROWS_WITH(plot::bars("AUC", groups, 1.0, 1.0), Catch::Contains("empty y range"));
}
