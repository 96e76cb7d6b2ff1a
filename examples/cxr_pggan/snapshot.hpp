#pragma once
// Network snapshots of a run: one safetensors file with every parameter trained so far ("G.", "Gs.",
// "D." + name), the current stage's Adam moments ("adam_G.", "adam_D."), and in its metadata the
// config and the loop's state (kimg, lod, tick, random streams), so that a run resumes exactly.
#include <nlohmann/json.hpp>

#include "config.hpp"
#include "stage.hpp"

namespace pggan {

struct TrainState {
    long cur_nimg = 0, tick_start_nimg = 0;
    int cur_tick = 0;
    double prev_lod = -1;
    double train_time = 0; // seconds, over all invocations (resumes) of the run
    long skipped_d = 0, skipped_g = 0;
    pgg::Generator latents, reals, mixing, augment;
    // Augmentation: the probability p, and ADA's statistic summed over the minibatches of the current
    // adjustment interval (sign sum, samples, minibatches).
    double augment_p = 0, ada_sum = 0;
    long ada_n = 0;
    int ada_steps = 0;
};

inline nlohmann::json state_json(const TrainState& s) {
    auto gen = [](const pgg::Generator& g) { return nlohmann::json{{"seed", g.seed}, {"stream", g.stream}, {"offset", g.offset}}; };
    return {{"cur_nimg", s.cur_nimg},       {"tick_start_nimg", s.tick_start_nimg}, {"cur_tick", s.cur_tick},
            {"prev_lod", s.prev_lod},       {"train_time", s.train_time},           {"skipped_d", s.skipped_d},
            {"skipped_g", s.skipped_g},     {"latents", gen(s.latents)},            {"reals", gen(s.reals)},
            {"mixing", gen(s.mixing)},      {"augment", gen(s.augment)},            {"augment_p", s.augment_p},
            {"ada_sum", s.ada_sum},         {"ada_n", s.ada_n},                     {"ada_steps", s.ada_steps}};
}

inline TrainState state_from_json(const nlohmann::json& j) {
    auto gen = [](const nlohmann::json& g) {
        pgg::Generator r(g.at("seed").get<std::uint64_t>(), g.at("stream").get<std::uint64_t>());
        r.offset = g.at("offset").get<std::uint64_t>();
        return r;
    };
    TrainState s;
    s.cur_nimg = j.at("cur_nimg");
    s.tick_start_nimg = j.at("tick_start_nimg");
    s.cur_tick = j.at("cur_tick");
    s.prev_lod = j.at("prev_lod");
    s.train_time = j.at("train_time");
    s.skipped_d = j.at("skipped_d");
    s.skipped_g = j.at("skipped_g");
    s.latents = gen(j.at("latents"));
    s.reals = gen(j.at("reals"));
    s.mixing = gen(j.at("mixing"));
    if (j.contains("augment")) { // snapshots from before augmentation existed trained without it
        s.augment = gen(j.at("augment"));
        s.augment_p = j.at("augment_p");
        s.ada_sum = j.at("ada_sum");
        s.ada_n = j.at("ada_n");
        s.ada_steps = j.at("ada_steps");
    }
    return s;
}

// What a snapshot says about the networks it holds.
struct SnapshotInfo {
    TrainConfig config;
    TrainState state;
    int channels = 1, dataset_resolution = 4, stage_resolution = 4;
    double lod = 0;
    std::string dataset;
};

inline void write_snapshot(const std::string& path, StageBase& stage, Stores& stores, const SnapshotInfo& info) {
    stage.save(stores);
    pgg::io::SafetensorsWriter w;
    for (auto& [name, t] : stores.G) w.add("G." + name, t);
    for (auto& [name, t] : stores.Gs) w.add("Gs." + name, t);
    for (auto& [name, t] : stores.D) w.add("D." + name, t);
    stage.save_optimizers(w);
    w.metadata("format", "pgg-pggan-snapshot");
    w.metadata("config", to_json(info.config).dump());
    w.metadata("state", state_json(info.state).dump());
    w.metadata("run", nlohmann::json{{"channels", info.channels},
                                     {"dataset_resolution", info.dataset_resolution},
                                     {"stage_resolution", info.stage_resolution},
                                     {"lod", info.lod},
                                     {"dataset", info.dataset}}
                          .dump());
    w.write(path);
}

// Reads a snapshot's metadata and parameter stores (not the optimiser state: see load_optimizers).
inline SnapshotInfo read_snapshot(const pgg::io::SafetensorsFile& f, Stores& stores) {
    SnapshotInfo info;
    try {
        PGG_CHECK(f.metadata().count("format") && f.string_metadata("format") == "pgg-pggan-snapshot", f.path(),
                  ": not a cxr_pggan snapshot (no 'format: pgg-pggan-snapshot' in its metadata)");
        apply_config_json(info.config, nlohmann::json::parse(f.string_metadata("config")), f.path() + " (config)");
        info.state = state_from_json(nlohmann::json::parse(f.string_metadata("state")));
        const auto run = nlohmann::json::parse(f.string_metadata("run"));
        info.channels = run.at("channels");
        info.dataset_resolution = run.at("dataset_resolution");
        info.stage_resolution = run.at("stage_resolution");
        info.lod = run.at("lod");
        info.dataset = run.at("dataset");
    } catch (const nlohmann::json::exception& e) {
        throw pgg::error(f.path() + ": corrupt snapshot metadata: " + e.what());
    }
    for (const auto& [name, t] : f.tensors()) {
        ParamStore* store = name.rfind("G.", 0) == 0 ? &stores.G : name.rfind("Gs.", 0) == 0 ? &stores.Gs
                            : name.rfind("D.", 0) == 0                                   ? &stores.D
                                                                                          : nullptr;
        if (!store) continue;
        const std::string key = name.substr(name.find('.') + 1);
        pgg::Tensor<float> value(pgg::Shape::from_range(t.shape.begin(), t.shape.end()));
        f.copy_to(name, value);
        (*store)[key] = value;
    }
    return info;
}

} // namespace pggan

namespace pggan {

// The networks of a snapshot on `device`, ready to generate at the resolution and fade it was saved at.
inline std::unique_ptr<StageBase> load_stage(const std::string& path, SnapshotInfo& info, const std::string& device = "cpu") {
    const auto f = pgg::io::SafetensorsFile::read(path);
    f.require_checksum();
    Stores stores;
    info = read_snapshot(f, stores);
    auto stage = create_stage(info.config.fmap_base, info.config.fmap_max, info.config.latent_size, info.stage_resolution,
                              info.channels, {}, device);
    pgg::Generator unused(0);
    stage->load(stores, unused);
    stage->set_alpha(info.lod - std::floor(info.lod));
    return stage;
}

} // namespace pggan
