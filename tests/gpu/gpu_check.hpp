#pragma once
// Comparing the CUDA backend with the CPU backend on the same random inputs: the norm-wise relative
// error ||gpu - cpu|| / ||cpu|| (any NaN or Inf counts as a failure). Outputs are poisoned with NaN
// before a pass that should overwrite them, so an element the GPU never wrote cannot pass.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include <pgg/pgg.hpp>

namespace pggpu {

using namespace pgg;

// Float32 on both sides, different summation orders: far under 1e-3 (docs/cuda.md, "Tests"). cuDNN may
// pick Winograd or FFT algorithms, which lose a little more than direct summation.
inline constexpr double float_tol = 1e-5;
inline constexpr double conv_tol = 1e-4;

template <class T>
Tensor<T> random_cpu(const Shape& s, std::uint64_t seed, T scale = T(1)) {
    Tensor<T> t(s);
    Generator g(seed, 5);
    fill_normal(t, g, T(0), scale);
    return t;
}

template <class T>
double rel_error(const Tensor<T, cuda>& got, const Tensor<T, cpu>& want) {
    REQUIRE(got.shape() == want.shape());
    const Tensor<T> g = to<cpu>(got);
    double num = 0, den = 0;
    for (index_t i = 0; i < g.numel(); ++i) {
        const double a = double(g.data()[i]), b = double(want.data()[i]);
        if (!std::isfinite(a)) return std::numeric_limits<double>::infinity();
        num += (a - b) * (a - b);
        den += b * b;
    }
    return num == 0 ? 0 : std::sqrt(num / std::max(den, 1e-300));
}

template <class T>
void poison(Tensor<T, cuda>& t) {
    t.fill(std::numeric_limits<T>::quiet_NaN());
}

} // namespace pggpu

// CHECK that a GPU tensor matches a CPU one within a relative error, printing the error on failure.
#define CHECK_MATCHES(gpu, cpu_ref, tol)                                                      \
    do {                                                                                      \
        const double pgg_err_ = ::pggpu::rel_error(gpu, cpu_ref);                             \
        INFO(#gpu " against the CPU: relative error " << pgg_err_ << " (bound " << (tol) << ")"); \
        CHECK(pgg_err_ <= (tol));                                                             \
    } while (0)
