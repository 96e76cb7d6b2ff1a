// `cxr_unet train`: trains the UNet on image/mask pairs with BCE + soft Dice and Adam, validates on a
// seeded split after every epoch, and keeps a run folder:
//   options.json, log.txt, metrics.csv (one row per epoch), curves.png, last.safetensors (also written on
//   SIGINT/SIGTERM, mid-epoch), best.safetensors (best validation Dice).
// The batch order and augmentation of epoch e are functions of (seed, e, position) and the dropout
// streams and Adam state are checkpointed, so `--resume RUN` continues exactly where the run stopped.
// Under mpirun the processes share every minibatch (docs/distributed.md): each trains on its part with
// its samples' dropout noise, the gradients are summed, process 0 writes the run folder.
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <pgg/dist/communicator.hpp>
#include <pgg/dist/gradient_reducer.hpp>

#include "commands.hpp"
#include "data.hpp"
#include "model.hpp"
#include "scoring.hpp"

namespace cxr_unet {
namespace {

struct TrainOptions {
    std::string images, masks, out, resume;
    index_t size = 256;
    int base = 16, depth = 4;
    float dropout = 0.05f;
    int epochs = 40;
    index_t batch = 8;
    double lr = 3e-3, lr_final = 1e-5;
    double val_fraction = 0.2;
    double dice_weight = 1.0;
    std::uint64_t seed = 1;
    AugmentOptions aug;
    std::string device = "cpu"; // not saved: a run may resume on another device
};

nlohmann::json to_json(const TrainOptions& o) {
    return {{"images", o.images},       {"masks", o.masks},   {"size", o.size},       {"base", o.base},
            {"depth", o.depth},         {"dropout", o.dropout}, {"epochs", o.epochs},   {"batch", o.batch},
            {"lr", o.lr},               {"lr_final", o.lr_final}, {"val_fraction", o.val_fraction},
            {"dice_weight", o.dice_weight}, {"seed", o.seed},
            {"augment", pgg::app::to_json(o.aug)}};
}
TrainOptions from_json(const nlohmann::json& j) {
    TrainOptions o;
    o.images = j.at("images"), o.masks = j.at("masks"), o.size = j.at("size"), o.base = j.at("base"), o.depth = j.at("depth");
    o.dropout = j.at("dropout"), o.epochs = j.at("epochs"), o.batch = j.at("batch"), o.lr = j.at("lr"), o.lr_final = j.at("lr_final");
    o.val_fraction = j.at("val_fraction"), o.dice_weight = j.at("dice_weight"), o.seed = j.at("seed");
    o.aug = pgg::app::augment_from_json(j.at("augment"));
    return o;
}

struct EpochRow {
    int epoch;
    double train_loss, val_loss, val_dice, val_iou, lr, seconds;
};

class Trainer {
public:
    explicit Trainer(TrainOptions o) : o_(std::move(o)) {}

    void run(bool resuming) {
        pgg::InterruptGuard guard;
        pairs_ = read_pairs(o_.images, o_.masks, o_.size);
        split_ = split_indices(index_t(pairs_.names.size()), o_.val_fraction, o_.seed);
        PGG_CHECK(pairs_.size % (1 << o_.depth) == 0, "--size ", pairs_.size, " is not a multiple of 2^depth = ", 1 << o_.depth);
        reduce_ = pgg::dist::gradient_reducer(o_.device); // picks this process's GPU: before any CUDA work
        model_ = make_model({o_.base, o_.depth}, o_.device);
        pgg::Generator init(o_.seed, 0x1417);
        model_->reset_parameters(init);
        model_->set_dropout(o_.dropout, o_.seed);
        model_->use_adam({.lr = o_.lr});
        if (world_.size() > 1 && !std::getenv("OMP_NUM_THREADS")) omp_set_num_threads(world_.threads_per_process());
        if (resuming) load(o_.out + "/last.safetensors");
        else if (world_.is_root()) start_folder();
        world_.barrier(); // the folder exists before anyone goes on
        const long batches = long((split_.train.size() + std::size_t(o_.batch) - 1) / std::size_t(o_.batch));
        total_steps_ = long(o_.epochs) * batches;
        log(std::string(resuming ? "resumed" : "started") + ": " + std::to_string(split_.train.size()) + " training and " +
            std::to_string(split_.validation.size()) + " validation pairs at " + std::to_string(pairs_.size) + "x" +
            std::to_string(pairs_.size) + "; UNet base " + std::to_string(o_.base) + ", depth " + std::to_string(o_.depth) + ", " +
            std::to_string(model_->parameter_count()) + " parameters; epoch " + std::to_string(epoch_ + 1) + " of " +
            std::to_string(o_.epochs));
        for (; epoch_ < o_.epochs; ++epoch_, batch_ = 0, loss_sum_ = 0, loss_count_ = 0) {
            if (const int signal = train_epoch(batches)) {
                save(o_.out + "/last.safetensors", epoch_, batch_);
                log("interrupted in epoch " + std::to_string(epoch_ + 1) + " at batch " + std::to_string(batch_) +
                    "; saved last.safetensors; continue with: cxr_unet train --resume " + o_.out);
                throw pgg::interrupted_error("interrupted by signal " + std::to_string(signal) + " (state saved)", signal);
            }
            validate();
        }
        if (world_.is_root())
            pgg::io::write_file_atomic(o_.out + "/done.txt", "epochs " + std::to_string(o_.epochs) + ", best validation Dice " +
                                                                 fixed(best_dice_, 4) + "\n");
        log("done: best validation Dice " + fixed(best_dice_, 4) + " (best.safetensors)");
    }

private:
    static std::string fixed(double v, int digits) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.*f", digits, v);
        return buf;
    }
    void log(const std::string& line) {
        if (!world_.is_root()) return;
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
        pgg::app::append_line(o_.out + "/log.txt", line);
    }

