// The CUDA backend's operations against the CPU backend: transfers, expressions, reductions, random
// numbers, cuBLAS, cuDNN, resampling, minibatch stddev, the caching allocator, precision and errors.
#include "gpu_check.hpp"

using namespace pgg;
using pggpu::random_cpu;

TEST_CASE("cuda: transfers round-trip exactly, copy_ across devices", "[gpu]") {
    const auto a = random_cpu<float>({3, 4, 5, 6}, 1);
    const Tensor<float, cuda> g = to<cuda>(a);
    const Tensor<float> back = to<cpu>(g);
    CHECK(std::equal(a.begin(), a.end(), back.begin()));
    Tensor<float> host({3, 4, 5, 6});
    host.copy_(g);
    CHECK(std::equal(a.begin(), a.end(), host.begin()));
    const Tensor<float, cuda> view = g.slice(1, 2);
    CHECK(to<cpu>(view).at(0, 2, 3, 4) == a.at(1, 2, 3, 4));
    CHECK(to<cpu>(to<cuda>(g)).at(2, 3, 4, 5) == a.at(2, 3, 4, 5)); // device to device
}

TEST_CASE("cuda: expressions with broadcasts match the CPU in one kernel", "[gpu]") {
    const auto a = random_cpu<float>({2, 3, 5, 7}, 2), b = random_cpu<float>({2, 3, 5, 7}, 3);
    const auto c = random_cpu<float>({3}, 4), s = random_cpu<float>({2}, 5), p = random_cpu<float>({2, 1, 5, 7}, 6);
    auto expr = [](const auto& a, const auto& b, const auto& c, const auto& s, const auto& p) {
        return where(a > b, sigmoid(a) * per_channel(c) + per_sample(s), exp(-square(b)) / (1.0f + abs(a)) - per_pixel(p)) +
               cast<float>(cast<double>(tanh(a))) + clamp(b, -0.5f, 0.5f) * sqrt(abs(a) + 1.0f);
    };
    const Tensor<float> want = expr(a, b, c, s, p);
    const auto ga = to<cuda>(a), gb = to<cuda>(b), gc = to<cuda>(c), gs = to<cuda>(s), gp = to<cuda>(p);
    Tensor<float, cuda> got(a.shape());
    pggpu::poison(got);
    const auto before = memory_stats<cuda>().allocations;
    got = expr(ga, gb, gc, gs, gp);
    CHECK(memory_stats<cuda>().allocations == before); // no temporaries
    CHECK_MATCHES(got, want, 1e-6);
    Tensor<float, cuda> filled(a.shape());
    filled.fill(2.5f);
    CHECK(to<cpu>(filled).at(1, 2, 4, 6) == 2.5f);
}

TEST_CASE("cuda: reductions match the CPU", "[gpu]") {
    const auto a = random_cpu<float>({4, 16, 33, 35}, 7); // several blocks per reduction
    const auto ga = to<cuda>(a);
    CHECK(sum(ga) == Approx(sum(a)).epsilon(1e-6));
    CHECK(mean(ga * 2.0f) == Approx(mean(a * 2.0f)).epsilon(1e-6));
    CHECK(sum_sq(ga) == Approx(sum_sq(a)).epsilon(1e-6));
    CHECK(max(abs(ga)) == max(abs(a)));
    Tensor<float> c1 = sum_per_sample(a), c2 = mean_per_channel(a), c3 = sum_sq_over_channels(a), c4 = max_per_channel(a);
    Tensor<float> c5 = mean_over_channels(a * a), c6 = max_per_sample(a), c7 = sum_sq_per_channel(a - 1.0f);
    Tensor<float, cuda> g1 = sum_per_sample(ga), g2 = mean_per_channel(ga), g3 = sum_sq_over_channels(ga), g4 = max_per_channel(ga);
    Tensor<float, cuda> g5 = mean_over_channels(ga * ga), g6 = max_per_sample(ga), g7 = sum_sq_per_channel(ga - 1.0f);
    CHECK_MATCHES(g1, c1, 1e-6);
    CHECK_MATCHES(g2, c2, 1e-6);
    CHECK_MATCHES(g3, c3, 1e-6);
    CHECK_MATCHES(g4, c4, 0.0);
    CHECK_MATCHES(g5, c5, 1e-6);
    CHECK_MATCHES(g6, c6, 0.0);
    CHECK_MATCHES(g7, c7, 1e-6);
    const Tensor<float> bias({16});
    Tensor<float, cuda> gb = sum_per_channel(ga + per_channel(to<cuda>(bias)));
    CHECK_MATCHES(gb, Tensor<float>(sum_per_channel(a)), 1e-6);
}

