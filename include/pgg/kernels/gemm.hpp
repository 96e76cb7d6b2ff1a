#pragma once
// Matrix products on any device: the checked tensor front end over each device's GemmKernels.
#include "../core/tensor.hpp"

namespace pgg {

// A device's GEMM on row-major raw pointers: C = alpha op(A) op(B) + beta C. Specialised in
// backend/<device>/gemm.hpp; matmul below serves every device.
template <class Device>
struct GemmKernels;

// Matrix product of two rank-2 tensors: c = alpha * op(a) op(b) + beta * c (c allocated when empty).
template <class T, class D>
void matmul(const Tensor<T, D>& a, const Tensor<T, D>& b, Tensor<T, D>& c, bool trans_a = false, bool trans_b = false,
            T alpha = T(1), T beta = T(0)) {
    PGG_CHECK(a.rank() == 2 && b.rank() == 2, "matmul: rank-2 tensors expected, got ", a.shape(), " and ", b.shape());
    const index_t m = trans_a ? a.size(1) : a.size(0), k = trans_a ? a.size(0) : a.size(1);
    const index_t kb = trans_b ? b.size(1) : b.size(0), n = trans_b ? b.size(0) : b.size(1);
    PGG_CHECK(k == kb, "matmul: inner dimensions differ: ", a.shape(), (trans_a ? "^T" : ""), " x ", b.shape(),
              (trans_b ? "^T" : ""));
    if (c.empty() && c.shape().empty()) c = Tensor<T, D>({m, n});
    PGG_CHECK(c.rank() == 2 && c.size(0) == m && c.size(1) == n, "matmul: result ", c.shape(), " should be [", m, ", ",
              n, "]");
    if (m == 0 || n == 0) return;
    GemmKernels<D>::gemm(trans_a, trans_b, m, n, k, alpha, a.data(), a.size(1), b.data(), b.size(1), beta, c.data(), n);
}

} // namespace pgg
