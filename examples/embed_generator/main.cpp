// embed_generator: what an application needs to make images from a trained cxr_pggan generator, and
// nothing else: one header, a snapshot, a seed. Writes image i of the seed as PNGs.
//
//     embed_generator SNAPSHOT OUT_PREFIX [SEED] [COUNT]
//
// Compiled here for the demo's narrow 1-channel networks at 16x16 and 32x32; an application instantiates
// pggan::ImageGenerator for the resolution, channels and width it trained.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "../cxr_pggan/generator.hpp"

template <int R>
void run(const char* snapshot, const std::string& prefix, std::uint64_t seed, pgg::index_t count) {
    pggan::ImageGenerator<R, 1, pggan::Narrow> gen(snapshot);
    const std::vector<std::uint8_t> pixels = gen.generate(seed, 0, count);
    for (pgg::index_t i = 0; i < count; ++i) {
        pgg::Tensor<std::uint8_t> img({1, 1, R, R});
        std::copy_n(pixels.data() + i * R * R, R * R, img.data());
        char name[32];
        std::snprintf(name, sizeof name, "%06ld.png", long(i));
        pgg::io::write_png(prefix + name, img);
    }
}

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s SNAPSHOT OUT_PREFIX [SEED] [COUNT]\n", argv[0]);
        return 2;
    }
    try {
        pgg::set_flush_denormal(true); // see pgg/backend/cpu/denormal.hpp
        const std::uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1000;
        const pgg::index_t count = argc > 4 ? std::atol(argv[4]) : 4;
        switch (const int r = pggan::snapshot_resolution(argv[1])) {
        case 16: run<16>(argv[1], argv[2], seed, count); break;
        case 32: run<32>(argv[1], argv[2], seed, count); break;
        default: throw pgg::error(std::string(argv[1]) + ": a " + std::to_string(r) + "x" + std::to_string(r) +
                                  " generator; this program is compiled for 16x16 and 32x32");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "embed_generator: %s\n", e.what());
        return 1;
    }
    return 0;
}
