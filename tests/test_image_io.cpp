#include "reference.hpp"

#include <zlib.h>

#include <filesystem>
#include <fstream>

using namespace pgg;
namespace fs = std::filesystem;

namespace {

// A minimal 16-bit grayscale PNG encoder (stb writes 8-bit only): filter 0 rows, zlib, CRCs.
void write_png16(const std::string& path, const std::vector<std::uint16_t>& px, int w, int h) {
    auto be32 = [](std::string& s, std::uint32_t v) {
        for (int i = 3; i >= 0; --i) s += char((v >> (8 * i)) & 0xff);
    };
    auto chunk = [&](std::string& out, const char* type, const std::string& data) {
        be32(out, std::uint32_t(data.size()));
        std::string td = std::string(type, 4) + data;
        out += td;
        be32(out, std::uint32_t(crc32(0, reinterpret_cast<const Bytef*>(td.data()), uInt(td.size()))));
    };
    std::string raw;
    for (int y = 0; y < h; ++y) {
        raw += char(0);
        for (int x = 0; x < w; ++x) raw += char(px[y * w + x] >> 8), raw += char(px[y * w + x] & 0xff);
    }
    uLongf len = compressBound(uLong(raw.size()));
    std::string z(len, '\0');
    REQUIRE(compress(reinterpret_cast<Bytef*>(z.data()), &len, reinterpret_cast<const Bytef*>(raw.data()), uLong(raw.size())) == Z_OK);
    z.resize(len);
    std::string ihdr;
    be32(ihdr, std::uint32_t(w)), be32(ihdr, std::uint32_t(h));
    ihdr += char(16), ihdr += char(0), ihdr += char(0), ihdr += char(0), ihdr += char(0); // 16-bit gray
    std::string out = "\x89PNG\r\n\x1a\n";
    chunk(out, "IHDR", ihdr);
    chunk(out, "IDAT", z);
    chunk(out, "IEND", "");
    std::ofstream(path, std::ios::binary) << out;
}
} // namespace

TEST_CASE("images: PNG round trip, gray and RGB, channel conversion", "[io][image]") {
    pggtest::TempDir dir("io");
    auto gray = Tensor<std::uint8_t>({1, 1, 5, 7});
    auto rgb = Tensor<std::uint8_t>({1, 3, 4, 6});
    for (index_t i = 0; i < gray.numel(); ++i) gray.data()[i] = std::uint8_t(i * 7);
    for (index_t i = 0; i < rgb.numel(); ++i) rgb.data()[i] = std::uint8_t(i * 3 + 1);
    io::write_png(dir / "g.png", gray);
    io::write_png(dir / "c.png", rgb);
    Tensor<std::uint8_t> g = io::read_image(dir / "g.png"), c = io::read_image(dir / "c.png");
    REQUIRE(g.shape() == gray.shape());
    REQUIRE(c.shape() == rgb.shape());
    CHECK(max(abs(cast<int>(g) - cast<int>(gray))) == 0);
    CHECK(max(abs(cast<int>(c) - cast<int>(rgb))) == 0);
    // RGB -> gray with PIL's weights; gray -> RGB replicated
    Tensor<std::uint8_t> l = io::read_image(dir / "c.png", 1), g3 = io::read_image(dir / "g.png", 3);
    const index_t plane = 24, i = 17;
    const unsigned r = rgb.data()[i], gg = rgb.data()[plane + i], b = rgb.data()[2 * plane + i];
    CHECK(l.data()[i] == std::uint8_t((r * 19595 + gg * 38470 + b * 7471 + 0x8000) >> 16));
    CHECK(g3.shape() == Shape{1, 3, 5, 7});
    CHECK(g3.at(0, 2, 4, 6) == gray.at(0, 0, 4, 6));
}

TEST_CASE("images: 16-bit PNG scaled to 8 bits by rounding", "[io][image]") {
    pggtest::TempDir dir("io");
    const std::vector<std::uint16_t> px = {0, 1, 128, 129, 257, 32767, 65280, 65535};
    write_png16(dir / "deep.png", px, 4, 2);
    Tensor<std::uint8_t> img = io::read_image(dir / "deep.png");
    REQUIRE(img.shape() == Shape{1, 1, 2, 4});
    for (int k = 0; k < 8; ++k) CHECK(int(img.data()[k]) == int(std::lround(px[k] * 255.0 / 65535.0)));
}

