#pragma once
// Checks of CUDA runtime, cuBLAS and cuDNN calls: a failure throws pgg::error naming the call, the file
// and line, and the library's own message.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "../../core/error.hpp"

#define PGG_CUDA_CHECK(call)                                                                              \
    do {                                                                                                  \
        const cudaError_t pgg_status_ = (call);                                                           \
        if (pgg_status_ != cudaSuccess)                                                                   \
            ::pgg::detail::fail(__FILE__, __LINE__, #call, " failed: ", cudaGetErrorName(pgg_status_), ": ", \
                                cudaGetErrorString(pgg_status_));                                         \
    } while (0)

#define PGG_CUBLAS_CHECK(call)                                                                            \
    do {                                                                                                  \
        const cublasStatus_t pgg_status_ = (call);                                                        \
        if (pgg_status_ != CUBLAS_STATUS_SUCCESS)                                                         \
            ::pgg::detail::fail(__FILE__, __LINE__, #call, " failed: ", cublasGetStatusString(pgg_status_)); \
    } while (0)

#define PGG_CUDNN_CHECK(call)                                                                             \
    do {                                                                                                  \
        const cudnnStatus_t pgg_status_ = (call);                                                         \
        if (pgg_status_ != CUDNN_STATUS_SUCCESS)                                                          \
            ::pgg::detail::fail(__FILE__, __LINE__, #call, " failed: ", cudnnGetErrorString(pgg_status_)); \
    } while (0)

// After a kernel launch: a bad configuration is reported at once, naming the kernel.
#define PGG_CUDA_LAUNCHED(kernel_name) PGG_CUDA_CHECK((static_cast<void>(kernel_name), cudaGetLastError()))
