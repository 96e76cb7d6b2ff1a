#include "reference.hpp"

#include <Eigen/QR>
#include <omp.h>

#include <array>
#include <cmath>
#include <functional>

using namespace pgg;
using namespace pggtest;
namespace m = pgg::metrics;

namespace {

// The golden values come from tests/golden/make_metrics_golden.py; these inputs mirror its formulas.
std::vector<double> golden(const std::string& name) {
    io::NpyMap<double> f(PGG_TEST_SOURCE_DIR "/golden/metrics/" + name + ".npy");
    index_t n = 1;
    for (index_t d : f.shape()) n *= d;
    return std::vector<double>(f.data(), f.data() + n);
}

// lowbias32 of i, salted: the script's noise().
std::int64_t noise(std::uint64_t salt, std::uint64_t i) {
    auto v = std::uint32_t(i + salt * 0x9E3779B9ull);
    v ^= v >> 16;
    v *= 0x7FEB352Du;
    v ^= v >> 15;
    v *= 0x846CA68Bu;
    v ^= v >> 16;
    return v;
}

// A tensor whose element (n, c, y, x) at flat index i is f(i, n, c, y, x).
using Pixel = std::function<double(std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t)>;
template <class T>
Tensor<T> make(const Shape& s, const Pixel& f) {
    Tensor<T> t(s);
    std::int64_t i = 0;
    for (index_t n = 0; n < s.n(); ++n)
        for (index_t c = 0; c < s.c(); ++c)
            for (index_t y = 0; y < s.h(); ++y)
                for (index_t x = 0; x < s.w(); ++x, ++i) t.data()[i] = T(f(i, n, c, y, x));
    return t;
}

Tensor<std::uint8_t> swd_images() {
    return make<std::uint8_t>({2, 3, 32, 32}, [](auto i, auto n, auto c, auto y, auto x) {
        return double((x * 5 + y * 3 + c * 40 + n * 70) % 160 + noise(1, i) % 64);
    });
}

// The script's swd_centres: 6 patches per image, (y, x) in [3, size - 3).
std::vector<std::array<index_t, 2>> swd_centres(int level, index_t size) {
    std::vector<std::array<index_t, 2>> out;
    for (int n = 0; n < 2; ++n)
        for (int p = 0; p < 6; ++p) {
            const std::uint64_t k = std::uint64_t((n * 3 + level) * 6 + p);
            out.push_back({3 + noise(2, 2 * k) % (size - 6), 3 + noise(2, 2 * k + 1) % (size - 6)});
        }
    return out;
}

// Smooth images: two plane waves around mid-gray, random phases per image, values in [0, 255].
Tensor<float> smooth_images(index_t n, index_t c, index_t size, std::uint64_t seed) {
    Tensor<float> phase({n, 2});
    Generator g(seed);
    fill_uniform(phase, g, 0.0f, 6.3f);
    return make<float>({n, c, size, size}, [&](auto, auto i, auto ch, auto y, auto x) {
        return 128 + 70 * std::sin(0.45 * x + 0.25 * y + phase.at(i, 0) + ch) +
               50 * std::cos(0.2 * x - 0.35 * y + phase.at(i, 1));
    });
}

Tensor<float> white_noise(index_t n, index_t c, index_t size, std::uint64_t seed) {
    return random_tensor<float>({n, c, size, size}, seed, 0.0f, 255.0f);
}

m::SwdOptions small_swd(std::uint64_t seed = 7) {
    m::SwdOptions o;
    o.seed = seed;
    o.min_resolution = 8;
    return o;
}

m::SwdResult swd(const Tensor<float>& reals, const Tensor<float>& fakes, m::SwdOptions o, index_t batch = 0) {
    m::SwdAccumulator acc(reals.h(), int(reals.c()), o);
    const index_t b = batch ? batch : reals.n();
    for (index_t i = 0; i < reals.n(); i += b) acc.add_reals(reals.slice(i, std::min(reals.n(), i + b)));
    for (index_t i = 0; i < fakes.n(); i += b) acc.add_fakes(fakes.slice(i, std::min(fakes.n(), i + b)));
    return acc.compute();
}

void require_same(const m::SwdResult& a, const m::SwdResult& b) {
    REQUIRE(a.distances.size() == b.distances.size());
    for (std::size_t l = 0; l < a.distances.size(); ++l) CHECK(a.distances[l] == b.distances[l]);
    CHECK(a.mean == b.mean);
}

} // namespace

TEST_CASE("swd: Laplacian pyramid matches numpy (mirror border, binomial filter)", "[metrics]") {
    const auto images = swd_images();
    const auto pyr = m::laplacian_pyramid(images, 3);
    REQUIRE(pyr.size() == 3);
    for (int l = 0; l < 3; ++l) {
        INFO("level " << l);
        CHECK(pyr[std::size_t(l)].shape() == Shape{2, 3, 32 >> l, 32 >> l});
        CHECK(max_abs_diff(pyr[std::size_t(l)], golden("swd_pyramid_" + std::to_string(l))) < 1e-3);
    }
    Tensor<float> as_float = make<float>(images.shape(), [&](auto i, auto...) { return images.data()[i]; });
    const auto same = m::laplacian_pyramid(as_float, 3);
    for (int l = 0; l < 3; ++l) CHECK(max(abs(same[std::size_t(l)] - pyr[std::size_t(l)])) == 0.0f);
    CHECK_THROWS_WITH(m::laplacian_pyramid(Tensor<float>({1, 1, 24, 24}), 3), Catch::Contains("cannot be halved"));
    CHECK_THROWS_WITH(m::laplacian_pyramid(Tensor<float>({1, 2, 32, 32}), 2), Catch::Contains("1 or 3"));
}

