#pragma once
// Host memory: 64-byte aligned blocks, counted so that tests can prove an evaluation allocated nothing.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "device.hpp"
#include "error.hpp"

namespace pgg {

// Counters of one device's allocator. Monotonic totals plus the bytes alive now.
struct MemoryStats {
    long long allocations = 0;
    long long bytes_allocated = 0;
    long long bytes_live = 0;
};

// Allocator<Device>: allocate / deallocate raw bytes and report statistics. Specialised per device.
template <class Device>
struct Allocator;

namespace detail {
struct AtomicStats {
    std::atomic<long long> allocations{0}, bytes_allocated{0}, bytes_live{0};
    MemoryStats snapshot() const { return {allocations.load(), bytes_allocated.load(), bytes_live.load()}; }
    void on_alloc(std::size_t bytes) {
        allocations.fetch_add(1, std::memory_order_relaxed);
        bytes_allocated.fetch_add(static_cast<long long>(bytes), std::memory_order_relaxed);
        bytes_live.fetch_add(static_cast<long long>(bytes), std::memory_order_relaxed);
    }
    void on_free(std::size_t bytes) { bytes_live.fetch_sub(static_cast<long long>(bytes), std::memory_order_relaxed); }
};
} // namespace detail

template <>
struct Allocator<cpu> {
    // 64 bytes: one cache line, and the width of an AVX-512 register.
    static constexpr std::size_t alignment = 64;

    static void* allocate(std::size_t bytes) {
        if (bytes == 0) return nullptr;
        std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
        void* p = std::aligned_alloc(alignment, rounded);
        if (!p) throw error("pgg: out of host memory allocating " + std::to_string(bytes) + " bytes");
        stats().on_alloc(bytes);
        return p;
    }
    static void deallocate(void* p, std::size_t bytes) {
        if (!p) return;
        stats().on_free(bytes);
        std::free(p);
    }
    static void zero(void* p, std::size_t bytes) {
        if (bytes) std::memset(p, 0, bytes);
    }
    static void copy(void* dst, const void* src, std::size_t bytes) {
        if (bytes) std::memmove(dst, src, bytes);
    }
    static detail::AtomicStats& stats() {
        static detail::AtomicStats s;
        return s;
    }
};

// Statistics of a device's allocator, e.g. memory_stats<cpu>().allocations.
template <class Device>
MemoryStats memory_stats() {
    return Allocator<Device>::stats().snapshot();
}

} // namespace pgg
