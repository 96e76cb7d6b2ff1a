#pragma once
// Pooling, nearest upsampling, image resizing and channel concatenation on the GPU: one thread per
// output element, behind the front ends of kernels/resample.hpp.
#include "../../kernels/resample.hpp"
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

template <>
struct ResampleKernels<cuda> {
    template <class T>
    static void avg_pool(const T* x, T* y, index_t planes, index_t H, index_t W) {
        const index_t n = planes * H * W;
        cuda_detail::launch(cuda_detail::avg_pool_kernel<T>, n, "avg_pool_kernel", n, x, y, H, W);
    }
    template <class T>
    static void avg_pool_backward(const T* dy, T* dx, index_t planes, index_t H, index_t W, T beta) {
        const index_t n = planes * 4 * H * W;
        cuda_detail::launch(cuda_detail::avg_pool_backward_kernel<T>, n, "avg_pool_backward_kernel", n, dy, dx, H, W, beta);
    }
    template <class T>
    static void max_pool(const T* x, T* y, index_t planes, index_t H, index_t W) {
        const index_t n = planes * H * W;
        cuda_detail::launch(cuda_detail::max_pool_kernel<T>, n, "max_pool_kernel", n, x, y, H, W);
    }
    template <class T>
    static void max_pool_backward(const T* x, const T* dy, T* dx, index_t planes, index_t H, index_t W, T beta) {
        const index_t n = planes * H * W;
        cuda_detail::launch(cuda_detail::max_pool_backward_kernel<T>, n, "max_pool_backward_kernel", n, x, dy, dx, H, W, beta);
    }
    template <class T>
    static void upsample(const T* x, T* y, index_t planes, index_t H, index_t W) {
        const index_t n = planes * 4 * H * W;
        cuda_detail::launch(cuda_detail::upsample_kernel<T>, n, "upsample_kernel", n, x, y, H, W);
    }
    template <class T>
    static void upsample_backward(const T* dy, T* dx, index_t planes, index_t H, index_t W, T beta) {
        const index_t n = planes * H * W;
        cuda_detail::launch(cuda_detail::upsample_backward_kernel<T>, n, "upsample_backward_kernel", n, dy, dx, H, W, beta);
    }
    template <class T>
    static void bilinear(const T* x, T* y, index_t planes, index_t H, index_t W, index_t Ho, index_t Wo) {
        const index_t n = planes * Ho * Wo;
        cuda_detail::launch(cuda_detail::bilinear_kernel<T>, n, "bilinear_kernel", n, x, y, H, W, Ho, Wo);
    }
    template <class T>
    static void area(const T* x, T* y, index_t planes, index_t H, index_t W, index_t Ho, index_t Wo) {
        const index_t n = planes * Ho * Wo;
        cuda_detail::launch(cuda_detail::area_kernel<T>, n, "area_kernel", n, x, y, H, W, Ho, Wo);
    }
    template <class T>
    static void concat(const T* a, const T* b, T* out, index_t n, index_t na, index_t nb) {
        const index_t total = n * (na + nb);
        cuda_detail::launch(cuda_detail::concat_kernel<T>, total, "concat_kernel", total, a, b, out, na, nb);
    }
    template <class T>
    static void concat_backward(const T* dout, T* da, T* db, index_t n, index_t na, index_t nb, T beta) {
        const index_t total = n * (na + nb);
        cuda_detail::launch(cuda_detail::concat_backward_kernel<T>, total, "concat_backward_kernel", total, dout, da, db, na, nb, beta);
    }
};

} // namespace pgg
