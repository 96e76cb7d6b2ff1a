#pragma once
// Build-wide definitions shared by every pgg header.
#include <cstdint>

#if defined(__CUDACC__)
#define PGG_HD __host__ __device__
#else
#define PGG_HD
#endif

#if defined(__GNUC__)
#define PGG_INLINE inline __attribute__((always_inline))
#else
#define PGG_INLINE inline
#endif

namespace pgg {

// Signed so that loop arithmetic with differences never wraps.
using index_t = std::int64_t;

} // namespace pgg
