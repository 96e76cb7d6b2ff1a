// `cxr_classifier train`: trains the classifier on labelled CXRs with no, traditional or GAN
// augmentation (or both), selects the model on a seeded, stratified validation split taken from the
// training images, and keeps a run folder:
//   options.json, log.txt, validation.txt, metrics.csv (one row per epoch), curves.png,
//   last.safetensors (also written on SIGINT/SIGTERM, mid-epoch), best.safetensors (best validation
//   AUC, with the decision threshold chosen on validation by Youden's J), and at the end
//   validation.json and validation_roc.png (the best model on the validation split).
// Synthetic images only ever train: they are never in validation. The batch order and augmentation of
// epoch e are functions of (seed, e, position), so `--resume RUN` continues exactly where the run stopped.
// Under mpirun the processes share every minibatch (docs/distributed.md): each trains on its part, the
// gradients are summed, process 0 writes the run folder.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <pgg/dist/communicator.hpp>
#include <pgg/dist/gradient_reducer.hpp>

#include "../common/augment.hpp"
#include "commands.hpp"
#include "model.hpp"
#include "scoring.hpp"
#include "synthetic.hpp"

namespace cxr_classifier {
namespace {

struct TrainOptions {
    LabelSource data;
    std::string out, resume;
    index_t size = 128;
    std::string augment = "none"; // none, traditional, gan, traditional+gan
    pgg::app::AugmentOptions aug;
    std::vector<std::string> gan; // normal=SOURCE, abnormal=SOURCE
    double synthetic_ratio = 1.0;
    std::uint64_t gan_seed = 1000;
    int epochs = 30;
    index_t batch = 32;
    double lr = 1e-3, lr_final = 1e-5;
    OptimizerOptions optimizer;
    double val_fraction = 0.2;
    std::uint64_t seed = 1;
    std::string device = "cpu"; // not saved: a run may resume on another device

    bool traditional() const { return augment == "traditional" || augment == "traditional+gan"; }
    bool uses_gan() const { return augment == "gan" || augment == "traditional+gan"; }
};

nlohmann::json to_json(const TrainOptions& o) {
    return {{"data", cxr_classifier::to_json(o.data)},
            {"size", o.size},
            {"augment", o.augment},
            {"traditional", pgg::app::to_json(o.aug)},
            {"gan", o.gan},
            {"synthetic_ratio", o.synthetic_ratio},
            {"gan_seed", o.gan_seed},
            {"epochs", o.epochs},
            {"batch", o.batch},
            {"lr", o.lr},
            {"lr_final", o.lr_final},
            {"optimizer", {{"name", o.optimizer.name}, {"momentum", o.optimizer.momentum}, {"weight_decay", o.optimizer.weight_decay}}},
            {"val_fraction", o.val_fraction},
            {"seed", o.seed}};
}
TrainOptions from_json(const nlohmann::json& j) {
    TrainOptions o;
    o.data = label_source_from_json(j.at("data"));
    o.size = j.at("size"), o.augment = j.at("augment"), o.aug = pgg::app::augment_from_json(j.at("traditional"));
    o.gan = j.at("gan").get<std::vector<std::string>>(), o.synthetic_ratio = j.at("synthetic_ratio"), o.gan_seed = j.at("gan_seed");
    o.epochs = j.at("epochs"), o.batch = j.at("batch"), o.lr = j.at("lr"), o.lr_final = j.at("lr_final");
    const auto& opt = j.at("optimizer");
    o.optimizer = {opt.at("name"), opt.at("momentum"), opt.at("weight_decay")};
    o.val_fraction = j.at("val_fraction"), o.seed = j.at("seed");
    return o;
}

struct EpochRow {
    int epoch;
    double train_loss, val_loss, val_auc, lr, seconds;
};

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

class Trainer {
public:
    explicit Trainer(TrainOptions o) : o_(std::move(o)) {}