TEST_CASE("cuda: a seed gives the CPU's random numbers", "[gpu]") {
    for (index_t n : {1, 5, 4096, 100003}) {
        Generator cg(42, 3), gg(42, 3);
        cg.offset = gg.offset = 17;
        Tensor<float> cu({n}), cn({n});
        Tensor<float, cuda> gu({n}), gn({n});
        fill_uniform(cu, cg, -2.0f, 3.0f);
        fill_uniform(gu, gg, -2.0f, 3.0f);
        fill_normal(cn, cg, 1.0f, 2.0f);
        fill_normal(gn, gg, 1.0f, 2.0f);
        CHECK(cg.offset == gg.offset);
        const Tensor<float> hu = to<cpu>(gu);
        CHECK(std::equal(cu.begin(), cu.end(), hu.begin())); // bit for bit
        CHECK_MATCHES(gn, cn, 1e-6);                         // up to the device's log/sin/cos
        Tensor<double> cd({n});
        Tensor<double, cuda> gd({n});
        fill_uniform(cd, cg);
        fill_uniform(gd, gg);
        const Tensor<double> hd = to<cpu>(gd);
        CHECK(std::equal(cd.begin(), cd.end(), hd.begin()));
    }
}

TEST_CASE("cuda: matmul through cuBLAS, every transpose, alpha and beta", "[gpu]") {
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb) {
            const index_t m = 37, n = 53, k = 129;
            const auto a = random_cpu<float>(ta ? Shape{k, m} : Shape{m, k}, 10 + ta);
            const auto b = random_cpu<float>(tb ? Shape{n, k} : Shape{k, n}, 12 + tb);
            const auto c0 = random_cpu<float>({m, n}, 14);
            Tensor<float> c = c0.clone();
            matmul(a, b, c, ta, tb, 0.5f, 2.0f);
            Tensor<float, cuda> gc = to<cuda>(c0);
            matmul(to<cuda>(a), to<cuda>(b), gc, ta, tb, 0.5f, 2.0f);
            INFO("trans_a " << ta << " trans_b " << tb);
            CHECK_MATCHES(gc, c, pggpu::float_tol);
        }
    const auto a = random_cpu<double>({20, 30}, 15), b = random_cpu<double>({30, 10}, 16);
    Tensor<double> c;
    Tensor<double, cuda> gc;
    matmul(a, b, c);
    matmul(to<cuda>(a), to<cuda>(b), gc);
    CHECK_MATCHES(gc, c, 1e-13);
}

namespace {
struct Geometry {
    index_t N, Cin, H, W, Cout, k, stride, pad;
};
// The PG-GAN's and the UNet's shapes (3x3 same, 1x1, the 4x4 head, strided) and odd ones.
const Geometry geometries[] = {{2, 3, 8, 9, 4, 3, 1, 1},  {4, 32, 16, 16, 32, 3, 1, 1}, {3, 8, 7, 7, 5, 1, 1, 0},
                               {2, 4, 10, 10, 6, 4, 2, 1}, {1, 5, 9, 9, 3, 3, 2, 2},     {8, 64, 4, 4, 32, 4, 1, 0},
                               {2, 16, 64, 64, 16, 3, 1, 1}};
} // namespace

