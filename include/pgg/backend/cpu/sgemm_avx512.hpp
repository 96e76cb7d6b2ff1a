#pragma once
// Single-precision GEMM with an AVX-512 register-blocked micro-kernel (Goto/BLIS structure).
//
// Eigen 3.4's GEMM reaches about 73-77% of this machine's FP32 peak; the convolutions, which are
// GEMMs plus patch gathering, reached 36-66%. This kernel keeps a 12x32 block of C in 24 zmm
// registers, streams a packed 12-wide strip of A and a packed 32-wide strip of B (in L1), and
// blocks K by 384 (powers of two alias in L1 and measured 30% slower) and columns by 1024 so that
// the packed B block stays in L2 while each 12-row strip of A sits in L1.
#if defined(__AVX512F__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "../../core/config.hpp"
#include "parallel.hpp"
#include "workspace.hpp"

namespace pgg::cpu_detail::sgemm {

inline constexpr index_t MR = 12, NR = 32, KC = 384, MC = 240, NC = 1024;

// acc = sum_p a[p][0..MR) (x) b[p][0..NR); then C = alpha * acc + beta * C (beta 0: C not read).
// load_b(p, b0, b1) fetches row p of B: from a packed strip, or in place (see kernel_gather).
template <class LoadB>
PGG_INLINE void kernel_with(index_t kc, const float* __restrict a, LoadB&& load_b, float* __restrict c, index_t ldc,
                            float alpha, float beta) {
    // The C block is read-modified-written at the end: fetch its 24 cache lines while computing.
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
    }
    __m512 acc[MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (index_t p = 0; p < kc; ++p) {
        __m512 b0, b1;
        load_b(p, b0, b1);
#pragma GCC unroll 12
        for (int i = 0; i < MR; ++i) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
        a += MR;
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
        float* row = c + i * ldc;
        __m512 r0 = _mm512_mul_ps(va, acc[i][0]), r1 = _mm512_mul_ps(va, acc[i][1]);
        if (beta != 0.0f) {
            r0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(row), r0);
            r1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(row + 16), r1);
        }
        _mm512_storeu_ps(row, r0);
        _mm512_storeu_ps(row + 16, r1);
    }
}

// B from a packed strip: row p at b + p * NR.
PGG_INLINE void kernel(index_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c,
                       index_t ldc, float alpha, float beta) {
    kernel_with(
        kc, a,
        [b](index_t p, __m512& b0, __m512& b1) {
            b0 = _mm512_load_ps(b + p * NR);
            b1 = _mm512_load_ps(b + p * NR + 16);
        },
        c, ldc, alpha, beta);
}

// B read in place: row p is 16 floats at lo + off[p] and 16 at hi + off[p]. A convolution's weight
// gradient reads its channels-last input this way instead of packing a patch matrix.
PGG_INLINE void kernel_gather(index_t kc, const float* __restrict a, const float* lo, const float* hi,
                              const index_t* __restrict off, float* __restrict c, index_t ldc, float beta) {
    kernel_with(
        kc, a,
        [lo, hi, off](index_t p, __m512& b0, __m512& b1) {
            b0 = _mm512_loadu_ps(lo + off[p]);
            b1 = _mm512_loadu_ps(hi + off[p]);
        },
        c, ldc, 1.0f, beta);
}

// Transposes a 16x16 block held in 16 registers: afterwards r[j] holds what was column j.
inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; ++i) {
        const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int i = 0; i < 4; ++i) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 4; ++i) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
    }
}

// Packs op(A)[i0 : i0+mc, p0 : p0+kc] as strips of MR rows: dst[strip][p][r], zero-padded.
inline void pack_a(bool trans, const float* A, index_t lda, index_t i0, index_t mc, index_t p0, index_t kc, float* dst) {
    for (index_t s = 0; s < mc; s += MR) {
        const index_t rows = std::min(MR, mc - s);
        float* d = dst + s * kc;
        if (!trans) {
            index_t p = 0;
            if (rows == MR) // 16 columns at a time, transposed in registers (rows 12-15 unused)
                for (; p + 16 <= kc; p += 16) {
                    __m512 v[16];
                    for (int r = 0; r < 16; ++r) v[r] = r < MR ? _mm512_loadu_ps(A + (i0 + s + r) * lda + p0 + p) : _mm512_setzero_ps();
                    transpose16(v);
                    for (int q = 0; q < 16; ++q) _mm512_mask_storeu_ps(d + (p + q) * MR, __mmask16(0x0FFF), v[q]);
                }
            for (index_t r = 0; r < rows; ++r) {
                const float* src = A + (i0 + s + r) * lda + p0;
                for (index_t q = p; q < kc; ++q) d[q * MR + r] = src[q];
            }
        } else {
            for (index_t p = 0; p < kc; ++p) std::memcpy(d + p * MR, A + (p0 + p) * lda + i0 + s, rows * sizeof(float));
        }
        if (rows < MR)
            for (index_t p = 0; p < kc; ++p) std::fill(d + p * MR + rows, d + (p + 1) * MR, 0.0f);
    }
}