TEST_CASE("swd: 7x7 patch descriptors match numpy", "[metrics]") {
    const auto pyr = m::laplacian_pyramid(swd_images(), 3);
    for (int l = 0; l < 3; ++l) {
        INFO("level " << l);
        const auto desc = m::patch_descriptors(pyr[std::size_t(l)], swd_centres(l, 32 >> l));
        CHECK(desc.shape() == Shape{12, 3 * 49});
        CHECK(max_abs_diff(desc, golden("swd_descriptors_" + std::to_string(l))) < 1e-3);
    }
    CHECK_THROWS_WITH(m::patch_descriptors(pyr[2], {{3, 5}, {4, 4}}), Catch::Contains("outside the 8x8 level"));
    CHECK_THROWS_WITH(m::patch_descriptors(pyr[0], {{4, 4}, {4, 4}, {4, 4}}), Catch::Contains("do not split evenly over 2 images"));
}

TEST_CASE("swd: sliced_wasserstein matches numpy; identical descriptors give exactly 0", "[metrics]") {
    const index_t count = 150, dim = 147, dirs = 20;
    Tensor<float> a({count, dim}), b({count, dim}), d({dirs, dim});
    for (index_t i = 0; i < count * dim; ++i) {
        a.data()[i] = float(noise(3, std::uint64_t(i)) % 2001 - 1000) / 500.0f;
        b.data()[i] = float(noise(4, std::uint64_t(i)) % 2001 - 1000) / 250.0f + float(i % dim / 49);
    }
    for (index_t i = 0; i < dirs * dim; ++i) d.data()[i] = float(noise(5, std::uint64_t(i)) % 2001 - 1000) / 1000.0f;
    CHECK(m::sliced_wasserstein(a, b, d, 3) == Approx(golden("swd_distance")[0]).epsilon(1e-5));
    CHECK(m::sliced_wasserstein(a, a, d, 3) == 0.0);
    // Per-channel normalisation: scaling and shifting one channel of a set changes nothing.
    Tensor<float> b2 = b.clone();
    for (index_t n = 0; n < count; ++n)
        for (index_t k = 49; k < 98; ++k) b2.data()[n * dim + k] = 3.0f * b2.data()[n * dim + k] - 11.0f;
    CHECK(m::sliced_wasserstein(a, b2, d, 3) == Approx(golden("swd_distance")[0]).epsilon(1e-5));
    CHECK_THROWS_WITH(m::sliced_wasserstein(a, Tensor<float>({10, 49}), d, 3), Catch::Contains("of one D"));
    CHECK_THROWS_WITH(m::sliced_wasserstein(a, b, Tensor<float>({4, 49}), 3), Catch::Contains("do not match"));
    CHECK_THROWS_WITH(m::sliced_wasserstein(a, b, d, 2), Catch::Contains("147 values per descriptor do not split into 2"));
}

TEST_CASE("swd: sets of different sizes: W1 of the quantile functions, unchanged by repeating a set", "[metrics]") {
    // by hand: {0, 1} against {0, 0.5, 1} differ by 0.5 on t in [1/3, 2/3)
    const float two[] = {0, 1}, three[] = {0, 0.5f, 1};
    CHECK(m::swd_detail::wasserstein_sorted(two, 2, three, 3) == Approx(1.0 / 6).epsilon(1e-12));
    CHECK(m::swd_detail::wasserstein_sorted(three, 3, two, 2) == Approx(1.0 / 6).epsilon(1e-12));
    // against the other form of W1, the integral over x of |F_a(x) - F_b(x)|, on random sorted sets
    for (auto [n, k] : {std::pair<index_t, index_t>{7, 11}, {5, 5}, {1, 4}, {64, 96}}) {
        std::vector<float> x(static_cast<std::size_t>(n)), y(static_cast<std::size_t>(k));
        for (index_t i = 0; i < n; ++i) x[std::size_t(i)] = float(noise(21, std::uint64_t(i)) % 1000) / 100.0f;
        for (index_t i = 0; i < k; ++i) y[std::size_t(i)] = float(noise(22, std::uint64_t(i)) % 1000) / 80.0f;
        std::sort(x.begin(), x.end()), std::sort(y.begin(), y.end());
        std::vector<double> all(x.begin(), x.end());
        all.insert(all.end(), y.begin(), y.end());
        std::sort(all.begin(), all.end());
        auto cdf = [](const std::vector<float>& v, double at) {
            return double(std::upper_bound(v.begin(), v.end(), float(at)) - v.begin()) / double(v.size());
        };
        double want = 0;
        for (std::size_t i = 0; i + 1 < all.size(); ++i) want += (all[i + 1] - all[i]) * std::abs(cdf(x, all[i]) - cdf(y, all[i]));
        INFO(n << " against " << k);
        CHECK(m::swd_detail::wasserstein_sorted(x.data(), n, y.data(), k) == Approx(want).epsilon(1e-9));
    }
    // Descriptor sets: a set repeated three times is the same distribution.
    const index_t count = 120, dim = 49, dirs = 24;
    Tensor<float> a({count, dim}), a3({3 * count, dim}), b({80, dim}), d({dirs, dim});
    for (index_t i = 0; i < count * dim; ++i) a.data()[i] = float(noise(23, std::uint64_t(i)) % 2001 - 1000) / 500.0f;
    for (index_t i = 0; i < 80 * dim; ++i) b.data()[i] = float(noise(24, std::uint64_t(i)) % 2001 - 1000) / 250.0f;
    for (index_t i = 0; i < dirs * dim; ++i) d.data()[i] = float(noise(25, std::uint64_t(i)) % 2001 - 1000) / 1000.0f;
    for (index_t r = 0; r < 3; ++r) std::copy_n(a.data(), count * dim, a3.data() + r * count * dim);
    const double ab = m::sliced_wasserstein(a, b, d, 1);
    CHECK(ab > 0.01);
    CHECK(m::sliced_wasserstein(a3, b, d, 1) == Approx(ab).epsilon(1e-5));
    CHECK(m::sliced_wasserstein(b, a3, d, 1) == Approx(ab).epsilon(1e-5));
    CHECK(m::sliced_wasserstein(a, a3, d, 1) < 1e-6);
}

