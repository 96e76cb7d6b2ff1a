// `cxr_pggan train`: progressive-growing GAN training (docs/cxr_pggan.md) with WGAN-GP, writing
// results/NNN-<desc>/: config.json, log.txt, metrics.jsonl, reals.png, fakes<kimg>.png, losses.png,
// network-snapshot-<kimg>.safetensors, network-final.safetensors and _finished.txt.
#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include <pgg/dist/communicator.hpp>
#include <pgg/dist/gradient_reducer.hpp>

#include "../common/files.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "plot.hpp"
#include "snapshot.hpp"

namespace pggan {
namespace {

namespace fs = std::filesystem;
using pgg::index_t;
using pgg::Tensor;
using pgg::app::append_line;
using clock_type = std::chrono::steady_clock;

struct TrainOptions {
    std::string config = "demo", data, results = "results", resume, desc;
    std::vector<std::string> sets;
    double total_kimg = 0;
    long seed = -1;
    int threads = -1;
    std::string device = "cpu";
};

std::string find_config(const std::string& name) {
    if (fs::is_regular_file(name)) return name;
    std::vector<fs::path> places;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) places.push_back(exe.parent_path() / "configs" / (name + ".json"));
    places.push_back(fs::path(PGGAN_CONFIG_DIR) / (name + ".json"));
    for (const auto& p : places)
        if (fs::is_regular_file(p)) return p.string();
    throw pgg::error("config '" + name + "': no such file, and no " + name + ".json in " + places.back().parent_path().string());
}

// results/NNN-desc with NNN one above the highest number there.
std::string new_run_dir(const std::string& results, const std::string& desc) {
    fs::create_directories(results);
    for (;;) {
        int next = 0;
        for (const auto& e : fs::directory_iterator(results)) {
            const std::string n = e.path().filename().string();
            if (n.size() >= 3 && std::isdigit((unsigned char)n[0]) && std::isdigit((unsigned char)n[1]) &&
                std::isdigit((unsigned char)n[2]))
                next = std::max(next, std::stoi(n.substr(0, 3)) + 1);
        }
        char name[16];
        std::snprintf(name, sizeof name, "%03d-", next);
        const fs::path dir = fs::path(results) / (name + desc);
        if (fs::create_directory(dir)) return dir.string(); // false: another run took the number
    }
}

// The newest snapshot in a run folder (by modification time: a resumed run may write snapshots after
// an earlier network-final).
std::string latest_snapshot(const std::string& dir) {
    std::string best;
    fs::file_time_type best_time;
    const std::regex pattern(R"(network-(snapshot-\d+|final)\.safetensors)");
    for (const auto& e : fs::directory_iterator(dir)) {
        if (!std::regex_match(e.path().filename().string(), pattern)) continue;
        const auto t = e.last_write_time();
        if (best.empty() || t > best_time) best = e.path().string(), best_time = t;
    }
    PGG_CHECK(!best.empty(), dir, ": no network-snapshot-*.safetensors to resume from");
    return best;
}

// The samples of a minibatch of n that this process trains on, in the order its networks
// see them: whole minibatch-stddev groups (group m of M = n / G holds samples m, m + M, m + 2M, ...,
// kernels/stddev.hpp), laid out as one process's batch of those groups, so that D computes for every
// sample what one process with the whole minibatch would (docs/distributed.md). One process: 0..n-1.
std::vector<index_t> share_of(index_t n, const pgg::dist::Communicator& world) {
    const index_t G = std::min<index_t>(4, n), M = n / G;
    const auto [m0, groups] = world.part(M);
    std::vector<index_t> out;
    for (index_t j = 0; j < G; ++j)
        for (index_t m = m0; m < m0 + groups; ++m) out.push_back(m + M * j);
    return out;
}

// Rows `rows` of x (N, ...) into out (rows.size(), ...).
void gather_rows(const Tensor<float>& x, const std::vector<index_t>& rows, Tensor<float>& out) {
    std::vector<index_t> dims{index_t(rows.size())};
    for (int d = 1; d < x.rank(); ++d) dims.push_back(x.size(d));
    out.resize_(pgg::Shape::from_range(dims.begin(), dims.end()));
    const index_t row = x.numel() / std::max<index_t>(1, x.size(0));
    for (std::size_t i = 0; i < rows.size(); ++i) std::copy_n(x.data() + rows[i] * row, row, out.data() + index_t(i) * row);
}

// Images in [-1, 1] at resolution r, enlarged (nearest) to `cell` and tiled gw x gh.
Tensor<std::uint8_t> image_grid(const Tensor<float>& images, index_t cell, index_t gw) {
    Tensor<float> x = images;
    while (x.h() < cell) {
        Tensor<float> up;
        pgg::upsample2x_forward(x, up);
        x = up;
    }
    return pgg::io::make_grid(pgg::io::to_uint8(x), gw, 0);
}

class Trainer {
public:
    Trainer(TrainOptions o) : o_(std::move(o)) {}

