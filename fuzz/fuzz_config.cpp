// Harness: cxr_pggan's config loader (examples/cxr_pggan/config.hpp: load_config, then validate, as
// `cxr_pggan train --config` runs them) on a fuzzed JSON file. An accepted config must survive
// to_json and back unchanged.
#include "../examples/cxr_pggan/config.hpp"

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = pgg_fuzz::input_file().write(data, size);
    try {
        const pggan::TrainConfig c = pggan::load_config(path);
        pggan::validate(c, path);
        pggan::TrainConfig back;
        pggan::apply_config_json(back, pggan::to_json(c), "round trip");
        if (pggan::to_json(back) != pggan::to_json(c)) std::abort();
    } catch (const pgg::error&) {
    }
    return 0;
}