TEST_CASE("swd: random directions are unit vectors, reproducible from the seed", "[metrics]") {
    Generator g1(3), g2(3);
    const auto d1 = m::random_directions(10, 49, g1), d2 = m::random_directions(10, 49, g2);
    for (index_t j = 0; j < 10; ++j) {
        double sq = 0;
        for (index_t k = 0; k < 49; ++k) sq += double(d1.data()[j * 49 + k]) * d1.data()[j * 49 + k];
        CHECK(sq == Approx(1.0).epsilon(1e-6));
    }
    CHECK(max(abs(d1 - d2)) == 0.0f);
}

TEST_CASE("SwdAccumulator: one value per seed, whatever the batch split or thread count", "[metrics]") {
    const auto reals = smooth_images(10, 1, 32, 1), fakes = white_noise(10, 1, 32, 2);
    const auto whole = swd(reals, fakes, small_swd());
    CHECK(whole.resolutions == std::vector<index_t>{32, 16, 8});
    REQUIRE(whole.distances.size() == 3);
    CHECK(whole.mean == Approx((whole.distances[0] + whole.distances[1] + whole.distances[2]) / 3));
    require_same(whole, swd(reals, fakes, small_swd(), 3));
    require_same(whole, swd(reals, fakes, small_swd(), 1));
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    const auto serial = swd(reals, fakes, small_swd(), 4);
    omp_set_num_threads(std::max(2, saved));
    const auto parallel = swd(reals, fakes, small_swd(), 4);
    omp_set_num_threads(saved);
    require_same(whole, serial);
    require_same(whole, parallel);
    const auto other_seed = swd(reals, fakes, small_swd(8));
    CHECK(other_seed.mean != whole.mean);
    CHECK(other_seed.mean == Approx(whole.mean).epsilon(0.2)); // another sample of the same quantity
}

TEST_CASE("SwdAccumulator: near 0 for one distribution, large for noise against smooth images", "[metrics]") {
    const auto reals = smooth_images(16, 1, 64, 1);
    const m::SwdOptions o; // levels 64, 32, 16
    const auto same = swd(reals, reals, o); // the same images, other patch positions
    const auto similar = swd(reals, smooth_images(16, 1, 64, 5), o);
    const auto noise_vs_smooth = swd(reals, white_noise(16, 1, 64, 3), o);
    INFO("same " << same.mean << ", similar " << similar.mean << ", noise " << noise_vs_smooth.mean);
    CHECK(same.mean > 0);
    CHECK(same.mean < noise_vs_smooth.mean / 5);
    CHECK(similar.mean < noise_vs_smooth.mean / 5);
    for (double d : noise_vs_smooth.distances) CHECK(d > 200); // x1000: sorted projections differ by > 0.2
}

TEST_CASE("SwdAccumulator: tiled gray equals explicit RGB tiles; pixel scale does not matter", "[metrics]") {
    const auto reals = smooth_images(6, 1, 32, 1), fakes = white_noise(6, 1, 32, 2);
    auto tile = [](const Tensor<float>& g) {
        return make<float>({g.n(), 3, g.h(), g.w()}, [&](auto, auto n, auto, auto y, auto x) { return g.at(n, 0, y, x); });
    };
    auto tiled = small_swd();
    tiled.tile_gray_to_rgb = true;
    const auto folded = swd(reals, fakes, tiled);
    const auto rgb = swd(tile(reals), tile(fakes), small_swd());
    for (std::size_t l = 0; l < 3; ++l) CHECK(folded.distances[l] == Approx(rgb.distances[l]).epsilon(1e-4));
    const auto gray = swd(reals, fakes, small_swd());
    CHECK(gray.mean != folded.mean);
    // Descriptors are normalised: [-1, 1] images give the [0, 255] numbers.
    Tensor<float> r2 = reals * (2.0f / 255) - 1.0f, f2 = fakes * (2.0f / 255) - 1.0f;
    const auto unit = swd(r2, f2, small_swd());
    for (std::size_t l = 0; l < 3; ++l) CHECK(unit.distances[l] == Approx(gray.distances[l]).epsilon(1e-4));
}