    void run(bool resuming) {
        pgg::InterruptGuard guard;
        check_options();
        reduce_ = pgg::dist::gradient_reducer(o_.device); // picks this process's GPU: before any CUDA work
        model_ = make_model(int(o_.size), o_.device);
        real_ = read_labelled(o_.data, o_.size, "reading");
        split_ = stratified_split(real_.labels, o_.val_fraction, o_.seed);
        for (index_t k : split_.train) add_item(&real_.images[std::size_t(k)], real_.labels[std::size_t(k)]);
        if (o_.uses_gan()) add_synthetic();
        for (int c = 0; c < 2; ++c) {
            const double nc = double(std::count(item_labels_.begin(), item_labels_.end(), c));
            weights_[c] = double(items_.size()) / (2 * nc);
        }
        for (index_t k : split_.validation) val_labels_.push_back(real_.labels[std::size_t(k)]);

        pgg::Generator init(o_.seed, 0x1417);
        model_->reset_parameters(init);
        model_->use_optimizer(o_.optimizer);
        if (world_.size() > 1 && !std::getenv("OMP_NUM_THREADS")) omp_set_num_threads(world_.threads_per_process());
        if (resuming) load(o_.out + "/last.safetensors");
        else if (world_.is_root()) start_folder();
        world_.barrier(); // the folder exists before anyone goes on
        const long batches = long((items_.size() + std::size_t(o_.batch) - 1) / std::size_t(o_.batch));
        total_steps_ = long(o_.epochs) * batches;
        log(std::string(resuming ? "resumed" : "started") + ": " + describe_data() + "; " + std::to_string(o_.size) + "x" +
            std::to_string(o_.size) + " ResNet, " + std::to_string(model_->parameter_count()) + " parameters; augmentation " +
            o_.augment + "; epoch " + std::to_string(epoch_ + 1) + " of " + std::to_string(o_.epochs));
        for (; epoch_ < o_.epochs; ++epoch_, batch_ = 0, loss_sum_ = 0, loss_count_ = 0) {
            if (const int signal = train_epoch(batches)) {
                save(o_.out + "/last.safetensors", epoch_, batch_, NAN);
                log("interrupted in epoch " + std::to_string(epoch_ + 1) + " at batch " + std::to_string(batch_) +
                    "; saved last.safetensors; continue with: cxr_classifier train --resume " + o_.out);
                throw pgg::interrupted_error("interrupted by signal " + std::to_string(signal) + " (state saved)", signal);
            }
            validate();
        }
        finish();
    }

private:
    void check_options() {
        PGG_CHECK(o_.uses_gan() == !o_.gan.empty(), o_.uses_gan() ? "--augment " + o_.augment + " needs --gan normal=SOURCE and --gan abnormal=SOURCE"
                                                                   : "--gan is given, but --augment " + o_.augment + " uses no synthetic images");
    }

    void add_item(const Tensor<float>* image, int label) {
        items_.push_back(image);
        item_labels_.push_back(label);
    }

    // ratio x the real training images of each class, from that class's source
    void add_synthetic() {
        std::string have[2];
        for (const auto& item : o_.gan) {
            const auto [label, source] = class_assignment(item, "--gan");
            PGG_CHECK(have[label].empty(), "--gan ", class_names[label], " is given twice");
            have[label] = source;
        }
        for (int c = 0; c < 2; ++c) {
            PGG_CHECK(!have[c].empty(), "--augment ", o_.augment, " needs --gan ", class_names[c], "=SOURCE too");
            const index_t real = index_t(std::count(item_labels_.begin(), item_labels_.end(), c));
            const index_t count = index_t(std::lround(o_.synthetic_ratio * double(real)));
            synthetic_[c] = synthetic_images(have[c], count, o_.size, o_.gan_seed, o_.device);
        }
        for (int c = 0; c < 2; ++c)
            for (const auto& img : synthetic_[c]) add_item(&img, c);
    }

    std::string describe_data() const {
        std::ostringstream os;
        const auto count = [&](const std::vector<index_t>& idx, int c) {
            return std::count_if(idx.begin(), idx.end(), [&](index_t k) { return real_.labels[std::size_t(k)] == c; });
        };
        os << split_.train.size() << " real training images (" << count(split_.train, 0) << " normal, " << count(split_.train, 1)
           << " abnormal)";
        if (o_.uses_gan()) os << " + " << synthetic_[0].size() << " normal and " << synthetic_[1].size() << " abnormal synthetic";
        os << ", " << split_.validation.size() << " validation (" << count(split_.validation, 0) << " normal, "
           << count(split_.validation, 1) << " abnormal)";
        return os.str();
    }

    void log(const std::string& line) {
        if (!world_.is_root()) return;
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
        pgg::app::append_line(o_.out + "/log.txt", line);
    }