TEST_CASE("images: JPEG reads close to what was written", "[io][image]") {
    pggtest::TempDir dir("io");
    Tensor<std::uint8_t> img({1, 1, 16, 16});
    for (index_t y = 0; y < 16; ++y)
        for (index_t x = 0; x < 16; ++x) img.at(0, 0, y, x) = std::uint8_t(8 * x + 4 * y);
    std::string jpg;
    auto sink = [](void* ctx, void* data, int size) { static_cast<std::string*>(ctx)->append(static_cast<char*>(data), size); };
    REQUIRE(stbi_write_jpg_to_func(sink, &jpg, 16, 16, 1, img.data(), 95));
    std::ofstream(dir / "a.jpg", std::ios::binary) << jpg;
    Tensor<std::uint8_t> back = io::read_image(dir / "a.jpg", 1); // stb stores even gray JPEGs as YCbCr
    CHECK(max(abs(cast<int>(back) - cast<int>(img))) <= 6);
}

TEST_CASE("images: missing, corrupt and truncated files name the file", "[io][image]") {
    pggtest::TempDir dir("io");
    CHECK_THROWS_WITH(io::read_image(dir / "none.png"), Catch::Contains("none.png: cannot open"));
    std::ofstream(dir / "junk.png", std::ios::binary) << "this is not an image";
    CHECK_THROWS_WITH(io::read_image(dir / "junk.png"), Catch::Contains("junk.png: not a readable image"));
    Tensor<std::uint8_t> img({1, 1, 64, 64});
    pgg::Generator g(1);
    Tensor<float> noise({64 * 64});
    fill_uniform(noise, g, 0.0f, 255.0f);
    std::copy(noise.begin(), noise.end(), img.data());
    io::write_png(dir / "full.png", img);
    std::string bytes;
    {
        std::ifstream in(dir / "full.png", std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    std::ofstream(dir / "cut.png", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    CHECK_THROWS_WITH(io::read_image(dir / "cut.png"), Catch::Contains("cut.png: corrupt or truncated image"));
    CHECK_THROWS_WITH(io::write_png(dir / "x.png", Tensor<std::uint8_t>({1, 2, 4, 4})), Catch::Contains("1 or 3 channels"));
}

TEST_CASE("images: grids and the [-1, 1] to 8-bit conversion", "[io][image]") {
    Tensor<std::uint8_t> batch({5, 1, 2, 3});
    for (index_t n = 0; n < 5; ++n)
        for (index_t i = 0; i < 6; ++i) batch.data()[n * 6 + i] = std::uint8_t(10 * n + i);
    Tensor<std::uint8_t> grid = io::make_grid(batch, 2, 1, 255);
    REQUIRE(grid.shape() == Shape{1, 1, 3 * 3 - 1, 2 * 4 - 1});
    CHECK(grid.at(0, 0, 0, 0) == 0);
    CHECK(grid.at(0, 0, 0, 4) == 10);  // sample 1, top-left
    CHECK(grid.at(0, 0, 2, 0) == 255); // padding row
    CHECK(grid.at(0, 0, 7, 6) == 255); // unused cell
    CHECK(grid.at(0, 0, 7, 2) == 45);  // sample 4, bottom-right
    auto x = Tensor<float>::from({5}, {-1.5f, -1.0f, 0.0f, 0.999f, 1.0f});
    Tensor<std::uint8_t> u = io::to_uint8(x);
    CHECK(std::vector<int>(u.begin(), u.end()) == std::vector<int>{0, 0, 128, 255, 255});
}

TEST_CASE("npy: written files map back; bad files are reported", "[io][npy]") {
    pggtest::TempDir dir("io");
    Tensor<std::uint8_t> a({3, 1, 4, 4});
    for (index_t i = 0; i < a.numel(); ++i) a.data()[i] = std::uint8_t(i);
    io::write_npy(dir / "a.npy", a);
    {
        io::NpyMap<std::uint8_t> m(dir / "a.npy");
        CHECK(m.shape() == std::vector<index_t>{3, 1, 4, 4});
        CHECK(m.data()[47] == 47);
        CHECK(reinterpret_cast<std::uintptr_t>(m.data()) % 64 == 0);
    }
    auto f = Tensor<float>::from({2}, {1.5f, -2.0f});
    io::write_npy(dir / "f.npy", f);
    CHECK(io::NpyMap<float>(dir / "f.npy").data()[1] == -2.0f);
    CHECK_THROWS_WITH(io::NpyMap<std::uint8_t>(dir / "f.npy"), Catch::Contains("f.npy: element type is not |u1"));
    fs::resize_file(dir / "a.npy", fs::file_size(dir / "a.npy") - 5);
    CHECK_THROWS_WITH(io::NpyMap<std::uint8_t>(dir / "a.npy"), Catch::Contains("(truncated?)"));
}

// Regressions from fuzz/ (docs/reliability.md): headers that claimed more than their file holds.
TEST_CASE("npy: huge, overflowing and long headers are errors naming the file (fuzz)", "[io][npy][fuzz]") {
    pggtest::TempDir dir("io");
    auto npy = [&](const std::string& name, const std::string& dict) {
        std::string h = "\x93NUMPY";
        h += char(1), h += char(0), h += char(dict.size() & 0xff), h += char(dict.size() >> 8);
        std::ofstream(dir / name, std::ios::binary) << h << dict;
        return dir / name;
    };
    // a dimension past 2^63 made std::stoll throw std::out_of_range, not pgg::error
    CHECK_THROWS_WITH(io::NpyMap<std::uint8_t>(npy("big.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999,), }")),
                      Catch::Contains("big.npy: shape (99999999999999999999,)"));
    // the product overflowed (undefined behaviour); (2^62,) of int32 wrapped to 0 bytes and was accepted
    CHECK_THROWS_WITH(io::NpyMap<std::uint8_t>(npy("wrap.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (4294967296, 4294967296, 1), }")),
                      Catch::Contains("wrap.npy: shape"));
    CHECK_THROWS_WITH(io::NpyMap<std::int32_t>(npy("zero.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (4611686018427387904,), }")),
                      Catch::Contains("zero.npy: shape (4611686018427387904,)"));
    // a 64 KiB header overflowed the stack in std::regex
    const std::string long_descr = "{'descr': '" + std::string(65000, 'x') + "', 'fortran_order': False, 'shape': (1,), }";
    CHECK_THROWS_WITH(io::NpyMap<std::uint8_t>(npy("long.npy", long_descr)), Catch::Contains("long.npy: element type is not |u1"));
    std::string dims;
    for (int i = 0; i < 20000; ++i) dims += "1, ";
    CHECK_THROWS_WITH(io::NpyMap<std::uint8_t>(npy("dims.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (" + dims + "), }")),
                      Catch::Contains("dims.npy: holds 0 data bytes, its shape needs 1 (truncated?)"));
    // numpy's own headers still read
    auto a = Tensor<std::int32_t>::full({2, 3}, 7);
    io::write_npy(dir / "ok.npy", a);
    CHECK(io::NpyMap<std::int32_t>(dir / "ok.npy").shape() == std::vector<index_t>{2, 3});
}

TEST_CASE("idx: dimensions the file cannot hold are refused before allocating (fuzz)", "[io][idx][fuzz]") {
    pggtest::TempDir dir("io");
    auto be32 = [](std::uint32_t v) { return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; };
    auto write = [&](const std::string& name, const std::string& bytes, bool gz) {
        if (gz) {
            gzFile f = gzopen((dir / name).c_str(), "wb");
            REQUIRE(f);
            gzwrite(f, bytes.data(), unsigned(bytes.size()));
            gzclose(f);
        } else {
            std::ofstream(dir / name, std::ios::binary) << bytes;
        }
        return dir / name;
    };
    const std::string images = std::string("\0\0\x08\x03", 4) + be32(2) + be32(3) + be32(4) + std::string(24, '\x05');
    for (bool gz : {false, true}) {
        const Tensor<std::uint8_t> t = io::read_idx(write(gz ? "ok.gz" : "ok", images, gz));
        CHECK(t.shape() == Shape{2, 1, 3, 4});
        CHECK(t.data()[23] == 5);
    }
    // 2 GiB claimed by a 8-byte header: allocated, then found missing
    CHECK_THROWS_WITH(io::read_idx(write("huge", std::string("\0\0\x08\x01", 4) + be32(0x7fffffff), false)),
                      Catch::Contains("huge: dimensions 2147483647 need 2147483647 data bytes, but the file holds 0"));
    CHECK_THROWS_WITH(io::read_idx(write("huge.gz", std::string("\0\0\x08\x02", 4) + be32(100000) + be32(30000), true)),
                      Catch::Contains("huge.gz: dimensions 100000 x 30000 need 3000000000 data bytes, but the file holds at most"));
    // (2^32 - 1)^3 overflowed Shape's element count (undefined behaviour), and so did 3385444809 x 3385444608 x 0
    CHECK_THROWS_WITH(io::read_idx(write("wrap", std::string("\0\0\x08\x03", 4) + be32(0xffffffff) + be32(0xffffffff) + be32(0xffffffff), false)),
                      Catch::Contains("need more than 2^63 data bytes"));
    CHECK_THROWS_WITH(io::read_idx(write("zero", std::string("\0\0\x08\x03", 4) + be32(0xc9c9c9c9) + be32(0xc9c9c900) + be32(0), false)),
                      Catch::Contains("need more than 2^63 data bytes"));
    CHECK_THROWS_WITH(io::read_idx(write("cut", images.substr(0, images.size() - 1), false)), Catch::Contains("cut: dimensions 2 x 3 x 4 need 24"));
}

TEST_CASE("images: a header claiming more pixels than the file can hold is refused (fuzz)", "[io][image][fuzz]") {
    pggtest::TempDir dir("io");
    // 33 bytes of run-length TGA claiming 33358 x 20348 pixels: stb allocated 2 GB and decoded for minutes
    const unsigned char tga[] = {0x00, 0x00, 0x0a, 0x00, 0x00, 0xe0, 0x7c, 0x27, 0x82, 0x13, 0x45, 0xd1, 0x4e, 0x82, 0x7c, 0x4f, 0x18,
                                 0x82, 0xe9, 0x11, 0x00, 0x00, 0xe1, 0x60, 0x00, 0x00, 0xf3, 0x99, 0x3e, 0x82, 0x59, 0xe2, 0x66};
    std::ofstream(dir / "huge.tga", std::ios::binary).write(reinterpret_cast<const char*>(tga), sizeof tga);
    CHECK_THROWS_WITH(io::read_image(dir / "huge.tga"), Catch::Contains("huge.tga: TGA header claims 33358 x 20348 pixels, more than its 33 bytes"));
    // decode_image reads from memory what read_image reads from the file
    Tensor<std::uint8_t> img({1, 3, 5, 4});
    for (index_t i = 0; i < img.numel(); ++i) img.data()[i] = std::uint8_t(i * 5);
    io::write_png(dir / "x.png", img);
    std::ifstream in(dir / "x.png", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(max(abs(cast<int>(io::decode_image(bytes, "x.png", 1)) - cast<int>(io::read_image(dir / "x.png", 1)))) == 0);
    CHECK_THROWS_WITH(io::decode_image(bytes.substr(0, 30), "memory", 0), Catch::Contains("memory: "));
    // a 10-digit number overflowed stb's PGM/PPM header parser (int, undefined behaviour)
    CHECK_THROWS_WITH(io::decode_image(std::string("P5\n99999999999 1\n255\n\0", 22), "big.pgm", 0),
                      Catch::Contains("big.pgm: corrupt PGM/PPM header (a number of more than 9 digits)"));
    CHECK_THROWS_WITH(io::decode_image("P5 # comment\r3 2 99999999999\n" + std::string(6, '\0'), "maxval.pgm", 0),
                      Catch::Contains("maxval.pgm: corrupt PGM/PPM header"));
    CHECK(io::decode_image("P5 # comment\n3 2\n255\n" + std::string(6, '\x07'), "ok.pgm", 0).data()[5] == 7);
    // a top-down BMP (negative height, which stbi_info passes on as it is) of 14352131 x 4 pixels in 107 bytes
    std::string bmp = "BM" + std::string(12, '\0') + std::string("\x28\0\0\0\x03\xff\xda\x00\xfc\xff\xff\xff\x01\0\x20\0", 16);
    bmp[10] = 54, bmp.resize(107, '\0');
    CHECK_THROWS_WITH(io::decode_image(bmp, "wide.bmp", 0), Catch::Contains("wide.bmp: BMP header claims 14352131 x 4 pixels, more than its 107 bytes"));
    // an IDAT chunk declaring 2 GiB - 16 bytes: stb grew its buffer to 2 GiB before reading it
    std::string png = bytes;
    const std::size_t idat = png.find("IDAT");
    REQUIRE(idat != std::string::npos);
    png[idat - 4] = '\x7f', png[idat - 3] = png[idat - 2] = '\xff', png[idat - 1] = '\xf0';
    CHECK_THROWS_WITH(io::decode_image(png, "idat.png", 0), Catch::Contains("idat.png: corrupt or truncated image (PNG: an IDAT chunk of 2147483632 bytes"));
}

namespace {
// A valid 16x16 JPEG of `channels` interleaved channels (a ramp), encoded by stb in memory.
std::string test_jpeg(int channels) {
    std::string pixels(std::size_t(256 * channels), '\0');
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = char(i * 3);
    std::string jpg;
    auto sink = [](void* ctx, void* data, int size) { static_cast<std::string*>(ctx)->append(static_cast<char*>(data), size); };
    REQUIRE(stbi_write_jpg_to_func(sink, &jpg, 16, 16, channels, pixels.data(), 90));
    return jpg;
}
} // namespace

TEST_CASE("images: a JPEG Huffman table of more than 256 codes is refused before stb builds it (fuzz)", "[io][image][fuzz]") {
    std::string jpg = test_jpeg(1);
    CHECK(io::decode_image(jpg, "ok.jpg", 1).numel() == 256);
    // Debian's stb wrote past its 257-entry code-size array for such a table (UBSan: index 257 out of bounds)
    const std::size_t dht = jpg.find("\xFF\xC4");
    REQUIRE(dht != std::string::npos);
    jpg[dht + 5] = jpg[dht + 6] = '\xFF'; // the counts of 1- and 2-bit codes: 510 codes in all, at least
    CHECK_THROWS_WITH(io::decode_image(jpg, "bad.jpg", 1), Catch::Contains("bad.jpg: corrupt JPEG (a Huffman table of"));
    jpg.insert(0, "\xFF"); // stb takes fill bytes before the start marker
    CHECK_THROWS_WITH(io::decode_image(jpg, "fill.jpg", 1), Catch::Contains("fill.jpg: corrupt JPEG (a Huffman table of"));
}

TEST_CASE("images: a JPEG scan with a Huffman table the file does not define is refused (fuzz)", "[io][image][fuzz]") {
    std::string jpg = test_jpeg(3);
    CHECK(io::decode_image(jpg, "ok.jpg", 3).numel() == 768);
    // stb decoded with table slot 3, never defined: uninitialised memory as a table (UBSan: index 1129202603
    // out of bounds)
    const std::size_t sos = jpg.find("\xFF\xDA");
    REQUIRE(sos != std::string::npos);
    std::string bad = jpg;
    bad[sos + 6] = '\x33'; // the first component's DC and AC tables
    CHECK_THROWS_WITH(io::decode_image(bad, "undefined.jpg", 3), Catch::Contains("undefined.jpg: corrupt JPEG (a scan uses a Huffman table"));
    // and with quantisation table 3: uninitialised values (UBSan: signed overflow, differing run to run)
    const std::size_t sof = jpg.find("\xFF\xC0");
    REQUIRE(sof != std::string::npos);
    jpg[sof + 12] = '\x03'; // the first component's quantisation table
    CHECK_THROWS_WITH(io::decode_image(jpg, "noquant.jpg", 3), Catch::Contains("noquant.jpg: corrupt JPEG (a scan uses a quantisation table"));
}

TEST_CASE("images: a JPEG scan whose coded data ends before its last block decodes, filled (fuzz)", "[io][image][fuzz]") {
    // A 1 x 3344 baseline JPEG with 736 bytes of scan data and an early end-of-image marker: Debian's stb
    // reads on past the marker with zeros and shifts a zero byte by 32 bits (UBSan shift-exponent; zero
    // on every target, fuzz/ubsan.supp); the missing blocks decode as zeros, as libjpeg fills them.
    const std::string jpg = io::detail::read_bytes(PGG_TEST_SOURCE_DIR "/../fuzz/findings/fuzz_image-jpeg-shift-32");
    const Tensor<std::uint8_t> a = io::decode_image(jpg, "short-scan.jpg", 1), b = io::decode_image(jpg, "short-scan.jpg", 1);
    CHECK(a.shape() == Shape{1, 1, 1, 3344});
    CHECK(max(abs(cast<int>(a) - cast<int>(b))) == 0); // no uninitialised pixels: the same every time
}

#ifdef PGG_CXR_DIR
TEST_CASE("images: the shared chest X-rays and lung masks", "[io][image][cxr]") {
    int seen = 0;
    for (const auto& e : fs::directory_iterator(PGG_CXR_DIR "/images")) {
        if (seen++ == 20) break;
        Tensor<std::uint8_t> img = io::read_image(e.path().string());
        CHECK(img.shape() == Shape{1, 1, 256, 256});
        Tensor<std::uint8_t> mask = io::read_image((fs::path(PGG_CXR_DIR) / "masks" / e.path().filename()).string());
        CHECK(max(abs(cast<int>(mask) * (cast<int>(mask) - 255))) == 0); // only 0 and 255
    }
    CHECK(seen > 0);
}
#endif
