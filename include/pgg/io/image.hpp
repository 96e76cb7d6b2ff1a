#pragma once
// Images on disk: PNG (8- and 16-bit), JPEG, BMP, PGM/PPM, TGA through stb; PNG writing; image grids.
//
// Images are uint8 tensors (1, C, H, W), C = 1 (grayscale) or 3 (RGB).
// - 16-bit images are scaled to 8 bits by v8 = round(v16 * 255 / 65535).
// - Alpha is dropped. Asked for 1 channel, RGB becomes luma with PIL's "L" weights
//   (R 299, G 587, B 114 per mille, rounded), so results match Pillow's convert("L").
#include <stb_image.h>
#include <stb_image_write.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>

#include "../core/ops.hpp"
#include "atomic_file.hpp"

namespace pgg::io {

namespace detail {
inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw error(path + ": cannot open");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
inline std::uint8_t luma(unsigned r, unsigned g, unsigned b) {
    return std::uint8_t((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16); // PIL's fixed-point weights
}
// A binary PGM/PPM header (P5, P6) read as stb reads it: width, height and maxval between whitespace and
// comments (# to the end of the line); false for other files. fields[i] is -1 for a number of more than
// 9 digits, which stb's parser overflows (int, undefined behaviour: found by fuzz/fuzz_image.cpp).
inline bool pnm_header(std::string_view bytes, long (&fields)[3], std::size_t& pixels_at) {
    if (bytes.size() < 2 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '6')) return false;
    std::size_t pos = 2;
    for (long& f : fields) {
        f = 0;
        for (;;) {
            while (pos < bytes.size() && std::isspace(static_cast<unsigned char>(bytes[pos]))) ++pos;
            if (pos < bytes.size() && bytes[pos] == '#')
                while (pos < bytes.size() && bytes[pos] != '\n' && bytes[pos] != '\r') ++pos;
            else break;
        }
        for (int digits = 1; pos < bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[pos])); ++digits, ++pos)
            f = digits > 9 || f < 0 ? -1 : f * 10 + (bytes[pos] - '0');
    }
    pixels_at = pos + 1; // the single whitespace byte before the pixels
    return true;
}
inline void check_pnm_numbers(const std::string& path, std::string_view bytes) {
    long fields[3];
    std::size_t at = 0;
    if (pnm_header(bytes, fields, at))
        for (long f : fields)
            if (f < 0) throw error(path + ": corrupt PGM/PPM header (a number of more than 9 digits)");
}
// stb reads a binary PGM/PPM whose pixel data is cut short without complaint: check its length.
inline void check_pnm_length(const std::string& path, std::string_view bytes, int w, int h, int channels) {
    long fields[3];
    std::size_t pos = 0;
    if (!pnm_header(bytes, fields, pos)) return;
    const std::size_t need = std::size_t(w) * std::size_t(h) * std::size_t(channels) * (fields[2] > 255 ? 2 : 1);
    if (bytes.size() < pos + need)
        throw error(path + ": truncated image (" + std::to_string(bytes.size() - std::min(bytes.size(), pos)) + " of " +
                    std::to_string(need) + " pixel bytes)");
}
// stb allocates, and for some formats fills, width x height pixels before it finds the data missing: a
// header of a few bytes can claim 2 GiB and minutes of decoding. Refuse sizes the file cannot hold, by
// the densest each format can pack pixels (its compression's limit, with a margin):
inline void check_pixel_count(const std::string& path, std::string_view b, int w, int h) {
    auto starts = [&](std::string_view magic) { return b.substr(0, magic.size()) == magic; };
    const char* format = "TGA"; // stb's last guess, without a signature
    double per_byte = 64;       // run-length packets of 128 one-byte pixels
    if (starts("\x89PNG")) format = "PNG", per_byte = 8 * 1032;             // 1-bit pixels, deflate's 1032:1
    else if (starts("\xFF")) format = "JPEG", per_byte = 1024;              // >= 1 bit per 8 x 8 block and scan
    else if (starts("BM")) format = "BMP", per_byte = 8;                     // uncompressed, 1 bit per pixel
    else if (starts("GIF8")) format = "GIF", per_byte = 4096;                // a 12-bit LZW code for 4096 pixels
    else if (starts("8BPS")) format = "PSD", per_byte = 64;                  // PackBits runs of 128
    else if (starts("#?RADIANCE") || starts("#?RGBE")) format = "HDR", per_byte = 64;
    else if (starts("\x53\x80\xF6\x34")) format = "PIC", per_byte = 32768; // 16-bit run counts
    else if (starts("P5") || starts("P6")) return;                          // check_pnm_length is exact
    const double most = per_byte * double(b.size()) + 4096;
    if (std::abs(double(w)) * std::abs(double(h)) > most) // stb_info gives a top-down BMP a negative height
        throw error(path + ": " + format + " header claims " + std::to_string(std::llabs(w)) + " x " + std::to_string(std::llabs(h)) +
                    " pixels, more than its " + std::to_string(b.size()) + " bytes can hold (corrupt or truncated)");
}
// Debian's stb (2.27) builds a JPEG Huffman table without checking that its 16 code counts add up to
// at most 256, and writes past the table's arrays when they do not (found by fuzz/fuzz_image.cpp). stb
// takes a marker wherever 0xFF is followed by a marker byte, so every FF C4 (DHT) in the file is checked.
inline void check_jpeg_huffman(const std::string& path, std::string_view b) {
    auto at = [&](std::size_t i) -> unsigned { return i < b.size() ? static_cast<unsigned char>(b[i]) : 0u; }; // stb reads 0 past the end
    for (std::size_t m = b.find("\xFF\xC4"); m != std::string_view::npos; m = b.find("\xFF\xC4", m + 1)) {
        long left = long((at(m + 2) << 8) | at(m + 3)) - 2;
        for (std::size_t p = m + 4; left > 0 && p < b.size();) { // the tables of one DHT segment, as stb walks them
            if ((at(p) >> 4) > 1 || (at(p) & 15) > 3) break;    // stb refuses the header
            unsigned codes = 0;
            for (int i = 1; i <= 16; ++i) codes += at(p + std::size_t(i));
            if (codes > 256)
                throw error(path + ": corrupt JPEG (a Huffman table of " + std::to_string(codes) + " codes; 256 at most)");
            p += 17 + codes, left -= long(17 + codes);
        }
    }
}
// Debian's stb decodes a JPEG scan with Huffman or quantisation tables the file never defined, reading
// uninitialised memory as a table (a Huffman one indexes with it far out of bounds; found by
// fuzz/fuzz_image.cpp). The markers are walked as stb walks them (segments by their length, a scan's
// data up to the next marker): every table a scan decodes with must have been defined before it.
inline void check_jpeg_scans(const std::string& path, std::string_view b) {
    auto at = [&](std::size_t i) -> unsigned { return i < b.size() ? static_cast<unsigned char>(b[i]) : 0u; };
    bool dc[4] = {}, ac[4] = {}, quant[4] = {}, progressive = false;
    unsigned component_quant[256] = {}; // by component id, from the frame header
    for (unsigned& q : component_quant) q = 4;
    for (std::size_t i = 0; i + 1 < b.size();) {
        if (at(i) != 0xFF) { // where a marker should be, stb looks for the next 0xFF
            ++i;
            continue;
        }
        while (i < b.size() && at(i) == 0xFF) ++i; // fill bytes
        const unsigned m = at(i++);
        if (m == 0xD9) return;                                                      // end of image
        if (m == 0x00 || m == 0x01 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7)) continue; // no length
        const std::size_t seg = i + 2, end = i + ((at(i) << 8) | at(i + 1));
        if (m == 0xC2) progressive = true;
        if (m == 0xDB)
            for (std::size_t p = seg; p < end && p < b.size(); p += (at(p) >> 4) ? 129 : 65) {
                if ((at(p) >> 4) > 1 || (at(p) & 15) > 3) return; // stb refuses the file
                quant[at(p) & 15] = true;
            }
        if (m >= 0xC0 && m <= 0xC2)
            for (unsigned c = 0, n = at(seg + 5); c < n; ++c) component_quant[at(seg + 6 + 3 * c)] = at(seg + 8 + 3 * c);
        if (m == 0xC4) {
            for (std::size_t p = seg; p < end && p < b.size();) {
                const unsigned q = at(p), kind = q >> 4, slot = q & 15;
                if (kind > 1 || slot > 3) return; // stb refuses the file
                unsigned codes = 0;
                for (int k = 1; k <= 16; ++k) codes += at(p + std::size_t(k));
                (kind ? ac : dc)[slot] = true;
                p += 17 + codes;
            }
        }
        if (m == 0xDA) {
            const unsigned n = at(seg), first = at(seg + 1 + 2 * n), high = at(seg + 3 + 2 * n) >> 4;
            const bool uses_dc = !progressive || (first == 0 && high == 0), uses_ac = !progressive || first != 0;
            for (unsigned c = 0; c < n; ++c) {
                const unsigned t = at(seg + 2 + 2 * c), d = t >> 4, a = t & 15;
                if (d > 3 || a > 3) return; // stb refuses the file
                if ((uses_dc && !dc[d]) || (uses_ac && !ac[a]))
                    throw error(path + ": corrupt JPEG (a scan uses a Huffman table the file does not define)");
                const unsigned q = component_quant[at(seg + 1 + 2 * c)];
                if (q < 4 && !quant[q])
                    throw error(path + ": corrupt JPEG (a scan uses a quantisation table the file does not define)");
            }
            i = end;
            while (i + 1 < b.size() && !(at(i) == 0xFF && at(i + 1) != 0 && !(at(i + 1) >= 0xD0 && at(i + 1) <= 0xD7))) ++i;
            continue;
        }
        i = end;
    }
}
// Debian's stb grows its buffer to an IDAT chunk's declared length before it reads the chunk: 8 bytes
// can claim 2 GiB (found by fuzz/fuzz_image.cpp). Every IDAT up to IEND must lie within the file.
inline void check_png_chunks(const std::string& path, std::string_view b) {
    auto be32 = [&](std::size_t i) {
        return (std::uint32_t(std::uint8_t(b[i])) << 24) | (std::uint32_t(std::uint8_t(b[i + 1])) << 16) |
               (std::uint32_t(std::uint8_t(b[i + 2])) << 8) | std::uint32_t(std::uint8_t(b[i + 3]));
    };
    for (std::size_t at = 8; at + 8 <= b.size();) { // length, type, data, CRC
        const std::uint64_t length = be32(at), left = b.size() - (at + 8);
        const std::string_view type = b.substr(at + 4, 4);
        if (type == "IDAT" && length > left)
            throw error(path + ": corrupt or truncated image (PNG: an IDAT chunk of " + std::to_string(length) + " bytes, " +
                        std::to_string(left) + " left in the file)");
        if (type == "IEND" || length > left) return; // stb stops there too
        at += 12 + std::size_t(length);
    }
}
} // namespace detail