    void start_folder() {
        PGG_CHECK(!fs::exists(o_.out), o_.out, ": already exists (continue it with --resume ", o_.out, ")");
        fs::create_directories(o_.out);
        pgg::io::write_file_atomic(o_.out + "/options.json", to_json(o_).dump(2) + "\n");
        std::ostringstream names;
        for (index_t k : split_.validation) names << real_.names[std::size_t(k)] << "\n";
        pgg::io::write_file_atomic(o_.out + "/validation.txt", names.str());
    }

    // One epoch from batch_ on; the signal number when interrupted (state as of the last finished batch),
    // else 0. With several processes each takes its part of every minibatch, and all stop at one batch.
    int train_epoch(long batches) {
        const index_t S = o_.size, n = index_t(items_.size());
        pgg::Generator order_gen(o_.seed, 0x0de0000 + std::uint64_t(epoch_));
        const std::vector<index_t> order = pgg::random_permutation(n, order_gen);
        const pgg::Generator aug_gen(o_.seed, 0xa060000 + std::uint64_t(epoch_));
        const pgg::optim::CosineAnnealingLR schedule{o_.lr, o_.lr_final, total_steps_};
        pgg::Progress progress("epoch " + std::to_string(epoch_ + 1) + "/" + std::to_string(o_.epochs), batches);
        progress.update(batch_);
        const auto start = std::chrono::steady_clock::now();
        Tensor<float> x, grad;
        std::vector<int> labels;
        const int P = world_.size();
        for (; batch_ < batches; ++batch_) {
            double signal = pgg::interrupted();
            world_.max(&signal, 1);
            if (signal != 0) return int(signal);
            const index_t b0 = index_t(batch_) * o_.batch, nb = std::min(o_.batch, n - b0);
            const auto [share, m] = world_.part(nb); // this process's samples: b0 + share, ...
            const index_t lo = b0 + share;
            x.resize_({m, 1, S, S});
            labels.resize(std::size_t(m));
#pragma omp parallel for
            for (index_t i = 0; i < m; ++i) {
                const std::size_t k = std::size_t(order[std::size_t(lo + i)]);
                float* xi = x.data() + i * S * S;
                if (o_.traditional()) {
                    pgg::Generator g = aug_gen;
                    g.offset = std::uint64_t(lo + i) * 2; // two blocks per sample
                    pgg::app::augment(items_[k]->data(), nullptr, S, o_.aug, g, xi);
                } else {
                    std::copy_n(items_[k]->data(), S * S, xi);
                }
                labels[std::size_t(i)] = item_labels_[k];
            }
            double loss = 0;
            if (m > 0) {
                loss = weighted_bce(model_->forward(x), labels, weights_, grad);
                model_->backward(grad);
            }
            if (P > 1) { // the minibatch's mean loss and gradient: each part weighted by its size
                model_->sum_gradients(*reduce_, float(double(m) / double(nb)));
                loss *= double(m) / double(nb);
                world_.sum(&loss, 1);
            }
            lr_ = schedule(long(epoch_) * batches + batch_);
            model_->step(lr_); // skips (and counts) a step whose gradients are not finite
            if (std::isfinite(loss)) loss_sum_ += loss * double(nb), loss_count_ += double(nb);
            progress.advance();
        }
        progress.finish();
        seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return 0;
    }

    std::vector<double> validation_probabilities() {
        std::vector<Tensor<float>> images;
        for (index_t k : split_.validation) images.push_back(real_.images[std::size_t(k)]); // views, no copies
        return predict(*model_, images, o_.batch);
    }

    void validate() {
        const std::vector<double> p = validation_probabilities();
        bool finite = true;
        for (double v : p) finite = finite && std::isfinite(v);
        const double auc = finite ? pgg::metrics::roc_auc(p, val_labels_) : NAN;
        EpochRow r{epoch_ + 1, loss_count_ ? loss_sum_ / loss_count_ : NAN, weighted_bce_of_probabilities(p, val_labels_, weights_), auc,
                   lr_, seconds_};
        rows_.push_back(r);
        const bool best = auc > best_auc_;
        // the checkpoints hold the state at the start of the next epoch
        loss_sum_ = loss_count_ = 0;
        if (best) {
            best_auc_ = auc;
            save(o_.out + "/best.safetensors", epoch_ + 1, 0, pgg::metrics::youden_threshold(p, val_labels_));
        }
        save(o_.out + "/last.safetensors", epoch_ + 1, 0, NAN);
        write_metrics();
        char line[256];
        std::snprintf(line, sizeof line, "epoch %3d/%d  train loss %.4f  val loss %.4f  val AUC %.4f  lr %.2e  %5.1fs  skipped %ld%s",
                      r.epoch, o_.epochs, r.train_loss, r.val_loss, r.val_auc, r.lr, r.seconds, model_->skipped(), best ? "  best" : "");
        log(line);
    }

