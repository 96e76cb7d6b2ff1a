#pragma once
// Copies between host and device memory. Host memory is pageable, so a host-to-device copy returns once
// the source is read and a device-to-host copy waits until the data has arrived.
#include "../../core/tensor.hpp"
#include "context.hpp"

namespace pgg {

template <>
struct Transfer<cpu, cuda> {
    static void copy(void* dst, const void* src, std::size_t bytes) {
        if (!bytes) return;
        PGG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, cuda_detail::stream()));
    }
};
template <>
struct Transfer<cuda, cpu> {
    static void copy(void* dst, const void* src, std::size_t bytes) {
        if (!bytes) return;
        PGG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cuda_detail::stream()));
        PGG_CUDA_CHECK(cudaStreamSynchronize(cuda_detail::stream()));
    }
};

} // namespace pgg