// Decodes an image file's bytes held in memory; `path` names it in every error. channels as read_image.
inline Tensor<std::uint8_t> decode_image(std::string_view bytes, const std::string& path, int channels = 0) {
    PGG_CHECK(channels == 0 || channels == 1 || channels == 3, "read_image: channels must be 0, 1 or 3, got ", channels);
    if (bytes.size() > std::size_t(std::numeric_limits<int>::max()))
        throw error(path + ": " + std::to_string(bytes.size()) + " bytes, too large for the image decoder (2 GiB at most)");
    const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
    const int size = int(bytes.size());
    int w = 0, h = 0, stored = 0;
    if (bytes.substr(0, 1) == "\xFF") { // JPEG (FF+ D8): before stb reads a table
        detail::check_jpeg_huffman(path, bytes);
        detail::check_jpeg_scans(path, bytes);
    }
    detail::check_pnm_numbers(path, bytes);
    if (bytes.substr(0, 8) == "\x89PNG\r\n\x1a\n") detail::check_png_chunks(path, bytes);
    if (!stbi_info_from_memory(data, size, &w, &h, &stored))
        throw error(path + ": not a readable image (" + std::string(stbi_failure_reason()) + ")");
    detail::check_pixel_count(path, bytes, w, h);
    detail::check_pnm_length(path, bytes, w, h, stored);
    const bool is16 = stbi_is_16_bit_from_memory(data, size);
    int got = 0;
    void* pixels = is16 ? static_cast<void*>(stbi_load_16_from_memory(data, size, &w, &h, &got, 0))
                        : static_cast<void*>(stbi_load_from_memory(data, size, &w, &h, &got, 0));
    if (!pixels) throw error(path + ": corrupt or truncated image (" + std::string(stbi_failure_reason()) + ")");
    struct Free {
        void* p;
        ~Free() { stbi_image_free(p); }
    } free_pixels{pixels};
    const int colour = got >= 3 ? 3 : 1; // gray, gray+alpha -> 1; RGB, RGBA -> 3
    const int out_c = channels ? channels : colour;
    Tensor<std::uint8_t> img({1, out_c, h, w});
    const index_t plane = index_t(w) * h;
    auto sample = [&](index_t i, int c) -> unsigned {
        if (is16) return (unsigned(static_cast<const std::uint16_t*>(pixels)[i * got + c]) * 255u + 32767u) / 65535u;
        return static_cast<const std::uint8_t*>(pixels)[i * got + c];
    };
    std::uint8_t* out = img.data();
    for (index_t i = 0; i < plane; ++i) {
        if (out_c == 1) {
            out[i] = colour == 1 ? std::uint8_t(sample(i, 0)) : detail::luma(sample(i, 0), sample(i, 1), sample(i, 2));
        } else {
            for (int c = 0; c < 3; ++c) out[c * plane + i] = std::uint8_t(sample(i, colour == 1 ? 0 : c));
        }
    }
    return img;
}