    void start_folder() {
        PGG_CHECK(!std::filesystem::exists(o_.out), o_.out, ": already exists (continue it with --resume ", o_.out, ")");
        std::filesystem::create_directories(o_.out);
        pgg::io::write_file_atomic(o_.out + "/options.json", to_json(o_).dump(2) + "\n");
        std::ostringstream names;
        for (index_t i : split_.validation) names << pairs_.names[i] << "\n";
        pgg::io::write_file_atomic(o_.out + "/validation.txt", names.str());
    }

    // One epoch from batch_ on; the signal number when interrupted (state as of the last finished batch),
    // else 0. With several processes each takes its part of every minibatch, and all stop at one batch.
    int train_epoch(long batches) {
        const index_t S = pairs_.size, nt = index_t(split_.train.size());
        pgg::Generator order_gen(o_.seed, 0x0de0000 + std::uint64_t(epoch_));
        const std::vector<index_t> order = pgg::random_permutation(nt, order_gen);
        const pgg::Generator aug_gen(o_.seed, 0xa060000 + std::uint64_t(epoch_));
        const pgg::optim::CosineAnnealingLR schedule{o_.lr, o_.lr_final, total_steps_};
        pgg::Progress progress("epoch " + std::to_string(epoch_ + 1) + "/" + std::to_string(o_.epochs), batches);
        progress.update(batch_);
        const auto start = std::chrono::steady_clock::now();
        model_->train(true);
        const int P = world_.size();
        for (; batch_ < batches; ++batch_) {
            double signal = pgg::interrupted();
            world_.max(&signal, 1);
            if (signal != 0) return int(signal);
            const index_t b0 = index_t(batch_) * o_.batch, nb = std::min(o_.batch, nt - b0);
            const auto [share, m] = world_.part(nb); // this process's samples: b0 + share, ...
            const index_t lo = b0 + share;
            Tensor<float> x({m, 1, S, S}), t({m, 1, S, S}), grad;
#pragma omp parallel for
            for (index_t i = 0; i < m; ++i) {
                pgg::Generator g = aug_gen;
                g.offset = std::uint64_t(lo + i) * 2; // two blocks per sample
                const index_t k = split_.train[order[lo + i]];
                pgg::app::augment(pairs_.images[k].data(), pairs_.masks[k].data(), S, o_.aug, g, x.data() + i * S * S, t.data() + i * S * S);
            }
            double loss = 0;
            if (P > 1) model_->set_share(share, nb);
            if (m > 0) {
                loss = segmentation_loss(model_->forward(x), t, o_.dice_weight, grad);
                model_->backward(grad);
            } else {
                skip_noise(nb); // the dropout streams move on as in the other processes
            }
            if (P > 1) { // the minibatch's mean loss and gradient: each part weighted by its size
                model_->set_share(0, 0);
                model_->sum_gradients(*reduce_, float(double(m) / double(nb)));
                loss *= double(m) / double(nb);
                world_.sum(&loss, 1);
            }
            lr_ = schedule(long(epoch_) * batches + batch_);
            model_->adam_step(lr_); // skips (and counts) a step whose gradients are not finite
            if (std::isfinite(loss)) loss_sum_ += loss * double(nb), loss_count_ += double(nb);
            progress.advance();
        }
        progress.finish();
        seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return 0;
    }

