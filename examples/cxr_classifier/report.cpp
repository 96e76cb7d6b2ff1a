// `cxr_classifier report --study DIR`: the augmentation study's result from the folders that
// scripts/augmentation_study.sh fills (docs/augmentation_study.md):
//
//   classifier/<regime>/seed-<k>/evaluation/{metrics.json,predictions.csv}   one per regime and seed (required)
//   quality/<class>-frechet.json, <class>-frechet-floor.json, <class>-swd.csv (optional)
//   crops/, split/train/<class>.txt, synthetic/<class>/                       (optional: sample grids)
//   study.json, timings.csv                                                   (optional: settings, stage times)
//
// It writes DIR/report/ (whole or not at all): report.md, report.json, roc.png (the seed-averaged ROC
// curve of each regime), auc.png (AUC per regime with intervals and seeds) and samples-<class>.png.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "predictions.hpp"

namespace cxr_classifier {
namespace {

using nlohmann::json;

struct ReportOptions {
    std::string study;
    int resamples = 2000;
    std::uint64_t seed = 1;
};

const std::vector<std::string> regime_order = {"none", "traditional", "gan", "traditional+gan"};
const std::vector<std::string> metric_names = {"auc", "balanced_accuracy", "sensitivity", "specificity", "accuracy", "precision", "f1"};
const pgg::plot::Color regime_colors[] = {{90, 90, 90}, {31, 119, 180}, {214, 39, 40}, {148, 103, 189}};

struct Regime {
    std::string name;
    std::vector<std::string> seeds; // seed-<k> folder names
    std::vector<json> metrics;      // per seed
    std::vector<Predictions> predictions;
    Predictions mean; // probabilities averaged over the seeds, in the first regime's file order
};

json read_json(const std::string& path) {
    std::ifstream in(path);
    PGG_CHECK(in, path, ": cannot open");
    try {
        return json::parse(in);
    } catch (const json::exception& e) {
        throw pgg::error(path + ": not valid JSON: " + e.what());
    }
}

// Every regime's seeds, their predictions in the file order of the first run read (so that all are paired).
std::vector<Regime> read_regimes(const fs::path& root) {
    PGG_CHECK(fs::is_directory(root), root.string(), ": no classifier runs (expected <regime>/seed-<k>/evaluation/)");
    std::vector<Regime> out;
    for (const auto& name : regime_order) {
        const fs::path dir = root / name;
        if (!fs::is_directory(dir)) continue;
        Regime r;
        r.name = name;
        for (const auto& e : fs::directory_iterator(dir))
            if (e.is_directory() && e.path().filename().string().rfind("seed-", 0) == 0) r.seeds.push_back(e.path().filename().string());
        std::sort(r.seeds.begin(), r.seeds.end());
        PGG_CHECK(!r.seeds.empty(), dir.string(), ": no seed-<k> runs");
        for (const auto& s : r.seeds) {
            const fs::path ev = dir / s / "evaluation";
            PGG_CHECK(fs::is_regular_file(ev / "metrics.json") && fs::is_regular_file(ev / "predictions.csv"), ev.string(),
                      ": no metrics.json and predictions.csv (run `cxr_classifier evaluate --out` there)");
            r.metrics.push_back(read_json((ev / "metrics.json").string()));
            for (const auto& m : metric_names)
                PGG_CHECK(r.metrics.back().contains(m) && r.metrics.back()[m].is_number(), (ev / "metrics.json").string(), ": no number '", m,
                          "' (not written by cxr_classifier evaluate?)");
            Predictions p = read_predictions((ev / "predictions.csv").string());
            const Predictions* first = !out.empty() ? &out[0].predictions[0] : !r.predictions.empty() ? &r.predictions[0] : nullptr;
            r.predictions.push_back(first ? align(*first, p) : std::move(p));
        }
        r.mean = r.predictions[0];
        r.mean.path = (dir / "seed-*").string();
        for (std::size_t i = 0; i < r.mean.files.size(); ++i) {
            double s = 0;
            for (const auto& p : r.predictions) s += p.probability[i];
            r.mean.probability[i] = s / double(r.predictions.size());
        }
        out.push_back(std::move(r));
    }
    PGG_CHECK(!out.empty(), root.string(), ": none of the regimes none, traditional, gan, traditional+gan has runs");
    return out;
}

// Real training crops (top two rows) above synthetic images (bottom two rows) of one class, at the
// synthetic images' side.
Tensor<std::uint8_t> samples_grid(const std::vector<std::string>& reals, const std::vector<std::string>& fakes, index_t per_row) {
    const index_t side = pgg::app::read_any_picture(fakes.at(0), 1).h(), n = 2 * per_row;
    Tensor<std::uint8_t> batch({2 * n, 1, side, side});
    auto put = [&](const std::string& path, index_t slot) {
        const Tensor<float> x = pgg::app::to_unit_gray(pgg::app::read_any_picture(path, 1), side);
        for (index_t p = 0; p < side * side; ++p) batch.data()[slot * side * side + p] = std::uint8_t(std::lround(255.0f * x.data()[p]));
    };
    for (index_t i = 0; i < n; ++i) {
        put(reals[std::size_t(i) % reals.size()], i);
        put(fakes[std::size_t(i) % fakes.size()], n + i);
    }
    return pgg::io::make_grid(batch, per_row, 2, 255);
}

std::string fixed(double v, int digits = 3) {
    char b[32];
    std::snprintf(b, sizeof b, "%.*f", digits, v);
    return b;
}
std::string p_value(double p) {
    char b[32];
    std::snprintf(b, sizeof b, p < 0.001 ? "%.1e" : "%.3f", p);
    return b;
}

void report(const ReportOptions& o) {
    const fs::path dir(o.study);
    const std::vector<Regime> regimes = read_regimes(dir / "classifier");
    const Predictions& ref = regimes[0].predictions[0];
    const long positives = long(std::count(ref.labels.begin(), ref.labels.end(), 1)), n = long(ref.files.size());

    json out;
    out["test_images"] = {{"total", n}, {"abnormal", positives}, {"normal", n - positives}};
    if (fs::is_regular_file(dir / "study.json")) out["study"] = read_json((dir / "study.json").string());

    std::ostringstream md;
    md << "# Augmentation study: " << (out.contains("study") ? out["study"].value("preset", std::string("?")) : std::string("?"))
       << " preset\n\nTest split: " << n << " images (" << positives << " abnormal, " << n - positives
       << " normal), never used for training, model selection or the threshold. Each regime was trained with "
       << regimes[0].seeds.size() << " seeds.\n\n## Classification on the test split\n\n"
       << "| regime | seeds | ROC AUC, mean ± sd | AUC of the seed-mean probability (95% CI) | balanced accuracy | sensitivity | specificity | F1 |\n"
       << "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    std::vector<pgg::plot::Bar> bars;
    std::vector<pgg::plot::Series> curves;
    double lowest = 1;
    for (std::size_t k = 0; k < regimes.size(); ++k) {
        const Regime& r = regimes[k];
        json j = {{"seeds", r.seeds}};
        std::map<std::string, std::pair<double, double>> stats;
        for (const auto& m : metric_names) {
            std::vector<double> v;
            for (const auto& s : r.metrics) v.push_back(s.at(m).get<double>());
            stats[m] = {pgg::metrics::mean_of(v), pgg::metrics::sd_of(v)};
            j[m] = {{"mean", pgg::metrics::mean_of(v)}, {"sd", pgg::metrics::sd_of(v)}, {"per_seed", v}};
        }
        j["auc_95ci_per_seed"] = json::array();
        for (const auto& s : r.metrics) j["auc_95ci_per_seed"].push_back(s.at("auc_95ci"));
        const auto ens = pgg::metrics::roc_auc_bootstrap(r.mean.probability, r.mean.labels, o.seed, o.resamples);
        j["seed_mean_auc"] = {{"auc", ens.estimate}, {"95ci", {ens.lower, ens.upper}}, {"bootstrap", {{"resamples", o.resamples}, {"seed", o.seed}}}};
        out["regimes"][r.name] = j;
        auto pm = [&](const std::string& m) { return fixed(stats[m].first) + " ± " + fixed(stats[m].second); };
        md << "| " << r.name << " | " << r.seeds.size() << " | " << pm("auc") << " | " << fixed(ens.estimate) << " (" << fixed(ens.lower)
           << "–" << fixed(ens.upper) << ") | " << pm("balanced_accuracy") << " | " << pm("sensitivity") << " | " << pm("specificity")
           << " | " << pm("f1") << " |\n";
        const auto color = regime_colors[std::find(regime_order.begin(), regime_order.end(), r.name) - regime_order.begin()];
        pgg::plot::Bar b{r.name, color, ens.estimate, ens.lower, ens.upper, j["auc"]["per_seed"].get<std::vector<double>>()};
        lowest = std::min({lowest, b.lower, *std::min_element(b.points.begin(), b.points.end())});
        bars.push_back(b);
        const auto roc = pgg::metrics::roc_curve(r.mean.probability, r.mean.labels);
        curves.push_back({r.name, color, roc.fpr, roc.tpr});
    }
    md << "\nThe bars of `auc.png` are the AUC of the seed-mean probability with its 95% stratified bootstrap interval ("
       << o.resamples << " resamples); the dots are the seeds. `roc.png` overlays the seed-mean ROC curves.\n\n";

    // Paired comparisons on the same test images: each regime against none, and GAN against traditional.
    md << "## Paired comparisons (DeLong's test on the same test images)\n\n"
       << "| comparison | ΔAUC of the seed-mean probability | 95% interval | p | per seed: ΔAUC (p) |\n| --- | ---: | ---: | ---: | --- |\n";
    auto find = [&](const std::string& name) -> const Regime* {
        for (const auto& r : regimes)
            if (r.name == name) return &r;
        return nullptr;
    };
    const std::pair<const char*, const char*> pairs[] = {
        {"traditional", "none"}, {"gan", "none"}, {"traditional+gan", "none"}, {"gan", "traditional"}, {"traditional+gan", "traditional"}};
    out["comparisons"] = json::array();
    for (const auto& [a_name, b_name] : pairs) {
        const Regime *a = find(a_name), *b = find(b_name);
        if (!a || !b) continue;
        const auto t = pgg::metrics::delong_test(a->mean.probability, b->mean.probability, ref.labels);
        json c = {{"a", a_name}, {"b", b_name}, {"difference", t.difference}, {"interval", {t.lower, t.upper}}, {"z", t.z}, {"p", t.p}};
        std::string per_seed;
        c["per_seed"] = json::array();
        for (std::size_t s = 0; s < a->seeds.size(); ++s) { // the seeds both regimes have
            const auto other = std::find(b->seeds.begin(), b->seeds.end(), a->seeds[s]);
            if (other == b->seeds.end()) continue;
            const auto ts = pgg::metrics::delong_test(a->predictions[s].probability,
                                                      b->predictions[std::size_t(other - b->seeds.begin())].probability, ref.labels);
            c["per_seed"].push_back({{"seed", a->seeds[s]}, {"difference", ts.difference}, {"p", ts.p}});
            per_seed += (per_seed.empty() ? "" : ", ") + fixed(ts.difference) + " (" + p_value(ts.p) + ")";
        }
        out["comparisons"].push_back(c);
        md << "| " << a_name << " − " << b_name << " | " << fixed(t.difference) << " | " << fixed(t.lower) << " to " << fixed(t.upper)
           << " | " << p_value(t.p) << " | " << per_seed << " |\n";
    }
    md << "\nSeed k of one regime is compared with seed k of the other; p is two-sided, not corrected for the "
       << out["comparisons"].size() << " comparisons.\n\n";

    // Image quality of the synthetic images, per class.
    bool quality_header = false;
    for (const char* cls : class_names) {
        const fs::path q = dir / "quality";
        const fs::path fd = q / (std::string(cls) + "-frechet.json"), floor = q / (std::string(cls) + "-frechet-floor.json"),
                       swd = q / (std::string(cls) + "-swd.csv");
        if (!fs::is_regular_file(fd)) continue;
        if (!quality_header) {
            md << "## Synthetic image quality\n\n"
               << "| class | Fréchet distance, synthetic vs real training images | floor: real test vs real training images | "
                  "SWD ×10³, synthetic | SWD ×10³, reals vs reals | MS-SSIM, synthetic | MS-SSIM, reals |\n"
               << "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
            quality_header = true;
        }
        json qj = {{"frechet", read_json(fd.string())}};
        md << "| " << cls << " | " << fixed(qj["frechet"]["frechet_distance"].get<double>(), 2) << " (" << qj["frechet"]["fakes"]["count"]
           << " vs " << qj["frechet"]["reals"]["count"] << ") | ";
        if (fs::is_regular_file(floor)) {
            qj["frechet_floor"] = read_json(floor.string());
            md << fixed(qj["frechet_floor"]["frechet_distance"].get<double>(), 2) << " (" << qj["frechet_floor"]["fakes"]["count"] << " vs "
               << qj["frechet_floor"]["reals"]["count"] << ")";
        }
        md << " | ";
        std::string cells[4];
        if (fs::is_regular_file(swd)) { // cxr_pggan evaluate --images: the reals row, then the generated row
            pgg::app::Csv csv(swd.string());
            PGG_CHECK(csv.rows.size() == 2, swd.string(), ": expected a reals row and a generated row, got ", csv.rows.size(), " rows");
            const auto cell = [&](std::size_t row, const char* column) {
                const std::string& v = csv.rows[row][csv.column(column)];
                try {
                    return std::stod(v);
                } catch (const std::exception&) {
                    throw pgg::error(swd.string() + ":" + std::to_string(csv.lines[row]) + ": " + column + " '" + v + "' is not a number");
                }
            };
            for (std::size_t row = 0; row < 2; ++row)
                qj["swd"][row ? "synthetic" : "reals"] = {
                    {"swd_avg_x1e3", cell(row, "swd_avg_x1e3")}, {"ms_ssim", cell(row, "ms_ssim")}, {"count", long(cell(row, "count"))}};
            cells[0] = fixed(cell(1, "swd_avg_x1e3"), 1), cells[1] = fixed(cell(0, "swd_avg_x1e3"), 1);
            cells[2] = fixed(cell(1, "ms_ssim"), 3), cells[3] = fixed(cell(0, "ms_ssim"), 3);
        }
        md << cells[0] << " | " << cells[1] << " | " << cells[2] << " | " << cells[3] << " |\n";
        out["quality"][cls] = qj;
    }
    if (quality_header)
        md << "\nThe Fréchet distance is FID's formula on the penultimate features of the first `none` classifier (the "
              "CXR network stands in for Inception); the floor is what two sets of real images of the class score, so "
              "values near it mean synthetic images the classifier cannot tell from real ones. SWD and MS-SSIM as "
              "`cxr_pggan evaluate` computes them (MS-SSIM of random pairs: diversity, lower is more diverse).\n\n";

    // Pictures: sample grids of every class with synthetic images.
    std::vector<std::pair<std::string, Tensor<std::uint8_t>>> grids;
    for (const char* cls : class_names) {
        const fs::path list = dir / "split" / "train" / (std::string(cls) + ".txt"), synth = dir / "synthetic" / cls;
        if (!fs::is_regular_file(list) || !fs::is_directory(synth)) continue;
        const auto reals = pgg::app::find_inputs((dir / "crops").string(), list.string(), pgg::app::picture_extensions);
        const auto fakes = pgg::app::find_inputs(synth.string(), "", pgg::app::picture_extensions);
        if (reals.empty() || fakes.empty()) continue;
        grids.emplace_back(cls, samples_grid(reals, fakes, 8));
    }
    if (!grids.empty()) {
        md << "## Samples\n\n";
        for (const auto& [cls, g] : grids)
            md << "`samples-" << cls << ".png`: " << cls << ", real training crops (top two rows) and synthetic images (bottom two rows).\n\n";
    }
    if (fs::is_regular_file(dir / "timings.csv")) { // one row per stage run (a resumed stage has several): summed by stage
        pgg::app::Csv t((dir / "timings.csv").string());
        const auto c_stage = t.column("stage"), c_s = t.column("seconds");
        std::vector<std::pair<std::string, double>> stages;
        for (const auto& row : t.rows) {
            auto it = std::find_if(stages.begin(), stages.end(), [&](const auto& s) { return s.first == row[c_stage]; });
            if (it == stages.end()) it = stages.insert(stages.end(), {row[c_stage], 0.0});
            it->second += std::stod(row[c_s]);
        }
        md << "## Time\n\n| stage | minutes |\n| --- | ---: |\n";
        double total = 0;
        for (const auto& [stage, seconds] : stages) {
            total += seconds;
            md << "| " << stage << " | " << fixed(seconds / 60, 1) << " |\n";
            out["timings_s"][stage] = seconds;
        }
        md << "| total | " << fixed(total / 60, 1) << " |\n";
    }

    const double ymin = std::max(0.0, std::floor((lowest - 0.05) * 10) / 10);
    pgg::app::write_folder((dir / "report").string(), [&](const std::string& tmp) {
        pgg::io::write_file_atomic(tmp + "/report.md", md.str());
        pgg::io::write_file_atomic(tmp + "/report.json", out.dump(2) + "\n");
        curves.push_back({"chance", {190, 190, 190}, {0, 1}, {0, 1}});
        pgg::io::write_png(tmp + "/roc.png", pgg::plot::render({{"Test ROC", curves, 0.0, 1.0, "false positive rate (1 - specificity)",
                                                                                 "true positive rate (sensitivity)"}},
                                                                               660, 640));
        pgg::io::write_png(tmp + "/auc.png", pgg::plot::bars("test ROC AUC of the seed-mean probability with its 95% bootstrap interval; dots: seeds", bars, ymin, 1.0, 720, 440));
        for (const auto& [cls, g] : grids) pgg::io::write_png(tmp + "/samples-" + cls + ".png", g);
    });
    std::printf("%s", md.str().c_str());
    std::printf("wrote %s/report/: report.md, report.json, roc.png, auc.png%s\n", o.study.c_str(), grids.empty() ? "" : ", samples-<class>.png");
}

} // namespace

void add_report_command(CLI::App& app) {
    auto o = std::make_shared<ReportOptions>();
    auto* cmd = app.add_subcommand("report", "the augmentation study's report (tables, paired tests, pictures) from its folder");
    cmd->add_option("--study", o->study, "the folder of scripts/augmentation_study.sh")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("--bootstrap", o->resamples, "bootstrap resamples of the AUC intervals")->capture_default_str()->check(CLI::Range(100, 100000));
    cmd->add_option("--seed", o->seed, "seed of the bootstrap")->capture_default_str();
    cmd->callback([o] { report(*o); });
}

} // namespace cxr_classifier
