#include "reference.hpp"

using namespace pgg;
using namespace pggtest;

// The kernels follow the compile flags: a test binary built for AVX2 must not silently run the Eigen
// fallback (or the AVX-512 kernels).
TEST_CASE("cpu kernels: the SIMD target and register block follow the compile flags", "[gemm]") {
    using namespace pgg::cpu_detail;
    INFO("kernels: " << pgg::cpu_kernels());
#if defined(__x86_64__) && defined(__AVX512F__)
    REQUIRE(PGG_SIMD);
    CHECK(simd::V == 16);
    CHECK(sgemm::MR == 12);
#elif defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__) && defined(__AES__) && defined(__PCLMUL__)
    REQUIRE(PGG_SIMD);
    CHECK(simd::V == 8);
    CHECK(sgemm::MR == 6);
#elif defined(__aarch64__)
    REQUIRE(PGG_SIMD);
    CHECK(simd::V == 4);
    CHECK(sgemm::MR == 12);
#else
    CHECK(!PGG_SIMD);
    CHECK(pgg::cpu_kernels().rfind("Eigen", 0) == 0);
#endif
}

TEST_CASE("gemm: every transpose combination with alpha and beta", "[gemm]") {
    const index_t m = 37, n = 23, k = 19;
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
            for (double beta : {0.0, 1.0, -0.5}) {
                auto a = random_tensor<float>(ta ? Shape{k, m} : Shape{m, k}, 1);
                auto b = random_tensor<float>(tb ? Shape{n, k} : Shape{k, n}, 2);
                auto c = random_tensor<float>({m, n}, 3);
                std::vector<double> want(m * n);
                for (index_t i = 0; i < m; ++i)
                    for (index_t j = 0; j < n; ++j) {
                        double acc = 0;
                        for (index_t q = 0; q < k; ++q)
                            acc += double(ta ? a.at(q, i) : a.at(i, q)) * double(tb ? b.at(j, q) : b.at(q, j));
                        want[i * n + j] = 1.5 * acc + beta * c.at(i, j);
                    }
                matmul(a, b, c, ta, tb, 1.5f, float(beta));
                INFO("ta " << ta << " tb " << tb << " beta " << beta);
                CHECK(rel_error(c, want) < 1e-5);
            }
    Tensor<float> a({3, 4}), b({5, 6}), c;
    CHECK_THROWS_WITH(matmul(a, b, c), Catch::Contains("inner dimensions differ"));
}

