#pragma once
// The Reducer that sums a training program's gradients, for the device its networks train on.
#include <string>

#include "../core/error.hpp"
#include "communicator.hpp"
#ifdef PGG_HAVE_NCCL
#include "nccl.hpp"
#endif

namespace pgg::dist {

// nullptr where this process trains alone; MPI (the run's processes) for "cpu"; NCCL for "cuda", one
// GPU per process, chosen here: call it before any other CUDA work.
inline Reducer* gradient_reducer(const std::string& device) {
    Communicator& world = Communicator::world();
    if (world.size() == 1) return nullptr;
    if (device == "cpu") return &world;
#ifdef PGG_HAVE_NCCL
    if (device == "cuda") {
        static auto* nccl = new NcclReducer(world); // lives until exit, as pgg's CUDA context does
        return nccl;
    }
#endif
    PGG_CHECK(device == "cuda", "data-parallel training on device '", device, "': cpu or cuda");
    throw error("--device cuda with " + std::to_string(world.size()) +
                " processes: data-parallel training on GPUs needs NCCL (a build with pgg::nccl)");
}

} // namespace pgg::dist
