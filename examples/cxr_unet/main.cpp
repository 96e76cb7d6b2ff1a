// cxr_unet: lung segmentation of chest X-rays with a Gaussian-dropout UNet, and the crop to the lungs
// that prepares images for cxr_pggan. Sub-commands: train, evaluate, segment.
#include "../common/main.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"cxr_unet: lung segmentation (UNet with Gaussian dropout) and lung crops of chest X-rays, built on pgg."};
    app.require_subcommand(1);
    cxr_unet::add_train_command(app);
    cxr_unet::add_evaluate_command(app);
    cxr_unet::add_segment_command(app);
    return pgg::app::run_main(app, argc, argv, "cxr_unet");
}