TEST_CASE("cuda: convolutions through cuDNN match the CPU, all three passes, beta 0 and 1", "[gpu]") {
    std::uint64_t seed = 100;
    for (const auto& ge : geometries) {
        INFO("N " << ge.N << " Cin " << ge.Cin << " " << ge.H << "x" << ge.W << " Cout " << ge.Cout << " k " << ge.k
                  << " stride " << ge.stride << " pad " << ge.pad);
        const Conv2dParams p{ge.k, ge.stride, ge.pad};
        const index_t Ho = conv_output_size(ge.H, p), Wo = conv_output_size(ge.W, p);
        const auto x = random_cpu<float>({ge.N, ge.Cin, ge.H, ge.W}, ++seed), w = random_cpu<float>({ge.Cout, ge.Cin, ge.k, ge.k}, ++seed);
        const auto dy = random_cpu<float>({ge.N, ge.Cout, Ho, Wo}, ++seed);
        const auto gx = to<cuda>(x), gw = to<cuda>(w), gdy = to<cuda>(dy);
        for (float beta : {0.0f, 1.0f}) {
            INFO("beta " << beta);
            const auto y0 = random_cpu<float>({ge.N, ge.Cout, Ho, Wo}, ++seed);
            Tensor<float> y = y0.clone();
            Tensor<float, cuda> gy = to<cuda>(y0);
            if (beta == 0) pggpu::poison(gy);
            conv2d_forward(x, w, y, p, beta);
            conv2d_forward(gx, gw, gy, p, beta);
            CHECK_MATCHES(gy, y, pggpu::conv_tol);

            const auto dx0 = random_cpu<float>(x.shape(), ++seed);
            Tensor<float> dx = dx0.clone();
            Tensor<float, cuda> gdx = to<cuda>(dx0);
            if (beta == 0) pggpu::poison(gdx);
            conv2d_backward_data(dy, w, dx, p, beta);
            conv2d_backward_data(gdy, gw, gdx, p, beta);
            CHECK_MATCHES(gdx, dx, pggpu::conv_tol);

            const auto dw0 = random_cpu<float>(w.shape(), ++seed);
            Tensor<float> dw = dw0.clone();
            Tensor<float, cuda> gdw = to<cuda>(dw0);
            if (beta == 0) pggpu::poison(gdw);
            conv2d_backward_weights(x, dy, dw, p, beta);
            conv2d_backward_weights(gx, gdy, gdw, p, beta);
            CHECK_MATCHES(gdw, dw, pggpu::conv_tol);
        }
    }
}

TEST_CASE("cuda: convolutions in double and transposed convolutions", "[gpu]") {
    const Conv2dParams p{3, 1, 1};
    const auto x = random_cpu<double>({2, 3, 6, 5}, 200), w = random_cpu<double>({4, 3, 3, 3}, 201);
    Tensor<double> y;
    Tensor<double, cuda> gy;
    conv2d_forward(x, w, y, p);
    conv2d_forward(to<cuda>(x), to<cuda>(w), gy, p);
    CHECK_MATCHES(gy, y, 1e-12);

    const Conv2dParams up{4, 2, 1}; // the 2x upsampling transposed convolution
    const auto xt = random_cpu<float>({2, 8, 5, 6}, 202), wt = random_cpu<float>({8, 3, 4, 4}, 203);
    Tensor<float> yt;
    Tensor<float, cuda> gyt;
    conv_transpose2d_forward(xt, wt, yt, up);
    conv_transpose2d_forward(to<cuda>(xt), to<cuda>(wt), gyt, up);
    CHECK(gyt.shape() == Shape{2, 3, 10, 12});
    CHECK_MATCHES(gyt, yt, pggpu::conv_tol);
    const auto dyt = random_cpu<float>(yt.shape(), 204);
    Tensor<float> dxt(xt.shape()), dwt(wt.shape());
    Tensor<float, cuda> gdxt(xt.shape()), gdwt(wt.shape());
    conv_transpose2d_backward_data(dyt, wt, dxt, up);
    conv_transpose2d_backward_data(to<cuda>(dyt), to<cuda>(wt), gdxt, up);
    CHECK_MATCHES(gdxt, dxt, pggpu::conv_tol);
    conv_transpose2d_backward_weights(xt, dyt, dwt, up);
    conv_transpose2d_backward_weights(to<cuda>(xt), to<cuda>(dyt), gdwt, up);
    CHECK_MATCHES(gdwt, dwt, pggpu::conv_tol);
}

