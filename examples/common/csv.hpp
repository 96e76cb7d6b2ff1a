#pragma once
// CSV files with a header line, as `cxr_pggan split` reads them (RSNA's stage_2_*.csv, or file,label):
// fields separated by commas, optionally double-quoted ("" inside quotes is one quote), carriage returns
// outside quotes dropped, blank lines skipped, every row as many fields as the header. Errors name the
// file and line.
#include <cstddef>
#include <fstream>
#include <string>
#include <vector>

#include <pgg/core/error.hpp>

namespace pgg::app {

// A CSV file with a header line; fields may be double-quoted.
struct Csv {
    std::string path;
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    std::vector<int> lines; // the file line of each row

    static std::vector<std::string> split_line(const std::string& line) {
        std::vector<std::string> f(1);
        bool quoted = false;
        for (std::size_t i = 0; i < line.size(); ++i) {
            const char c = line[i];
            if (quoted) {
                if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') f.back() += '"', ++i;
                else if (c == '"') quoted = false;
                else f.back() += c;
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                f.emplace_back();
            } else if (c != '\r') {
                f.back() += c;
            }
        }
        return f;
    }

    explicit Csv(std::string p) : path(std::move(p)) {
        std::ifstream in(path);
        PGG_CHECK(in, path, ": cannot open");
        std::string line;
        PGG_CHECK(std::getline(in, line), path, ": empty file (a header line is needed)");
        header = split_line(line);
        for (int n = 2; std::getline(in, line); ++n) {
            if (line.empty() || line == "\r") continue;
            rows.push_back(split_line(line));
            lines.push_back(n);
            PGG_CHECK(rows.back().size() == header.size(), path, ":", n, ": ", rows.back().size(), " fields, the header has ",
                      header.size());
        }
    }
    std::size_t column(const std::string& name) const {
        for (std::size_t i = 0; i < header.size(); ++i)
            if (header[i] == name) return i;
        std::string have;
        for (const auto& h : header) have += (have.empty() ? "" : ", ") + h;
        throw pgg::error(path + ": missing column '" + name + "' (the header has: " + have + ")");
    }
};

} // namespace pgg::app