    void run() {
        pgg::InterruptGuard guard;
        setup();
        loop();
    }

private:
    void setup() {
        bool continue_dir = false;
        std::string snapshot;
        if (!o_.resume.empty()) {
            PGG_CHECK(fs::exists(o_.resume), o_.resume, ": no such run folder or snapshot");
            continue_dir = fs::is_directory(o_.resume);
            snapshot = continue_dir ? latest_snapshot(o_.resume) : o_.resume;
            snapshot_ = snapshot;
            const auto f = pgg::io::SafetensorsFile::read(snapshot);
            f.require_checksum();
            info_ = read_snapshot(f, stores_);
            cfg_ = info_.config;
            st_ = info_.state;
            if (o_.data.empty()) o_.data = info_.dataset;
        } else {
            cfg_ = load_config(find_config(o_.config));
        }
        for (const auto& s : o_.sets) apply_override(cfg_, s);
        if (o_.total_kimg > 0) cfg_.total_kimg = o_.total_kimg;
        if (o_.seed >= 0) cfg_.seed = std::uint64_t(o_.seed);
        if (o_.threads >= 0) cfg_.threads = o_.threads;
        if (!o_.desc.empty()) cfg_.desc = o_.desc;
        validate(cfg_, "config");
        if (cfg_.threads == 0 && world_.size() > 1) cfg_.threads = world_.threads_per_process();
        if (cfg_.threads > 0) omp_set_num_threads(cfg_.threads);
        if (world_.size() > 1) check_shares();

        PGG_CHECK(!o_.data.empty(), "--data DATASET is required (make one with `cxr_pggan dataset create_from_images`)");
        ds_ = std::make_unique<pgg::io::Dataset>(o_.data);
        R_ = int(ds_->resolution());
        C_ = ds_->channels();
        if (!snapshot.empty()) {
            PGG_CHECK(info_.dataset_resolution == R_ && info_.channels == C_, snapshot, ": trained on ", info_.dataset_resolution, "x",
                      info_.dataset_resolution, " with ", info_.channels, " channel(s), but ", o_.data, " holds ", R_, "x", R_,
                      " with ", C_);
        } else {
            st_.latents = pgg::Generator(cfg_.seed, 1);
            st_.reals = pgg::Generator(cfg_.seed, 2);
            st_.mixing = pgg::Generator(cfg_.seed, 3);
            st_.augment = pgg::Generator(cfg_.seed, 6);
        }
        // ADA continues from the p it reached; the other modes take theirs from the config
        if (cfg_.augment != "ada" || snapshot.empty() || info_.config.augment != "ada")
            st_.augment_p = cfg_.augment == "diffaugment" ? 1.0 : cfg_.augment == "none" ? 0.0 : cfg_.augment_p;
        // check that every stage this run needs was compiled, before training starts
        for (int r = 4; r <= R_; r *= 2)
            require_stage(cfg_.fmap_base, cfg_.fmap_max, cfg_.latent_size, r, C_, o_.device);
        reduce_ = pgg::dist::gradient_reducer(o_.device); // picks this process's GPU: before any CUDA work
        if (o_.device != "cpu") // a missing or unusable GPU fails here, before the run folder exists
            create_stage(cfg_.fmap_base, cfg_.fmap_max, cfg_.latent_size, 4, C_, adam_settings(), o_.device);

        // process 0 writes the run folder; the others only train
        if (world_.is_root()) dir_ = continue_dir ? o_.resume : new_run_dir(o_.results, cfg_.desc);
        world_.broadcast(dir_);
        nlohmann::json config_file = to_json(cfg_);
        config_file["_data"] = fs::absolute(o_.data).string();
        config_file["_resumed_from"] = snapshot;
        config_file["_processes"] = world_.size();
        if (world_.is_root()) pgg::io::write_file_atomic(dir_ + "/config.json", config_file.dump(2) + "\n");

        // image grids: official sizes (about 1920x1080 pixels), at most 16x16 images
        gw_ = cfg_.grid_width > 0 ? cfg_.grid_width : std::clamp(1920 / R_, 3, 16);
        gh_ = cfg_.grid_height > 0 ? cfg_.grid_height : std::clamp(1080 / R_, 2, 16);
        grid_z_.resize_({index_t(gw_) * gh_, cfg_.latent_size});
        pgg::Generator grid_gen(cfg_.seed, 4);
        pgg::fill_normal(grid_z_, grid_gen);
        cell_ = std::min(R_, 128);
        if (world_.is_root() && (!continue_dir || !fs::exists(dir_ + "/reals.png"))) {
            Tensor<float> reals;
            pgg::Generator g(cfg_.seed, 5);
            ds_->minibatch(g, index_t(gw_) * gh_, 0.0, reals);
            pgg::io::write_png(dir_ + "/reals.png", image_grid(reals, cell_, gw_));
            if (cfg_.augment != "none") { // the same reals with every augmentation drawn (p = 1): its strengths at a glance
                pgg::nn::Net<pgg::nn::Augment> augment;
                augment.options = augment_options();
                augment.options.p = 1;
                augment.reseed(cfg_.seed);
                pgg::io::write_png(dir_ + "/augment.png", image_grid(augment.forward(reals), cell_, gw_));
            }
        }
        log_ = dir_ + "/log.txt";
        say("cxr_pggan train: " + o_.data + " (" + std::to_string(ds_->size()) + " images, " + std::to_string(R_) + "x" +
            std::to_string(R_) + ", " + std::to_string(C_) + " channel(s)) -> " + dir_);
        if (world_.size() > 1)
            say(std::to_string(world_.size()) + " processes (MPI), " +
                (reduce_->device_memory() ? "one GPU each, gradients summed by NCCL"
                                          : std::to_string(cfg_.threads) + " thread(s) each") +
                ", sharing every minibatch");
        if (!snapshot.empty()) say("resumed from " + snapshot + " at kimg " + fixed(double(st_.cur_nimg) / 1000, 1));
        if (cfg_.augment != "none")
            say("augmentation: " + cfg_.augment +
                (cfg_.augment == "ada" ? ", p from " + fixed(st_.augment_p, 3) + " holding r_t (" + cfg_.ada_statistic + ") at " + fixed(cfg_.ada_target, 2)
                                       : ", p " + fixed(st_.augment_p, 3)));
        if (continue_dir && world_.is_root()) remove_leftovers();
        if (plot_.empty()) plot_.load(dir_ + "/metrics.jsonl");
    }