namespace {
struct ConvCase {
    index_t N, Ci, H, W, Co, k, s, p;
};

// Random shapes covering kernels 1, 3, 4, strides 1 and 2, several paddings, batch 1 and odd sizes,
// plus sizes that make the CPU backend tile within samples and across samples.
std::vector<ConvCase> conv_cases() {
    std::vector<ConvCase> v = {
        {1, 1, 1, 1, 1, 1, 1, 0},    {2, 3, 5, 7, 4, 3, 1, 1},   {1, 4, 8, 8, 3, 4, 2, 1},   {3, 5, 9, 6, 2, 3, 2, 1},
        {2, 6, 7, 7, 5, 1, 1, 0},    {1, 3, 11, 9, 2, 1, 2, 0},  {2, 2, 6, 6, 3, 3, 1, 0},   {1, 3, 6, 5, 2, 3, 1, 2},
        {2, 3, 9, 9, 4, 4, 1, 2},    {2, 2, 10, 10, 2, 4, 2, 0}, {3, 3, 48, 48, 4, 3, 1, 1}, {2, 3, 70, 70, 2, 3, 1, 1},
        {5, 16, 4, 4, 16, 3, 1, 1},  {1, 2, 64, 64, 3, 4, 2, 1}, {1, 3, 5, 5, 2, 3, 1, 4},
        // stride 1, output widths that are multiples of 16 and at least 64 (the direct weight gradient)
        {2, 5, 20, 64, 7, 3, 1, 1},  {1, 3, 9, 66, 5, 3, 1, 0},  {2, 4, 5, 64, 9, 1, 1, 0},  {1, 2, 6, 61, 3, 2, 1, 2},
        {3, 6, 16, 16, 13, 3, 1, 1}, {2, 3, 6, 18, 4, 3, 1, 0}, // 16 wide: two rows per block
        {2, 3, 7, 14, 5, 3, 1, 1},   {1, 2, 9, 28, 3, 3, 1, 1},  {1, 2, 5, 25, 13, 3, 1, 1}, // masked lanes
        // multiples of 16 input channels (the channels-last weight gradient): tiles that end mid-row,
        // strides 2, kernels 1 and 4, paddings 0 and 2, a last half strip of 16 taps, odd Cout
        {2, 16, 37, 37, 5, 3, 1, 1}, {3, 32, 9, 9, 13, 3, 2, 1}, {2, 48, 6, 7, 14, 4, 2, 2}, {4, 16, 5, 5, 3, 1, 1, 0},
        {1, 16, 12, 10, 25, 3, 1, 0}, {2, 32, 20, 70, 7, 3, 1, 2},
        // ... with Cout a multiple of 8 (AVX2: 4) and K of 3 vectors: the wider register block, also 1x1
        {2, 16, 37, 37, 8, 3, 1, 1}, {3, 32, 9, 9, 24, 3, 2, 1}, {2, 48, 7, 9, 16, 1, 1, 0}, {2, 8, 9, 9, 12, 3, 1, 1},
        // stride 1, rows of 1, 2, 4 or 8 pixels, images of a multiple of 16 (the shifted-copies forward;
        // the last two, 5x5 and 33x33 kernels on rows of one pixel, shift past the row and the image)
        {3, 5, 4, 4, 7, 3, 1, 1},     {2, 3, 8, 8, 13, 3, 1, 1},  {2, 2, 8, 2, 5, 1, 1, 0},   {1, 3, 16, 1, 4, 1, 1, 0},
        {3, 4, 5, 5, 3, 2, 1, 0},     {2, 3, 6, 6, 5, 3, 1, 0},   {1, 2, 4, 4, 3, 5, 1, 2},   {1, 2, 16, 1, 3, 5, 1, 2},
        {1, 1, 16, 1, 2, 33, 1, 16},
        // multiples of 8 that are not of 16 (AVX2's vector width): channels-last with 8 and 24 channels,
        // the direct weight gradient at width 72, a 4x2 image (one 8-pixel vector), masked rows of 12
        {2, 8, 9, 9, 5, 3, 1, 1},     {1, 24, 6, 11, 7, 3, 2, 1}, {1, 3, 6, 72, 5, 3, 1, 1},  {2, 3, 4, 2, 7, 3, 1, 1},
        {2, 3, 5, 12, 7, 3, 1, 1},
        // 3x3, stride 2, padding 1 (the direct downsampling convolution): even sides (direct forward and
        // backward-data), odd sides (direct forward only), images ending in a partial vector, one channel
        {2, 3, 8, 8, 13, 3, 2, 1},    {3, 1, 32, 32, 16, 3, 2, 1}, {2, 5, 10, 10, 7, 3, 2, 1}, {1, 4, 13, 11, 5, 3, 2, 1},
        {2, 2, 64, 48, 3, 3, 2, 1},   {2, 6, 16, 16, 14, 3, 2, 1}, {4, 2, 8, 4, 3, 3, 2, 1},
    };
    pgg::Generator g(2024);
    Tensor<double> r({8 * 6});
    fill_uniform(r, g);
    for (int i = 0; i < 8; ++i) {
        auto pick = [&](int j, index_t lo, index_t hi) { return lo + index_t(r.data()[i * 6 + j] * double(hi - lo + 1)); };
        index_t k = std::array<index_t, 3>{1, 3, 4}[pick(0, 0, 2)], s = pick(1, 1, 2), p = pick(2, 0, k - 1);
        index_t H = std::max<index_t>(k, pick(3, 1, 13)), W = std::max<index_t>(k, pick(4, 1, 13));
        v.push_back({pick(5, 1, 3), 1 + i % 4, H, W, 1 + (i * 3) % 5, k, s, p});
    }
    return v;
}

template <class T>
void check_conv(const ConvCase& c, double tol) {
    const Conv2dParams prm{c.k, c.s, c.p};
    const index_t Ho = conv_output_size(c.H, prm), Wo = conv_output_size(c.W, prm);
    auto x = random_tensor<T>({c.N, c.Ci, c.H, c.W}, 1);
    auto w = random_tensor<T>({c.Co, c.Ci, c.k, c.k}, 2);
    auto dy = random_tensor<T>({c.N, c.Co, Ho, Wo}, 3);
    const auto xd = to_double(x), wd = to_double(w), dyd = to_double(dy);

    // forward, and forward accumulating into an existing output
    Tensor<T> y;
    conv2d_forward(x, w, y, prm);
    auto want = conv_ref(xd, wd, c.N, c.Ci, c.H, c.W, c.Co, c.k, c.s, c.p);
    CHECK(rel_error(y, want) < tol);
    Tensor<T> y2 = dy.clone();
    conv2d_forward(x, w, y2, prm, T(1));
    for (std::size_t i = 0; i < want.size(); ++i) want[i] += dyd[i];
    CHECK(rel_error(y2, want) < tol);

    // the epilogue: bias, then a leaky ReLU (slopes 0 and 0.2), after the accumulation
    const auto bias = random_tensor<T>({c.Co}, 6);
    for (const T slope : {T(0), T(0.2)}) {
        INFO("epilogue, slope " << slope);
        std::vector<double> act(want.size());
        for (std::size_t i = 0; i < want.size(); ++i) {
            const double v = want[i] + double(bias.data()[(index_t(i) / (Ho * Wo)) % c.Co]);
            act[i] = v > 0 ? v : double(slope) * v;
        }
        Tensor<T> y3 = dy.clone();
        conv2d_forward(x, w, y3, prm, T(1), &bias, std::optional<T>(slope));
        CHECK(rel_error(y3, act) < tol);
    }

    // backward: the transposes of the forward map, accumulated naively
    std::vector<double> dx_ref(x.numel(), 0.0), dw_ref(w.numel(), 0.0);
    for (index_t n = 0; n < c.N; ++n)
        for (index_t co = 0; co < c.Co; ++co)
            for (index_t oy = 0; oy < Ho; ++oy)
                for (index_t ox = 0; ox < Wo; ++ox) {
                    double g = dyd[((n * c.Co + co) * Ho + oy) * Wo + ox];
                    for (index_t ci = 0; ci < c.Ci; ++ci)
                        for (index_t ky = 0; ky < c.k; ++ky)
                            for (index_t kx = 0; kx < c.k; ++kx) {
                                index_t iy = oy * c.s - c.p + ky, ix = ox * c.s - c.p + kx;
                                if (iy < 0 || iy >= c.H || ix < 0 || ix >= c.W) continue;
                                index_t xi = ((n * c.Ci + ci) * c.H + iy) * c.W + ix, wi = ((co * c.Ci + ci) * c.k + ky) * c.k + kx;
                                dx_ref[xi] += wd[wi] * g;
                                dw_ref[wi] += xd[xi] * g;
                            }
                }
    Tensor<T> dx = random_tensor<T>(x.shape(), 4); // beta = 0 must ignore old contents
    conv2d_backward_data(dy, w, dx, prm);
    CHECK(rel_error(dx, dx_ref) < tol);
    Tensor<T> dw = random_tensor<T>(w.shape(), 5);
    conv2d_backward_weights(x, dy, dw, prm);
    CHECK(rel_error(dw, dw_ref) < tol);

    // accumulation (beta = 1), as layers use it for input gradients
    Tensor<T> dx2 = x.clone();
    conv2d_backward_data(dy, w, dx2, prm, T(1));
    for (std::size_t i = 0; i < dx_ref.size(); ++i) dx_ref[i] += xd[i];
    CHECK(rel_error(dx2, dx_ref) < tol);
    Tensor<T> dw2 = w.clone();
    conv2d_backward_weights(x, dy, dw2, prm, T(1));
    for (std::size_t i = 0; i < dw_ref.size(); ++i) dw_ref[i] += wd[i];
    CHECK(rel_error(dw2, dw_ref) < tol);
}
} // namespace

