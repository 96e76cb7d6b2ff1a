#pragma once
// What a data-parallel training step needs of the processes that share its minibatch: buffers summed
// over all of them, in place, every process receiving the same sums. pgg::dist::Communicator (MPI)
// implements it for host memory, pgg::dist::NcclReducer (nccl.hpp) for GPU memory; a training step
// takes a Reducer* (nullptr: one process), so that the networks' code depends on neither.
#include <cstddef>

namespace pgg::dist {

class Reducer {
public:
    // Float buffers (gradients) live where the networks do: device memory where device_memory() is
    // true, host memory otherwise. Double buffers (losses, statistics) are always host memory.
    virtual void sum(float* data, std::size_t n) = 0;
    virtual void sum(double* data, std::size_t n) = 0;
    virtual bool device_memory() const { return false; }
    // Starts summing a float buffer, which must not be touched until wait(); returns at once where the
    // engine can go on alone (MPI's non-blocking all-reduce, NCCL's stream). After wait() the sums are
    // there for what follows: the host's code (MPI), the kernels queued after it (NCCL). By default
    // start_sum sums at once.
    virtual void start_sum(float* data, std::size_t n) { sum(data, n); }
    virtual void wait() {}
    // Lets started sums move on (MPI advances them only inside its calls).
    virtual void progress() {}

protected:
    ~Reducer() = default;
};

} // namespace pgg::dist
