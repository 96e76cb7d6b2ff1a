#pragma once
// Subnormal floats flushed to zero on the CPU, as torch.set_flush_denormal(True) and TensorFlow's
// default do. A multiply-add with a subnormal operand or result takes a microcode assist of about a
// hundred cycles on x86; training reaches such values when a minibatch is fitted so well that the
// loss gradient underflows (|logit| > 87 for a sigmoid), and then every backward kernel slows down:
// measured 2.3x on the abnormality classifier's training step (docs/performance.md). Values below
// 1.2e-38 carry nothing a float32 network can use, so the programs turn this on at start.
//
// The setting is per thread (x86 MXCSR FTZ and DAZ, AArch64 FPCR.FZ): set_flush_denormal applies it
// to the calling thread and to the OpenMP threads that run pgg's parallel loops.
#include <cstdint>

#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace pgg {

namespace cpu_detail {

// Sets this thread's flag; false where the CPU has no such control.
inline bool set_thread_flush_denormal(bool on) {
#if defined(__SSE__) || defined(_M_X64)
    constexpr unsigned bits = 0x8040; // FTZ (bit 15): subnormal results become 0; DAZ (bit 6): subnormal inputs read as 0
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(on ? csr | bits : csr & ~bits);
    return true;
#elif defined(__aarch64__)
    constexpr std::uint64_t fz = std::uint64_t(1) << 24; // FPCR.FZ: subnormal inputs and results become 0
    std::uint64_t fpcr;
    asm volatile("mrs %0, fpcr" : "=r"(fpcr));
    fpcr = on ? fpcr | fz : fpcr & ~fz;
    asm volatile("msr fpcr, %0" : : "r"(fpcr));
    return true;
#else
    (void)on;
    return false;
#endif
}

} // namespace cpu_detail

// Flushes subnormal floats to zero (on) or keeps IEEE gradual underflow (off) on this thread and on
// the OpenMP threads. Returns false, changing nothing, where the CPU has no such mode.
inline bool set_flush_denormal(bool on) {
    const bool supported = cpu_detail::set_thread_flush_denormal(on);
#if defined(_OPENMP)
    if (supported) {
#pragma omp parallel
        cpu_detail::set_thread_flush_denormal(on);
    }
#endif
    return supported;
}

} // namespace pgg