TEST_CASE("SwdAccumulator: uint8 input, clear_fakes, and errors naming the problem", "[metrics]") {
    const auto reals = make<std::uint8_t>({4, 3, 16, 16}, [](auto i, auto...) { return double(noise(11, std::uint64_t(i)) % 256); });
    m::SwdAccumulator acc(16, 3, small_swd());
    acc.reserve(4);
    acc.add_reals(reals);
    acc.add_fakes(reals);
    const auto first = acc.compute();
    CHECK(acc.bytes_per_image() == 2 * 128 * 3 * 49 * sizeof(float));
    acc.clear_fakes();
    CHECK(acc.fakes() == 0);
    CHECK_THROWS_WITH(acc.compute(), Catch::Contains("has 4 reals and 0 fakes"));
    acc.add_fakes(reals.slice(0, 2));
    acc.add_fakes(reals.slice(2, 4));
    require_same(first, acc.compute());
    CHECK_THROWS_WITH(acc.add_fakes(Tensor<float>({1, 1, 16, 16})), Catch::Contains("expected images (N, 3, 16, 16)"));
    CHECK_THROWS_WITH(m::SwdAccumulator(32, 2), Catch::Contains("channels must be 1 or 3"));
    CHECK_THROWS_WITH(m::SwdAccumulator(8, 1), Catch::Contains("min_resolution"));
    auto tiled = small_swd();
    tiled.tile_gray_to_rgb = true;
    CHECK_THROWS_WITH(m::SwdAccumulator(32, 3, tiled), Catch::Contains("needs gray images"));
}

TEST_CASE("binned W1: bin slots, and the distance between piecewise-linear CDFs", "[metrics]") {
    std::vector<float> sample(1000);
    for (std::size_t i = 0; i < sample.size(); ++i) sample[i] = float(std::floor(std::sin(double(i)) * 40) / 4); // ties
    std::sort(sample.begin(), sample.end());
    const m::BinEdges e(sample.data(), sample.size(), 64);
    REQUIRE(e.bins() == 64);
    // 8 tail bins on each side extend the sample's range [first, last] by its width
    const float first = sample.front(), last = sample.back(), width = last - first;
    CHECK((e.edges()[8] == first && e.edges()[56] == last));
    CHECK((e.edges().front() == first - width && e.edges().back() == last + width));
    for (float v = -12.0f; v <= 12.0f; v += 0.0625f) { // the slot is the number of edges <= v
        const auto k = std::uint32_t(std::upper_bound(e.edges().begin(), e.edges().end(), v) - e.edges().begin());
        CHECK(e.slot(v) == k);
    }
    // uniform on [0, 1] against itself shifted by 0.25 (and by an affine map): W1 = the shift
    std::vector<float> u(4001);
    for (std::size_t i = 0; i < u.size(); ++i) u[i] = float(i) / 4000.0f;
    const m::BinEdges ue(u.data(), u.size(), 100);
    m::BinnedCdf a(100), b(100);
    for (float v : u) a.add(ue, v), b.add(ue, v);
    CHECK(m::wasserstein_1d(a, b, ue) == 0.0);
    CHECK(m::wasserstein_1d(a, b, ue, 1, 0, 1, 0.25) == Approx(0.25).epsilon(1e-9));
    CHECK(m::wasserstein_1d(a, b, ue, 1, 0, 2, 0) == Approx(0.5).epsilon(1e-3)); // about the integral of x over [0, 1]
    // values outside the first sample's range stretch the outer bins: [0, 1] against [0.5, 1.5]
    m::BinnedCdf c(100);
    for (float v : u) c.add(ue, v + 0.5f);
    CHECK(m::wasserstein_1d(a, c, ue) == Approx(0.5).epsilon(1e-3));
}