TEST_CASE("conv2d: forward, backward-data and backward-weights against a naive reference", "[conv]") {
    for (const auto& c : conv_cases()) {
        INFO("N " << c.N << " Ci " << c.Ci << " " << c.H << "x" << c.W << " Co " << c.Co << " k " << c.k << " s " << c.s
                  << " p " << c.p);
        check_conv<float>(c, 2e-5);
        check_conv<double>(c, 1e-12);
    }
}

// Data-parallel training splits minibatches, so a sample's result may not depend on the rest of its
// minibatch: whichever kernel a shape takes, a sample alone and in a group of any size agree exactly.
TEST_CASE("conv2d: a sample's output and input gradient do not depend on its minibatch", "[conv]") {
    for (const auto& c : std::vector<ConvCase>{{19, 64, 8, 8, 64, 3, 1, 1},
                                               {7, 64, 10, 6, 72, 3, 1, 1},
                                               {5, 16, 16, 16, 16, 3, 1, 1},
                                               {4, 8, 40, 40, 8, 3, 1, 1},
                                               {6, 8, 9, 9, 5, 3, 2, 1}}) {
        INFO("N " << c.N << " Ci " << c.Ci << " " << c.H << "x" << c.W << " Co " << c.Co << " s " << c.s);
        const Conv2dParams prm{c.k, c.s, c.p};
        const index_t Ho = conv_output_size(c.H, prm), Wo = conv_output_size(c.W, prm);
        const auto x = random_tensor<float>({c.N, c.Ci, c.H, c.W}, 1);
        const auto w = random_tensor<float>({c.Co, c.Ci, c.k, c.k}, 2);
        const auto dy = random_tensor<float>({c.N, c.Co, Ho, Wo}, 3);
        Tensor<float> y, dx(x.shape());
        conv2d_forward(x, w, y, prm);
        conv2d_backward_data(dy, w, dx, prm);
        for (const index_t n0 : {index_t(0), c.N - 1, c.N / 2})
            for (const index_t ns : {index_t(1), std::min<index_t>(3, c.N - n0), c.N - n0}) {
                Tensor<float> xs({ns, c.Ci, c.H, c.W}), dys({ns, c.Co, Ho, Wo}), ys, dxs(xs.shape());
                std::copy_n(x.data() + n0 * xs.numel() / ns, xs.numel(), xs.data());
                std::copy_n(dy.data() + n0 * dys.numel() / ns, dys.numel(), dys.data());
                conv2d_forward(xs, w, ys, prm);
                conv2d_backward_data(dys, w, dxs, prm);
                CHECK(std::equal(ys.data(), ys.data() + ys.numel(), y.data() + n0 * ys.numel() / ns));
                CHECK(std::equal(dxs.data(), dxs.data() + dxs.numel(), dx.data() + n0 * dxs.numel() / ns));
            }
    }
}

