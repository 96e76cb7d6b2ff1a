#pragma once
// An embeddable PG-GAN generator: loads the averaged generator Gs of a cxr_pggan snapshot and makes
// images, with no training code. An application includes this header (with pgg/pgg.hpp) and names the
// network it trained at compile time:
//
//     pggan::ImageGenerator<512, 1, pggan::Official> gen("network-final.safetensors");
//     std::vector<std::uint8_t> pixels = gen.generate(/*seed*/ 1000, /*first*/ 0, /*count*/ 8);
//
// Image i of seed s is the one `cxr_pggan generate --seed s` writes as fake<i>.png: latents from
// stream i of the seed, pixels round(Gs(z) * 127.5 + 127.5) clipped to [0, 255], planar (C, R, R).
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <pgg/pgg.hpp>

#include "networks.hpp"

namespace pggan {

namespace detail {
inline nlohmann::json snapshot_metadata(const pgg::io::SafetensorsFile& f, const char* key) {
    PGG_CHECK(f.metadata().count("format") && f.string_metadata("format") == "pgg-pggan-snapshot", f.path(),
              ": not a cxr_pggan snapshot");
    try {
        return nlohmann::json::parse(f.string_metadata(key));
    } catch (const nlohmann::json::exception& e) {
        throw pgg::error(f.path() + ": corrupt snapshot metadata: " + e.what());
    }
}
} // namespace detail

// The resolution of the generator a snapshot holds (to pick the ImageGenerator instantiation).
inline int snapshot_resolution(const std::string& snapshot) {
    return detail::snapshot_metadata(pgg::io::SafetensorsFile::read(snapshot).require_checksum(), "run").value("stage_resolution", 0);
}

template <int R, int C, class W = Official>
class ImageGenerator {
public:
    static constexpr int resolution = R, channels = C, latent_size = W::latent_size;

    // Loads Gs from a snapshot trained to R x R (lod 0) with width W; any mismatch is an error naming it.
    explicit ImageGenerator(const std::string& snapshot) {
        const auto f = pgg::io::SafetensorsFile::read(snapshot);
        f.require_checksum();
        const nlohmann::json run = detail::snapshot_metadata(f, "run"), config = detail::snapshot_metadata(f, "config");
        const int stage = run.value("stage_resolution", 0), c = run.value("channels", 0);
        const double lod = run.value("lod", -1.0);
        PGG_CHECK(stage == R && lod == 0.0 && c == C, snapshot, ": holds a ", stage, "x", stage, " generator at lod ", lod, " with ",
                  c, " channel(s); this program is compiled for ", R, "x", R, " at lod 0 with ", C);
        PGG_CHECK(config.value("fmap_base", 0) == W::fmap_base && config.value("fmap_max", 0) == W::fmap_max &&
                      config.value("latent_size", 0) == W::latent_size,
                  snapshot, ": network width ", config.value("fmap_base", 0), "/", config.value("fmap_max", 0), "/",
                  config.value("latent_size", 0), ", this program is compiled for ", W::fmap_base, "/", W::fmap_max, "/",
                  W::latent_size);
        net_.for_each_parameter([&](const std::string& name, pgg::Tensor<float>& value, auto&) { f.copy_to("Gs." + name, value); });
    }

    // Images from latents z (n x latent_size floats) into out (n x C x R x R bytes).
    void generate(const float* z, pgg::index_t n, std::uint8_t* out) {
        pgg::Tensor<float> latents({n, latent_size});
        std::copy_n(z, n * latent_size, latents.data());
        for (pgg::index_t b = 0; b < n; b += batch) {
            const pgg::index_t e = std::min(n, b + batch);
            const pgg::Tensor<std::uint8_t> px = pgg::io::to_uint8(net_.forward(latents.slice(b, e)));
            std::copy_n(px.data(), px.numel(), out + b * C * R * R);
        }
    }

    // Images first .. first + count - 1 of `seed`.
    std::vector<std::uint8_t> generate(std::uint64_t seed, pgg::index_t first, pgg::index_t count) {
        std::vector<float> z(std::size_t(count * latent_size));
        for (pgg::index_t i = 0; i < count; ++i) {
            pgg::Generator g(seed, std::uint64_t(first + i));
            pgg::Tensor<float> zi({1, latent_size});
            pgg::fill_normal(zi, g);
            std::copy_n(zi.data(), latent_size, z.data() + i * latent_size);
        }
        std::vector<std::uint8_t> out(std::size_t(count * C * R * R));
        generate(z.data(), count, out.data());
        return out;
    }

private:
    static constexpr pgg::index_t batch = std::max(1, 16 * 256 * 256 / (R * R));
    pgg::nn::Net<G<R, C, W>> net_;
};

} // namespace pggan