TEST_CASE("cuda: TF32 precision, its accuracy loss measured", "[gpu][tf32]") {
    const Conv2dParams p{3, 1, 1};
    const auto x = random_cpu<float>({8, 64, 32, 32}, 300), w = random_cpu<float>({64, 64, 3, 3}, 301, 0.05f);
    const auto a = random_cpu<float>({512, 512}, 302), b = random_cpu<float>({512, 512}, 303);
    Tensor<float> y, c;
    conv2d_forward(x, w, y, p);
    matmul(a, b, c);
    const auto gx = to<cuda>(x), gw = to<cuda>(w), ga = to<cuda>(a), gb = to<cuda>(b);
    double err[2][2];
    for (Precision prec : {Precision::fp32, Precision::tf32}) {
        cuda_runtime::set_precision(prec);
        Tensor<float, cuda> gy, gc;
        conv2d_forward(gx, gw, gy, p);
        matmul(ga, gb, gc);
        err[int(prec)][0] = pggpu::rel_error(gy, y);
        err[int(prec)][1] = pggpu::rel_error(gc, c);
    }
    cuda_runtime::set_precision(Precision::fp32);
    WARN("relative error against the CPU: fp32 conv " << err[0][0] << ", matmul " << err[0][1] << "; tf32 conv "
                                                       << err[1][0] << ", matmul " << err[1][1]);
    CHECK(err[0][0] <= pggpu::conv_tol);
    CHECK(err[0][1] <= pggpu::float_tol);
    CHECK(err[1][0] <= 3e-3); // TF32 keeps 10 mantissa bits: about 5e-4 per product, averaged down
    CHECK(err[1][1] <= 3e-3);
}

TEST_CASE("cuda: pooling, upsampling, resizing and concatenation match the CPU", "[gpu]") {
    const auto x = random_cpu<float>({2, 3, 8, 10}, 400), small = random_cpu<float>({2, 3, 4, 5}, 401);
    const auto gx = to<cuda>(x), gsmall = to<cuda>(small);
    for (float beta : {0.0f, 1.0f}) {
        INFO("beta " << beta);
        Tensor<float> y;
        Tensor<float, cuda> gy;
        avg_pool2x_forward(x, y);
        avg_pool2x_forward(gx, gy);
        CHECK_MATCHES(gy, y, 1e-7);
        Tensor<float> dx = random_cpu<float>(x.shape(), 402);
        Tensor<float, cuda> gdx = to<cuda>(dx);
        avg_pool2x_backward(small, dx, beta);
        avg_pool2x_backward(gsmall, gdx, beta);
        CHECK_MATCHES(gdx, dx, 1e-7);

        Tensor<float> m;
        Tensor<float, cuda> gm;
        max_pool2x_forward(x, m);
        max_pool2x_forward(gx, gm);
        CHECK_MATCHES(gm, m, 0.0);
        dx = random_cpu<float>(x.shape(), 403);
        gdx = to<cuda>(dx);
        max_pool2x_backward(x, small, dx, beta);
        max_pool2x_backward(gx, gsmall, gdx, beta);
        CHECK_MATCHES(gdx, dx, 1e-7);

        Tensor<float> u;
        Tensor<float, cuda> gu;
        upsample2x_forward(small, u);
        upsample2x_forward(gsmall, gu);
        CHECK_MATCHES(gu, u, 0.0);
        Tensor<float> ds = random_cpu<float>(small.shape(), 404);
        Tensor<float, cuda> gds = to<cuda>(ds);
        upsample2x_backward(x, ds, beta);
        upsample2x_backward(gx, gds, beta);
        CHECK_MATCHES(gds, ds, 1e-7);

        const auto b = random_cpu<float>({2, 2, 8, 10}, 405);
        Tensor<float> cat;
        Tensor<float, cuda> gcat;
        concat_channels(x, b, cat);
        concat_channels(gx, to<cuda>(b), gcat);
        CHECK_MATCHES(gcat, cat, 0.0);
        Tensor<float> da = random_cpu<float>(x.shape(), 406), db = random_cpu<float>(b.shape(), 407);
        Tensor<float, cuda> gda = to<cuda>(da), gdb = to<cuda>(db);
        concat_channels_backward(cat, da, db, beta);
        concat_channels_backward(gcat, gda, gdb, beta);
        CHECK_MATCHES(gda, da, 1e-7);
        CHECK_MATCHES(gdb, db, 1e-7);
    }
    for (Shape out : {Shape{2, 3, 17, 23}, Shape{2, 3, 3, 4}, Shape{2, 3, 5, 7}}) {
        INFO("resize to " << out);
        Tensor<float> bl(out), ar(out);
        Tensor<float, cuda> gbl(out), gar(out);
        resize_bilinear(x, bl);
        resize_bilinear(gx, gbl);
        CHECK_MATCHES(gbl, bl, 1e-6);
        resize_area(x, ar);
        resize_area(gx, gar);
        CHECK_MATCHES(gar, ar, 1e-6);
    }
}