    // A process with no samples in a (short, last) minibatch: its dropout streams must move past the
    // minibatch's noise as the others' do. A pass of one blank image as the minibatch's last sample
    // moves them exactly so (its output is not used).
    void skip_noise(index_t nb) {
        const index_t S = pairs_.size;
        Tensor<float> blank({1, 1, S, S});
        blank.fill(0.0f);
        model_->set_share(nb - 1, nb);
        model_->forward(blank);
    }

    void validate() {
        const auto scores = score_pairs(*model_, pairs_, split_.validation, o_.batch, o_.dice_weight);
        EpochRow r{epoch_ + 1, loss_count_ ? loss_sum_ / loss_count_ : NAN, mean_of(scores, &PairScore::loss),
                   mean_of(scores, &PairScore::dice), mean_of(scores, &PairScore::iou), lr_, seconds_};
        rows_.push_back(r);
        const bool best = r.val_dice > best_dice_;
        if (best) best_dice_ = r.val_dice;
        // the checkpoints hold the state at the start of the next epoch
        loss_sum_ = loss_count_ = 0;
        save(o_.out + "/last.safetensors", epoch_ + 1, 0);
        if (best) save(o_.out + "/best.safetensors", epoch_ + 1, 0);
        write_metrics();
        char line[256];
        std::snprintf(line, sizeof line,
                      "epoch %3d/%d  train loss %.4f  val loss %.4f  val Dice %.4f  IoU %.4f  lr %.2e  %5.1fs  skipped %ld%s", r.epoch,
                      o_.epochs, r.train_loss, r.val_loss, r.val_dice, r.val_iou, r.lr, r.seconds, model_->adam_skipped(),
                      best ? "  best" : "");
        log(line);
    }

    void write_metrics() {
        if (!world_.is_root()) return;
        std::ostringstream csv;
        csv << "epoch,train_loss,val_loss,val_dice,val_iou,lr,seconds\n";
        std::vector<double> x, tl, vl, vd, vi;
        for (const auto& r : rows_) {
            char buf[200];
            std::snprintf(buf, sizeof buf, "%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.2f\n", r.epoch, r.train_loss, r.val_loss, r.val_dice,
                          r.val_iou, r.lr, r.seconds);
            csv << buf;
            x.push_back(r.epoch), tl.push_back(r.train_loss), vl.push_back(r.val_loss), vd.push_back(r.val_dice),
                vi.push_back(r.val_iou);
        }
        pgg::io::write_file_atomic(o_.out + "/metrics.csv", csv.str());
        const pgg::plot::Color blue{31, 119, 180}, orange{230, 120, 20}, green{44, 160, 44}, red{214, 39, 40};
        pgg::io::write_png(o_.out + "/curves.png",
                           pgg::plot::render({{.title = "Loss (BCE + soft Dice)",
                                               .series = {{"train", blue, x, tl}, {"validation", orange, x, vl}},
                                               .xlabel = "epoch",
                                               .ylabel = "loss"},
                                              {.title = "Validation overlap with the reference masks",
                                               .series = {{"Dice", green, x, vd}, {"IoU", red, x, vi}},
                                               .xlabel = "epoch",
                                               .ylabel = "score"}}));
    }

    void save(const std::string& path, int epoch, long batch) {
        if (!world_.is_root()) return;
        pgg::io::SafetensorsWriter w;
        model_->save(w);
        model_->save_adam(w, "adam.");
        w.metadata("unet.base", std::to_string(o_.base));
        w.metadata("unet.depth", std::to_string(o_.depth));
        w.metadata("unet.size", std::to_string(pairs_.size));
        w.metadata("unet.dropout", std::to_string(o_.dropout));
        w.metadata("train.options", to_json(o_).dump());
        w.metadata("train.epoch", std::to_string(epoch));
        w.metadata("train.batch", std::to_string(batch));
        w.metadata("train.loss_sum", fixed(loss_sum_, 17));
        w.metadata("train.loss_count", fixed(loss_count_, 1));
        w.metadata("train.best_dice", fixed(best_dice_, 17));
        w.metadata("train.skipped", std::to_string(model_->adam_skipped()));
        std::string offsets;
        for (const pgg::Generator* g : model_->noise_streams()) offsets += (offsets.empty() ? "" : ",") + std::to_string(g->offset);
        w.metadata("train.noise_offsets", offsets);
        w.write(path);
    }

