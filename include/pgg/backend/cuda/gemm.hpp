#pragma once
// Matrix products through cuBLAS. pgg's matrices are row-major; cuBLAS's are column-major, so
// C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T, which reads the same memory without copies.
#include "../../core/tensor.hpp"
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

// c = alpha * op(a) op(b) + beta * c for rank-2 tensors (c allocated when empty), as the CPU matmul.
template <class T>
void matmul(const Tensor<T, cuda>& a, const Tensor<T, cuda>& b, Tensor<T, cuda>& c, bool trans_a = false,
            bool trans_b = false, T alpha = T(1), T beta = T(0)) {
    PGG_CHECK(a.rank() == 2 && b.rank() == 2, "matmul: rank-2 tensors expected, got ", a.shape(), " and ", b.shape());
    const index_t m = trans_a ? a.size(1) : a.size(0), k = trans_a ? a.size(0) : a.size(1);
    const index_t kb = trans_b ? b.size(1) : b.size(0), n = trans_b ? b.size(0) : b.size(1);
    PGG_CHECK(k == kb, "matmul: inner dimensions differ: ", a.shape(), (trans_a ? "^T" : ""), " x ", b.shape(),
              (trans_b ? "^T" : ""));
    if (c.empty() && c.shape().empty()) c = Tensor<T, cuda>({m, n});
    PGG_CHECK(c.rank() == 2 && c.size(0) == m && c.size(1) == n, "matmul: result ", c.shape(), " should be [", m, ", ",
              n, "]");
    if (m == 0 || n == 0) return;
    cuda_detail::gemm(trans_a, trans_b, m, n, k, alpha, a.data(), a.size(1), b.data(), b.size(1), beta, c.data(), n);
}

} // namespace pgg