TEST_CASE("SwdAccumulator: past exact_images, flat memory and the exact distance within 2%", "[metrics]") {
    // contrast varies from image to image, so the first images' statistics are not quite the whole set's
    auto images = [](std::uint64_t seed, double noise_amp) {
        const auto base = smooth_images(48, 1, 32, seed), grain = white_noise(48, 1, 32, seed + 100);
        return make<float>({48, 1, 32, 32}, [&](auto, auto i, auto, auto y, auto x) {
            const double k = 0.4 + 1.2 * double(noise(seed, std::uint64_t(i)) % 1000) / 1000;
            return 128 + k * (base.at(i, 0, y, x) - 128) + noise_amp * (grain.at(i, 0, y, x) - 128);
        });
    };
    const auto reals = images(1, 0.1), similar = images(5, 0.1), noisy = images(9, 0.5);
    auto binned = small_swd();
    binned.exact_images = 8; // the default 4096 bins
    for (const auto* fakes : {&similar, &noisy}) {
        const auto exact = swd(reals, *fakes, small_swd()), approx = swd(reals, *fakes, binned);
        INFO("exact " << exact.mean << ", binned " << approx.mean);
        for (std::size_t l = 0; l < 3; ++l) CHECK(approx.distances[l] == Approx(exact.distances[l]).epsilon(0.02));
        require_same(approx, swd(reals, *fakes, binned, 5)); // batch split
    }
    auto tiled = binned;
    tiled.tile_gray_to_rgb = true;
    auto tiled_exact = small_swd();
    tiled_exact.tile_gray_to_rgb = true;
    CHECK(swd(reals, noisy, tiled).mean == Approx(swd(reals, noisy, tiled_exact).mean).epsilon(0.02));
    // sets of different sizes, one binned and one exact: the exact one is compared in bins
    for (const auto* fakes : {&similar, &noisy}) {
        const Tensor<float> few = fakes->slice(0, 6);
        const auto exact = swd(reals, few, small_swd()), mixed = swd(reals, few, binned);
        INFO("exact " << exact.mean << ", reals binned " << mixed.mean);
        for (std::size_t l = 0; l < 3; ++l) CHECK(mixed.distances[l] == Approx(exact.distances[l]).epsilon(0.02));
        CHECK(swd(few, reals, binned).mean == Approx(swd(few, reals, small_swd()).mean).epsilon(0.02)); // either may be larger
    }

    m::SwdAccumulator acc(32, 1, binned);
    acc.add_reals(reals.slice(0, 8));
    const std::size_t exact_bytes = acc.memory_bytes();
    CHECK(exact_bytes == 8 * acc.bytes_per_image());
    acc.add_reals(reals.slice(8, 16));
    const std::size_t flat = acc.memory_bytes();
    acc.add_reals(reals.slice(16, 48));
    CHECK(acc.memory_bytes() == flat); // counts and edges only
    CHECK(acc.reals() == 48);
}

TEST_CASE("ms_ssim: matches numpy (uint8 RGB and float gray), 1 for itself, symmetric", "[metrics]") {
    const auto a = make<std::uint8_t>({4, 3, 64, 64}, [](auto i, auto n, auto c, auto y, auto x) {
        return double(((x * (n + 2) + y * (c + 3)) * 7 / 5) % 200 + noise(6, std::uint64_t(i)) % 40);
    });
    const auto b = make<std::uint8_t>(a.shape(), [&](auto i, auto n, auto, auto, auto) {
        const double v = a.data()[i];
        if (n == 0) return v;
        if (n == 1) return std::clamp(v + double(noise(7, std::uint64_t(i)) % 61) - 30, 0.0, 255.0);
        if (n == 2) return 255 - v;
        return double(noise(8, std::uint64_t(i)) % 256);
    });
    const auto want = golden("ms_ssim_rgb");
    for (index_t k = 0; k < 4; ++k) {
        INFO("pair " << k);
        CHECK(m::ms_ssim(a[k], b[k]) == Approx(want[std::size_t(k)]).margin(1e-12));
        CHECK(m::ms_ssim(b[k], a[k]) == Approx(m::ms_ssim(a[k], b[k])).margin(1e-14));
        CHECK(m::ms_ssim(a[k], a[k]) == Approx(1.0).margin(1e-14));
    }
    CHECK(want[0] == 1.0);
    CHECK(want[2] == 0.0); // an inverted image: negative contrast-structure, clipped to 0

    auto gray = [](std::uint64_t salt_a) {
        return make<float>({2, 1, 48, 80}, [=](auto i, auto n, auto, auto y, auto x) {
            const std::int64_t av = ((x * 3 + y * (2 + n)) % 200) * 100 + noise(9, std::uint64_t(i)) % 5500;
            const std::int64_t v = salt_a ? std::clamp<std::int64_t>(av + noise(10, std::uint64_t(i)) % 2001 - 1000, 0, 25500) : av;
            return double(float(v) / 100.0f);
        });
    };
    const auto ga = gray(0), gb = gray(1);
    const auto want_gray = golden("ms_ssim_gray");
    for (index_t k = 0; k < 2; ++k) CHECK(m::ms_ssim(ga[k], gb[k]) == Approx(want_gray[std::size_t(k)]).margin(1e-12));

    CHECK_THROWS_WITH(m::ms_ssim(Tensor<float>({1, 1, 40, 40}), Tensor<float>({1, 1, 40, 40})), Catch::Contains("multiples of 16"));
    CHECK_THROWS_WITH(m::ms_ssim(ga, gb), Catch::Contains("two single images"));
    CHECK_THROWS_WITH(m::ms_ssim(ga[0], Tensor<float>({1, 1, 48, 96})), Catch::Contains("two single images"));
}

TEST_CASE("MsSsimPairs: mean over consecutive pairs, whatever the batch split or thread count", "[metrics]") {
    const auto a = smooth_images(4, 3, 64, 1), b = smooth_images(4, 3, 64, 2);
    Tensor<float> stream({8, 3, 64, 64});
    double want = 0;
    for (index_t k = 0; k < 4; ++k) {
        stream[2 * k].copy_(a[k]);
        stream[2 * k + 1].copy_(b[k]);
        want += m::ms_ssim(a[k], b[k]) / 4;
    }
    m::MsSsimPairs whole;
    whole.add(stream);
    CHECK(whole.pairs() == 4);
    CHECK(whole.mean() == Approx(want).epsilon(1e-14));
    for (index_t split : {1, 3, 5}) {
        m::MsSsimPairs parts;
        for (index_t i = 0; i < 8; i += split) parts.add(stream.slice(i, std::min<index_t>(8, i + split)));
        CHECK(parts.pairs() == 4);
        CHECK(parts.mean() == whole.mean());
    }
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    m::MsSsimPairs serial;
    serial.add(stream);
    omp_set_num_threads(saved);
    CHECK(serial.mean() == whole.mean());
    m::MsSsimPairs odd;
    odd.add(stream.slice(0, 3)); // the third image waits for a partner
    CHECK(odd.pairs() == 1);
    CHECK_THROWS_WITH(odd.add(Tensor<float>({1, 1, 64, 64})), Catch::Contains("after images"));
    CHECK_THROWS_WITH(m::MsSsimPairs().mean(), Catch::Contains("no complete pair"));
}