    void load(const std::string& path) {
        const auto f = pgg::io::SafetensorsFile::read(path);
        f.require_checksum();
        model_->load(f);
        model_->load_adam(f, "adam.");
        auto meta = [&](const char* k) { return f.string_metadata(k); };
        epoch_ = std::stoi(meta("train.epoch"));
        batch_ = std::stol(meta("train.batch"));
        loss_sum_ = std::stod(meta("train.loss_sum"));
        loss_count_ = std::stod(meta("train.loss_count"));
        best_dice_ = std::stod(meta("train.best_dice"));
        std::istringstream offsets(meta("train.noise_offsets"));
        std::string item;
        for (pgg::Generator* g : model_->noise_streams()) {
            PGG_CHECK(std::getline(offsets, item, ','), path, ": fewer noise streams than the model has");
            g->offset = std::stoull(item);
        }
        // the curves so far, up to the checkpoint's epoch
        std::ifstream in(o_.out + "/metrics.csv");
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line)) {
            EpochRow r{};
            if (std::sscanf(line.c_str(), "%d,%lf,%lf,%lf,%lf,%lf,%lf", &r.epoch, &r.train_loss, &r.val_loss, &r.val_dice, &r.val_iou,
                            &r.lr, &r.seconds) == 7 &&
                r.epoch <= epoch_)
                rows_.push_back(r);
        }
    }

    TrainOptions o_;
    pgg::dist::Communicator& world_ = pgg::dist::Communicator::world();
    pgg::dist::Reducer* reduce_ = nullptr; // the gradients' sums over the processes (nullptr: one process)
    Pairs pairs_;
    Split split_;
    std::unique_ptr<Model> model_;
    int epoch_ = 0;
    long batch_ = 0, total_steps_ = 0;
    double loss_sum_ = 0, loss_count_ = 0, best_dice_ = -1, seconds_ = 0, lr_ = 0;
    std::vector<EpochRow> rows_;
};

} // namespace

void add_train_command(CLI::App& app) {
    auto o = std::make_shared<TrainOptions>();
    auto* cmd = app.add_subcommand("train", "train the UNet on image/mask pairs (same file names; masks 0/255)");
    cmd->add_option("--images", o->images, "folder of images (PNG, JPEG, BMP, PNM)")->check(CLI::ExistingDirectory);
    cmd->add_option("--masks", o->masks, "folder of masks with the images' file names")->check(CLI::ExistingDirectory);
    cmd->add_option("--out", o->out, "run folder to create (or, with --resume, to continue)");
    cmd->add_option("--resume", o->resume, "continue the run in this folder from its last.safetensors");
    cmd->add_option("--size", o->size, "train at size x size (a multiple of 2^depth)")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--base", o->base, "channels of the first level (doubling per level)")->capture_default_str();
    cmd->add_option("--depth", o->depth, "number of 2x2 poolings")->capture_default_str();
    cmd->add_option("--dropout", o->dropout, "Gaussian dropout rate after every conv + ReLU")->capture_default_str()->check(CLI::Range(0.0, 0.95));
    auto* epochs = cmd->add_option("--epochs", o->epochs, "epochs (with --resume: a new total)")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--batch", o->batch, "minibatch")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--lr", o->lr, "Adam learning rate, annealed (cosine) to --lr-final")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--lr-final", o->lr_final, "learning rate at the last step")->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--val-fraction", o->val_fraction, "fraction of pairs held out for validation (seeded)")->capture_default_str()->check(CLI::Range(0.01, 0.9));
    cmd->add_option("--dice-weight", o->dice_weight, "weight of the soft Dice term beside BCE")->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--seed", o->seed, "seed of the split, initialisation, order, augmentation and dropout")->capture_default_str();
    pgg::app::add_augment_options(cmd, o->aug);
    cmd->add_option("--device", o->device, "where the UNet trains: cpu, or cuda in a build with the CUDA backend")
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
        PGG_CHECK(!o->images.empty() && !o->masks.empty() && !o->out.empty(), "train needs --images, --masks and --out (or --resume RUN)");
        Trainer(*o).run(false);
    });
}

} // namespace cxr_unet
