#pragma once
// The examples' main(): one convention for every program's exit status.
//   0         done;
//   1         an error (bad input, a failed write), reported as "<program>: error: <message>";
//   2 or more a bad command line (CLI11's codes), or what a sub-command documents (`dataset compare`);
//   128 + N   stopped by signal N (130: Ctrl-C, 143: SIGTERM) after saving what could be saved, so a
//             script can tell an interrupted run, which --resume continues, from a finished one.
// Under mpirun, an error in one process stops all of them (MPI_Abort), naming the process.
#include <csignal>
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <pgg/dist/communicator.hpp>
#include <pgg/pgg.hpp>

namespace pgg::app {

inline int run_main(CLI::App& app, int argc, char** argv, const char* program) {
    // Past a file-size limit (ulimit -f) a write fails with EFBIG and is reported like a full disk,
    // instead of SIGXFSZ killing the program before it can remove its temporary files.
    std::signal(SIGXFSZ, SIG_IGN);
    pgg::set_flush_denormal(true); // see pgg/backend/cpu/denormal.hpp
    // under mpirun: MPI starts here, before any thread, and only the first process shows progress
    int rank = 0, size = 1;
    try {
        const auto& world = pgg::dist::Communicator::world();
        rank = world.rank(), size = world.size();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: error: %s\n", program, e.what());
        return 1;
    }
    pgg::Progress::mute(rank != 0);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const pgg::interrupted_error& e) {
        if (rank == 0) std::fprintf(stderr, "%s: %s\n", program, e.what());
        return e.exit_status();
    } catch (const std::exception& e) {
        if (size == 1) {
            std::fprintf(stderr, "%s: error: %s\n", program, e.what());
            return 1;
        }
        // one process of several (mpirun): say which, and stop the others rather than leave them waiting
        std::fprintf(stderr, "%s: error in process %d of %d: %s\n", program, rank, size, e.what());
        std::fflush(stderr);
        pgg::dist::Communicator::world().abort(1);
    }
    return 0;
}

} // namespace pgg::app
