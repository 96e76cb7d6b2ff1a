#pragma once
// Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11).
//
// Value k of a fill is a pure function of (seed, stream, offset + k): any device, any number of
// threads and any order of evaluation give the same numbers. A Generator advances its offset past
// what each fill consumed, so successive fills draw fresh numbers; (seed, stream, offset) is the whole
// state and goes into checkpoints.
#include <array>
#include <cmath>
#include <cstdint>

#include "config.hpp"

namespace pgg {

namespace philox {

using Block = std::array<std::uint32_t, 4>;

PGG_HD PGG_INLINE void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
    std::uint64_t p = static_cast<std::uint64_t>(a) * b;
    hi = static_cast<std::uint32_t>(p >> 32);
    lo = static_cast<std::uint32_t>(p);
}

// Ten rounds of Philox4x32 on counter (c0..c3) with key (k0, k1); writes four 32-bit outputs.
PGG_HD PGG_INLINE void generate(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                                std::uint32_t k0, std::uint32_t k1, std::uint32_t out[4]) {
    constexpr std::uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
    for (int r = 0; r < 10; ++r) {
        std::uint32_t hi0, lo0, hi1, lo1;
        mulhilo(M0, c0, hi0, lo0);
        mulhilo(M1, c2, hi1, lo1);
        std::uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0, c1 = n1, c2 = n2, c3 = n3;
        k0 += W0;
        k1 += W1;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

// A uniform float in (0, 1): 24 random bits, centred in their interval so that 0 never occurs.
PGG_HD PGG_INLINE float to_unit_float(std::uint32_t x) { return (static_cast<float>(x >> 8) + 0.5f) * (1.0f / 16777216.0f); }
// A uniform double in (0, 1) from two words: 53 random bits.
PGG_HD PGG_INLINE double to_unit_double(std::uint32_t a, std::uint32_t b) {
    std::uint64_t x = (static_cast<std::uint64_t>(a) << 21) ^ (b >> 11);
    return (static_cast<double>(x & ((1ull << 53) - 1)) + 0.5) * (1.0 / 9007199254740992.0);
}

} // namespace philox

// Which random stream: (seed, stream) is the Philox key and the upper half of the counter.
struct Generator {
    std::uint64_t seed = 0;
    std::uint64_t stream = 0;
    std::uint64_t offset = 0; // blocks of four 32-bit words already consumed

    Generator() = default;
    explicit Generator(std::uint64_t s, std::uint64_t st = 0) : seed(s), stream(st) {}

    // Four random words for block b (relative to the current offset).
    PGG_HD PGG_INLINE void block(std::uint64_t b, std::uint32_t out[4]) const {
        std::uint64_t c = offset + b;
        philox::generate(static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(c >> 32),
                         static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32),
                         static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32), out);
    }
    // Reserves `blocks` blocks and returns a copy positioned at their start.
    Generator take(std::uint64_t blocks) {
        Generator g = *this;
        offset += blocks;
        return g;
    }
};

// Element k of a fill: float uses one word per value; double uses two words per value.
// Normals come from Box-Muller on pairs of uniforms of the same block.
template <class T>
struct RandomValues {
    static constexpr int per_block = std::is_same_v<T, double> ? 2 : 4;

    PGG_HD PGG_INLINE static void uniform(const Generator& g, std::uint64_t b, T lo, T hi, T out[per_block]) {
        std::uint32_t w[4];
        g.block(b, w);
        if constexpr (per_block == 4) {
            for (int j = 0; j < 4; ++j) out[j] = lo + (hi - lo) * T(philox::to_unit_float(w[j]));
        } else {
            out[0] = lo + (hi - lo) * T(philox::to_unit_double(w[0], w[1]));
            out[1] = lo + (hi - lo) * T(philox::to_unit_double(w[2], w[3]));
        }
    }
    PGG_HD PGG_INLINE static void normal(const Generator& g, std::uint64_t b, T mean, T stddev, T out[per_block]) {
        using std::cos, std::log, std::sin, std::sqrt;
        constexpr double two_pi = 6.283185307179586476925286766559;
        std::uint32_t w[4];
        g.block(b, w);
        if constexpr (per_block == 4) {
            for (int j = 0; j < 4; j += 2) {
                float u1 = philox::to_unit_float(w[j]), u2 = philox::to_unit_float(w[j + 1]);
                float r = sqrt(-2.0f * log(u1)), a = float(two_pi) * u2;
                out[j] = mean + stddev * T(r * cos(a));
                out[j + 1] = mean + stddev * T(r * sin(a));
            }
        } else {
            double u1 = philox::to_unit_double(w[0], w[1]), u2 = philox::to_unit_double(w[2], w[3]);
            double r = sqrt(-2.0 * log(u1)), a = two_pi * u2;
            out[0] = mean + stddev * T(r * cos(a));
            out[1] = mean + stddev * T(r * sin(a));
        }
    }
};

} // namespace pgg
