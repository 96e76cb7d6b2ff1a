#pragma once
// Convolutions through cuDNN: forward, backward-data and backward-filter, cross-correlation as in
// PyTorch. Per shape, a plan holds the descriptors and, found once by cuDNN's search on first use, the
// fastest algorithm of each pass within the precision asked for; the workspace is one buffer that only
// grows. The checked tensor functions (conv2d_forward, transposed convolutions, ...) are the device-
// neutral ones of kernels/conv.hpp over ConvKernels<cuda>.
#include <map>
#include <memory>
#include <tuple>

#include "../../kernels/conv.hpp"
#include "allocator.hpp"
#include "context.hpp"

namespace pgg {

namespace cuda_detail {

template <class T>
constexpr cudnnDataType_t cudnn_type() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "cuDNN convolutions: float or double");
    return std::is_same_v<T, float> ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
}

// Algorithms may use at most this much workspace (the search itself is bounded by free memory).
inline constexpr std::size_t workspace_limit = std::size_t(2) << 30;

// A device buffer shared by all convolutions; it grows to the largest workspace needed and stays.
class Workspace {
public:
    static void* get(std::size_t bytes) {
        static Workspace w;
        if (bytes > w.bytes_) {
            if (w.ptr_) Allocator<cuda>::deallocate(w.ptr_, w.bytes_);
            w.ptr_ = Allocator<cuda>::allocate(bytes);
            w.bytes_ = bytes;
        }
        return w.ptr_;
    }

private:
    void* ptr_ = nullptr;
    std::size_t bytes_ = 0;
};

struct Algo {
    int algo = -1; // cudnnConvolution*Algo_t of the pass, -1 until searched
    cudnnMathType_t math = CUDNN_DEFAULT_MATH;
    std::size_t workspace = 0;
};

// Accepts a search result: it ran, fits the workspace limit and, unless TF32 was asked for, does not
// use tensor-core math (which rounds float inputs to TF32).
template <class Perf>
bool acceptable(const Perf& p, Precision prec) {
    const bool tensor_op = p.mathType == CUDNN_TENSOR_OP_MATH || p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    return p.status == CUDNN_STATUS_SUCCESS && p.memory <= workspace_limit && (prec == Precision::tf32 || !tensor_op);
}

// Descriptors of one convolution x (N, Cin, H, W) * w (Cout, Cin, k, k) -> y (N, Cout, Ho, Wo).
class ConvPlan {
public:
    ConvPlan(const ConvGeom& g, cudnnDataType_t type) {
        PGG_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x_));
        PGG_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y_));
        PGG_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w_));
        PGG_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv_));
        PGG_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x_, CUDNN_TENSOR_NCHW, type, int(g.N), int(g.Cin), int(g.H), int(g.W)));
        PGG_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y_, CUDNN_TENSOR_NCHW, type, int(g.N), int(g.Cout), int(g.Ho), int(g.Wo)));
        PGG_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w_, type, CUDNN_TENSOR_NCHW, int(g.Cout), int(g.Cin), int(g.k), int(g.k)));
        PGG_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv_, int(g.p), int(g.p), int(g.s), int(g.s), 1, 1,
                                                        CUDNN_CROSS_CORRELATION, type));
        int n, c, h, w;
        PGG_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(conv_, x_, w_, &n, &c, &h, &w));
        PGG_CHECK(h == g.Ho && w == g.Wo, "cuDNN convolution: output ", h, "x", w, " where pgg expects ", g.Ho, "x", g.Wo);
    }
    ~ConvPlan() {
        cudnnDestroyConvolutionDescriptor(conv_);
        cudnnDestroyFilterDescriptor(w_);
        cudnnDestroyTensorDescriptor(y_);
        cudnnDestroyTensorDescriptor(x_);
    }
    ConvPlan(const ConvPlan&) = delete;
    ConvPlan& operator=(const ConvPlan&) = delete;

    template <class S>
    void forward(const S* x, const S* w, S* y, S beta) {
        cudnnHandle_t h = Context::get().cudnn();
        const Algo& a = forward_algo(h);
        const S alpha = 1;
        void* ws = Workspace::get(a.workspace);
        PGG_CUDNN_CHECK(cudnnSetConvolutionMathType(conv_, a.math));
        PGG_CUDNN_CHECK(cudnnConvolutionForward(h, &alpha, x_, x, w_, w, conv_, cudnnConvolutionFwdAlgo_t(a.algo), ws,
                                                a.workspace, &beta, y_, y));
    }
    template <class S>
    void backward_data(const S* dy, const S* w, S* dx, S beta) {
        cudnnHandle_t h = Context::get().cudnn();
        const Algo& a = backward_data_algo(h);
        const S alpha = 1;
        void* ws = Workspace::get(a.workspace);
        PGG_CUDNN_CHECK(cudnnSetConvolutionMathType(conv_, a.math));
        PGG_CUDNN_CHECK(cudnnConvolutionBackwardData(h, &alpha, w_, w, y_, dy, conv_, cudnnConvolutionBwdDataAlgo_t(a.algo),
                                                     ws, a.workspace, &beta, x_, dx));
    }
    template <class S>
    void backward_filter(const S* x, const S* dy, S* dw, S beta) {
        cudnnHandle_t h = Context::get().cudnn();
        const Algo& a = backward_filter_algo(h);
        const S alpha = 1;
        void* ws = Workspace::get(a.workspace);
        PGG_CUDNN_CHECK(cudnnSetConvolutionMathType(conv_, a.math));
        PGG_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, &alpha, x_, x, y_, dy, conv_,
                                                       cudnnConvolutionBwdFilterAlgo_t(a.algo), ws, a.workspace, &beta, w_, dw));
    }