// Reads an image; channels 0 keeps gray as 1 and colour as 3, 1 or 3 converts.
inline Tensor<std::uint8_t> read_image(const std::string& path, int channels = 0) {
    PGG_CHECK(channels == 0 || channels == 1 || channels == 3, "read_image: channels must be 0, 1 or 3, got ", channels);
    return decode_image(detail::read_bytes(path), path, channels);
}

// Writes an 8-bit PNG (atomically). img: (1, C, H, W) or (C, H, W) with C = 1 or 3.
inline void write_png(const std::string& path, const Tensor<std::uint8_t>& img) {
    const int c = int(img.rank() == 4 ? img.c() : img.size(0));
    PGG_CHECK((img.rank() == 4 && img.n() == 1) || img.rank() == 3, "write_png: ", path, ": expected (1, C, H, W), got ",
              img.shape());
    PGG_CHECK(c == 1 || c == 3, "write_png: ", path, ": 1 or 3 channels, got ", c);
    const index_t h = img.rank() == 4 ? img.h() : img.size(1), w = img.rank() == 4 ? img.w() : img.size(2), plane = h * w;
    std::string interleaved(std::size_t(plane * c), '\0');
    for (index_t i = 0; i < plane; ++i)
        for (int k = 0; k < c; ++k) interleaved[std::size_t(i * c + k)] = char(img.data()[k * plane + i]);
    std::string encoded;
    auto sink = [](void* ctx, void* data, int size) { static_cast<std::string*>(ctx)->append(static_cast<char*>(data), size); };
    if (!stbi_write_png_to_func(sink, &encoded, int(w), int(h), c, interleaved.data(), int(w) * c))
        throw error(path + ": PNG encoding failed");
    write_file_atomic(path, encoded);
}

