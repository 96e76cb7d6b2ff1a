#pragma once
// Naive double-precision references and helpers shared by the tests.
#include <pgg/pgg.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace pggtest {

using pgg::index_t;
using pgg::Shape;
using pgg::Tensor;

// A fresh folder under the system's temporary directory, removed with everything in it at scope exit.
struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& tag = "tmp")
        : path(std::filesystem::temp_directory_path() / ("pgg_" + tag + "_" + std::to_string(::getpid()))) {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string operator/(const std::string& name) const { return (path / name).string(); }
};

template <class T>
Tensor<T> random_tensor(const Shape& s, std::uint64_t seed, T lo = T(-1), T hi = T(1)) {
    Tensor<T> t(s);
    pgg::Generator g(seed);
    pgg::fill_uniform(t, g, lo, hi);
    return t;
}

template <class T>
std::vector<double> to_double(const Tensor<T>& t) {
    return std::vector<double>(t.begin(), t.end());
}

// max |a - b|, or NaN when either side holds a non-finite value: every comparison with NaN (<, <=,
// ==, >) is false, so a check on a broken result fails whichever way it is written.
template <class T>
double max_abs_diff(const Tensor<T>& a, const std::vector<double>& b) {
    REQUIRE(static_cast<std::size_t>(a.numel()) == b.size());
    double err = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        const double d = std::abs(double(a.data()[i]) - b[i]);
        if (!std::isfinite(d)) return std::numeric_limits<double>::quiet_NaN();
        err = std::max(err, d);
    }
    return err;
}

// max |a - b| / (max |b| + floor): a relative error that tolerates tiny values; NaN as max_abs_diff.
template <class T>
double rel_error(const Tensor<T>& a, const std::vector<double>& b, double floor = 1e-6) {
    double scale = floor;
    for (double v : b) scale = std::max(scale, std::abs(v));
    return max_abs_diff(a, b) / scale;
}

// Direct convolution in double: x (N,Ci,H,W), w (Co,Ci,k,k) -> (N,Co,Ho,Wo).
inline std::vector<double> conv_ref(const std::vector<double>& x, const std::vector<double>& w, index_t N, index_t Ci,
                                    index_t H, index_t W, index_t Co, index_t k, index_t s, index_t p) {
    const index_t Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1;
    std::vector<double> y(N * Co * Ho * Wo, 0.0);
    for (index_t n = 0; n < N; ++n)
        for (index_t co = 0; co < Co; ++co)
            for (index_t oy = 0; oy < Ho; ++oy)
                for (index_t ox = 0; ox < Wo; ++ox) {
                    double acc = 0;
                    for (index_t ci = 0; ci < Ci; ++ci)
                        for (index_t ky = 0; ky < k; ++ky)
                            for (index_t kx = 0; kx < k; ++kx) {
                                index_t iy = oy * s - p + ky, ix = ox * s - p + kx;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                acc += x[((n * Ci + ci) * H + iy) * W + ix] * w[((co * Ci + ci) * k + ky) * k + kx];
                            }
                    y[((n * Co + co) * Ho + oy) * Wo + ox] = acc;
                }
    return y;
}

} // namespace pggtest
