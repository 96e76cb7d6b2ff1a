#pragma once
// The sub-commands of cxr_unet, one source file each; main.cpp registers them.
#include <CLI/CLI.hpp>

namespace cxr_unet {

void add_train_command(CLI::App& app);    // train.cpp
void add_evaluate_command(CLI::App& app); // evaluate.cpp
void add_segment_command(CLI::App& app);  // segment.cpp

} // namespace cxr_unet
