// `cxr_pggan import-official NETWORK.pkl OUT.safetensors`: the official PG-GAN code's trained networks
// (official.hpp) as a cxr_pggan snapshot, for generate, evaluate and the embeddable generator.
#include <cmath>
#include <cstdio>

#include "commands.hpp"
#include "official.hpp"
#include "snapshot.hpp"

namespace pggan {
namespace {

void import_official(const std::string& in, const std::string& out) {
    const official::OfficialNetworks n = official::read_official(in);
    TrainConfig config;
    config.desc = "imported";
    config.fmap_base = int(n.fmap_base), config.fmap_max = int(n.fmap_max), config.latent_size = int(n.latent_size);
    pgg::io::SafetensorsWriter w;
    for (auto& [name, t] : n.G) w.add("G." + name, t);
    for (auto& [name, t] : n.Gs) w.add("Gs." + name, t);
    for (auto& [name, t] : n.D) w.add("D." + name, t);
    w.metadata("format", "pgg-pggan-snapshot");
    w.metadata("config", to_json(config).dump());
    w.metadata("state", state_json(TrainState{}).dump());
    w.metadata("run", nlohmann::json{{"channels", n.channels},
                                     {"dataset_resolution", n.resolution},
                                     {"stage_resolution", n.resolution >> int(std::floor(n.lod))},
                                     {"lod", n.lod},
                                     {"dataset", ""}}
                          .dump());
    w.metadata("imported_from", in);
    w.write(out);
    std::printf("%s: G, D and Gs of %s (%ldx%ld, %ld channel(s), fmap_base %ld, fmap_max %ld, latent %ld, lod %g)\n", out.c_str(),
                in.c_str(), n.resolution, n.resolution, n.channels, n.fmap_base, n.fmap_max, n.latent_size, n.lod);
}

} // namespace

void add_import_command(CLI::App& app) {
    auto in = std::make_shared<std::string>(), out = std::make_shared<std::string>();
    CLI::App* c = app.add_subcommand("import-official", "the official PG-GAN code's network-*.pkl as a snapshot for generate and evaluate");
    c->add_option("network", *in, "network-*.pkl written by the official code: the pickled (G, D, Gs)")->required()->check(CLI::ExistingFile);
    c->add_option("out", *out, "the .safetensors snapshot to write")->required();
    c->callback([in, out] { import_official(*in, *out); });
}

} // namespace pggan
