#pragma once
// Output folders that appear whole or not at all: filled under a temporary name beside the target,
// renamed into place on success, removed on any error (or interruption, which throws).
#include <unistd.h>

#include <filesystem>
#include <string>

#include <pgg/pgg.hpp>

namespace pggan {

// Runs `body(tmp)` to fill a temporary folder beside `out`, then renames it to `out`.
template <class F>
void write_folder(const std::string& out, F&& body) {
    PGG_CHECK(!std::filesystem::exists(out), out, ": already exists; choose a new folder");
    const std::string tmp = out + ".tmp-" + std::to_string(::getpid());
    std::filesystem::remove_all(tmp);
    std::filesystem::create_directories(tmp);
    try {
        body(tmp);
        std::filesystem::rename(tmp, out);
    } catch (...) {
        std::filesystem::remove_all(tmp);
        throw;
    }
}

} // namespace pggan
