#pragma once
// Single-precision GEMM with a register-blocked micro-kernel (Goto/BLIS structure), written once over
// Highway's vectors (simd.hpp) for AVX2, AVX-512 and NEON.
//
// Eigen 3.4's GEMM reaches about 73-77% of the FP32 peak; the convolutions, which are GEMMs plus patch
// gathering, reached 36-66%. The micro-kernel keeps an MR x NR block of C in registers: NR is two
// vectors, MR fills the register file (12 rows = 24 accumulators of the 32 registers of AVX-512 or
// aarch64, 6 rows = 12 of AVX2's 16), leaving room for the two B vectors and the broadcast of A. It
// streams a packed MR-wide strip of A and a packed NR-wide strip of B (in L1), and blocks K by 384
// (powers of two alias in L1 and measured 30% slower) and columns by 512, so that the packed B block
// (KC x 512 floats, 768 KiB) stays in a 1 MiB L2 while each strip of A sits in L1.
#include "simd.hpp"
#if PGG_SIMD
#include <algorithm>
#include <cstring>

#include "parallel.hpp"
#include "workspace.hpp"

namespace pgg::cpu_detail::sgemm {

using simd::D;
using simd::V;
using simd::Vec;
namespace hn = simd::hn;

inline constexpr index_t MR = simd::registers >= 32 ? 12 : 6, NR = 2 * V, KC = 384, MC = 240, NC = 512;

// acc = sum_p a[p][0..Mr) (x) b[p][0..Nv V); then C = alpha * acc + beta * C (beta 0: C not read).
// load_b(p, b) fetches row p of B into b[0..Nv): from a packed strip, or in place (see kernel_gather).
// The GEMM's block is Mr = MR, Nv = 2; a convolution's weight gradient also uses a shorter, wider one.
template <index_t Mr, int Nv, class LoadB>
PGG_INLINE void kernel_with(index_t kc, const float* __restrict a, LoadB&& load_b, float* __restrict c, index_t ldc,
                            float alpha, float beta) {
    const D d;
    // The C block is read-modified-written at the end: fetch its cache lines while computing.
#pragma GCC unroll 12
    for (int i = 0; i < Mr; ++i) {
        hwy::Prefetch(c + i * ldc);
        hwy::Prefetch(c + i * ldc + Nv * V - 1);
    }
    Vec acc[Mr][Nv];
#pragma GCC unroll 12
    for (int i = 0; i < Mr; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < Nv; ++v) acc[i][v] = hn::Zero(d);
    for (index_t p = 0; p < kc; ++p) {
        Vec b[Nv];
        load_b(p, b);
#pragma GCC unroll 12
        for (int i = 0; i < Mr; ++i) {
            const Vec ai = hn::Set(d, a[i]);
#pragma GCC unroll 4
            for (int v = 0; v < Nv; ++v) acc[i][v] = hn::MulAdd(ai, b[v], acc[i][v]);
        }
        a += Mr;
    }
    const Vec va = hn::Set(d, alpha), vb = hn::Set(d, beta);
#pragma GCC unroll 12
    for (int i = 0; i < Mr; ++i) {
        float* row = c + i * ldc;
#pragma GCC unroll 4
        for (int v = 0; v < Nv; ++v) {
            Vec r = hn::Mul(va, acc[i][v]);
            if (beta != 0.0f) r = hn::MulAdd(vb, hn::LoadU(d, row + v * V), r);
            hn::StoreU(r, d, row + v * V);
        }
    }
}

// B from a packed strip: row p at b + p * NR.
PGG_INLINE void kernel(index_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c,
                       index_t ldc, float alpha, float beta) {
    kernel_with<MR, 2>(
        kc, a,
        [b](index_t p, Vec* row) {
            row[0] = hn::Load(D(), b + p * NR);
            row[1] = hn::Load(D(), b + p * NR + V);
        },
        c, ldc, alpha, beta);
}

// B read in place: row p is V floats at from[v] + off[p] for each of its Nv vectors. A convolution's
// weight gradient reads its channels-last input this way instead of packing a patch matrix.
template <index_t Mr, int Nv>
PGG_INLINE void kernel_gather(index_t kc, const float* __restrict a, const float* const* from,
                              const index_t* __restrict off, float* __restrict c, index_t ldc, float beta) {
    const float* f[Nv];
    for (int v = 0; v < Nv; ++v) f[v] = from[v];
    kernel_with<Mr, Nv>(
        kc, a,
        [&f, off](index_t p, Vec* row) {
#pragma GCC unroll 4
            for (int v = 0; v < Nv; ++v) row[v] = hn::LoadU(D(), f[v] + off[p]);
        },
        c, ldc, 1.0f, beta);
}

// kernel() on a block of which only rows x cols (at most MR x NR) lie inside C: a partial block is
// computed in full into a buffer and its valid part merged.
PGG_INLINE void kernel_clipped(index_t kc, const float* a, const float* b, float* c, index_t ldc, index_t rows, index_t cols,
                               float alpha, float beta) {
    if (rows == MR && cols == NR) return kernel(kc, a, b, c, ldc, alpha, beta);
    alignas(64) float edge[MR * NR];
    kernel(kc, a, b, edge, NR, alpha, 0.0f);
    for (index_t r = 0; r < rows; ++r)
        for (index_t q = 0; q < cols; ++q) c[r * ldc + q] = edge[r * NR + q] + (beta == 0.0f ? 0.0f : beta * c[r * ldc + q]);
}

// Packs op(A)[i0 : i0+mc, p0 : p0+kc] as strips of Mr rows: dst[strip][p][r], zero-padded.
template <index_t Mr = MR>
void pack_a(bool trans, const float* A, index_t lda, index_t i0, index_t mc, index_t p0, index_t kc, float* dst) {
    for (index_t s = 0; s < mc; s += Mr) {
        const index_t rows = std::min(Mr, mc - s);
        float* d = dst + s * kc;
        if (!trans) {
            index_t p = 0;
            if (rows == Mr) // V columns at a time, transposed in registers V rows at a time
                for (; p + V <= kc; p += V)
                    for (index_t h = 0; h < Mr; h += V) {
                        Vec v[V];
                        for (index_t r = 0; r < V; ++r)
                            v[r] = h + r < Mr ? hn::LoadU(D(), A + (i0 + s + h + r) * lda + p0 + p) : hn::Zero(D());
                        simd::transpose(v);
                        const index_t n = std::min(V, Mr - h);
                        for (index_t q = 0; q < V; ++q) {
                            float* out = d + (p + q) * Mr + h;
                            if (n == V) {
                                hn::StoreU(v[q], D(), out);
                            } else { // not a masked store: AVX2's is microcoded on AMD CPUs
                                alignas(64) float lanes[V];
                                hn::Store(v[q], D(), lanes);
                                std::memcpy(out, lanes, n * sizeof(float));
                            }
                        }
                    }
            for (index_t r = 0; r < rows; ++r) {
                const float* src = A + (i0 + s + r) * lda + p0;
                for (index_t q = p; q < kc; ++q) d[q * Mr + r] = src[q];
            }
        } else {
            for (index_t p = 0; p < kc; ++p) std::memcpy(d + p * Mr, A + (p0 + p) * lda + i0 + s, rows * sizeof(float));
        }
        if (rows < Mr)
            for (index_t p = 0; p < kc; ++p) std::fill(d + p * Mr + rows, d + (p + 1) * Mr, 0.0f);
    }
}

// Packs op(B)[p0 : p0+kc, j0 : j0+nc] as strips of NR columns: dst[strip][p][c], zero-padded.
inline void pack_b(bool trans, const float* B, index_t ldb, index_t p0, index_t kc, index_t j0, index_t nc, float* dst) {
    for (index_t s = 0; s < nc; s += NR) {
        const index_t cols = std::min(NR, nc - s);
        float* d = dst + s * kc;
        if (!trans) {
            for (index_t p = 0; p < kc; ++p) {
                const float* src = B + (p0 + p) * ldb + j0 + s;
                if (cols == NR) {
                    hn::Store(hn::LoadU(D(), src), D(), d + p * NR);
                    hn::Store(hn::LoadU(D(), src + V), D(), d + p * NR + V);
                } else {
                    std::memcpy(d + p * NR, src, cols * sizeof(float));
                    std::fill(d + p * NR + cols, d + (p + 1) * NR, 0.0f);
                }
            }
        } else {
            for (index_t q = 0; q < cols; ++q) {
                const float* src = B + (j0 + s + q) * ldb + p0;
                for (index_t p = 0; p < kc; ++p) d[p * NR + q] = src[p];
            }
            if (cols < NR)
                for (index_t p = 0; p < kc; ++p) std::fill(d + p * NR + cols, d + (p + 1) * NR, 0.0f);
        }
    }
}

// One thread's GEMM on the calling thread.
inline void serial(bool ta, bool tb, index_t m, index_t n, index_t k, float alpha, const float* A, index_t lda,
                   const float* B, index_t ldb, float beta, float* C, index_t ldc) {
    float* bp = scratch<float>(4, KC * ((std::min(NC, n) + NR - 1) / NR * NR));
    float* ap = scratch<float>(5, KC * ((std::min(MC, m) + MR - 1) / MR * MR));
    for (index_t jc = 0; jc < n; jc += NC) {
        const index_t nc = std::min(NC, n - jc);
        for (index_t pc = 0; pc < k; pc += KC) {
            const index_t kc = std::min(KC, k - pc);
            const float b_beta = pc == 0 ? beta : 1.0f;
            pack_b(tb, B, ldb, pc, kc, jc, nc, bp);
            for (index_t ic = 0; ic < m; ic += MC) {
                const index_t mc = std::min(MC, m - ic);
                pack_a(ta, A, lda, ic, mc, pc, kc, ap);
                for (index_t ir = 0; ir < mc; ir += MR) {
                    const index_t rows = std::min(MR, mc - ir);
                    for (index_t jr = 0; jr < nc; jr += NR)
                        kernel_clipped(kc, ap + ir * kc, bp + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc, rows,
                                       std::min(NR, nc - jr), alpha, b_beta);
                }
            }
        }
    }
}

inline index_t round_up(index_t x, index_t to) { return (x + to - 1) / to * to; }

// Whole-operand packing for callers that reuse a packed operand (a convolution packs its weights
// once per call, not once per tile). Packed A: [K block][MR strip][p][MR]; packed B: [NR strip][p][NR].
template <index_t Mr = MR>
index_t packed_a_size(index_t m, index_t k) { return round_up(m, Mr) * k; }
inline index_t packed_b_size(index_t k, index_t n) { return round_up(n, NR) * k; }
// K steps of packed operands: as few as KC allows, of equal size (a multiple of 8), so that a k just
// above KC is not split into a full step and a short, inefficient one.
inline index_t k_step(index_t k) {
    const index_t steps = std::max<index_t>(1, (k + KC - 1) / KC);
    return round_up((k + steps - 1) / steps, 8);
}
template <index_t Mr = MR>
void pack_a_all(bool trans, const float* A, index_t lda, index_t m, index_t k, float* dst) {
    const index_t kb = k_step(k);
    for (index_t pc = 0; pc < k; pc += kb) pack_a<Mr>(trans, A, lda, 0, m, pc, std::min(kb, k - pc), dst + pc * round_up(m, Mr));
}
// Where element (p, j) of a packed B lives.
PGG_INLINE index_t packed_b_index(index_t k, index_t p, index_t j) { return (j / NR) * k * NR + p * NR + j % NR; }

// C = alpha * A B + beta * C on packed operands, on the calling thread. The smaller operand's K
// block stays in L2 while the other streams past it: strips of A outside when C is taller than wide
// (a convolution's forward pass), strips of B outside when it is wider (its weight gradient).
inline void packed(index_t m, index_t n, index_t k, float alpha, const float* Ap, const float* Bp, float beta, float* C,
                   index_t ldc) {
    const index_t mpad = round_up(m, MR);
    // Wide C (a weight gradient) in column blocks of 256, so that each block of C stays in L2 over all
    // K steps instead of being read from memory again for every K step.
    const index_t nblock = n <= m ? n : 256;
    for (index_t jc = 0; jc < n; jc += nblock) {
        const index_t nc = std::min(nblock, n - jc);
        const index_t kb = k_step(k);
        for (index_t pc = 0; pc < k; pc += kb) {
            const index_t kc = std::min(kb, k - pc);
            const float b_beta = pc == 0 ? beta : 1.0f;
            auto block = [&](index_t ir, index_t jr) {
                kernel_clipped(kc, Ap + pc * mpad + ir * kc, Bp + jr * k + pc * NR, C + ir * ldc + jr, ldc, std::min(MR, m - ir),
                               std::min(NR, n - jr), alpha, b_beta);
            };
            if (n <= m) {
                for (index_t ir = 0; ir < m; ir += MR)
                    for (index_t jr = jc; jr < jc + nc; jr += NR) block(ir, jr);
            } else {
                for (index_t jr = jc; jr < jc + nc; jr += NR)
                    for (index_t ir = 0; ir < m; ir += MR) block(ir, jr);
            }
        }
    }
}

// Splits C between the OpenMP threads (by columns when it is wide, else by rows).
inline void gemm(bool ta, bool tb, index_t m, index_t n, index_t k, float alpha, const float* A, index_t lda,
                 const float* B, index_t ldb, float beta, float* C, index_t ldc) {
    const int threads = in_parallel() ? 1 : max_threads();
    if (threads == 1 || double(m) * n * k < 1e6) {
        serial(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    const bool by_cols = n >= m;
    const index_t unit = by_cols ? NR : MR, extent = by_cols ? n : m;
    const index_t units = (extent + unit - 1) / unit;
#pragma omp parallel num_threads(threads)
    {
        auto [u0, u1] = split_range(units, num_threads(), thread_id());
        const index_t b0 = u0 * unit, b1 = std::min(extent, u1 * unit);
        if (b0 < b1) {
            if (by_cols)
                serial(ta, tb, m, b1 - b0, k, alpha, A, lda, tb ? B + b0 * ldb : B + b0, ldb, beta, C + b0, ldc);
            else
                serial(ta, tb, b1 - b0, n, k, alpha, ta ? A + b0 : A + b0 * lda, lda, B, ldb, beta, C + b0 * ldc, ldc);
        }
    }
}

} // namespace pgg::cpu_detail::sgemm
#endif