TEST_CASE("dice, iou, accuracy: hand-checked cases", "[metrics]") {
    const std::vector<int> pred{1, 1, 0, 0}, target{1, 0, 1, 0};
    CHECK(m::dice(pred, target) == Approx(0.5)); // tp 1, fp 1, fn 1
    CHECK(m::iou(pred, target) == Approx(1.0 / 3));
    const std::vector<float> prob{0.9f, 0.6f, 0.4f, 0.1f};
    CHECK(m::dice(prob, target) == Approx(0.5));
    CHECK(m::dice(prob, target, 0.95) == 0.0);                 // nothing predicted
    CHECK(m::iou(prob, target, 0.05) == Approx(2.0 / 4));       // all predicted
    CHECK(m::dice(std::vector<int>{0, 0}, std::vector<int>{0, 0}) == 1.0); // both empty
    CHECK(m::iou(std::vector<int>{0, 0}, std::vector<int>{0, 0}) == 1.0);
    Tensor<std::uint8_t> mask = Tensor<std::uint8_t>::from({1, 1, 2, 2}, {255, 255, 0, 255});
    CHECK(m::dice(mask, mask) == 1.0);
    CHECK(m::dice(mask, target) == Approx(2.0 / 5)); // tp 1, fp 2, fn 1
    CHECK(m::accuracy(std::vector<double>{0.9, 0.2, 0.6, 0.4}, std::vector<int>{1, 0, 0, 1}) == 0.5);
    CHECK(m::accuracy(std::vector<double>{0.9, 0.2, 0.6, 0.4}, std::vector<int>{1, 0, 0, 1}, 0.3) == 0.75);
    CHECK_THROWS_WITH(m::dice(pred, std::vector<int>{1}), Catch::Contains("4 predictions for 1 targets"));
    CHECK_THROWS_WITH(m::accuracy(std::vector<int>{}, std::vector<int>{}), Catch::Contains("no samples"));
}

TEST_CASE("roc_curve and roc_auc: ties, perfect and reversed separation, Mann-Whitney", "[metrics]") {
    const std::vector<double> scores{0.1, 0.4, 0.35, 0.8};
    const std::vector<int> labels{0, 0, 1, 1};
    const auto roc = m::roc_curve(scores, labels);
    CHECK(roc.thresholds == std::vector<double>{std::numeric_limits<double>::infinity(), 0.8, 0.4, 0.35, 0.1});
    CHECK(roc.fpr == std::vector<double>{0, 0, 0.5, 0.5, 1});
    CHECK(roc.tpr == std::vector<double>{0, 0.5, 0.5, 1, 1});
    CHECK(m::roc_auc(scores, labels) == 0.75);
    // All scores tied: one diagonal step, AUC 0.5.
    const auto tied = m::roc_curve(std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}, labels);
    CHECK(tied.fpr == std::vector<double>{0, 1});
    CHECK(tied.tpr == std::vector<double>{0, 1});
    CHECK(m::roc_auc(std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}, labels) == 0.5);
    CHECK(m::roc_auc(std::vector<double>{0.1, 0.2, 0.7, 0.9}, labels) == 1.0);
    CHECK(m::roc_auc(std::vector<double>{0.9, 0.7, 0.2, 0.1}, labels) == 0.0);
    // Against the Mann-Whitney statistic on many tied scores.
    std::vector<double> s;
    std::vector<int> l;
    for (std::uint64_t i = 0; i < 300; ++i) {
        s.push_back(double(noise(12, i) % 20)); // 20 distinct values: many ties
        l.push_back(int(noise(13, i) % 3 == 0));
    }
    double u = 0, pairs = 0;
    for (int i = 0; i < 300; ++i)
        for (int j = 0; j < 300; ++j)
            if (l[std::size_t(i)] && !l[std::size_t(j)]) {
                u += s[std::size_t(i)] > s[std::size_t(j)] ? 1.0 : s[std::size_t(i)] == s[std::size_t(j)] ? 0.5 : 0.0;
                pairs += 1;
            }
    CHECK(m::roc_auc(s, l) == Approx(u / pairs).epsilon(1e-12));
    CHECK_THROWS_WITH(m::roc_auc(scores, std::vector<int>{1, 1, 1, 1}), Catch::Contains("needs both classes"));
    CHECK_THROWS_WITH(m::roc_auc(std::vector<double>{0.1, std::nan("")}, std::vector<int>{0, 1}), Catch::Contains("score 1 is NaN"));
}

