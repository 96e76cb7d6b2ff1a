#pragma once
// Per-thread scratch memory for the CPU kernels. Buffers grow to the largest request and are then
// reused, so a steady-state training step allocates nothing. Not counted as tensor memory.
#include <cstdlib>
#include <memory>

#include "../../core/config.hpp"
#include "../../core/error.hpp"

namespace pgg::cpu_detail {

class ScratchBuffer {
public:
    void* get(std::size_t bytes) {
        if (bytes > size_) {
            std::size_t rounded = (bytes + 63) / 64 * 64;
            void* p = std::aligned_alloc(64, rounded);
            if (!p) throw error("pgg: out of host memory for " + std::to_string(bytes) + " bytes of scratch");
            ptr_.reset(p);
            size_ = rounded;
        }
        return ptr_.get();
    }

private:
    struct Free {
        void operator()(void* p) const { std::free(p); }
    };
    std::unique_ptr<void, Free> ptr_;
    std::size_t size_ = 0;
};

// Scratch slot `slot` of the calling thread, at least `count` elements of T.
template <class T>
T* scratch(int slot, index_t count) {
    constexpr int slots = 10; // 0-3 and 6-8: convolution, 4-5: GEMM panels
    thread_local ScratchBuffer buffers[slots];
    return static_cast<T*>(buffers[slot].get(static_cast<std::size_t>(count) * sizeof(T)));
}

} // namespace pgg::cpu_detail