    // Temporary files of writes that never finished (the run was killed while writing): only the run
    // that owns this folder writes here, and its targets are whole, so they go.
    void remove_leftovers() {
        const std::regex temporary(R"(.+\.tmp-[A-Za-z0-9]{6})");
        std::vector<fs::path> found;
        for (const auto& e : fs::directory_iterator(dir_))
            if (e.is_regular_file() && std::regex_match(e.path().filename().string(), temporary)) found.push_back(e.path());
        for (const auto& p : found) {
            say("removed " + p.filename().string() + ", left by a write that did not finish");
            fs::remove(p);
        }
    }

    // Every minibatch of the schedule splits into whole minibatch-stddev groups of 4, equally.
    void check_shares() const {
        const int P = world_.size();
        for (int r = cfg_.lod_initial_resolution; r <= R_; r *= 2) {
            const auto it = cfg_.minibatch.find(r);
            const int n = it == cfg_.minibatch.end() ? cfg_.minibatch_base : it->second;
            PGG_CHECK(n % (4 * P) == 0, "minibatch ", n, " at ", r, "x", r, " does not split into ", P,
                      " equal shares of whole minibatch-stddev groups (4 samples): with ", P,
                      " processes every minibatch must be a multiple of ", 4 * P);
        }
    }

    AdamSettings adam_settings() const { return {cfg_.adam_beta1, cfg_.adam_beta2, cfg_.adam_epsilon}; }