private:
    // cuDNN's search (it times every algorithm on scratch buffers of its own); the search may run with
    // tensor-core math only when TF32 is allowed.
    void prepare_search() {
        const bool tf32 = Context::get().precision() == Precision::tf32;
        PGG_CUDNN_CHECK(cudnnSetConvolutionMathType(conv_, tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
    }
    template <class Perf>
    Algo pick(const Perf* perf, int count, const char* pass) {
        const Precision prec = Context::get().precision();
        for (int i = 0; i < count; ++i) // sorted fastest first
            if (acceptable(perf[i], prec))
                return {int(perf[i].algo), prec == Precision::tf32 ? perf[i].mathType : CUDNN_FMA_MATH, perf[i].memory};
        detail::fail(__FILE__, __LINE__, "cuDNN found no usable ", pass, " algorithm for this convolution");
    }
    const Algo& forward_algo(cudnnHandle_t h) {
        if (fwd_.algo < 0) {
            prepare_search();
            cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
            int count = 0;
            PGG_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(h, x_, w_, conv_, y_, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                                 &count, perf));
            fwd_ = pick(perf, count, "forward");
        }
        return fwd_;
    }
    const Algo& backward_data_algo(cudnnHandle_t h) {
        if (bwd_data_.algo < 0) {
            prepare_search();
            cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
            int count = 0;
            PGG_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(h, w_, y_, conv_, x_,
                                                                      CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, perf));
            bwd_data_ = pick(perf, count, "backward-data");
        }
        return bwd_data_;
    }
    const Algo& backward_filter_algo(cudnnHandle_t h) {
        if (bwd_filter_.algo < 0) {
            prepare_search();
            cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
            int count = 0;
            PGG_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(h, x_, y_, conv_, w_,
                                                                        CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count, perf));
            bwd_filter_ = pick(perf, count, "backward-filter");
        }
        return bwd_filter_;
    }

    cudnnTensorDescriptor_t x_{}, y_{};
    cudnnFilterDescriptor_t w_{};
    cudnnConvolutionDescriptor_t conv_{};
    Algo fwd_, bwd_data_, bwd_filter_;
};

// The plan of a geometry, data type and precision, made on first use and kept.
inline ConvPlan& conv_plan(const ConvGeom& g, cudnnDataType_t type) {
    using Key = std::tuple<index_t, index_t, index_t, index_t, index_t, index_t, index_t, index_t, int, int>;
    static std::map<Key, std::unique_ptr<ConvPlan>> plans;
    const Key key{g.N, g.Cin, g.H, g.W, g.Cout, g.k, g.s, g.p, int(type), int(Context::get().precision())};
    auto it = plans.find(key);
    if (it == plans.end()) it = plans.emplace(key, std::make_unique<ConvPlan>(g, type)).first;
    return *it->second;
}

} // namespace cuda_detail

// The passes through the cached plans; an empty batch has nothing to convolve (cuDNN rejects N = 0).
template <>
struct ConvKernels<cuda> {
    template <class T>
    static void forward(const T* x, const T* w, T* y, const ConvGeom& g, T beta) {
        if (g.N) cuda_detail::conv_plan(g, cuda_detail::cudnn_type<T>()).forward(x, w, y, beta);
    }
    template <class T>
    static void backward_data(const T* dy, const T* w, T* dx, const ConvGeom& g, T beta) {
        if (g.N) cuda_detail::conv_plan(g, cuda_detail::cudnn_type<T>()).backward_data(dy, w, dx, beta);
    }
    template <class T>
    static void backward_weights(const T* x, const T* dy, T* dw, const ConvGeom& g, T beta) {
        PGG_CHECK(g.N > 0, "conv2d_backward_weights: an empty batch on cuda");
        cuda_detail::conv_plan(g, cuda_detail::cudnn_type<T>()).backward_filter(x, dy, dw, beta);
    }
};

} // namespace pgg
