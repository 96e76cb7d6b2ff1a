#pragma once
// Stable 64-bit hashes of bytes: the same value on every platform, compiler and run (std::hash
// promises none of that), for content keys and checksums written to files.
#include <cstddef>
#include <cstdint>

namespace pgg {

inline constexpr std::uint64_t fnv1a64_basis = 0xcbf29ce484222325ull;

// 64-bit FNV-1a of n bytes, continued from h: hashing pieces one after another with the previous
// result as h gives the hash of their concatenation.
inline std::uint64_t fnv1a64(const void* data, std::size_t n, std::uint64_t h = fnv1a64_basis) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

// SplitMix64's finaliser: a bijection of 64-bit words in which every input bit changes every output
// bit with probability about 1/2 (to turn a hash and a seed into a random-looking key).
inline std::uint64_t mix64(std::uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

} // namespace pgg