    pgg::nn::AugmentOptions augment_options() const {
        if (cfg_.augment == "diffaugment") return pgg::nn::diffaugment_options();
        return {.p = st_.augment_p,
                .xflip = cfg_.augment_xflip,
                .rotate90 = cfg_.augment_rotate90,
                .translate = cfg_.augment_translate,
                .scale = cfg_.augment_scale,
                .rotate = cfg_.augment_rotate,
                .aniso = cfg_.augment_aniso,
                .translate_frac = cfg_.augment_translate_frac,
                .brightness = cfg_.augment_brightness,
                .contrast = cfg_.augment_contrast,
                .noise = cfg_.augment_noise,
                .cutout = cfg_.augment_cutout};
    }

    // ADA's statistic r_t (config.hpp, ada_statistic), of a minibatch or of a tick's sums.
    double ada_statistic(double real_sign, double real_vs_fake) const { return cfg_.ada_statistic == "real_sign" ? real_sign : real_vs_fake; }

    // ADA (Karras et al. 2020): every ada_interval minibatches, p moves by sign(r_t - target) times the
    // images of the interval over ada_kimg thousand, r_t the interval's mean of the statistic.
    void adapt_augment(const StepStats& r, int minibatch) {
        if (cfg_.augment != "ada") return;
        st_.ada_sum += ada_statistic(r.d.real_sign, r.d.real_vs_fake) * minibatch;
        st_.ada_n += minibatch;
        if (++st_.ada_steps < cfg_.ada_interval) return;
        const double rt = st_.ada_sum / double(st_.ada_n);
        const double step = double(st_.ada_n) / (cfg_.ada_kimg * 1000);
        st_.augment_p = std::clamp(st_.augment_p + (rt > cfg_.ada_target ? step : rt < cfg_.ada_target ? -step : 0.0), 0.0, 1.0);
        st_.ada_sum = 0, st_.ada_n = 0, st_.ada_steps = 0;
    }

    static std::string fixed(double v, int digits) {
        char b[64];
        std::snprintf(b, sizeof b, "%.*f", digits, v);
        return b;
    }

    void say(const std::string& line) {
        if (!world_.is_root()) return;
        clear_progress();
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
        append_line(log_, line);
    }
    void clear_progress() {
        if (progress_shown_) std::fprintf(stderr, "\r\033[K");
        progress_shown_ = false;
    }

    // The stage for resolution r, carrying every parameter over by name, and Adam's state too unless the
    // config resets it at each level-of-detail boundary (the official default).
    void ensure_stage(int r, bool from_snapshot_optimizers) {
        if (stage_ && stage_->resolution() == r) return;
        const bool carry_adam = stage_ && !cfg_.reset_opt_for_new_lod;
        if (stage_) stage_->save(stores_);
        if (carry_adam) stage_->save_optimizers(stores_);
        stage_ = create_stage(cfg_.fmap_base, cfg_.fmap_max, cfg_.latent_size, r, C_, adam_settings(), o_.device);
        pgg::Generator init(cfg_.seed, 100 + std::uint64_t(r)); // new layers: the same values however the run was split
        stage_->load(stores_, init);
        if (from_snapshot_optimizers) stage_->load_optimizers(pgg::io::SafetensorsFile::read(snapshot_).require_checksum());
        else if (carry_adam) stage_->load_optimizers(stores_);
    }

    std::string snapshot_name(long nimg) const {
        char b[64];
        std::snprintf(b, sizeof b, "/network-snapshot-%06ld.safetensors", nimg / 1000);
        return dir_ + b;
    }

    void write_snapshot_to(const std::string& path, const Schedule& s) {
        if (!world_.is_root()) return;
        info_.config = cfg_;
        info_.state = st_;
        info_.channels = C_;
        info_.dataset_resolution = R_;
        info_.stage_resolution = stage_->resolution();
        info_.lod = s.lod;
        info_.dataset = fs::absolute(o_.data).string();
        write_snapshot(path, *stage_, stores_, info_);
    }

    void write_fakes(long nimg) {
        if (!world_.is_root()) return;
        Tensor<float> images;
        stage_->generate(grid_z_, images);
        char b[64];
        std::snprintf(b, sizeof b, "/fakes%06ld.png", nimg / 1000);
        pgg::io::write_png(dir_ + b, image_grid(images, cell_, gw_));
    }