// Packs op(B)[p0 : p0+kc, j0 : j0+nc] as strips of NR columns: dst[strip][p][c], zero-padded.
inline void pack_b(bool trans, const float* B, index_t ldb, index_t p0, index_t kc, index_t j0, index_t nc, float* dst) {
    for (index_t s = 0; s < nc; s += NR) {
        const index_t cols = std::min(NR, nc - s);
        float* d = dst + s * kc;
        if (!trans) {
            for (index_t p = 0; p < kc; ++p) {
                std::memcpy(d + p * NR, B + (p0 + p) * ldb + j0 + s, cols * sizeof(float));
                if (cols < NR) std::fill(d + p * NR + cols, d + (p + 1) * NR, 0.0f);
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
    alignas(64) float edge[MR * NR];
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
                    for (index_t jr = 0; jr < nc; jr += NR) {
                        const index_t cols = std::min(NR, nc - jr);
                        float* c = C + (ic + ir) * ldc + jc + jr;
                        if (rows == MR && cols == NR) {
                            kernel(kc, ap + ir * kc, bp + jr * kc, c, ldc, alpha, b_beta);
                        } else { // partial block: compute in full, merge the valid part
                            kernel(kc, ap + ir * kc, bp + jr * kc, edge, NR, alpha, 0.0f);
                            for (index_t r = 0; r < rows; ++r)
                                for (index_t q = 0; q < cols; ++q)
                                    c[r * ldc + q] = edge[r * NR + q] + (b_beta == 0.0f ? 0.0f : b_beta * c[r * ldc + q]);
                        }
                    }
                }
            }
        }
    }
}

inline index_t round_up(index_t x, index_t to) { return (x + to - 1) / to * to; }

// Whole-operand packing for callers that reuse a packed operand (a convolution packs its weights
// once per call, not once per tile). Packed A: [K block][MR strip][p][MR]; packed B: [NR strip][p][NR].
inline index_t packed_a_size(index_t m, index_t k) { return round_up(m, MR) * k; }
inline index_t packed_b_size(index_t k, index_t n) { return round_up(n, NR) * k; }
// K steps of packed operands: as few as KC allows, of equal size (a multiple of 8), so that a k just
// above KC is not split into a full step and a short, inefficient one.
inline index_t k_step(index_t k) {
    const index_t steps = std::max<index_t>(1, (k + KC - 1) / KC);
    return round_up((k + steps - 1) / steps, 8);
}
inline void pack_a_all(bool trans, const float* A, index_t lda, index_t m, index_t k, float* dst) {
    const index_t kb = k_step(k);
    for (index_t pc = 0; pc < k; pc += kb) pack_a(trans, A, lda, 0, m, pc, std::min(kb, k - pc), dst + pc * round_up(m, MR));
}
// Where element (p, j) of a packed B lives.
PGG_INLINE index_t packed_b_index(index_t k, index_t p, index_t j) { return (j / NR) * k * NR + p * NR + j % NR; }

// C = alpha * A B + beta * C on packed operands, on the calling thread. The smaller operand's K
// block stays in L2 while the other streams past it: strips of A outside when C is taller than wide
// (a convolution's forward pass), strips of B outside when it is wider (its weight gradient).
inline void packed(index_t m, index_t n, index_t k, float alpha, const float* Ap, const float* Bp, float beta, float* C,
                   index_t ldc) {
    alignas(64) float edge[MR * NR];
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
                const index_t rows = std::min(MR, m - ir), cols = std::min(NR, n - jr);
                const float* a = Ap + pc * mpad + ir * kc;
                const float* b = Bp + jr * k + pc * NR;
                float* c = C + ir * ldc + jr;
                if (rows == MR && cols == NR) {
                    kernel(kc, a, b, c, ldc, alpha, b_beta);
                } else { // partial block: compute in full, merge the valid part
                    kernel(kc, a, b, edge, NR, alpha, 0.0f);
                    for (index_t r = 0; r < rows; ++r)
                        for (index_t q = 0; q < cols; ++q)
                            c[r * ldc + q] = edge[r * NR + q] + (b_beta == 0.0f ? 0.0f : b_beta * c[r * ldc + q]);
                }
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
