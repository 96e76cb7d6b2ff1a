// `cxr_classifier evaluate`: scores a labelled set with a checkpoint at the threshold chosen on
// validation (ROC AUC with a seeded bootstrap interval, confusion matrix and the scores derived from
// it); with --out, a folder with metrics.json, predictions.csv and roc.png.
// `cxr_classifier predict`: one probability per image of a folder (or list) into a CSV.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "model.hpp"
#include "scoring.hpp"

namespace cxr_classifier {
namespace {

struct EvaluateOptions {
    std::string checkpoint, out, device = "cpu";
    LabelSource data;
    index_t batch = 32;
    int resamples = 2000;
    std::uint64_t seed = 1;
};

// P(abnormal) of every image, read at the checkpoint's side, with a progress bar.
std::vector<double> probabilities(Model& m, const std::vector<Tensor<float>>& images, index_t batch) {
    pgg::Progress progress("classifying", long(images.size()));
    std::vector<double> p = predict(m, images, batch, &progress);
    progress.finish();
    return p;
}

std::string predictions_csv(const std::vector<std::string>& names, const std::vector<double>& p, double threshold,
                            const std::vector<int>* labels) {
    std::ostringstream csv;
    csv << "file,probability,prediction" << (labels ? ",label" : "") << "\n";
    for (std::size_t i = 0; i < names.size(); ++i) {
        char buf[64];
        std::snprintf(buf, sizeof buf, ",%.6f,%d", p[i], p[i] >= threshold ? 1 : 0);
        csv << names[i] << buf;
        if (labels) csv << "," << (*labels)[i];
        csv << "\n";
    }
    return csv.str();
}

void evaluate(const EvaluateOptions& o) {
    pgg::InterruptGuard guard;
    PGG_CHECK(o.out.empty() || !fs::exists(o.out), o.out, ": already exists; choose a new folder");
    LoadedModel m = load_checkpoint(o.checkpoint, o.device);
    Labelled set = list_labelled(o.data);
    for (int c = 0; c < 2; ++c)
        PGG_CHECK(set.count(c) > 0, o.data.describe(), ": no ", class_names[c], " images (", set.count(1 - c), " ", class_names[1 - c],
                  "); the AUC, sensitivity and specificity need both classes");
    read_images(set, m.model->side, "reading");
    const std::vector<double> p = probabilities(*m.model, set.images, o.batch);
    for (std::size_t i = 0; i < p.size(); ++i)
        PGG_CHECK(std::isfinite(p[i]), o.checkpoint, ": gives a non-finite probability for ", set.paths[i]);
    const Report r = score(p, set.labels, m.threshold, o.seed, o.resamples);
    std::printf("%s on %s\n%s", o.checkpoint.c_str(), o.data.describe().c_str(), to_text(r).c_str());
    if (o.out.empty()) return;
    pgg::app::write_folder(o.out, [&](const std::string& tmp) {
        nlohmann::json j = to_json(r);
        j["checkpoint"] = o.checkpoint;
        j["data"] = to_json(o.data);
        j["bootstrap"] = {{"resamples", o.resamples}, {"seed", o.seed}};
        pgg::io::write_file_atomic(tmp + "/metrics.json", j.dump(2) + "\n");
        pgg::io::write_file_atomic(tmp + "/predictions.csv", predictions_csv(set.names, p, m.threshold, &set.labels));
        pgg::io::write_png(tmp + "/roc.png", roc_picture(p, set.labels, r, fs::path(o.data.describe()).filename().string()));
    });
    std::printf("wrote %s/metrics.json, predictions.csv, roc.png\n", o.out.c_str());
}

struct PredictOptions {
    std::string checkpoint, images, list, out, device = "cpu";
    index_t batch = 32;
};

void predict_folder(const PredictOptions& o) {
    pgg::InterruptGuard guard;
    PGG_CHECK(!fs::exists(o.out), o.out, ": already exists; choose a new file");
    LoadedModel m = load_checkpoint(o.checkpoint, o.device);
    Labelled set;
    for (const auto& path : pgg::app::find_inputs(o.images, o.list, pgg::app::picture_extensions)) {
        set.paths.push_back(path);
        set.names.push_back(fs::relative(path, o.images).string());
    }
    read_images(set, m.model->side, "reading");
    const std::vector<double> p = probabilities(*m.model, set.images, o.batch);
    pgg::io::write_file_atomic(o.out, predictions_csv(set.names, p, m.threshold, nullptr));
    std::printf("%s: P(abnormal) of %zu images; prediction 1 where >= %.4f (the threshold chosen on validation)\n", o.out.c_str(),
                p.size(), m.threshold);
}

} // namespace

void add_evaluate_command(CLI::App& app) {
    auto o = std::make_shared<EvaluateOptions>();
    auto* cmd = app.add_subcommand("evaluate", "score a labelled set with a checkpoint (AUC, confusion matrix, sensitivity, ...)");
    cmd->add_option("--checkpoint", o->checkpoint, "a checkpoint of cxr_classifier train (best.safetensors)")->required()->check(CLI::ExistingFile);
    add_label_options(cmd, o->data);
    cmd->add_option("--out", o->out, "folder to write metrics.json, predictions.csv and roc.png into");
    cmd->add_option("--batch", o->batch, "images per forward pass")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--bootstrap", o->resamples, "bootstrap resamples of the AUC interval")->capture_default_str()->check(CLI::Range(100, 100000));
    cmd->add_option("--seed", o->seed, "seed of the bootstrap")->capture_default_str();
    cmd->add_option("--device", o->device, "cpu, or cuda in a build with the CUDA backend")->capture_default_str()->check(CLI::IsMember({"cpu", "cuda"}));
    cmd->callback([o] { evaluate(*o); });
}

void add_predict_command(CLI::App& app) {
    auto o = std::make_shared<PredictOptions>();
    auto* cmd = app.add_subcommand("predict", "write P(abnormal) of every image of a folder to a CSV");
    cmd->add_option("--checkpoint", o->checkpoint, "a checkpoint of cxr_classifier train (best.safetensors)")->required()->check(CLI::ExistingFile);
    cmd->add_option("--images", o->images, "folder of images")->required();
    cmd->add_option("--list", o->list, "only the images this file names (one per line, relative to --images)");
    cmd->add_option("--out", o->out, "CSV to write: file,probability,prediction")->required();
    cmd->add_option("--batch", o->batch, "images per forward pass")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--device", o->device, "cpu, or cuda in a build with the CUDA backend")->capture_default_str()->check(CLI::IsMember({"cpu", "cuda"}));
    cmd->callback([o] { predict_folder(*o); });
}

} // namespace cxr_classifier
