#pragma once
// GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, any leading dimensions. Float uses pgg's
// own kernel (sgemm.hpp) where the compile flags allow a SIMD target (AVX2, AVX-512, NEON); double and
// plain x86-64 builds use Eigen.
#include "../../core/eigen.hpp"

#include <string>

#include "../../core/tensor.hpp"
#include "../../kernels/gemm.hpp"
#include "sgemm.hpp"

namespace pgg {

// Which CPU kernels this build uses, e.g. "AVX3 (16 lanes, GEMM block 12x32)": benchmarks print it.
inline std::string cpu_kernels() {
#if PGG_SIMD
    using namespace cpu_detail;
    return simd::target_name() + " (" + std::to_string(simd::V) + " lanes, GEMM block " + std::to_string(sgemm::MR) + "x" +
           std::to_string(sgemm::NR) + ")";
#else
    return "Eigen (no SIMD target in the compile flags; build with -march=native)";
#endif
}

namespace cpu_detail {
template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstMap = Eigen::Map<const RowMat<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using MutMap = Eigen::Map<RowMat<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
} // namespace cpu_detail

// op(A) is m x k (A stored k x m when trans_a), op(B) is k x n (B stored n x k when trans_b), C is m x n.
// Runs on the OpenMP threads when called outside a parallel region, on the calling thread inside one.
template <class T>
void gemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, T alpha, const T* A, index_t lda, const T* B,
          index_t ldb, T beta, T* C, index_t ldc) {
    using namespace cpu_detail;
    if (m == 0 || n == 0) return;
#if PGG_SIMD
    if constexpr (std::is_same_v<T, float>) {
        if (k > 0 && alpha != 0.0f) {
            sgemm::gemm(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
            return;
        }
    }
#endif
    MutMap<T> c(C, m, n, Eigen::OuterStride<>(ldc));
    if (beta == T(0)) c.setZero();
    else if (beta != T(1)) c *= beta;
    if (k == 0 || alpha == T(0)) return;
    ConstMap<T> a(A, trans_a ? k : m, trans_a ? m : k, Eigen::OuterStride<>(lda));
    ConstMap<T> b(B, trans_b ? n : k, trans_b ? k : n, Eigen::OuterStride<>(ldb));
    if (!trans_a && !trans_b) c.noalias() += alpha * (a * b);
    else if (trans_a && !trans_b) c.noalias() += alpha * (a.transpose() * b);
    else if (!trans_a && trans_b) c.noalias() += alpha * (a * b.transpose());
    else c.noalias() += alpha * (a.transpose() * b.transpose());
}

// The CPU's GEMM for the device-neutral matmul of kernels/gemm.hpp.
template <>
struct GemmKernels<cpu> {
    template <class T>
    static void gemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, T alpha, const T* A, index_t lda, const T* B,
                     index_t ldb, T beta, T* C, index_t ldc) {
        pgg::gemm(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    }
};

} // namespace pgg