namespace {
// The script's diagnostic_cases(): labels about a third positive, scores a and b (b with many ties).
struct DiagnosticCases {
    std::vector<int> label;
    std::vector<double> a, b;
};
DiagnosticCases diagnostic_cases() {
    DiagnosticCases c;
    for (std::uint64_t i = 0; i < 157; ++i) {
        const int l = int(noise(21, i) % 3 == 0);
        c.label.push_back(l);
        c.a.push_back(double(noise(22, i) % 1000) / 1000.0 + 0.3 * l);
        c.b.push_back(double(noise(23, i) % 50) / 50.0 + 0.15 * l);
    }
    return c;
}
} // namespace

TEST_CASE("diagnostic scores, Youden threshold, bootstrap AUC interval, DeLong test: against NumPy", "[metrics]") {
    const auto c = diagnostic_cases();
    const auto auc = golden("diag_auc");
    CHECK(m::roc_auc(c.a, c.label) == Approx(auc[0]).epsilon(1e-12));
    CHECK(m::roc_auc(c.b, c.label) == Approx(auc[1]).epsilon(1e-12));

    const auto youden = golden("diag_youden");
    const double t = m::youden_threshold(c.a, c.label);
    CHECK(t == Approx(youden[0]).epsilon(1e-12));
    CHECK(m::youden_threshold(c.b, c.label) == Approx(youden[1]).epsilon(1e-12));

    const auto want = golden("diag_scores");
    const auto d = m::diagnostic(c.a, c.label, t);
    CHECK(double(d.tp) == want[0]);
    CHECK(double(d.fp) == want[1]);
    CHECK(double(d.fn) == want[2]);
    CHECK(double(d.tn) == want[3]);
    CHECK(d.accuracy == Approx(want[4]).epsilon(1e-12));
    CHECK(d.balanced_accuracy == Approx(want[5]).epsilon(1e-12));
    CHECK(d.sensitivity == Approx(want[6]).epsilon(1e-12));
    CHECK(d.specificity == Approx(want[7]).epsilon(1e-12));
    CHECK(d.precision == Approx(want[8]).epsilon(1e-12));
    CHECK(d.f1 == Approx(want[9]).epsilon(1e-12));

    const auto boot = golden("diag_bootstrap");
    const auto iv = m::roc_auc_bootstrap(c.a, c.label, 7, 500);
    CHECK(iv.estimate == Approx(boot[0]).epsilon(1e-12));
    CHECK(iv.lower == Approx(boot[1]).epsilon(1e-12));
    CHECK(iv.upper == Approx(boot[2]).epsilon(1e-12));
    CHECK(iv.lower < iv.estimate);
    CHECK(iv.estimate < iv.upper);
    const auto other = m::roc_auc_bootstrap(c.a, c.label, 8, 500); // another seed, another interval
    CHECK(other.lower != iv.lower);

    const auto dl = golden("diag_delong");
    const auto p = m::delong_test(c.a, c.b, c.label);
    const double got[] = {p.auc_a, p.auc_b, p.difference, p.se, p.z, p.p, p.lower, p.upper};
    for (int k = 0; k < 8; ++k) {
        INFO("DeLong field " << k);
        CHECK(got[k] == Approx(dl[std::size_t(k)]).epsilon(1e-9));
    }
    // Swapping the classifiers negates the difference and keeps p.
    const auto q = m::delong_test(c.b, c.a, c.label);
    CHECK(q.difference == Approx(-p.difference).epsilon(1e-12));
    CHECK(q.p == Approx(p.p).epsilon(1e-12));
}

TEST_CASE("diagnostic scores: edge cases and bad input", "[metrics]") {
    const std::vector<int> labels{0, 0, 1, 1};
    const std::vector<double> scores{0.1, 0.4, 0.35, 0.8};
    // Youden's J is best (0.5) at 0.8 and at 0.35: the first (highest), midway to 0.4.
    CHECK(m::youden_threshold(scores, labels) == Approx(0.6));
    const auto none = m::diagnostic(scores, labels, 0.9); // nothing predicted positive
    CHECK(none.tp == 0);
    CHECK(none.tn == 2);
    CHECK(none.precision == 0);
    CHECK(none.f1 == 0);
    CHECK(none.sensitivity == 0);
    CHECK(none.specificity == 1);
    CHECK(none.balanced_accuracy == 0.5);
    // The same classifier twice: no difference, p = 1.
    const auto same = m::delong_test(scores, scores, labels);
    CHECK(same.difference == 0);
    CHECK(same.p == 1);
    CHECK_THROWS_WITH(m::diagnostic(scores, std::vector<int>{1, 1, 1, 1}), Catch::Contains("needs both classes"));
    CHECK_THROWS_WITH(m::roc_auc_bootstrap(scores, std::vector<int>{0, 0, 0, 0}, 1), Catch::Contains("needs both classes"));
    CHECK_THROWS_WITH(m::delong_test(scores, std::vector<double>{0.1, 0.2}, labels), Catch::Contains("2 scores for 4 labels"));
    CHECK_THROWS_WITH(m::delong_test(scores, std::vector<double>{0.1, 0.2, std::nan(""), 0.3}, labels),
                      Catch::Contains("score 2 is NaN"));
    CHECK_THROWS_WITH(m::roc_auc_bootstrap(scores, labels, 1, 1), Catch::Contains("at least 2 resamples"));
}

