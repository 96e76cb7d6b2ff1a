// Harness: the CSV reader of `cxr_pggan split` (examples/common/csv.hpp: pgg::app::Csv) on a fuzzed
// file, then the column look-ups split.cpp makes for its --csv file and RSNA's two CSVs, and every field
// of every row through them.
#include "../examples/common/csv.hpp"

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = pgg_fuzz::input_file().write(data, size);
    try {
        const pgg::app::Csv csv(path);
        if (csv.rows.size() != csv.lines.size() || csv.header.empty()) std::abort();
        for (std::size_t r = 0; r < csv.rows.size(); ++r)
            if (csv.rows[r].size() != csv.header.size() || csv.lines[r] < 2 || (r && csv.lines[r] <= csv.lines[r - 1])) std::abort();
        std::size_t total = 0;
        for (const char* name : {"file", "label", "patientId", "class", "Target", "x", "y", "width", "height"}) {
            try {
                const std::size_t c = csv.column(name);
                if (c >= csv.header.size() || csv.header[c] != name) std::abort();
                for (const auto& row : csv.rows) total += row[c].size();
            } catch (const pgg::error&) {
            }
        }
        pgg_fuzz::keep(total);
    } catch (const pgg::error&) {
    }
    return 0;
}
