#pragma once
// Allocator<cuda>: device memory through a caching allocator. A freed block goes to a free list and is
// handed out again for a request of its size class, so a steady-state training step, which asks for the
// same sizes every step, calls cudaMalloc and cudaFree never. Every operation runs on pgg's one stream,
// which orders a block's reuse after the work that used it.
#include <map>
#include <mutex>
#include <unordered_map>

#include "../../core/allocator.hpp"
#include "context.hpp"

namespace pgg {

// What the caching allocator holds from the driver.
struct CudaCacheStats {
    long long device_mallocs = 0; // cudaMalloc calls so far
    long long bytes_reserved = 0; // held from the driver (in use + cached)
    long long bytes_cached = 0;   // held but free
};

namespace cuda_detail {

class BlockCache {
public:
    static BlockCache& get() {
        static BlockCache* c = new BlockCache; // never destroyed: tensors may outlive static destructors
        return *c;
    }
    // Small requests round to 512 bytes, large ones to whole MiB, so that near sizes share blocks.
    static std::size_t size_class(std::size_t bytes) {
        constexpr std::size_t small = 512, large = std::size_t(1) << 20;
        return bytes <= large ? (bytes + small - 1) / small * small : (bytes + large - 1) / large * large;
    }
    void* allocate(std::size_t bytes) {
        const std::size_t want = size_class(bytes);
        std::lock_guard<std::mutex> lock(mutex_);
        // the smallest free block that fits without wasting more than half of it
        auto it = free_.lower_bound(want);
        if (it != free_.end() && it->first <= 2 * want) {
            void* p = it->second;
            stats_.bytes_cached -= static_cast<long long>(it->first);
            free_.erase(it);
            return p;
        }
        void* p = nullptr;
        cudaError_t e = cudaMalloc(&p, want);
        if (e == cudaErrorMemoryAllocation) { // give the cached blocks back and try once more
            (void)cudaGetLastError();
            release_cached_locked();
            e = cudaMalloc(&p, want);
        }
        if (e != cudaSuccess) {
            (void)cudaGetLastError(); // clear it: the next launch check must not report this failure
            throw error("pgg: cudaMalloc of " + std::to_string(want) + " bytes failed: " + cudaGetErrorString(e) + " (" +
                        std::to_string(stats_.bytes_reserved) + " bytes already reserved)");
        }
        size_[p] = want;
        ++stats_.device_mallocs;
        stats_.bytes_reserved += static_cast<long long>(want);
        return p;
    }
    void deallocate(void* p) {
        std::lock_guard<std::mutex> lock(mutex_);
        const std::size_t s = size_.at(p);
        free_.emplace(s, p);
        stats_.bytes_cached += static_cast<long long>(s);
    }
    // Returns every free block to the driver (after the queued work that may still use them).
    void release_cached() {
        std::lock_guard<std::mutex> lock(mutex_);
        release_cached_locked();
    }
    CudaCacheStats stats() {
        std::lock_guard<std::mutex> lock(mutex_);
        return stats_;
    }

private:
    void release_cached_locked() {
        PGG_CUDA_CHECK(cudaStreamSynchronize(stream()));
        for (auto& [s, p] : free_) {
            PGG_CUDA_CHECK(cudaFree(p));
            size_.erase(p);
            stats_.bytes_reserved -= static_cast<long long>(s);
        }
        free_.clear();
        stats_.bytes_cached = 0;
    }

    std::mutex mutex_;
    std::multimap<std::size_t, void*> free_;
    std::unordered_map<void*, std::size_t> size_;
    CudaCacheStats stats_;
};

} // namespace cuda_detail

template <>
struct Allocator<cuda> {
    static constexpr std::size_t alignment = 256; // what cudaMalloc guarantees; every size class keeps it

    static void* allocate(std::size_t bytes) {
        if (bytes == 0) return nullptr;
        void* p = cuda_detail::BlockCache::get().allocate(bytes);
        stats().on_alloc(bytes);
        return p;
    }
    static void deallocate(void* p, std::size_t bytes) {
        if (!p) return;
        stats().on_free(bytes);
        cuda_detail::BlockCache::get().deallocate(p);
    }
    static void zero(void* p, std::size_t bytes) {
        if (bytes) PGG_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, cuda_detail::stream()));
    }
    static void copy(void* dst, const void* src, std::size_t bytes) {
        if (bytes) PGG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, cuda_detail::stream()));
    }
    static detail::AtomicStats& stats() {
        static detail::AtomicStats s;
        return s;
    }
};

namespace cuda_runtime {
inline CudaCacheStats cache_stats() { return cuda_detail::BlockCache::get().stats(); }
inline void release_cached_memory() { cuda_detail::BlockCache::get().release_cached(); }
} // namespace cuda_runtime

} // namespace pgg
