// cxr_pggan: the chest X-ray PG-GAN pipeline in one program. Sub-commands: dataset, split, train,
// generate, interpolate, evaluate, compare, import-official. `cxr_pggan <command> --help` describes each.
#include "../common/main.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"cxr_pggan: progressive-growing GANs for chest X-rays (and any image folder), built on pgg."};
    app.require_subcommand(1);
    pggan::add_dataset_command(app);
    pggan::add_split_command(app);
    pggan::add_train_command(app);
    pggan::add_generate_command(app);
    pggan::add_evaluate_command(app);
    pggan::add_compare_command(app);
    pggan::add_import_command(app);
    return pgg::app::run_main(app, argc, argv, "cxr_pggan");
}
