#pragma once
// pgg: a header-only C++20 deep-learning library. One include gives the whole public API.

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/device.hpp"
#include "core/shape.hpp"
#include "core/allocator.hpp"
#include "core/tensor.hpp"
#include "core/ops.hpp"
#include "core/random.hpp"
#include "core/print.hpp"

// What every device shares: geometry, shape checks, and the checked front ends over per-device kernels.
#include "kernels/gemm.hpp"
#include "kernels/conv.hpp"
#include "kernels/resample.hpp"
#include "kernels/augment.hpp"
#include "kernels/stddev.hpp"

#include "backend/cpu/eval.hpp"
#include "backend/cpu/random.hpp"
#include "backend/cpu/gemm.hpp"
#include "backend/cpu/conv.hpp"
#include "backend/cpu/resample.hpp"
#include "backend/cpu/augment.hpp"
#include "backend/cpu/stddev.hpp"
#include "backend/cpu/denormal.hpp"

// The CUDA backend, where nvcc compiles the including file: CPU-only users never need the toolkit.
#if defined(__CUDACC__)
#include "backend/cuda/context.hpp"
#include "backend/cuda/allocator.hpp"
#include "backend/cuda/transfer.hpp"
#include "backend/cuda/eval.hpp"
#include "backend/cuda/random.hpp"
#include "backend/cuda/gemm.hpp"
#include "backend/cuda/conv.hpp"
#include "backend/cuda/resample.hpp"
#include "backend/cuda/augment.hpp"
#include "backend/cuda/stddev.hpp"
#endif

#include "nn.hpp"
#include "optim.hpp"
#include "io.hpp"
#include "metrics.hpp"
#include "util/hash.hpp"
#include "util/plot.hpp"
#include "util/progress.hpp"
#include "util/interrupt.hpp"
