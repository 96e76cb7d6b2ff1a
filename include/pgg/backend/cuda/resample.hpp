#pragma once
// Pooling, nearest upsampling, image resizing and channel concatenation on the GPU: one thread per
// output element. The same checks and the same `dx = gradient + beta * dx` rule as the CPU backend.
#include "../cpu/resample.hpp"
#include "launch.hpp"

namespace pgg {

namespace cuda_detail {

template <class T>
__global__ void avg_pool_kernel(index_t n, const T* x, T* y, index_t H, index_t W) { // n = planes * H * W (output)
    PGG_GRID_LOOP(k, n) {
        const index_t pl = k / (H * W), i = k / W % H, j = k % W, Wi = 2 * W;
        const T* r = x + pl * 4 * H * W + 2 * i * Wi + 2 * j;
        y[k] = T(0.25) * (r[0] + r[1] + r[Wi] + r[Wi + 1]);
    }
}
template <class T>
__global__ void avg_pool_backward_kernel(index_t n, const T* dy, T* dx, index_t H, index_t W, T beta) { // n = dx elements
    PGG_GRID_LOOP(k, n) {
        const index_t Wi = 2 * W, pl = k / (4 * H * W), i = k / Wi % (2 * H), j = k % Wi;
        store(dx + k, T(0.25) * dy[pl * H * W + (i / 2) * W + j / 2], beta);
    }
}
template <class T>
__global__ void max_pool_kernel(index_t n, const T* x, T* y, index_t H, index_t W) {
    PGG_GRID_LOOP(k, n) {
        const index_t pl = k / (H * W), i = k / W % H, j = k % W, Wi = 2 * W;
        const T* r = x + pl * 4 * H * W + 2 * i * Wi + 2 * j;
        const T a = r[0] > r[1] ? r[0] : r[1], b = r[Wi] > r[Wi + 1] ? r[Wi] : r[Wi + 1];
        y[k] = a > b ? a : b;
    }
}
// One thread per output: routes its gradient to the first maximum of its window (a, b, c, d order).
template <class T>
__global__ void max_pool_backward_kernel(index_t n, const T* x, const T* dy, T* dx, index_t H, index_t W, T beta) {
    PGG_GRID_LOOP(k, n) {
        const index_t pl = k / (H * W), i = k / W % H, j = k % W, Wi = 2 * W;
        const index_t base = pl * 4 * H * W + 2 * i * Wi + 2 * j;
        const index_t at[4] = {base, base + 1, base + Wi, base + Wi + 1};
        T m = x[at[0]];
        for (int q = 1; q < 4; ++q) m = x[at[q]] > m ? x[at[q]] : m;
        bool taken = false;
        for (int q = 0; q < 4; ++q) {
            const bool hit = !taken && x[at[q]] == m;
            taken = taken || hit;
            store(dx + at[q], hit ? dy[k] : T(0), beta);
        }
    }
}
template <class T>
__global__ void upsample_kernel(index_t n, const T* x, T* y, index_t H, index_t W) { // n = y elements; x is H x W
    PGG_GRID_LOOP(k, n) {
        const index_t Wo = 2 * W, pl = k / (4 * H * W), i = k / Wo % (2 * H), j = k % Wo;
        y[k] = x[pl * H * W + (i / 2) * W + j / 2];
    }
}
template <class T>
__global__ void upsample_backward_kernel(index_t n, const T* dy, T* dx, index_t H, index_t W, T beta) { // n = dx elements
    PGG_GRID_LOOP(k, n) {
        const index_t pl = k / (H * W), i = k / W % H, j = k % W, Wo = 2 * W;
        const T* r = dy + pl * 4 * H * W + 2 * i * Wo + 2 * j;
        store(dx + k, r[0] + r[1] + r[Wo] + r[Wo + 1], beta);
    }
}
// Half-pixel source coordinate of output o (align_corners=False), as the CPU backend.
__device__ __forceinline__ void bilinear_coord(index_t o, index_t in, index_t out, index_t& i0, index_t& i1, double& f) {
    double s = (o + 0.5) * double(in) / double(out) - 0.5;
    s = s > 0.0 ? s : 0.0;
    i0 = index_t(s) < in - 1 ? index_t(s) : in - 1;
    i1 = i0 + 1 < in - 1 ? i0 + 1 : in - 1;
    f = s - double(i0);
}
template <class T>
__global__ void bilinear_kernel(index_t n, const T* x, T* y, index_t H, index_t W, index_t Ho, index_t Wo) {
    PGG_GRID_LOOP(k, n) {
        const index_t pl = k / (Ho * Wo), i = k / Wo % Ho, j = k % Wo;
        index_t y0, y1, x0, x1;
        double fy, fx;
        bilinear_coord(i, H, Ho, y0, y1, fy);
        bilinear_coord(j, W, Wo, x0, x1, fx);
        const T* s = x + pl * H * W;
        const double top = s[y0 * W + x0] * (1 - fx) + s[y0 * W + x1] * fx;
        const double bot = s[y1 * W + x0] * (1 - fx) + s[y1 * W + x1] * fx;
        y[k] = T(top * (1 - fy) + bot * fy);
    }
}
// Exact area weights of output o: input i covers [i, i + 1), output o covers [o s, (o + 1) s).
template <class T>
__global__ void area_kernel(index_t n, const T* x, T* y, index_t H, index_t W, index_t Ho, index_t Wo) {
    PGG_GRID_LOOP(k, n) {
        const index_t pl = k / (Ho * Wo), i = k / Wo % Ho, j = k % Wo;
        const double sy = double(H) / double(Ho), sx = double(W) / double(Wo);
        const double ay = i * sy, by = (i + 1) * sy, ax = j * sx, bx = (j + 1) * sx;
        const index_t r0 = index_t(::floor(ay)), r1 = index_t(::ceil(by)) < H ? index_t(::ceil(by)) : H;
        const index_t c0 = index_t(::floor(ax)), c1 = index_t(::ceil(bx)) < W ? index_t(::ceil(bx)) : W;
        const T* s = x + pl * H * W;
        double v = 0;
        for (index_t r = r0; r < r1; ++r) {
            const double wy = (::fmin(by, double(r + 1)) - ::fmax(ay, double(r))) / sy;
            double row = 0;
            for (index_t c = c0; c < c1; ++c) row += (::fmin(bx, double(c + 1)) - ::fmax(ax, double(c))) / sx * s[r * W + c];
            v += wy * row;
        }
        y[k] = T(v);
    }
}
template <class T>
__global__ void concat_kernel(index_t n, const T* a, const T* b, T* out, index_t na, index_t nb) {
    PGG_GRID_LOOP(k, n) {
        const index_t s = k / (na + nb), q = k % (na + nb);
        out[k] = q < na ? a[s * na + q] : b[s * nb + q - na];
    }
}
template <class T>
__global__ void concat_backward_kernel(index_t n, const T* dout, T* da, T* db, index_t na, index_t nb, T beta) {
    PGG_GRID_LOOP(k, n) {
        const index_t s = k / (na + nb), q = k % (na + nb);
        store(q < na ? da + s * na + q : db + s * nb + q - na, dout[k], beta);
    }
}

} // namespace cuda_detail

template <class T>
void avg_pool2x_forward(const Tensor<T, cuda>& x, Tensor<T, cuda>& y) {
    cpu_detail::half_size(x, y, "avg_pool2x_forward");
    cuda_detail::launch(cuda_detail::avg_pool_kernel<T>, y.numel(), "avg_pool_kernel", y.numel(), x.data(), y.data(), y.h(), y.w());
}
template <class T>
void avg_pool2x_backward(const Tensor<T, cuda>& dy, Tensor<T, cuda>& dx, T beta = T(0)) {
    cpu_detail::require_nchw_pair(dx, dy, "avg_pool2x_backward");
    cuda_detail::launch(cuda_detail::avg_pool_backward_kernel<T>, dx.numel(), "avg_pool_backward_kernel", dx.numel(), dy.data(), dx.data(),
                        dy.h(), dy.w(), beta);
}
template <class T>
void max_pool2x_forward(const Tensor<T, cuda>& x, Tensor<T, cuda>& y) {
    cpu_detail::half_size(x, y, "max_pool2x_forward");
    cuda_detail::launch(cuda_detail::max_pool_kernel<T>, y.numel(), "max_pool_kernel", y.numel(), x.data(), y.data(), y.h(), y.w());
}
template <class T>
void max_pool2x_backward(const Tensor<T, cuda>& x, const Tensor<T, cuda>& dy, Tensor<T, cuda>& dx, T beta = T(0)) {
    cpu_detail::require_nchw_pair(dx, dy, "max_pool2x_backward");
    PGG_CHECK(x.shape() == dx.shape(), "max_pool2x_backward: x ", x.shape(), " and dx ", dx.shape(), " differ");
    cuda_detail::launch(cuda_detail::max_pool_backward_kernel<T>, dy.numel(), "max_pool_backward_kernel", dy.numel(), x.data(), dy.data(),
                        dx.data(), dy.h(), dy.w(), beta);
}
template <class T>
void upsample2x_forward(const Tensor<T, cuda>& x, Tensor<T, cuda>& y) {
    PGG_CHECK(x.rank() == 4, "upsample2x_forward: NCHW input expected, got ", x.shape());
    if (y.shape().empty()) y = Tensor<T, cuda>({x.n(), x.c(), 2 * x.h(), 2 * x.w()});
    cpu_detail::require_nchw_pair(y, x, "upsample2x_forward");
    cuda_detail::launch(cuda_detail::upsample_kernel<T>, y.numel(), "upsample_kernel", y.numel(), x.data(), y.data(), x.h(), x.w());
}
template <class T>
void upsample2x_backward(const Tensor<T, cuda>& dy, Tensor<T, cuda>& dx, T beta = T(0)) {
    cpu_detail::require_nchw_pair(dy, dx, "upsample2x_backward");
    cuda_detail::launch(cuda_detail::upsample_backward_kernel<T>, dx.numel(), "upsample_backward_kernel", dx.numel(), dy.data(), dx.data(),
                        dx.h(), dx.w(), beta);
}
template <class T>
void resize_bilinear(const Tensor<T, cuda>& x, Tensor<T, cuda>& y) {
    cpu_detail::require_resize_pair(x, y, "resize_bilinear");
    cuda_detail::launch(cuda_detail::bilinear_kernel<T>, y.numel(), "bilinear_kernel", y.numel(), x.data(), y.data(), x.h(), x.w(), y.h(),
                        y.w());
}
template <class T>
void resize_area(const Tensor<T, cuda>& x, Tensor<T, cuda>& y) {
    cpu_detail::require_resize_pair(x, y, "resize_area");
    cuda_detail::launch(cuda_detail::area_kernel<T>, y.numel(), "area_kernel", y.numel(), x.data(), y.data(), x.h(), x.w(), y.h(), y.w());
}
template <class T>
void concat_channels(const Tensor<T, cuda>& a, const Tensor<T, cuda>& b, Tensor<T, cuda>& out) {
    cpu_detail::prepare_concat(a, b, out);
    cuda_detail::launch(cuda_detail::concat_kernel<T>, out.numel(), "concat_kernel", out.numel(), a.data(), b.data(), out.data(),
                        a.numel() / a.n(), b.numel() / b.n());
}
template <class T>
void concat_channels_backward(const Tensor<T, cuda>& dout, Tensor<T, cuda>& da, Tensor<T, cuda>& db, T beta = T(0)) {
    cpu_detail::require_concat_split(dout, da, db);
    cuda_detail::launch(cuda_detail::concat_backward_kernel<T>, dout.numel(), "concat_backward_kernel", dout.numel(), dout.data(), da.data(),
                        db.data(), da.numel() / da.n(), db.numel() / db.n(), beta);
}

} // namespace pgg
