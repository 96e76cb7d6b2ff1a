// Harness: pgg/io/pickle.hpp (the restricted unpickler and numpy arrays) and the official PG-GAN
// snapshot reader built on it (examples/cxr_pggan/official.hpp, `cxr_pggan import-official`). An
// accepted snapshot must hold finite parameters of the shapes pgg's networks give them.
#include <cmath>
#include <unordered_set>

#include "../examples/cxr_pggan/official.hpp"
#include "fuzz_common.hpp"

namespace {
// Every numpy array reachable from the root, once (the memo makes the tree a graph, even a cyclic one).
void read_arrays(const pgg::io::PickleValue& v, std::unordered_set<const pgg::io::PickleValue*>& seen, unsigned& sum) {
    if (!seen.insert(&v).second) return;
    try {
        const pgg::io::PickledArray a = pgg::io::pickled_array(v, "fuzz");
        for (double x : a.values()) sum += unsigned(std::isnan(x));
    } catch (const pgg::error&) {
    }
    for (const pgg::io::PickleValue* item : v.items) read_arrays(*item, seen, sum);
    if (v.state) read_arrays(*v.state, seen, sum);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const auto p = pgg::io::Pickle::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz.pkl");
        unsigned sum = 0;
        std::unordered_set<const pgg::io::PickleValue*> seen;
        read_arrays(p.root(), seen, sum);
        pgg_fuzz::keep(sum);
    } catch (const pgg::error&) {
    }
    try {
        const std::string& path = pgg_fuzz::input_file().write(data, size);
        const auto n = pggan::official::read_official(path);
        const long nf4 = std::min(2 * n.fmap_base / 4, n.fmap_max);
        const auto dense = n.G.find("b4.dense.weight");
        if (dense == n.G.end() || dense->second.shape() != pgg::Shape{nf4 * 16, n.latent_size}) std::abort();
        for (const auto* store : {&n.G, &n.D, &n.Gs})
            for (const auto& [name, t] : *store)
                for (pgg::index_t i = 0; i < t.numel(); ++i)
                    if (!std::isfinite(t.data()[i])) std::abort();
    } catch (const pgg::error&) {
    }
    return 0;
}