// [-1, 1] floats to 8 bits: round(x * 127.5 + 127.5), clipped (PG-GAN's convention).
template <class T>
Tensor<std::uint8_t> to_uint8(const Tensor<T>& x) {
    return cast<std::uint8_t>(clamp(x * T(127.5) + T(128.0), T(0), T(255.999)));
}

// Tiles a batch (N, C, H, W) into one image (1, C, rows * (H + pad) - pad, cols * (W + pad) - pad),
// row by row; unused cells and the padding hold pad_value.
inline Tensor<std::uint8_t> make_grid(const Tensor<std::uint8_t>& batch, index_t cols, index_t pad = 2,
                                      std::uint8_t pad_value = 0) {
    PGG_CHECK(batch.rank() == 4 && batch.n() > 0, "make_grid: (N, C, H, W) expected, got ", batch.shape());
    PGG_CHECK(cols > 0 && pad >= 0, "make_grid: bad columns ", cols, " or padding ", pad);
    cols = std::min(cols, batch.n());
    const index_t rows = (batch.n() + cols - 1) / cols, C = batch.c(), H = batch.h(), W = batch.w();
    const index_t GH = rows * (H + pad) - pad, GW = cols * (W + pad) - pad;
    Tensor<std::uint8_t> grid = Tensor<std::uint8_t>::full({1, C, GH, GW}, pad_value);
    for (index_t n = 0; n < batch.n(); ++n) {
        const index_t y0 = (n / cols) * (H + pad), x0 = (n % cols) * (W + pad);
        for (index_t c = 0; c < C; ++c)
            for (index_t y = 0; y < H; ++y)
                std::copy_n(&batch.data()[((n * C + c) * H + y) * W], W, &grid.data()[(c * GH + y0 + y) * GW + x0]);
    }
    return grid;
}

} // namespace pgg::io
