#pragma once
// The processes of one training run (data parallelism), through MPI: `mpirun -np N program ...`.
// Compiled with MPI where PGG_HAVE_MPI is defined (link pgg::mpi); MPI is initialised on first use,
// and only in a process that an MPI launcher started (Open MPI's, MPICH's or a PMIx one), so that a
// program started on its own stays one plain process. Without MPI, or not launched by one, the world
// is this process alone (rank 0 of 1) and every collective is the identity.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#ifdef PGG_HAVE_MPI
#include <mpi.h>
#endif

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "reducer.hpp"

namespace pgg::dist {

class Communicator final : public Reducer {
public:
    // The processes of this run (MPI_COMM_WORLD).
    static Communicator& world() {
        static Communicator w;
        return w;
    }
    Communicator(const Communicator&) = delete;
    Communicator& operator=(const Communicator&) = delete;

    int rank() const { return rank_; }
    int size() const { return size_; }
    bool is_root() const { return rank_ == 0; }
    // This process's contiguous part of n items, as (first, count): parts as equal as they come, in
    // rank order (16 among 3: 5, 5, 6; an empty part where n < size).
    std::pair<index_t, index_t> part(index_t n) const {
        const index_t first = n * rank_ / size_;
        return {first, n * (rank_ + 1) / size_ - first};
    }
    // This process's place among the run's processes on its machine, and how many those are (MPI's
    // shared-memory groups: whatever launcher started them).
    int local_rank() const { return local_rank_; }
    int local_size() const { return local_size_; }
    // The cores of this machine divided among the processes of the run on it, so that P processes do
    // not each start one thread per core.
    int threads_per_process() const { return std::max(1, omp_get_num_procs() / local_size_); }

    void sum(float* data, std::size_t n) override { all_reduce(data, n, 'f', 's'); }
    void start_sum(float* data, std::size_t n) override {
#ifdef PGG_HAVE_MPI
        if (!mpi_ || n == 0) return;
        PGG_CHECK(n <= std::size_t(1) << 30, "all-reduce of ", n, " values in one call");
        MPI_Request request = MPI_REQUEST_NULL;
        check(MPI_Iallreduce(MPI_IN_PLACE, data, int(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request), "MPI_Iallreduce");
        pending_.push_back(request);
#else
        (void)data, (void)n;
#endif
    }
    void wait() override {
#ifdef PGG_HAVE_MPI
        if (pending_.empty()) return;
        const int status = MPI_Waitall(int(pending_.size()), pending_.data(), MPI_STATUSES_IGNORE);
        pending_.clear();
        check(status, "MPI_Waitall");
#endif
    }
    void progress() override {
#ifdef PGG_HAVE_MPI
        int all_done = 0;
        if (!pending_.empty()) check(MPI_Testall(int(pending_.size()), pending_.data(), &all_done, MPI_STATUSES_IGNORE), "MPI_Testall");
#endif
    }
    void sum(double* data, std::size_t n) override { all_reduce(data, n, 'd', 's'); }
    void max(double* data, std::size_t n) { all_reduce(data, n, 'd', 'm'); }

    // Every process's value, by rank.
    std::vector<std::uint64_t> gather(std::uint64_t value) {
        std::vector<std::uint64_t> all(std::size_t(size_), value);
#ifdef PGG_HAVE_MPI
        if (mpi_) check(MPI_Allgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD), "MPI_Allgather");
#endif
        return all;
    }
    // Rank 0's string on every process.
    void broadcast(std::string& s) {
#ifdef PGG_HAVE_MPI
        if (!mpi_) return;
        std::uint64_t n = s.size();
        check(MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
        s.resize(n);
        check(MPI_Bcast(s.data(), int(n), MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
#else
        (void)s;
#endif
    }
    void barrier() {
#ifdef PGG_HAVE_MPI
        if (mpi_) check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
#endif
    }
    // Stops every process of the run (after this one reported why): a process that gives up must not
    // leave the others waiting in a collective.
    [[noreturn]] void abort(int status) {
#ifdef PGG_HAVE_MPI
        if (mpi_) MPI_Abort(MPI_COMM_WORLD, status);
#endif
        std::exit(status);
    }

private:
    Communicator() {
#ifdef PGG_HAVE_MPI
        if (!launched_by_mpi()) return;
        int provided = 0;
        check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
        mpi_ = true;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
        MPI_Comm local;
        check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local), "MPI_Comm_split_type");
        MPI_Comm_rank(local, &local_rank_);
        MPI_Comm_size(local, &local_size_);
        MPI_Comm_free(&local);
#else
        // several copies started by mpirun would each run the whole job and write the same files
        for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
            if (const char* n = std::getenv(v); n && std::atoi(n) > 1)
                throw error(std::string("started by an MPI launcher as one of ") + n +
                            " processes, but this program trains in one process only (it is not built with pgg::mpi)");
#endif
    }
    ~Communicator() {
#ifdef PGG_HAVE_MPI
        int finalized = 0;
        if (mpi_ && MPI_Finalized(&finalized) == MPI_SUCCESS && !finalized) MPI_Finalize();
#endif
    }
    static bool launched_by_mpi() {
        for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
            if (std::getenv(v)) return true;
        return false;
    }
    void all_reduce(void* data, std::size_t n, char type, char op) {
#ifdef PGG_HAVE_MPI
        if (!mpi_ || n == 0) return;
        PGG_CHECK(n <= std::size_t(1) << 30, "all-reduce of ", n, " values in one call");
        check(MPI_Allreduce(MPI_IN_PLACE, data, int(n), type == 'f' ? MPI_FLOAT : MPI_DOUBLE, op == 's' ? MPI_SUM : MPI_MAX,
                            MPI_COMM_WORLD),
              "MPI_Allreduce");
#else
        (void)data, (void)n, (void)type, (void)op;
#endif
    }
#ifdef PGG_HAVE_MPI
    static void check(int status, const char* what) {
        if (status == MPI_SUCCESS) return;
        char text[MPI_MAX_ERROR_STRING];
        int len = 0;
        MPI_Error_string(status, text, &len);
        throw error(std::string(what) + ": " + std::string(text, std::size_t(len)));
    }
    bool mpi_ = false;
    std::vector<MPI_Request> pending_; // started sums
#endif
    int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
};

} // namespace pgg::dist