    void loop() {
        const long total_nimg = long(cfg_.total_kimg * 1000);
        Schedule s = schedule_at(cfg_, R_, st_.cur_nimg);
        // a resumed run continues in the stage its optimiser state belongs to; the loop moves on from there
        ensure_stage(snapshot_.empty() ? s.resolution : info_.stage_resolution, !snapshot_.empty());
        if (st_.cur_nimg == 0) write_fakes(0);
        if (st_.cur_nimg >= total_nimg) {
            say("nothing to do: the run is at kimg " + fixed(double(st_.cur_nimg) / 1000, 1) + " of " + fixed(cfg_.total_kimg, 1));
            return;
        }
        const auto session_start = clock_type::now();
        session_nimg_ = st_.cur_nimg;
        const double time_before = st_.train_time;
        auto tick_start = clock_type::now();
        double maintenance = 0;
        Sums sums;
        bool done = false;
        while (!done) {
            s = schedule_at(cfg_, R_, st_.cur_nimg);
            ensure_stage(s.resolution, false);
            stage_->set_alpha(s.lod - std::floor(s.lod));
            if (cfg_.reset_opt_for_new_lod && st_.prev_lod >= 0 &&
                (std::floor(s.lod) != std::floor(st_.prev_lod) || std::ceil(s.lod) != std::ceil(st_.prev_lod)))
                stage_->reset_optimizers();
            st_.prev_lod = s.lod;
            stage_->set_learning_rates(s.G_lrate, s.D_lrate);
            const StepOptions step{.max_per_device = s.max_per_device,
                                   .norm_scale = std::ldexp(1.0, int(std::floor(s.lod))),
                                   .lambda = cfg_.wgan_lambda,
                                   .drift = cfg_.wgan_drift,
                                   .G_smoothing = cfg_.G_smoothing};
            for (int rep = 0; rep < cfg_.minibatch_repeats; ++rep) {
                const StepStats r = train_minibatch(s, step);
                st_.cur_nimg += s.minibatch;
                st_.skipped_d += !r.d_applied;
                st_.skipped_g += !r.g_applied;
                sums.add(r);
                adapt_augment(r, s.minibatch);
            }
            const double session = std::chrono::duration<double>(clock_type::now() - session_start).count();
            st_.train_time = time_before + session;
            done = st_.cur_nimg >= total_nimg;
            show_progress(s, total_nimg, session);
            double signal = pgg::interrupted();
            world_.max(&signal, 1); // every process stops at the same step
            const bool stop = signal != 0;
            if (st_.cur_nimg >= st_.tick_start_nimg + long(s.tick_kimg * 1000) || done) {
                const auto t0 = clock_type::now();
                const double tick_time = std::chrono::duration<double>(t0 - tick_start).count();
                ++st_.cur_tick;
                check_same_parameters();
                report_tick(s, sums, tick_time, maintenance);
                st_.tick_start_nimg = st_.cur_nimg;
                sums = Sums();
                if (st_.cur_tick % cfg_.image_snapshot_ticks == 0 || done) write_fakes(st_.cur_nimg);
                if (st_.cur_tick % cfg_.network_snapshot_ticks == 0 || done) write_snapshot_to(snapshot_name(st_.cur_nimg), s);
                tick_start = clock_type::now();
                maintenance = std::chrono::duration<double>(tick_start - t0).count();
            }
            if (stop && !done) {
                const std::string path = snapshot_name(st_.cur_nimg);
                write_snapshot_to(path, s);
                const std::string note = "interrupted (signal " + std::to_string(int(signal)) + ") at kimg " +
                                         fixed(double(st_.cur_nimg) / 1000, 1) + "; snapshot " + path +
                                         "; continue with: cxr_pggan train --resume " + dir_;
                say(note);
                throw pgg::interrupted_error(note, int(signal));
            }
        }
        write_snapshot_to(dir_ + "/network-final.safetensors", s);
        if (world_.is_root())
            pgg::io::write_file_atomic(dir_ + "/_finished.txt", "kimg " + fixed(double(st_.cur_nimg) / 1000, 1) + "\n");
        say("done: " + dir_ + "/network-final.safetensors (" + pgg::format_duration(st_.train_time) + " of training; skipped steps: D " +
            std::to_string(st_.skipped_d) + ", G " + std::to_string(st_.skipped_g) + ")");
    }