TEST_CASE("cuda: minibatch stddev, first and second derivatives, match the CPU", "[gpu]") {
    for (index_t group : {4, 2}) {
        INFO("group " << group);
        const auto x = random_cpu<float>({8, 5, 3, 4}, 500), xt = random_cpu<float>({8, 5, 3, 4}, 501);
        const auto gx = to<cuda>(x), gxt = to<cuda>(xt);
        Tensor<float> y, sigma, yt;
        Tensor<float, cuda> gy, gsigma, gyt;
        minibatch_stddev_forward(x, group, y, sigma);
        minibatch_stddev_forward(gx, group, gy, gsigma);
        CHECK_MATCHES(gy, y, 1e-6);
        CHECK_MATCHES(gsigma, sigma, 1e-6);
        minibatch_stddev_tangent(x, xt, group, sigma, yt);
        minibatch_stddev_tangent(gx, gxt, group, gsigma, gyt);
        CHECK_MATCHES(gyt, yt, 1e-6);
        const auto dy = random_cpu<float>(y.shape(), 502), dyt = random_cpu<float>(y.shape(), 503);
        for (float beta : {0.0f, 1.0f}) {
            Tensor<float> dx = random_cpu<float>(x.shape(), 504), dxt = random_cpu<float>(x.shape(), 505);
            Tensor<float, cuda> gdx = to<cuda>(dx), gdxt = to<cuda>(dxt);
            minibatch_stddev_backward(x, group, sigma, dy, dx, beta);
            minibatch_stddev_backward(gx, group, gsigma, to<cuda>(dy), gdx, beta);
            CHECK_MATCHES(gdx, dx, 1e-6);
            minibatch_stddev_tangent_backward(x, xt, group, sigma, dy, dyt, dx, dxt, beta);
            minibatch_stddev_tangent_backward(gx, gxt, group, gsigma, to<cuda>(dy), to<cuda>(dyt), gdx, gdxt, beta);
            CHECK_MATCHES(gdx, dx, 1e-6);
            CHECK_MATCHES(gdxt, dxt, 1e-6);
        }
    }
}

TEST_CASE("cuda: the caching allocator makes a repeated step call cudaMalloc no more", "[gpu]") {
    const Conv2dParams p{3, 1, 1};
    const auto x = to<cuda>(random_cpu<float>({4, 16, 32, 32}, 600)), w = to<cuda>(random_cpu<float>({16, 16, 3, 3}, 601));
    auto step = [&] {
        Tensor<float, cuda> y, dx(x.shape()), dw(w.shape());
        conv2d_forward(x, w, y, p);
        Tensor<float, cuda> act = where(y > 0.0f, y, y * 0.2f);
        conv2d_backward_data(act, w, dx, p);
        conv2d_backward_weights(x, act, dw, p);
        return double(sum(dw)) + mean(dx);
    };
    step();
    const long long mallocs = cuda_runtime::cache_stats().device_mallocs;
    for (int i = 0; i < 3; ++i) step();
    CHECK(cuda_runtime::cache_stats().device_mallocs == mallocs);
    CHECK(cuda_runtime::cache_stats().bytes_cached > 0);
}

TEST_CASE("cuda: non-finite values are found, as on the CPU", "[gpu]") {
    Tensor<float> a = random_cpu<float>({3, 1000}, 700), b = random_cpu<float>({77}, 701);
    for (float bad : {0.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
        if (bad != 0.0f) b.data()[50] = bad;
        const Tensor<float, cuda> ga = to<cuda>(a), gb = to<cuda>(b);
        const bool want = Executor<cpu>::all_finite<float>({&a, &b});
        CHECK(want == (bad == 0.0f));
        CHECK(Executor<cuda>::all_finite<float>({&ga, &gb}) == want);
    }
}

TEST_CASE("cuda: failures name the call and the library's message", "[gpu]") {
    try {
        Tensor<float, cuda> huge({index_t(1) << 20, index_t(1) << 20, 4, 1}); // 16 TiB
        FAIL("a 16 TiB tensor was allocated");
    } catch (const pgg::error& e) {
        const std::string what = e.what();
        INFO(what);
        CHECK(what.find("cudaMalloc") != std::string::npos);
        CHECK(what.find("memory") != std::string::npos);
    }
    Tensor<float, cuda> x({1, 3, 4, 4}), w({2, 4, 3, 3}), y;
    CHECK_THROWS_WITH(conv2d_forward(x, w, y, Conv2dParams{3, 1, 1}), Catch::Contains("input channels"));
}
