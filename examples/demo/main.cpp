// pgg_demo: a first look at the library on a fresh machine, before the PG-GAN example exists.
// Builds a batch of random "images", runs a 3x3 convolution, a leaky ReLU + pixel norm written as
// expressions, 2x2 average pooling, and reports the convolution's speed.
#include <pgg/pgg.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

int main() {
    using namespace pgg;
    const index_t N = 16, C = 64, R = 32;
    Tensor<float> x({N, C, R, R}), w({C, C, 3, 3}), bias({C}), y({N, C, R, R});
    Generator gen(2026);
    fill_normal(x, gen);
    fill_normal(w, gen, 0.0f, 1.0f / std::sqrt(float(C * 9)));
    fill_uniform(bias, gen, -0.1f, 0.1f);

    const int reps = 10;
    conv2d_forward(x, w, y, {3, 1, 1}); // warm-up: the first call sizes the scratch buffers
    auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) conv2d_forward(x, w, y, {3, 1, 1});
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
    double gflop = 2.0 * N * C * C * 9 * R * R / 1e9;

    // bias + leaky ReLU in one pass, then pixel norm: x / sqrt(mean_c(x^2) + 1e-8)
    y = y + per_channel(bias);
    y = where(y > 0.0f, y, 0.2f * y);
    Tensor<float> inv = rsqrt(Tensor<float>(mean_over_channels(square(y))) + 1e-8f);
    y = y * per_pixel(inv);
    Tensor<float> pooled;
    avg_pool2x_forward(y, pooled);

    std::printf("conv2d 3x3 %lldx%lld, %lld->%lld channels, batch %lld: %.2f ms, %.1f GFLOP/s on %d threads\n",
                (long long)R, (long long)R, (long long)C, (long long)C, (long long)N, sec * 1e3, gflop / sec,
                cpu_detail::max_threads());
    std::printf("after pixel norm, mean square per pixel = %.4f (expected 1)\n", mean(square(y)));
    std::cout << "first sample, channel 0, pooled to " << pooled.h() << "x" << pooled.w() << ":\n"
              << pooled.slice(0, 1).reshape({pooled.c() * pooled.h(), pooled.w()}).slice(0, 4) << "\n";
    return 0;
}
