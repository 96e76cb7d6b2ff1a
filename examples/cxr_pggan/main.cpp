// cxr_pggan: the chest X-ray PG-GAN pipeline in one program. Sub-commands: dataset, split, train,
// generate, interpolate, evaluate. `cxr_pggan <command> --help` describes each.
#include <cstdio>
#include <exception>

#include "commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"cxr_pggan: progressive-growing GANs for chest X-rays (and any image folder), built on pgg."};
    app.require_subcommand(1);
    pggan::add_dataset_command(app);
    pggan::add_split_command(app);
    pggan::add_train_command(app);
    pggan::add_generate_command(app);
    pggan::add_evaluate_command(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cxr_pggan: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
