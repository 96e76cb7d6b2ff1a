// Harness: cxr_pggan's `--set key=value` overrides (examples/cxr_pggan/config.hpp: apply_override),
// one per input line, applied in order onto the default config as `cxr_pggan train --set ...` does;
// a rejected override is reported and the next one applied. Then validate, and to_json and back.
#include "../examples/cxr_pggan/config.hpp"

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = pgg_fuzz::as_text(data, size);
    pggan::TrainConfig c;
    for (std::size_t at = 0; at <= text.size();) {
        const std::size_t end = std::min(text.find('\n', at), text.size());
        try {
            pggan::apply_override(c, std::string(text.substr(at, end - at)));
        } catch (const pgg::error&) {
        }
        at = end + 1;
    }
    try {
        pggan::validate(c, "--set");
    } catch (const pgg::error&) {
    }
    pggan::TrainConfig back;
    try {
        pggan::apply_config_json(back, pggan::to_json(c), "round trip");
    } catch (const pgg::error&) {
        std::abort(); // what the overrides made must read back
    }
    if (pggan::to_json(back) != pggan::to_json(c)) std::abort();
    return 0;
}