    // One minibatch: the random draws of the whole minibatch, the same in every process and however many
    // there are, then this process's share of them (all of them in one process).
    StepStats train_minibatch(const Schedule& s, StepOptions o) {
        const index_t n = s.minibatch, L = cfg_.latent_size;
        const std::vector<index_t> drawn = ds_->draw_indices(st_.reals, n);
        z_d_.resize_({n, L});
        pgg::fill_normal(z_d_, st_.latents);
        mixing_.resize_({n});
        pgg::fill_uniform(mixing_, st_.mixing);
        z_g_.resize_({n, L});
        pgg::fill_normal(z_g_, st_.latents);
        const std::vector<index_t> mine = share_of(n, world_);
        std::vector<index_t> images(mine.size());
        for (std::size_t i = 0; i < mine.size(); ++i) images[i] = drawn[std::size_t(mine[i])];
        ds_->read_minibatch(images, s.lod, reals_);
        gather_rows(z_d_, mine, in_.z_d);
        gather_rows(z_g_, mine, in_.z_g);
        gather_rows(mixing_, mine, in_.mixing);
        std::uint32_t words[4];
        st_.augment.take(1).block(0, words);
        in_.augment_seed = std::uint64_t(words[0]) << 32 | words[1];
        in_.sample_ids = mine;
        stage_->set_augment(augment_options());
        if (reduce_) o.reduce = reduce_, o.global_minibatch = n;
        return stage_->train_minibatch(reals_, in_, o);
    }

    // Every process must hold the same networks: a hash of G, Gs and D compared at each tick.
    void check_same_parameters() {
        if (world_.size() == 1) return;
        stage_->save(stores_);
        std::uint64_t h = pgg::fnv1a64_basis; // over names and values
        for (const ParamStore* store : {&stores_.G, &stores_.Gs, &stores_.D})
            for (const auto& [name, t] : *store) {
                h = pgg::fnv1a64(name.data(), name.size(), h);
                h = pgg::fnv1a64(t.data(), std::size_t(t.numel()) * sizeof(float), h);
            }
        const std::vector<std::uint64_t> all = world_.gather(h);
        for (std::size_t r = 1; r < all.size(); ++r)
            PGG_CHECK(all[r] == all[0], "process ", r, "'s networks differ from process 0's at kimg ", fixed(double(st_.cur_nimg) / 1000, 1),
                      ": the processes no longer train one model");
    }

    struct Sums {
        double n = 0, d_loss = 0, g_loss = 0, real = 0, fake = 0, penalty = 0, norm = 0, real_sign = 0, vs_fake = 0;
        void add(const StepStats& r) {
            ++n;
            real_sign += r.d.real_sign;
            vs_fake += r.d.real_vs_fake;
            d_loss += r.d.loss;
            g_loss += r.g_loss;
            real += r.d.d_real;
            fake += r.d.d_fake;
            penalty += r.d.penalty;
            norm += r.d.grad_norm;
        }
    };

    void show_progress(const Schedule& s, long total_nimg, double session) {
        if (!world_.is_root() || !isatty(fileno(stderr))) return;
        const double rate = double(st_.cur_nimg - session_nimg_) / std::max(session, 1e-9);
        std::fprintf(stderr, "\r%dx%d  lod %.2f  kimg %.1f/%.1f  %.1f img/s  ETA %s at this rate\033[K", s.resolution, s.resolution,
                     s.lod, double(st_.cur_nimg) / 1000, double(total_nimg) / 1000, rate,
                     pgg::format_duration(double(total_nimg - st_.cur_nimg) / std::max(rate, 1e-9)).c_str());
        std::fflush(stderr);
        progress_shown_ = true;
    }

