#pragma once
// Data-parallel training on GPUs: one process per GPU, gradients summed by NCCL in device memory.
// The processes are those of the MPI run (pgg::dist::Communicator); process 0 makes NCCL's unique id
// and MPI broadcasts it, so NCCL needs no launcher or rendezvous of its own. Each process takes GPU
// (its rank among the processes on its machine) mod (GPUs visible to it; with CUDA_VISIBLE_DEVICES
// set per process, its one GPU): construct the reducer before any other CUDA work, since pgg's CUDA
// context binds the device current at its first use.
// Compiled where PGG_HAVE_NCCL is defined (link pgg::nccl).
#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <string>

#include "../backend/cuda/context.hpp"
#include "communicator.hpp"

#define PGG_NCCL_CHECK(call)                                                                              \
    do {                                                                                                  \
        const ncclResult_t pgg_status_ = (call);                                                          \
        if (pgg_status_ != ncclSuccess)                                                                   \
            ::pgg::detail::fail(__FILE__, __LINE__, #call, " failed: ", ncclGetErrorString(pgg_status_)); \
    } while (0)

namespace pgg::dist {

class NcclReducer final : public Reducer {
public:
    explicit NcclReducer(Communicator& world) : world_(world) {
        int gpus = 0;
        PGG_CUDA_CHECK(cudaGetDeviceCount(&gpus));
        PGG_CHECK(gpus > 0, "data-parallel training on GPUs: process ", world.rank(), " sees no GPU");
        // one GPU per process: each sees them all (its local rank picks one) or one of its own
        PGG_CHECK(gpus == 1 || world.local_size() <= gpus, "data-parallel training on GPUs: ", world.local_size(),
                  " processes on a machine with ", gpus, " GPUs (one process per GPU)");
        PGG_CUDA_CHECK(cudaSetDevice(world.local_rank() % gpus));
        ncclUniqueId id{};
        if (world.is_root()) PGG_NCCL_CHECK(ncclGetUniqueId(&id));
        std::string bytes(reinterpret_cast<const char*>(&id), sizeof id);
        world.broadcast(bytes);
        PGG_CHECK(bytes.size() == sizeof id, "NCCL unique id of ", bytes.size(), " bytes");
        std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(&id));
        PGG_NCCL_CHECK(ncclCommInitRank(&comm_, world.size(), id, world.rank()));
        // Its own stream, ordered after pgg's work by events: the reduction waits for the gradients,
        // pgg's next kernels (the optimiser step) wait for the reduction, the host waits for neither.
        PGG_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
        PGG_CUDA_CHECK(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming));
        PGG_CUDA_CHECK(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
    }
    NcclReducer(const NcclReducer&) = delete;
    NcclReducer& operator=(const NcclReducer&) = delete;
    ~NcclReducer() {
        cudaEventDestroy(done_);
        cudaEventDestroy(ready_);
        cudaStreamDestroy(stream_);
        ncclCommDestroy(comm_);
    }

    bool device_memory() const override { return true; }

    // `data` is device memory of this process's GPU, written by pgg's stream.
    void sum(float* data, std::size_t n) override {
        start_sum(data, n);
        wait();
    }
    // The all-reduce waits for pgg's work queued so far; pgg's later work does not wait for it.
    void start_sum(float* data, std::size_t n) override {
        if (n == 0) return;
        PGG_CUDA_CHECK(cudaEventRecord(ready_, cuda_detail::stream()));
        PGG_CUDA_CHECK(cudaStreamWaitEvent(stream_, ready_, 0));
        PGG_NCCL_CHECK(ncclAllReduce(data, data, n, ncclFloat32, ncclSum, comm_, stream_));
    }
    // pgg's work queued from now on waits for every started all-reduce (the host does not).
    void wait() override {
        PGG_CUDA_CHECK(cudaEventRecord(done_, stream_));
        PGG_CUDA_CHECK(cudaStreamWaitEvent(cuda_detail::stream(), done_, 0));
    }
    // Host values (losses, statistics): a few numbers per step, through MPI.
    void sum(double* data, std::size_t n) override { world_.sum(data, n); }

private:
    Communicator& world_;
    ncclComm_t comm_{};
    cudaStream_t stream_{};
    cudaEvent_t ready_{}, done_{};
};

} // namespace pgg::dist