TEST_CASE("Frechet distance: closed forms, fitting, singular covariances, bad input", "[metrics]") {
    const auto gaussian = [](Eigen::VectorXd mean, Eigen::MatrixXd cov) {
        m::Gaussian g;
        g.mean = std::move(mean), g.cov = std::move(cov), g.count = 100;
        return g;
    };
    // Diagonal covariances, rotated by one random orthogonal Q (so the matrices are full): the distance
    // is |m1 - m2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2 whatever Q is.
    const int d = 20;
    Eigen::VectorXd a(d), b(d), m1(d), m2(d);
    double expected = 0;
    for (int i = 0; i < d; ++i) {
        a(i) = 0.1 + 0.2 * i, b(i) = 3.0 - 0.1 * i, m1(i) = std::sin(i), m2(i) = std::cos(i);
        expected += (m1(i) - m2(i)) * (m1(i) - m2(i)) + std::pow(std::sqrt(a(i)) - std::sqrt(b(i)), 2);
    }
    Eigen::MatrixXd r(d, d);
    for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j) r(i, j) = double(noise(5, std::uint64_t(i * d + j)) % 1000) / 500.0 - 1.0;
    const Eigen::MatrixXd q = Eigen::HouseholderQR<Eigen::MatrixXd>(r).householderQ();
    CHECK(m::frechet_distance(gaussian(m1, a.asDiagonal()), gaussian(m2, b.asDiagonal())) == Approx(expected).epsilon(1e-12));
    const Eigen::MatrixXd ra = q * a.asDiagonal() * q.transpose(), rb = q * b.asDiagonal() * q.transpose();
    CHECK(m::frechet_distance(gaussian(q * m1, ra), gaussian(q * m2, rb)) == Approx(expected).epsilon(1e-10));

    // Two 2x2 covariances that do not commute: tr((S1 S2)^(1/2)) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)).
    Eigen::Matrix2d s1, s2;
    s1 << 2, 0.5, 0.5, 1;
    s2 << 1, -0.3, -0.3, 3;
    REQUIRE((s1 * s2 - s2 * s1).norm() > 0.1);
    const double tr_root = std::sqrt((s1 * s2).trace() + 2 * std::sqrt(s1.determinant() * s2.determinant()));
    const Eigen::Vector2d zero = Eigen::Vector2d::Zero(), shift(1, -2);
    CHECK(m::frechet_distance(gaussian(zero, s1), gaussian(shift, s2)) == Approx(5 + s1.trace() + s2.trace() - 2 * tr_root).epsilon(1e-12));
    CHECK(m::frechet_distance(gaussian(shift, s2), gaussian(zero, s1)) == Approx(5 + s1.trace() + s2.trace() - 2 * tr_root).epsilon(1e-12));

    // Fitting: mean and the unbiased covariance of three rows, by hand.
    Tensor<float> rows({3, 2});
    const float values[] = {1, 2, 3, 4, 5, 9};
    std::copy(values, values + 6, rows.data());
    const m::Gaussian g = m::fit_gaussian(rows);
    CHECK(g.count == 3);
    CHECK(g.mean(0) == 3);
    CHECK(g.mean(1) == 5);
    CHECK(g.cov(0, 0) == Approx(4));
    CHECK(g.cov(1, 1) == Approx(13));
    CHECK(g.cov(0, 1) == Approx(7));
    CHECK(g.cov(1, 0) == Approx(7));

    // Fewer samples than features (a singular covariance, as with small classes): a set against itself
    // is at distance 0, against a shifted copy at the shift's squared length.
    Tensor<float> few({5, 16});
    for (index_t i = 0; i < few.numel(); ++i) few.data()[i] = float(noise(9, std::uint64_t(i)) % 100) / 10.0f;
    const m::Gaussian f = m::fit_gaussian(few);
    CHECK(m::frechet_distance(f, f) == Approx(0).margin(1e-8 * f.cov.trace()));
    m::Gaussian moved = f;
    moved.mean.array() += 0.5;
    CHECK(m::frechet_distance(f, moved) == Approx(16 * 0.25).epsilon(1e-6));

    few.data()[37] = std::nanf("");
    CHECK_THROWS_WITH(m::fit_gaussian(few, "reals"), Catch::Contains("reals has a non-finite value in row 2, feature 5"));
    CHECK_THROWS_WITH(m::fit_gaussian(Tensor<float>({1, 4}), "fakes"), Catch::Contains("fakes has 1 rows"));
    CHECK_THROWS_WITH(m::frechet_distance(f, g), Catch::Contains("16 features against 2"));
}

TEST_CASE("mean_of, covariance_of, sd_of: sample statistics of a list (divisor n - 1)", "[metrics]") {
    const std::vector<double> v{1, 2, 3, 4}, w{2, 4, 6, 9};
    CHECK(metrics::mean_of(v) == 2.5);
    CHECK(std::abs(metrics::covariance_of(v, w) - 11.5 / 3.0) < 1e-12); // sum (v - 2.5)(w - 5.25) = 11.5
    CHECK(std::abs(metrics::sd_of(v) - std::sqrt(5.0 / 3.0)) < 1e-12);
    CHECK(metrics::sd_of({7.0}) == 0.0); // one seed: no spread, not NaN
    CHECK(std::isnan(metrics::mean_of({1.0, NAN})));
}