    void report_tick(const Schedule& s, const Sums& m, double tick_time, double maintenance) {
        if (!world_.is_root()) return;
        const double tick_kimg = double(st_.cur_nimg - st_.tick_start_nimg) / 1000;
        const double n = std::max(m.n, 1.0);
        char line[512];
        std::snprintf(line, sizeof line,
                      "tick %-5d kimg %-8.1f lod %-5.2f minibatch %-4d time %-12s sec/tick %-7.1f sec/kimg %-7.2f maintenance %-6.1f "
                      "D %.4f  G %.4f  real %.4f  fake %.4f  gp %.4f  |grad| %.4f  r_t %.3f  augment p %.3f",
                      st_.cur_tick, double(st_.cur_nimg) / 1000, s.lod, s.minibatch, pgg::format_duration(st_.train_time).c_str(),
                      tick_time, tick_time / std::max(tick_kimg, 1e-9), maintenance, m.d_loss / n, m.g_loss / n, m.real / n,
                      m.fake / n, m.penalty / n, m.norm / n, ada_statistic(m.real_sign, m.vs_fake) / n, st_.augment_p);
        say(line);
        nlohmann::json j = {{"tick", st_.cur_tick},
                            {"kimg", double(st_.cur_nimg) / 1000},
                            {"lod", s.lod},
                            {"resolution", s.resolution},
                            {"minibatch", s.minibatch},
                            {"time", st_.train_time},
                            {"sec_per_kimg", tick_time / std::max(tick_kimg, 1e-9)},
                            {"D_loss", m.d_loss / n},
                            {"G_loss", m.g_loss / n},
                            {"D_real", m.real / n},
                            {"D_fake", m.fake / n},
                            {"penalty", m.penalty / n},
                            {"grad_norm", m.norm / n},
                            {"real_sign", m.real_sign / n},
                            {"real_vs_fake", m.vs_fake / n},
                            {"ada_rt", ada_statistic(m.real_sign, m.vs_fake) / n},
                            {"augment_p", st_.augment_p},
                            {"skipped_D", st_.skipped_d},
                            {"skipped_G", st_.skipped_g}};
        append_line(dir_ + "/metrics.jsonl", j.dump());
        plot_.add(j);
        plot_.write(dir_ + "/losses.png");
    }

    TrainOptions o_;
    pgg::dist::Communicator& world_ = pgg::dist::Communicator::world();
    pgg::dist::Reducer* reduce_ = nullptr; // the gradients' sums over the processes (nullptr: one process)
    TrainConfig cfg_;
    TrainState st_;
    SnapshotInfo info_;
    Stores stores_;
    std::unique_ptr<pgg::io::Dataset> ds_;
    std::unique_ptr<StageBase> stage_;
    int R_ = 4, C_ = 1, gw_ = 4, gh_ = 4, cell_ = 4;
    std::string dir_, log_;
    Tensor<float> grid_z_, reals_, z_d_, z_g_, mixing_;
    StepInputs in_;
    MetricsPlot plot_;
    bool progress_shown_ = false;
    long session_nimg_ = 0;
    std::string snapshot_; // the snapshot this invocation resumed from
};

} // namespace

void add_train_command(CLI::App& app) {
    auto o = std::make_shared<TrainOptions>();
    CLI::App* c = app.add_subcommand("train", "train a PG-GAN on a dataset (see examples/cxr_pggan/configs)");
    c->add_option("--data", o->data, "dataset folder made by `cxr_pggan dataset` (default on resume: the run's)");
    c->add_option("--config", o->config, "a config name in configs/ (demo, rsna-512, official-v2-1gpu) or a JSON file")
        ->capture_default_str();
    c->add_option("--set", o->sets, "override a config value: key=value (repeatable), e.g. --set total_kimg=100 --set minibatch.32=16");
    c->add_option("--total-kimg", o->total_kimg, "train until this many thousand real images (same as --set total_kimg=N)");
    c->add_option("--seed", o->seed, "random seed (same as --set seed=N)");
    c->add_option("--threads", o->threads, "CPU threads (0: all cores)");
    c->add_option("--device", o->device, "where the networks train: cpu, or cuda in a build with the CUDA backend")
        ->capture_default_str()
        ->check(CLI::IsMember({"cpu", "cuda"}));
    c->add_option("--desc", o->desc, "run name after NNN- (default: the config's desc)");
    c->add_option("--results", o->results, "folder of runs")->capture_default_str();
    c->add_option("--resume", o->resume, "continue a run folder (in place) or start a new run from a snapshot file");
    c->callback([o] { Trainer(*o).run(); });
}

} // namespace pggan
