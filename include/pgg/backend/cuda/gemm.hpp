#pragma once
// Matrix products through cuBLAS. pgg's matrices are row-major; cuBLAS's are column-major, so
// C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T, which reads the same memory without copies.
// matmul itself is the device-neutral one of kernels/gemm.hpp.
#include "../../core/tensor.hpp"
#include "../../kernels/gemm.hpp"
#include "context.hpp"

namespace pgg {

namespace cuda_detail {
inline void gemm(bool ta, bool tb, index_t m, index_t n, index_t k, float alpha, const float* A, index_t lda, const float* B,
                 index_t ldb, float beta, float* C, index_t ldc) {
    PGG_CUBLAS_CHECK(cublasSgemm(Context::get().cublas(), tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                                 int(n), int(m), int(k), &alpha, B, int(ldb), A, int(lda), &beta, C, int(ldc)));
}
inline void gemm(bool ta, bool tb, index_t m, index_t n, index_t k, double alpha, const double* A, index_t lda,
                 const double* B, index_t ldb, double beta, double* C, index_t ldc) {
    PGG_CUBLAS_CHECK(cublasDgemm(Context::get().cublas(), tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                                 int(n), int(m), int(k), &alpha, B, int(ldb), A, int(lda), &beta, C, int(ldc)));
}
} // namespace cuda_detail

template <>
struct GemmKernels<cuda> {
    template <class T>
    static void gemm(bool ta, bool tb, index_t m, index_t n, index_t k, T alpha, const T* A, index_t lda, const T* B,
                     index_t ldb, T beta, T* C, index_t ldc) {
        cuda_detail::gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    }
};

} // namespace pgg
