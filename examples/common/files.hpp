#pragma once
// What the example programs share about files: finding inputs (a folder, or a list file), reading any
// supported picture (PNG, JPEG, BMP, PNM; DICOM where DCMTK is built in), and output folders that
// appear whole or not at all.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <pgg/pgg.hpp>
#ifdef PGG_HAVE_DCMTK
#include <pgg/io/dicom.hpp>
#endif

namespace pgg::app {

namespace fs = std::filesystem;

inline const std::vector<std::string> picture_extensions = {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm"};
inline const std::vector<std::string> dicom_extensions = {".dcm", ".dicom"};

inline std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

// Image files under `dir` (recursively) with one of `extensions`, sorted; or, with a list file, the
// files it names (one per line, relative to `dir` unless absolute).
inline std::vector<std::string> find_inputs(const std::string& dir, const std::string& list, const std::vector<std::string>& extensions) {
    PGG_CHECK(fs::is_directory(dir), dir, ": not a folder");
    std::vector<std::string> files;
    if (!list.empty()) {
        std::ifstream in(list);
        PGG_CHECK(in, list, ": cannot open");
        std::string line;
        while (std::getline(in, line)) {
            while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
            if (line.empty()) continue;
            files.push_back(fs::path(line).is_absolute() ? line : (fs::path(dir) / line).string());
        }
        PGG_CHECK(!files.empty(), list, ": names no files");
        return files;
    }
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        const std::string ext = lower(e.path().extension().string());
        if (std::find(extensions.begin(), extensions.end(), ext) != extensions.end()) files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    std::string names;
    for (const auto& e : extensions) names += (names.empty() ? "" : " ") + e;
    PGG_CHECK(!files.empty(), dir, ": no input files (", names, ")");
    return files;
}

// A DICOM image (gray); channels 3 repeats the gray plane.
inline Tensor<std::uint8_t> read_dicom_picture(const std::string& path, int channels) {
#ifdef PGG_HAVE_DCMTK
    Tensor<std::uint8_t> gray = pgg::io::read_dicom(path);
    if (channels != 3) return gray;
    Tensor<std::uint8_t> rgb({1, 3, gray.h(), gray.w()});
    for (int c = 0; c < 3; ++c) std::copy_n(gray.data(), gray.numel(), rgb.data() + c * gray.numel());
    return rgb;
#else
    (void)channels;
    throw pgg::error(path + ": this build has no DICOM support (install libdcmtk-dev and configure again)");
#endif
}

// Any supported picture, DICOM chosen by the file's extension; uint8 (1, C, H, W).
inline Tensor<std::uint8_t> read_any_picture(const std::string& path, int channels) {
    const std::string ext = lower(fs::path(path).extension().string());
    if (std::find(dicom_extensions.begin(), dicom_extensions.end(), ext) != dicom_extensions.end())
        return read_dicom_picture(path, channels);
    return pgg::io::read_image(path, channels);
}

// A gray picture as float (1, 1, size, size) in [0, 1]: area averaging when shrinking, bilinear when
// enlarging. size 0 keeps the stored size.
inline Tensor<float> to_unit_gray(const Tensor<std::uint8_t>& img, index_t size) {
    Tensor<float> x = pgg::cast<float>(img) * (1.0f / 255.0f);
    if (size == 0 || (img.h() == size && img.w() == size)) return x;
    Tensor<float> y({1, 1, size, size});
    if (img.h() >= size && img.w() >= size) pgg::resize_area(x, y);
    else pgg::resize_bilinear(x, y);
    return y;
}

// Runs `body(tmp)` to fill a temporary folder beside `out`, then renames it to `out`; on any error
// (or interruption, which throws) the temporary folder is removed and `out` never appears.
template <class F>
void write_folder(const std::string& out, F&& body) {
    PGG_CHECK(!fs::exists(out), out, ": already exists; choose a new folder");
    const std::string tmp = out + ".tmp-" + std::to_string(::getpid());
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    try {
        body(tmp);
        fs::rename(tmp, out);
    } catch (...) {
        fs::remove_all(tmp);
        throw;
    }
}

// Appends one line to a log (a file people read while a run goes on, so not atomic), failing loudly
// when it cannot: a full disk must stop a run, not silently cut its log.
inline void append_line(const std::string& path, const std::string& line) {
    std::ofstream out(path, std::ios::app);
    out << line << "\n";
    out.flush();
    PGG_CHECK(out, path, ": write failed (disk full?)");
}

} // namespace pgg::app
