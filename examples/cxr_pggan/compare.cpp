// `cxr_pggan compare`: the evaluate.csv of several runs (`cxr_pggan evaluate --run`) in one plot of SWD
// and MS-SSIM against kimg, and a table of each run's best and final SWD. Runs whose folder names
// differ only in a trailing -s<seed> form one group: one colour, one legend entry.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <pgg/pgg.hpp>

#include "commands.hpp"

namespace pggan {
namespace {

namespace fs = std::filesystem;

struct Curve {
    std::string run, group;
    int resolution = 0;
    std::vector<double> kimg, swd, ms_ssim;
    double floor_swd = NAN, floor_ms_ssim = NAN;
};

// Splits one CSV line (quoted fields hold no quotes or commas but the quotes themselves).
std::vector<std::string> fields(const std::string& line) {
    std::vector<std::string> out;
    std::string f;
    bool quoted = false;
    for (char c : line) {
        if (c == '"') quoted = !quoted;
        else if (c == ',' && !quoted) out.push_back(f), f.clear();
        else f += c;
    }
    out.push_back(f);
    return out;
}

// The rows of run/evaluate.csv at its highest resolution, in kimg order.
Curve read_curve(const std::string& run) {
    const std::string path = run + "/evaluate.csv";
    std::ifstream in(path);
    PGG_CHECK(in, path, ": cannot open (run `cxr_pggan evaluate --run ", run, "` first)");
    std::string line;
    std::getline(in, line);
    PGG_CHECK(line.rfind("images,kimg,resolution,", 0) == 0, path, ": not an evaluate.csv (header '", line, "')");
    struct Row {
        double kimg, swd, ms_ssim;
        int resolution;
        bool floor;
    };
    std::vector<Row> rows;
    int line_no = 1;
    while (std::getline(in, line)) {
        ++line_no;
        const auto f = fields(line);
        PGG_CHECK(f.size() == 8, path, " line ", line_no, ": ", f.size(), " fields, 8 expected");
        try {
            rows.push_back({std::stod(f[1]), std::stod(f[6]), std::stod(f[7]), std::stoi(f[2]), f[0] == "reals (held out)"});
        } catch (const std::exception&) {
            throw pgg::error(path + " line " + std::to_string(line_no) + ": not numbers: " + line);
        }
    }
    Curve c;
    c.run = fs::path(run).lexically_normal().filename().string();
    if (c.run.empty()) c.run = fs::path(run).lexically_normal().parent_path().filename().string();
    c.group = std::regex_replace(std::regex_replace(c.run, std::regex(R"(^\d{3}-)"), ""), std::regex(R"(-s\d+$)"), "");
    for (const auto& r : rows) c.resolution = std::max(c.resolution, r.resolution);
    std::vector<Row> at;
    for (const auto& r : rows) {
        if (r.resolution != c.resolution) continue;
        if (r.floor) c.floor_swd = r.swd, c.floor_ms_ssim = r.ms_ssim;
        else at.push_back(r);
    }
    PGG_CHECK(!at.empty(), path, ": no snapshot rows");
    std::sort(at.begin(), at.end(), [](const Row& a, const Row& b) { return a.kimg < b.kimg; });
    for (const auto& r : at) c.kimg.push_back(r.kimg), c.swd.push_back(r.swd), c.ms_ssim.push_back(r.ms_ssim);
    return c;
}

void compare(const std::vector<std::string>& runs, const std::string& out) {
    std::vector<Curve> curves;
    for (const auto& r : runs) curves.push_back(read_curve(r));
    const pgg::plot::Color palette[] = {{31, 119, 180}, {230, 120, 20}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189}, {140, 86, 75}};
    std::map<std::string, std::size_t> group_index;
    pgg::plot::Panel swd{.title = "Sliced Wasserstein distance to the reference reals", .xlabel = "kimg", .ylabel = "SWD x1000"};
    pgg::plot::Panel div{.title = "MS-SSIM of generated pairs (lower: more diverse)", .xlabel = "kimg", .ylabel = "MS-SSIM"};
    std::string csv = "run,group,resolution,best_swd_x1e3,best_kimg,final_swd_x1e3,final_kimg,final_ms_ssim,reals_swd_x1e3\n";
    std::printf("%-32s %-24s %10s %9s %10s %9s %8s\n", "run", "group", "best SWD", "at kimg", "final SWD", "at kimg", "MS-SSIM");
    for (const auto& c : curves) {
        const auto [it, fresh] = group_index.emplace(c.group, group_index.size());
        const pgg::plot::Color color = palette[it->second % std::size(palette)];
        swd.series.push_back({fresh ? c.group : "", color, c.kimg, c.swd});
        div.series.push_back({fresh ? c.group : "", color, c.kimg, c.ms_ssim});
        const auto best = std::min_element(c.swd.begin(), c.swd.end()) - c.swd.begin();
        std::printf("%-32s %-24s %10.2f %9.1f %10.2f %9.1f %8.4f\n", c.run.c_str(), c.group.c_str(), c.swd[best], c.kimg[best],
                    c.swd.back(), c.kimg.back(), c.ms_ssim.back());
        char line[512];
        std::snprintf(line, sizeof line, "\"%s\",\"%s\",%d,%.4f,%.3f,%.4f,%.3f,%.6f,%.4f\n", c.run.c_str(), c.group.c_str(), c.resolution,
                      c.swd[best], c.kimg[best], c.swd.back(), c.kimg.back(), c.ms_ssim.back(), c.floor_swd);
        csv += line;
    }
    if (std::isfinite(curves.front().floor_swd)) { // the reals-vs-reals floor of the first run, across the plot
        double lo = INFINITY, hi = -INFINITY;
        for (const auto& c : curves) lo = std::min(lo, c.kimg.front()), hi = std::max(hi, c.kimg.back());
        swd.series.push_back({"reals vs reals", {90, 90, 90}, {lo, hi}, {curves.front().floor_swd, curves.front().floor_swd}});
        div.series.push_back({"reals", {90, 90, 90}, {lo, hi}, {curves.front().floor_ms_ssim, curves.front().floor_ms_ssim}});
    }
    pgg::io::write_file_atomic(out + ".csv", csv);
    pgg::io::write_png(out + ".png", pgg::plot::render({swd, div}));
    std::printf("wrote %s.csv and %s.png\n", out.c_str(), out.c_str());
}

} // namespace

void add_compare_command(CLI::App& app) {
    auto runs = std::make_shared<std::vector<std::string>>();
    auto out = std::make_shared<std::string>("compare");
    CLI::App* c = app.add_subcommand("compare", "SWD and MS-SSIM against kimg of several evaluated runs in one plot");
    c->add_option("runs", *runs, "run folders holding evaluate.csv (`cxr_pggan evaluate --run`)")->required()->check(CLI::ExistingDirectory);
    c->add_option("--out", *out, "output prefix for .csv and .png")->capture_default_str();
    c->callback([runs, out] { compare(*runs, *out); });
}

} // namespace pggan