    // The best model's scores on the validation split, at the threshold chosen there.
    void finish() {
        PGG_CHECK(best_auc_ >= 0, o_.out, ": no epoch gave a finite validation AUC (diverged?); see log.txt");
        if (!world_.is_root()) return; // process 0 scores and writes
        LoadedModel best = load_checkpoint(o_.out + "/best.safetensors", o_.device);
        model_ = std::move(best.model);
        const std::vector<double> p = validation_probabilities();
        const Report r = score(p, val_labels_, best.threshold, o_.seed);
        nlohmann::json j = cxr_classifier::to_json(r);
        j["split"] = "validation";
        pgg::io::write_file_atomic(o_.out + "/validation.json", j.dump(2) + "\n");
        pgg::io::write_png(o_.out + "/validation_roc.png", roc_picture(p, val_labels_, r, "validation"));
        pgg::io::write_file_atomic(o_.out + "/done.txt", "epochs " + std::to_string(o_.epochs) + ", best validation AUC " +
                                                             fixed(best_auc_, 4) + "\n");
        log("done: best validation AUC " + fixed(best_auc_, 4) + " (best.safetensors); on validation at its threshold:\n" + to_text(r));
    }

    void write_metrics() {
        if (!world_.is_root()) return;
        std::ostringstream csv;
        csv << "epoch,train_loss,val_loss,val_auc,lr,seconds\n";
        std::vector<double> x, tl, vl, va;
        for (const auto& r : rows_) {
            char buf[200];
            std::snprintf(buf, sizeof buf, "%d,%.6f,%.6f,%.6f,%.6g,%.2f\n", r.epoch, r.train_loss, r.val_loss, r.val_auc, r.lr, r.seconds);
            csv << buf;
            x.push_back(r.epoch), tl.push_back(r.train_loss), vl.push_back(r.val_loss), va.push_back(r.val_auc);
        }
        pgg::io::write_file_atomic(o_.out + "/metrics.csv", csv.str());
        const pgg::plot::Color blue{31, 119, 180}, orange{230, 120, 20}, green{44, 160, 44};
        pgg::io::write_png(o_.out + "/curves.png",
                           pgg::plot::render({{.title = "Loss (class-weighted BCE)",
                                               .series = {{"train", blue, x, tl}, {"validation", orange, x, vl}},
                                               .xlabel = "epoch",
                                               .ylabel = "loss"},
                                              {.title = "Validation ROC AUC", .series = {{"AUC", green, x, va}}, .xlabel = "epoch", .ylabel = "AUC"}}));
    }

    void save(const std::string& path, int epoch, long batch, double threshold) {
        if (!world_.is_root()) return;
        pgg::io::SafetensorsWriter w;
        model_->save(w);
        model_->save_optimizer(w);
        w.metadata("format", "pgg-cxr-classifier");
        w.metadata("classifier.side", std::to_string(o_.size));
        w.metadata("classifier.threshold", fixed(std::isfinite(threshold) ? threshold : 0.5, 17));
        w.metadata("train.options", to_json(o_).dump());
        w.metadata("train.epoch", std::to_string(epoch));
        w.metadata("train.batch", std::to_string(batch));
        w.metadata("train.loss_sum", fixed(loss_sum_, 17));
        w.metadata("train.loss_count", fixed(loss_count_, 1));
        w.metadata("train.best_auc", fixed(best_auc_, 17));
        w.write(path);
    }

    void load(const std::string& path) {
        const auto f = pgg::io::SafetensorsFile::read(path);
        f.require_checksum();
        model_->load(f);
        model_->load_optimizer(f);
        auto meta = [&](const char* k) { return f.string_metadata(k); };
        epoch_ = std::stoi(meta("train.epoch"));
        batch_ = std::stol(meta("train.batch"));
        loss_sum_ = std::stod(meta("train.loss_sum"));
        loss_count_ = std::stod(meta("train.loss_count"));
        best_auc_ = std::stod(meta("train.best_auc"));
        // the curves so far, up to the checkpoint's epoch
        std::ifstream in(o_.out + "/metrics.csv");
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line)) {
            EpochRow r{};
            if (std::sscanf(line.c_str(), "%d,%lf,%lf,%lf,%lf,%lf", &r.epoch, &r.train_loss, &r.val_loss, &r.val_auc, &r.lr, &r.seconds) == 6 &&
                r.epoch <= epoch_)
                rows_.push_back(r);
        }
    }

