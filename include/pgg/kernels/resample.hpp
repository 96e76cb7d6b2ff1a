#pragma once
// Pooling, nearest upsampling, image resizing and channel concatenation on any device: the shape
// checks and the checked tensor front ends over each device's ResampleKernels. Backward passes compute
// dx = (gradient) + beta * dx, so that beta = 1 accumulates.
#include "../core/tensor.hpp"

namespace pgg {

namespace detail {
template <class T, class D>
void require_nchw_pair(const Tensor<T, D>& big, const Tensor<T, D>& small, const char* what) {
    PGG_CHECK(big.rank() == 4 && small.rank() == 4, what, ": NCHW tensors expected, got ", big.shape(), " and ", small.shape());
    PGG_CHECK(big.n() == small.n() && big.c() == small.c() && big.h() == 2 * small.h() && big.w() == 2 * small.w(), what,
              ": ", big.shape(), " is not twice ", small.shape(), " in height and width");
}
template <class T, class D>
Tensor<T, D>& half_size(const Tensor<T, D>& x, Tensor<T, D>& y, const char* what) {
    PGG_CHECK(x.rank() == 4 && x.h() % 2 == 0 && x.w() % 2 == 0, what, ": input ", x.shape(), " needs even height and width");
    if (y.shape().empty()) y = Tensor<T, D>({x.n(), x.c(), x.h() / 2, x.w() / 2});
    require_nchw_pair(x, y, what);
    return y;
}
template <class T, class D>
void require_resize_pair(const Tensor<T, D>& x, const Tensor<T, D>& y, const char* what) {
    PGG_CHECK(x.rank() == 4 && y.rank() == 4 && x.n() == y.n() && x.c() == y.c() && x.h() > 0 && x.w() > 0, what,
              ": NCHW tensors with equal N and C expected, got ", x.shape(), " and ", y.shape());
}
// out = [a, b]'s checks; out is allocated when empty.
template <class T, class D>
void prepare_concat(const Tensor<T, D>& a, const Tensor<T, D>& b, Tensor<T, D>& out) {
    PGG_CHECK(a.rank() == 4 && b.rank() == 4 && a.n() == b.n() && a.h() == b.h() && a.w() == b.w(),
              "concat_channels: ", a.shape(), " and ", b.shape(), " differ outside the channels");
    const Shape s{a.n(), a.c() + b.c(), a.h(), a.w()};
    if (out.shape().empty()) out = Tensor<T, D>(s);
    PGG_CHECK(out.shape() == s, "concat_channels: output ", out.shape(), " expected ", s);
}
template <class T, class D>
void require_concat_split(const Tensor<T, D>& dout, const Tensor<T, D>& da, const Tensor<T, D>& db) {
    PGG_CHECK(dout.rank() == 4 && da.rank() == 4 && db.rank() == 4 && dout.c() == da.c() + db.c() &&
                  dout.numel() == da.numel() + db.numel(),
              "concat_channels_backward: ", dout.shape(), " is not ", da.shape(), " + ", db.shape(), " along channels");
}
} // namespace detail

// A device's resampling kernels on raw NCHW planes, specialised in backend/<device>/resample.hpp. For
// the 2x operations H x W is the smaller side's size (the pooled output, the upsampled input).
template <class Device>
struct ResampleKernels;

// 2x2 average pooling, stride 2.
template <class T, class D>
void avg_pool2x_forward(const Tensor<T, D>& x, Tensor<T, D>& y) {
    detail::half_size(x, y, "avg_pool2x_forward");
    ResampleKernels<D>::avg_pool(x.data(), y.data(), y.shape().planes(), y.h(), y.w());
}
template <class T, class D>
void avg_pool2x_backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, T beta = T(0)) {
    detail::require_nchw_pair(dx, dy, "avg_pool2x_backward");
    ResampleKernels<D>::avg_pool_backward(dy.data(), dx.data(), dy.shape().planes(), dy.h(), dy.w(), beta);
}

// 2x2 max pooling, stride 2. Backward recomputes the arg-max from x (the first maximum wins).
template <class T, class D>
void max_pool2x_forward(const Tensor<T, D>& x, Tensor<T, D>& y) {
    detail::half_size(x, y, "max_pool2x_forward");
    ResampleKernels<D>::max_pool(x.data(), y.data(), y.shape().planes(), y.h(), y.w());
}
template <class T, class D>
void max_pool2x_backward(const Tensor<T, D>& x, const Tensor<T, D>& dy, Tensor<T, D>& dx, T beta = T(0)) {
    detail::require_nchw_pair(dx, dy, "max_pool2x_backward");
    PGG_CHECK(x.shape() == dx.shape(), "max_pool2x_backward: x ", x.shape(), " and dx ", dx.shape(), " differ");
    ResampleKernels<D>::max_pool_backward(x.data(), dy.data(), dx.data(), dy.shape().planes(), dy.h(), dy.w(), beta);
}

// Nearest-neighbour 2x upsampling.
template <class T, class D>
void upsample2x_forward(const Tensor<T, D>& x, Tensor<T, D>& y) {
    PGG_CHECK(x.rank() == 4, "upsample2x_forward: NCHW input expected, got ", x.shape());
    if (y.shape().empty()) y = Tensor<T, D>({x.n(), x.c(), 2 * x.h(), 2 * x.w()});
    detail::require_nchw_pair(y, x, "upsample2x_forward");
    ResampleKernels<D>::upsample(x.data(), y.data(), x.shape().planes(), x.h(), x.w());
}
template <class T, class D>
void upsample2x_backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, T beta = T(0)) {
    detail::require_nchw_pair(dy, dx, "upsample2x_backward");
    ResampleKernels<D>::upsample_backward(dy.data(), dx.data(), dx.shape().planes(), dx.h(), dx.w(), beta);
}

// Bilinear resize of every plane to y's height and width, half-pixel centres (PyTorch's
// align_corners=False, no antialiasing): for enlarging and mild shrinking.
template <class T, class D>
void resize_bilinear(const Tensor<T, D>& x, Tensor<T, D>& y) {
    detail::require_resize_pair(x, y, "resize_bilinear");
    ResampleKernels<D>::bilinear(x.data(), y.data(), x.shape().planes(), x.h(), x.w(), y.h(), y.w());
}

// Area (box-filter) resize: each output pixel is the exact area-weighted mean of the input pixels it
// covers. The right filter for shrinking (no aliasing); for integer factors it is plain block averaging.
template <class T, class D>
void resize_area(const Tensor<T, D>& x, Tensor<T, D>& y) {
    detail::require_resize_pair(x, y, "resize_area");
    ResampleKernels<D>::area(x.data(), y.data(), x.shape().planes(), x.h(), x.w(), y.h(), y.w());
}

// out = [a, b] along channels.
template <class T, class D>
void concat_channels(const Tensor<T, D>& a, const Tensor<T, D>& b, Tensor<T, D>& out) {
    detail::prepare_concat(a, b, out);
    ResampleKernels<D>::concat(a.data(), b.data(), out.data(), a.n(), a.c() * a.h() * a.w(), b.c() * b.h() * b.w());
}
// Splits the gradient of a concatenation: da = dout[:, :Ca] + beta * da, db likewise.
template <class T, class D>
void concat_channels_backward(const Tensor<T, D>& dout, Tensor<T, D>& da, Tensor<T, D>& db, T beta = T(0)) {
    detail::require_concat_split(dout, da, db);
    ResampleKernels<D>::concat_backward(dout.data(), da.data(), db.data(), dout.n(), da.c() * da.h() * da.w(),
                                        db.c() * db.h() * db.w(), beta);
}

} // namespace pgg
