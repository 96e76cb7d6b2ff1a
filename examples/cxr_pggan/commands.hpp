#pragma once
// The sub-commands of cxr_pggan, one source file each; main.cpp registers them.
#include <CLI/CLI.hpp>

namespace pggan {

void add_dataset_command(CLI::App& app);  // dataset_tool.cpp
void add_split_command(CLI::App& app);    // split.cpp
void add_train_command(CLI::App& app);    // train.cpp
void add_generate_command(CLI::App& app); // generate.cpp
void add_evaluate_command(CLI::App& app); // evaluate.cpp
void add_import_command(CLI::App& app);   // import_official.cpp
void add_compare_command(CLI::App& app);  // compare.cpp

} // namespace pggan
