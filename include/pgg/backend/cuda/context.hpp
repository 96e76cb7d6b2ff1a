#pragma once
// The CUDA device state pgg works with: one stream on the current device, the cuBLAS and cuDNN handles
// bound to it, and the math precision. All pgg work is queued on this stream in order, so a block the
// caching allocator hands out again is never still in use by an earlier kernel.
#include <string>

#include "../../core/config.hpp"
#include "check.hpp"

namespace pgg {

// Arithmetic of GEMM and convolution on the GPU. fp32: exact float (FMA kernels only). tf32: tensor
// cores with 10-bit mantissa inputs and float accumulation, where cuBLAS and cuDNN allow it (Ampere and
// later); elementwise math stays float. bf16 storage is not offered: cuDNN converts float inputs only
// to TF32 (or FP16), never to bf16, so bf16 would need bf16 tensors throughout.
enum class Precision { fp32, tf32 };

namespace cuda_detail {

class Context {
public:
    static Context& get() {
        static Context c; // one per process; pgg uses the device current at first use
        return c;
    }
    cudaStream_t stream() const { return stream_; }
    cublasHandle_t cublas() const { return cublas_; }
    cudnnHandle_t cudnn() const { return cudnn_; }
    Precision precision() const { return precision_; }
    void set_precision(Precision p) {
        precision_ = p;
        PGG_CUBLAS_CHECK(cublasSetMathMode(cublas_, p == Precision::tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
    }
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

private:
    Context() {
        PGG_CUDA_CHECK(cudaGetDevice(&device_));
        PGG_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
        PGG_CUBLAS_CHECK(cublasCreate(&cublas_));
        PGG_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
        PGG_CUDNN_CHECK(cudnnCreate(&cudnn_));
        PGG_CUDNN_CHECK(cudnnSetStream(cudnn_, stream_));
        set_precision(Precision::fp32);
    }
    // The handles live until the process exits: destroying them from a static destructor races the
    // CUDA runtime's own teardown.
    ~Context() = default;

    int device_ = 0;
    cudaStream_t stream_{};
    cublasHandle_t cublas_{};
    cudnnHandle_t cudnn_{};
    Precision precision_ = Precision::fp32;
};

inline cudaStream_t stream() { return Context::get().stream(); }

// Threads per block and blocks for n elements handled by a grid-stride loop.
inline constexpr int block_threads = 256;
inline unsigned grid_for(index_t n) {
    const index_t blocks = (n + block_threads - 1) / block_threads;
    return unsigned(blocks < 65535 * 16 ? (blocks > 0 ? blocks : 1) : 65535 * 16);
}

} // namespace cuda_detail

namespace cuda_runtime {
// True when a CUDA device can be used (a driver and at least one GPU).
inline bool available() {
    int n = 0;
    return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}
// The current device's name and compute capability, e.g. "NVIDIA H200 (sm_90)".
inline std::string device_name() {
    int d = 0;
    PGG_CUDA_CHECK(cudaGetDevice(&d));
    cudaDeviceProp p{};
    PGG_CUDA_CHECK(cudaGetDeviceProperties(&p, d));
    return std::string(p.name) + " (sm_" + std::to_string(p.major * 10 + p.minor) + ")";
}
// Waits for every queued pgg operation (benchmarks, timing).
inline void synchronize() { PGG_CUDA_CHECK(cudaStreamSynchronize(cuda_detail::stream())); }
inline void set_precision(Precision p) { cuda_detail::Context::get().set_precision(p); }
inline Precision precision() { return cuda_detail::Context::get().precision(); }
} // namespace cuda_runtime

} // namespace pgg