TEST_CASE("conv2d: wrong shapes are reported", "[conv]") {
    Tensor<float> x({1, 3, 8, 8}), w({4, 2, 3, 3}), y;
    CHECK_THROWS_WITH(conv2d_forward(x, w, y, {3, 1, 1}), Catch::Contains("expects 2 input channels"));
    Tensor<float> w2({4, 3, 3, 3}), y2({1, 4, 7, 7});
    CHECK_THROWS_WITH(conv2d_forward(x, w2, y2, {3, 1, 1}), Catch::Contains("expected [1, 4, 8, 8]"));
    Tensor<float> tiny({1, 3, 1, 1});
    CHECK_THROWS_WITH(conv2d_forward(tiny, w2, y, {3, 1, 0}), Catch::Contains("too small"));
    Tensor<float> b({3}), y3;
    CHECK_THROWS_WITH(conv2d_forward(x, w2, y3, {3, 1, 1}, 0.0f, &b), Catch::Contains("bias [3] should be (4)"));
    const Tensor<float>* no_bias = nullptr;
    CHECK_THROWS_WITH(conv2d_forward(x, w2, y3, {3, 1, 1}, 0.0f, no_bias, std::optional<float>(-0.5f)),
                      Catch::Contains("outside [0, 1]"));
}

TEST_CASE("conv_transpose2d: the adjoint of conv2d, PyTorch layout", "[conv]") {
    for (auto [k, s, p, op] : std::vector<std::array<index_t, 4>>{{4, 2, 1, 0}, {2, 2, 0, 0}, {3, 2, 1, 1}, {3, 1, 1, 0}}) {
        INFO("k " << k << " s " << s << " p " << p << " output_padding " << op);
        const Conv2dParams prm{k, s, p};
        const index_t N = 2, Ci = 3, Co = 2, h = 5, w = 4;
        const index_t H = conv_transpose_output_size(h, prm, op), W = conv_transpose_output_size(w, prm, op);
        auto x = random_tensor<double>({N, Ci, h, w}, 1);
        auto wt = random_tensor<double>({Ci, Co, k, k}, 2);
        Tensor<double> y({N, Co, H, W});
        conv_transpose2d_forward(x, wt, y, prm);
        // Definition: y[n, co, iy*s - p + ky, ix*s - p + kx] += x[n, ci, iy, ix] * w[ci, co, ky, kx].
        std::vector<double> want(y.numel(), 0.0);
        for (index_t n = 0; n < N; ++n)
            for (index_t ci = 0; ci < Ci; ++ci)
                for (index_t iy = 0; iy < h; ++iy)
                    for (index_t ix = 0; ix < w; ++ix)
                        for (index_t co = 0; co < Co; ++co)
                            for (index_t ky = 0; ky < k; ++ky)
                                for (index_t kx = 0; kx < k; ++kx) {
                                    index_t oy = iy * s - p + ky, ox = ix * s - p + kx;
                                    if (oy < 0 || oy >= H || ox < 0 || ox >= W) continue;
                                    want[((n * Co + co) * H + oy) * W + ox] += x.at(n, ci, iy, ix) * wt.at(ci, co, ky, kx);
                                }
        CHECK(rel_error(y, want) < 1e-12);

        // Its backward passes satisfy <dy, T(x)> = <T^T(dy), x> and the weight gradient identity.
        auto dy = random_tensor<double>(y.shape(), 3);
        Tensor<double> dx(x.shape()), dw(wt.shape());
        conv_transpose2d_backward_data(dy, wt, dx, prm);
        conv_transpose2d_backward_weights(x, dy, dw, prm);
        CHECK(sum(dy * y) == Approx(sum(dx * x)).epsilon(1e-12));
        CHECK(sum(dy * y) == Approx(sum(dw * wt)).epsilon(1e-12));
    }
}

// A subnormal product (1e-30 x 1e-10 = 1e-40) on the calling thread and on every OpenMP thread:
// zero while flushing, the IEEE value after set_flush_denormal(false).
TEST_CASE("set_flush_denormal: subnormal results become zero on every thread, and back", "[conv]") {
    volatile float a = 1e-30f, b = 1e-10f;
    auto products = [&] {
        const int threads = cpu_detail::max_threads();
        std::vector<float> p(static_cast<std::size_t>(threads) + 1, -1.0f);
        p[0] = a * b;
#pragma omp parallel num_threads(threads)
        p[static_cast<std::size_t>(cpu_detail::thread_id()) + 1] = a * b;
        return p;
    };
#if !defined(__SSE__) && !defined(__aarch64__)
    CHECK(!set_flush_denormal(true)); // no such mode: nothing changes
    return;
#endif
    REQUIRE(set_flush_denormal(true));
    for (float p : products()) CHECK(p == 0.0f);
    REQUIRE(set_flush_denormal(false));
    for (float p : products()) {
        CHECK(std::fpclassify(p) == FP_SUBNORMAL);
        CHECK(p == Approx(1e-40).epsilon(1e-3));
    }
}