    TrainOptions o_;
    pgg::dist::Communicator& world_ = pgg::dist::Communicator::world();
    pgg::dist::Reducer* reduce_ = nullptr; // the gradients' sums over the processes (nullptr: one process)
    Labelled real_;
    Split split_;
    std::vector<Tensor<float>> synthetic_[2];
    std::vector<const Tensor<float>*> items_; // the training images: real ones, then synthetic
    std::vector<int> item_labels_, val_labels_;
    double weights_[2] = {1, 1};
    std::unique_ptr<Model> model_;
    int epoch_ = 0;
    long batch_ = 0, total_steps_ = 0;
    double loss_sum_ = 0, loss_count_ = 0, best_auc_ = -1, seconds_ = 0, lr_ = 0;
    std::vector<EpochRow> rows_;
};

} // namespace

void add_train_command(CLI::App& app) {
    auto o = std::make_shared<TrainOptions>();
    auto* cmd = app.add_subcommand("train", "train the classifier on labelled CXRs (validation split taken from them)");
    add_label_options(cmd, o->data);
    cmd->get_option("--images")->required(false);
    cmd->add_option("--out", o->out, "run folder to create (or, with --resume, to continue)");
    cmd->add_option("--resume", o->resume, "continue the run in this folder from its last.safetensors");
    cmd->add_option("--size", o->size, "classify size x size images (a compiled side: 32, 64, 128, 256, 512)")->capture_default_str();
    cmd->add_option("--augment", o->augment, "none, traditional, gan or traditional+gan")
        ->capture_default_str()
        ->check(CLI::IsMember({"none", "traditional", "gan", "traditional+gan"}));
    pgg::app::add_augment_options(cmd, o->aug);
    cmd->add_option("--gan", o->gan, "synthetic images of a class: normal=SOURCE, abnormal=SOURCE; SOURCE a cxr_pggan snapshot or a folder");
    cmd->add_option("--synthetic-ratio", o->synthetic_ratio, "synthetic : real training images per class")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1000.0));
    cmd->add_option("--gan-seed", o->gan_seed, "latent seed of snapshot images (cxr_pggan generate's --seed)")->capture_default_str();
    auto* epochs = cmd->add_option("--epochs", o->epochs, "epochs (with --resume: a new total)")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--batch", o->batch, "minibatch")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--optimizer", o->optimizer.name, "adam or sgd")->capture_default_str()->check(CLI::IsMember({"adam", "sgd"}));
    cmd->add_option("--lr", o->lr, "learning rate, annealed (cosine) to --lr-final")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--lr-final", o->lr_final, "learning rate at the last step")->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--momentum", o->optimizer.momentum, "sgd: momentum")->capture_default_str()->check(CLI::Range(0.0, 0.999));
    cmd->add_option("--weight-decay", o->optimizer.weight_decay, "sgd: L2 weight decay")->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--val-fraction", o->val_fraction, "fraction of each class held out for validation (seeded)")
        ->capture_default_str()
        ->check(CLI::Range(0.01, 0.9));
    cmd->add_option("--seed", o->seed, "seed of the split, initialisation, order and augmentation")->capture_default_str();
    cmd->add_option("--device", o->device, "where the classifier trains: cpu, or cuda in a build with the CUDA backend")
        ->capture_default_str()
        ->check(CLI::IsMember({"cpu", "cuda"}));
    cmd->callback([o, epochs] {
        if (!o->resume.empty()) {
            const std::string dir = o->resume;
            const auto f = pgg::io::SafetensorsFile::read(dir + "/last.safetensors");
            f.require_checksum();
            TrainOptions saved = from_json(nlohmann::json::parse(f.string_metadata("train.options")));
            if (epochs->count()) saved.epochs = o->epochs;
            saved.out = dir;
            saved.device = o->device;
            Trainer(saved).run(true);
            return;
        }
        PGG_CHECK(!o->data.images.empty() && !o->out.empty(), "train needs --images, --labels (or --list) and --out (or --resume RUN)");
        Trainer(*o).run(false);
    });
}

} // namespace cxr_classifier
