#pragma once
// The vector instruction set pgg's CPU kernels are compiled for, through Google Highway's static
// dispatch: the target is the best one the compiler flags allow (-march=native, -march=x86-64-v3,
// aarch64's default), and its vector width is a compile-time constant, so every register block
// below (GEMM, direct convolutions) is derived from the lane count instead of written per target.
//
// PGG_SIMD is 1 where the target has fused multiply-add and a fixed width (AVX2, AVX-512, NEON);
// elsewhere (plain x86-64, SVE) the kernels are not compiled and pgg falls back to Eigen. Highway's
// AVX2 target also requires AES and CLMUL, and its aarch64 NEON target the crypto extension: every
// such CPU has them, but the flags must say so (-march=native does; else add -maes -mpclmul to
// -march=x86-64-v3, or use -march=armv8-a+crypto).
// Highway 1.0.3 (Debian 12) stops with "best baseline should be included in dynamic targets" where
// -march=native selects AVX3_DL (Ice Lake and later Intel CPUs: VNNI, VBMI2, BITALG, VAES): it leaves
// that target out of the attainable set unless asked for it (a misspelt macro; fixed in 1.0.4).
#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL 1
#endif
#include <hwy/cache_control.h>
#include <hwy/highway.h>

#include <string>

#include "../../core/config.hpp"

#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_AVX3_ZEN4 || \
    (HWY_TARGET == HWY_NEON && HWY_ARCH_ARM_A64 && defined(__ARM_FEATURE_AES))
#define PGG_SIMD 1
#else
#define PGG_SIMD 0
#endif

#if PGG_SIMD
namespace pgg::cpu_detail::simd {

namespace hn = hwy::HWY_NAMESPACE;
using D = hn::ScalableTag<float>;
using Vec = hn::Vec<D>;
using Mask = hn::Mask<D>;

// Lanes of a float vector (8 on AVX2, 16 on AVX-512, 4 on NEON).
inline constexpr index_t V = index_t(hn::MaxLanes(D()));
// Vector registers: AVX2 has 16, AVX-512 and aarch64 32. A register block of accumulators leaves a
// few for its operands.
inline constexpr int registers = (HWY_TARGET == HWY_AVX2) ? 16 : 32;

// Transposes a V x V block held in V registers: afterwards r[j] holds what was column j. Each of
// the log2(V) rounds splits every pair of rows into its even and odd lanes; that moves one bit of
// the row index into the lane index and back, so after log2(V) rounds rows and lanes have swapped.
inline void transpose(Vec* r) {
    const D d;
    Vec t[V];
    for (index_t round = 1; round < V; round *= 2) {
        for (index_t i = 0; i < V / 2; ++i) {
            t[i] = hn::ConcatEven(d, r[2 * i + 1], r[2 * i]);
            t[i + V / 2] = hn::ConcatOdd(d, r[2 * i + 1], r[2 * i]);
        }
        for (index_t i = 0; i < V; ++i) r[i] = t[i];
    }
}

// The first n lanes (all when n >= V, none when n <= 0).
inline Mask first(index_t n) { return hn::FirstN(D(), size_t(n < 0 ? 0 : n)); }

// Horizontal sum.
inline float sum(Vec v) { return hn::GetLane(hn::SumOfLanes(D(), v)); }

// The instruction set the kernels were compiled for, for benchmark headers and logs.
inline std::string target_name() { return hwy::TargetName(HWY_TARGET); }

} // namespace pgg::cpu_detail::simd
#endif
