#pragma once
// Training configuration (a JSON file in configs/, any key overridable with --set key=value) and the
// PG-GAN schedule it defines: level of detail, resolution, minibatch and learning rates from the
// number of real images shown so far.
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>

#include <pgg/core/error.hpp> // pgg::error and PGG_CHECK only: fuzz/ compiles this with clang 14, which pgg/pgg.hpp's nn headers are too new for

namespace pggan {

struct TrainConfig {
    std::string desc = "pggan";
    // schedule (kimg = thousands of real images shown to D)
    double total_kimg = 15000, lod_training_kimg = 600, lod_transition_kimg = 600;
    int lod_initial_resolution = 4;
    int minibatch_base = 4;
    std::map<int, int> minibatch;
    double G_lrate_base = 0.001, D_lrate_base = 0.001;
    std::map<int, double> G_lrate, D_lrate;
    int max_minibatch_per_device_base = 0; // 0: no limit
    std::map<int, int> max_minibatch_per_device;
    double tick_kimg_base = 160;
    std::map<int, double> tick_kimg = {{4, 160}, {8, 140}, {16, 120}, {32, 100}, {64, 80}, {128, 60}, {256, 40}, {512, 20}, {1024, 10}};
    int minibatch_repeats = 4;
    int network_snapshot_ticks = 10, image_snapshot_ticks = 1;
    // networks
    int fmap_base = 8192, fmap_max = 512, latent_size = 512;
    // loss and optimiser
    double wgan_lambda = 10, wgan_drift = 0.001;
    double adam_beta1 = 0, adam_beta2 = 0.99, adam_epsilon = 1e-8;
    bool reset_opt_for_new_lod = true;
    double G_smoothing = 0.999;
    // augmentation of everything D sees (docs/cxr_pggan.md, "Training on small data sets"): none, ada
    // (p adapted to ADA's statistic), fixed (p = augment_p) or diffaugment (DiffAugment's policy, always on)
    std::string augment = "none";
    double augment_p = 0;                // fixed p, or ADA's initial p
    // ADA's overfitting statistic r_t, a mean of signs over a minibatch: real_vs_fake, of D(real_n) -
    // D(fake_n); real_sign, of D(real) (ADA's, for logits: a WGAN critic's scores have no fixed zero)
    std::string ada_statistic = "real_vs_fake";
    double ada_target = 0.6, ada_kimg = 500;
    int ada_interval = 4;                // minibatches between adjustments of p
    bool augment_xflip = false, augment_rotate90 = false;
    double augment_translate = 0.125, augment_scale = 0.2, augment_rotate = 10, augment_aniso = 0.2,
           augment_translate_frac = 0.125, augment_brightness = 0.2, augment_contrast = 0.5, augment_noise = 0.1,
           augment_cutout = 0.5;
    // run
    std::uint64_t seed = 1000;
    int threads = 0; // 0: all cores
    int grid_width = 0, grid_height = 0; // 0: chosen from the resolution
};

#define PGGAN_CONFIG_FIELDS(X)                                                                                    \
    X(desc) X(total_kimg) X(lod_training_kimg) X(lod_transition_kimg) X(lod_initial_resolution) X(minibatch_base)      \
    X(minibatch) X(G_lrate_base) X(D_lrate_base) X(G_lrate) X(D_lrate) X(max_minibatch_per_device_base)               \
    X(max_minibatch_per_device) X(tick_kimg_base) X(tick_kimg) X(minibatch_repeats) X(network_snapshot_ticks)        \
    X(image_snapshot_ticks) X(fmap_base) X(fmap_max) X(latent_size) X(wgan_lambda) X(wgan_drift) X(adam_beta1)        \
    X(adam_beta2) X(adam_epsilon) X(reset_opt_for_new_lod) X(G_smoothing) X(augment) X(augment_p) X(ada_statistic)   \
    X(ada_target) X(ada_kimg) X(ada_interval) X(augment_xflip) X(augment_rotate90) X(augment_translate) X(augment_scale)            \
    X(augment_rotate) X(augment_aniso) X(augment_translate_frac) X(augment_brightness) X(augment_contrast)           \
    X(augment_noise) X(augment_cutout) X(seed) X(threads) X(grid_width) X(grid_height)

namespace detail {
// A value as JSON text for an error message. --set makes strings of raw command-line bytes, and dump()
// throws on invalid UTF-8, so it is replaced (U+FFFD) here.
inline std::string json_text(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
// Per-resolution tables are JSON objects keyed by resolution: {"512": 0.0015}.
template <class V>
nlohmann::json to_config_json(const V& v) {
    return v;
}
template <class V>
nlohmann::json to_config_json(const std::map<int, V>& m) {
    nlohmann::json j = nlohmann::json::object();
    for (auto& [r, v] : m) j[std::to_string(r)] = v;
    return j;
}
template <class V>
void from_config_json(const nlohmann::json& j, V& out) {
    if constexpr (std::is_integral_v<V> && !std::is_same_v<V, bool>) {
        // range-checked first: nlohmann converts 1e300 to an int with undefined behaviour, 4294967297 to 1
        // and -1 to 2^64 - 1; numbers with a fraction were cut silently (2.5 -> 2)
        using L = std::numeric_limits<V>;
        bool fits = false;
        if (j.is_number_unsigned()) fits = j.get<std::uint64_t>() <= std::uint64_t(L::max());
        else if (j.is_number_integer()) fits = std::is_signed_v<V> && j.get<std::int64_t>() >= std::int64_t(L::min()) && j.get<std::int64_t>() <= std::int64_t(L::max());
        else if (j.is_number_float()) {
            const double d = j.get<double>();
            fits = std::trunc(d) == d && d >= double(L::min()) && d < std::ldexp(1.0, L::digits);
        }
        PGG_CHECK(fits, "an integer in [", +L::min(), ", ", +L::max(), "] is expected, not ", json_text(j));
        out = j.is_number_float() ? V(j.get<double>()) : j.get<V>();
    } else {
        out = j.get<V>();
    }
}
template <class V>
void from_config_json(const nlohmann::json& j, std::map<int, V>& out) {
    PGG_CHECK(j.is_object(), "an object of resolution: value is expected, e.g. {\"512\": 4}, not ", json_text(j));
    out.clear();
    for (auto& [k, v] : j.items()) {
        int r = 0;
        try {
            r = std::stoi(k);
        } catch (const std::exception&) {
        }
        PGG_CHECK(r >= 4 && (r & (r - 1)) == 0, "key '", k, "' is not a resolution (a power of two >= 4)");
        from_config_json(v, out[r]);
    }
}
inline bool is_power_of_two(long v) { return v >= 4 && (v & (v - 1)) == 0; }
} // namespace detail

inline nlohmann::json to_json(const TrainConfig& c) {
    nlohmann::json j;
#define PGGAN_WRITE(f) j[#f] = detail::to_config_json(c.f);
    PGGAN_CONFIG_FIELDS(PGGAN_WRITE)
#undef PGGAN_WRITE
    return j;
}

// Checks the values; throws naming the first bad one.
inline void validate(const TrainConfig& c, const std::string& source) {
    auto require = [&](bool ok, const std::string& what) {
        if (!ok) throw pgg::error(source + ": " + what);
    };
    require(c.total_kimg > 0, "total_kimg must be positive");
    require(c.lod_training_kimg >= 0 && c.lod_transition_kimg >= 0, "lod_training_kimg and lod_transition_kimg must be >= 0");
    require(detail::is_power_of_two(c.lod_initial_resolution), "lod_initial_resolution must be a power of two >= 4");
    require(c.minibatch_base > 0, "minibatch_base must be positive");
    for (auto& [r, v] : c.minibatch) require(v > 0, "minibatch at " + std::to_string(r) + " must be positive");
    require(c.G_lrate_base > 0 && c.D_lrate_base > 0, "learning rates must be positive");
    for (auto& [r, v] : c.G_lrate) require(v > 0, "G_lrate at " + std::to_string(r) + " must be positive");
    for (auto& [r, v] : c.D_lrate) require(v > 0, "D_lrate at " + std::to_string(r) + " must be positive");
    require(c.max_minibatch_per_device_base >= 0, "max_minibatch_per_device_base must be >= 0 (0: no limit)");
    for (auto& [r, v] : c.max_minibatch_per_device) require(v > 0, "max_minibatch_per_device at " + std::to_string(r) + " must be positive");
    require(c.tick_kimg_base > 0, "tick_kimg_base must be positive");
    for (auto& [r, v] : c.tick_kimg) require(v > 0, "tick_kimg at " + std::to_string(r) + " must be positive");
    require(c.minibatch_repeats >= 1, "minibatch_repeats must be >= 1");
    require(c.network_snapshot_ticks >= 1 && c.image_snapshot_ticks >= 1, "snapshot intervals must be >= 1 tick");
    require(c.fmap_base > 0 && c.fmap_max > 0 && c.latent_size > 0, "fmap_base, fmap_max and latent_size must be positive");
    require(c.wgan_lambda >= 0 && c.wgan_drift >= 0, "wgan_lambda and wgan_drift must be >= 0");
    require(c.adam_beta1 >= 0 && c.adam_beta1 < 1 && c.adam_beta2 >= 0 && c.adam_beta2 < 1 && c.adam_epsilon > 0,
            "Adam needs 0 <= beta < 1 and epsilon > 0");
    require(c.G_smoothing >= 0 && c.G_smoothing < 1, "G_smoothing must be in [0, 1)");
    require(c.augment == "none" || c.augment == "ada" || c.augment == "fixed" || c.augment == "diffaugment",
            "augment must be none, ada, fixed or diffaugment, not '" + c.augment + "'");
    require(c.augment_p >= 0 && c.augment_p <= 1, "augment_p must be in [0, 1]");
    require(c.ada_statistic == "real_vs_fake" || c.ada_statistic == "real_sign",
            "ada_statistic must be real_vs_fake or real_sign, not '" + c.ada_statistic + "'");
    require(c.ada_target > -1 && c.ada_target < 1, "ada_target must be in (-1, 1)");
    require(c.ada_kimg > 0 && c.ada_interval >= 1, "ada_kimg must be positive and ada_interval >= 1");
    for (double v : {c.augment_translate, c.augment_scale, c.augment_rotate, c.augment_aniso, c.augment_translate_frac,
                     c.augment_brightness, c.augment_contrast, c.augment_noise, c.augment_cutout})
        require(v >= 0 && std::isfinite(v), "augmentation strengths (augment_translate ... augment_cutout) must be finite and >= 0");
    require(c.augment_cutout <= 1 && c.augment_translate <= 1, "augment_cutout and augment_translate are fractions of the size, at most 1");
    require(c.threads >= 0 && c.grid_width >= 0 && c.grid_height >= 0, "threads and grid sizes must be >= 0");
}

// Applies a JSON object's keys onto `c`; unknown keys and wrong types are errors naming the key.
inline void apply_config_json(TrainConfig& c, const nlohmann::json& j, const std::string& source) {
    PGG_CHECK(j.is_object(), source, ": a JSON object is expected");
    const nlohmann::json known = to_json(c);
    for (auto& [key, value] : j.items()) {
        if (key.rfind("_", 0) == 0) continue; // "_comment" and the like
        if (!known.contains(key)) {
            std::string names;
            for (auto& [k, v] : known.items()) names += " " + k;
            throw pgg::error(source + ": unknown option '" + key + "'; the options are:" + names);
        }
        try {
#define PGGAN_READ(f) \
    if (key == #f) detail::from_config_json(value, c.f);
            PGGAN_CONFIG_FIELDS(PGGAN_READ)
#undef PGGAN_READ
        } catch (const nlohmann::json::exception& e) {
            throw pgg::error(source + ": option '" + key + "' = " + detail::json_text(value) + ": wrong type (" + e.what() + ")");
        } catch (const pgg::error& e) {
            throw pgg::error(source + ": option '" + key + "': " + e.what());
        }
    }
}

inline TrainConfig load_config(const std::string& path) {
    std::ifstream in(path);
    PGG_CHECK(in, path, ": cannot open");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw pgg::error(path + ": not valid JSON: " + e.what());
    }
    TrainConfig c;
    apply_config_json(c, j, path);
    return c;
}

// --set key=value: value is JSON where it parses ("16", "0.002", "true"), else a string; key may name an
// entry of a per-resolution table ("minibatch.512=8").
inline void apply_override(TrainConfig& c, const std::string& kv) {
    const auto eq = kv.find('=');
    PGG_CHECK(eq != std::string::npos && eq > 0, "--set '", kv, "': expected key=value");
    const std::string key = kv.substr(0, eq), text = kv.substr(eq + 1);
    nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
    if (value.is_discarded()) value = text;
    nlohmann::json patch;
    const auto dot = key.find('.');
    if (dot == std::string::npos) {
        patch[key] = value;
    } else {
        nlohmann::json table = to_json(c).value(key.substr(0, dot), nlohmann::json());
        PGG_CHECK(table.is_object(), "--set '", kv, "': '", key.substr(0, dot), "' is not a per-resolution table");
        table[key.substr(dot + 1)] = value;
        patch[key.substr(0, dot)] = table;
    }
    apply_config_json(c, patch, "--set " + kv);
}

// Where training stands after `nimg` real images: PG-GAN's TrainingSchedule.
struct Schedule {
    double kimg = 0;
    double lod = 0;       // 0 at full resolution
    int resolution = 4;   // the resolution networks run at: 2^(log2 R - floor(lod))
    int minibatch = 0;
    int max_per_device = 0; // 0: no limit
    double G_lrate = 0, D_lrate = 0, tick_kimg = 0;
};

inline Schedule schedule_at(const TrainConfig& c, int dataset_resolution, long nimg) {
    Schedule s;
    s.kimg = double(nimg) / 1000.0;
    const double phase_dur = c.lod_training_kimg + c.lod_transition_kimg;
    const double phase = phase_dur > 0 ? std::floor(s.kimg / phase_dur) : 0.0;
    const double phase_kimg = s.kimg - phase * phase_dur;
    const int res_log2 = int(std::lround(std::log2(dataset_resolution)));
    double lod = res_log2 - int(std::lround(std::log2(c.lod_initial_resolution))) - phase;
    if (c.lod_transition_kimg > 0) lod -= std::max(phase_kimg - c.lod_training_kimg, 0.0) / c.lod_transition_kimg;
    s.lod = std::max(lod, 0.0);
    s.resolution = 1 << (res_log2 - int(std::floor(s.lod)));
    auto get = [&](const auto& table, auto base) {
        auto it = table.find(s.resolution);
        return it == table.end() ? base : it->second;
    };
    s.minibatch = get(c.minibatch, c.minibatch_base);
    s.max_per_device = get(c.max_minibatch_per_device, c.max_minibatch_per_device_base);
    s.G_lrate = get(c.G_lrate, c.G_lrate_base);
    s.D_lrate = get(c.D_lrate, c.D_lrate_base);
    s.tick_kimg = get(c.tick_kimg, c.tick_kimg_base);
    return s;
}

} // namespace pggan
