#pragma once
// losses.png of a run: the per-tick metrics (metrics.jsonl) drawn as five panels against kimg.
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include <pgg/pgg.hpp>

namespace pggan {

class MetricsPlot {
public:
    bool empty() const { return kimg_.empty(); }

    // Reads the ticks a run has logged so far (a resumed run continues its curves).
    void load(const std::string& jsonl) {
        std::ifstream in(jsonl);
        std::string line;
        while (std::getline(in, line)) {
            const auto j = nlohmann::json::parse(line, nullptr, false);
            if (!j.is_discarded() && j.is_object()) add(j);
        }
    }
    void add(const nlohmann::json& tick) {
        kimg_.push_back(tick.value("kimg", 0.0));
        for (const char* k : {"D_loss", "G_loss", "D_real", "D_fake", "grad_norm", "lod", "ada_rt", "augment_p"}) values_[k].push_back(tick.value(k, NAN));
    }
    void write(const std::string& path) const {
        using pgg::plot::Panel;
        auto s = [&](const char* key, const char* name, pgg::plot::Color c) {
            return pgg::plot::Series{name, c, kimg_, values_.count(key) ? values_.at(key) : std::vector<double>()};
        };
        const pgg::plot::Color blue{31, 119, 180}, orange{230, 120, 20}, green{44, 160, 44}, red{214, 39, 40}, gray{90, 90, 90},
            purple{148, 103, 189};
        std::vector<Panel> panels = {
            {.title = "Losses", .series = {s("D_loss", "D", blue), s("G_loss", "G", orange)}, .xlabel = "kimg", .ylabel = "loss"},
            {.title = "D scores (batch means)", .series = {s("D_real", "real", green), s("D_fake", "fake", red)}, .xlabel = "kimg",
             .ylabel = "D(x)"},
            {.title = "Gradient norm at the mixed images (target 1)", .series = {s("grad_norm", "|grad D| / norm scale", blue)},
             .xlabel = "kimg", .ylabel = "norm"},
            {.title = "Level of detail (0: full resolution)", .series = {s("lod", "lod", gray)}, .xlabel = "kimg", .ylabel = "lod"},
            {.title = "Augmentation of D's inputs",
             .series = {s("augment_p", "probability p", purple), s("ada_rt", "ADA's r_t", green)},
             .xlabel = "kimg",
             .ylabel = "p, r_t"},
        };
        pgg::io::write_png(path, pgg::plot::render(panels));
    }

private:
    std::vector<double> kimg_;
    std::map<std::string, std::vector<double>> values_;
};

} // namespace pggan
