#pragma once
// The sub-commands of cxr_classifier, one source file each; main.cpp registers them.
#include <CLI/CLI.hpp>

#include "data.hpp"

namespace cxr_classifier {

void add_train_command(CLI::App& app);    // train.cpp
void add_evaluate_command(CLI::App& app); // evaluate.cpp
void add_predict_command(CLI::App& app);  // evaluate.cpp
void add_compare_command(CLI::App& app);  // compare.cpp
void add_frechet_command(CLI::App& app);  // frechet.cpp
void add_report_command(CLI::App& app);   // report.cpp

// --images, --labels, --list, --label-normal, --label-abnormal
inline void add_label_options(CLI::App* cmd, LabelSource& s) {
    cmd->add_option("--images", s.images, "folder of the images (PNG, JPEG, BMP, PNM; DICOM where built in)")->required();
    cmd->add_option("--labels", s.labels, "CSV with columns file (relative to --images) and label");
    cmd->add_option("--list", s.lists, "instead of --labels: normal=FILE and abnormal=FILE, one image per line (cxr_pggan split's lists)");
    cmd->add_option("--label-normal", s.normal, "the label of normal images in --labels")->capture_default_str();
    cmd->add_option("--label-abnormal", s.abnormal, "the label of abnormal images in --labels")->capture_default_str();
}

} // namespace cxr_classifier
