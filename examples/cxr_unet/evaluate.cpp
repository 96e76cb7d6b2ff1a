// `cxr_unet evaluate`: Dice and IoU of a trained UNet on a labelled folder (or the files a list names,
// e.g. a run's validation.txt), per image and summarised, as a table and optionally a CSV.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "commands.hpp"
#include "data.hpp"
#include "model.hpp"
#include "scoring.hpp"

namespace cxr_unet {
namespace {

struct EvaluateOptions {
    std::string checkpoint, images, masks, list, csv;
    index_t batch = 8;
    int mc_samples = 1;
    bool quiet = false;
    std::string device = "cpu";
};

void evaluate(const EvaluateOptions& o) {
    LoadedModel m = load_checkpoint(o.checkpoint, o.device);
    const Pairs pairs = read_pairs(o.images, o.masks, m.size, o.list);
    std::vector<index_t> all(pairs.names.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = index_t(i);
    pgg::InterruptGuard guard;
    const auto scores = score_pairs(*m.model, pairs, all, o.batch, 1.0, o.mc_samples, "evaluating");
    pgg::throw_if_interrupted("evaluate");
    std::ostringstream csv;
    csv << "file,dice,iou\n";
    if (!o.quiet) std::printf("%-40s %8s %8s\n", "file", "Dice", "IoU");
    std::vector<double> dice;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (!o.quiet) std::printf("%-40s %8.4f %8.4f\n", pairs.names[i].c_str(), scores[i].dice, scores[i].iou);
        char buf[512];
        std::snprintf(buf, sizeof buf, "%s,%.6f,%.6f\n", pairs.names[i].c_str(), scores[i].dice, scores[i].iou);
        csv << buf;
        dice.push_back(scores[i].dice);
    }
    std::sort(dice.begin(), dice.end());
    const double median = dice.size() % 2 ? dice[dice.size() / 2] : (dice[dice.size() / 2 - 1] + dice[dice.size() / 2]) / 2;
    std::printf("%zu images at %lldx%lld%s: mean Dice %.4f, mean IoU %.4f, median Dice %.4f, min Dice %.4f\n", all.size(),
                (long long)m.size, (long long)m.size,
                o.mc_samples > 1 ? (" (Monte-Carlo dropout, " + std::to_string(o.mc_samples) + " samples)").c_str() : "",
                mean_of(scores, &PairScore::dice), mean_of(scores, &PairScore::iou), median, dice.front());
    if (!o.csv.empty()) {
        pgg::io::write_file_atomic(o.csv, csv.str());
        std::printf("wrote %s\n", o.csv.c_str());
    }
}

} // namespace

void add_evaluate_command(CLI::App& app) {
    auto o = std::make_shared<EvaluateOptions>();
    auto* cmd = app.add_subcommand("evaluate", "Dice and IoU of a trained UNet on images with masks");
    cmd->add_option("--checkpoint", o->checkpoint, "a checkpoint of `cxr_unet train` (best.safetensors)")->required()->check(CLI::ExistingFile);
    cmd->add_option("--images", o->images, "folder of images")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("--masks", o->masks, "folder of masks with the images' file names (0/255)")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("--list", o->list, "only the images this file names, one per line (e.g. a run's validation.txt)")->check(CLI::ExistingFile);
    cmd->add_option("--csv", o->csv, "also write file,dice,iou rows here");
    cmd->add_option("--batch", o->batch, "images per forward pass")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--device", o->device, "where the UNet runs: cpu, or cuda in a build with the CUDA backend")
        ->capture_default_str()
        ->check(CLI::IsMember({"cpu", "cuda"}));
    cmd->add_option("--mc-samples", o->mc_samples, "Monte-Carlo dropout passes (1: dropout off)")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_flag("--quiet", o->quiet, "print only the summary");
    cmd->callback([o] { evaluate(*o); });
}

} // namespace cxr_unet
