// cxr_classifier: a normal/abnormal chest X-ray classifier (a small ResNet) trained with no,
// traditional or GAN augmentation, as in the augmentation study. Sub-commands: train, evaluate, predict,
// compare (DeLong), frechet (a CXR FID) and report (the study's tables and pictures).
#include "../common/main.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"cxr_classifier: normal/abnormal chest X-ray classification with traditional and GAN augmentation, built on pgg."};
    app.require_subcommand(1);
    cxr_classifier::add_train_command(app);
    cxr_classifier::add_evaluate_command(app);
    cxr_classifier::add_predict_command(app);
    cxr_classifier::add_compare_command(app);
    cxr_classifier::add_frechet_command(app);
    cxr_classifier::add_report_command(app);
    return pgg::app::run_main(app, argc, argv, "cxr_classifier");
}
