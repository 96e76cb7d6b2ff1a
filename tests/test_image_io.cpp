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
