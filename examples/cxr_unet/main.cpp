// cxr_unet: lung segmentation of chest X-rays with a Gaussian-dropout UNet, and the crop to the lungs
// that prepares images for cxr_pggan. Sub-commands: train, evaluate, segment.
#include <cstdio>
#include <exception>

#include "commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"cxr_unet: lung segmentation (UNet with Gaussian dropout) and lung crops of chest X-rays, built on pgg."};
    app.require_subcommand(1);
    cxr_unet::add_train_command(app);
    cxr_unet::add_evaluate_command(app);
    cxr_unet::add_segment_command(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cxr_unet: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
