#pragma once
// What a data-parallel training step needs of the processes that share its minibatch: buffers summed
// over all of them, in place, every process receiving the same sums. pgg::dist::Communicator (MPI)
// implements it; a training step takes a Reducer* (nullptr: one process), so that the networks' code
// does not depend on MPI.
#include <cstddef>

namespace pgg::dist {

class Reducer {
public:
    virtual void sum(float* data, std::size_t n) = 0;
    virtual void sum(double* data, std::size_t n) = 0;

protected:
    ~Reducer() = default;
};

} // namespace pgg::dist
