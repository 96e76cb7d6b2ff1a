#include "reference.hpp"

#include <filesystem>
#include <fstream>
#include <set>

using namespace pgg;
namespace fs = std::filesystem;

namespace {

std::vector<Tensor<std::uint8_t>> random_images(int n, index_t r, std::uint64_t seed) {
    std::vector<Tensor<std::uint8_t>> out;
    Generator g(seed);
    Tensor<float> u({r * r});
    for (int i = 0; i < n; ++i) {
        fill_uniform(u, g, 0.0f, 255.99f);
        Tensor<std::uint8_t> img({1, 1, r, r});
        std::copy(u.begin(), u.end(), img.data());
        out.push_back(img);
    }
    return out;
}

void write_dataset(const std::string& dir, const std::vector<Tensor<std::uint8_t>>& images, std::uint64_t seed) {
    io::DatasetWriter w(dir, index_t(images.size()), 1, images[0].h(), seed, true);
    for (std::size_t i = 0; i < images.size(); ++i) w.add(index_t(i), images[i], std::int32_t(i));
    w.finish();
}
} // namespace

TEST_CASE("dataset: levels are 2x2 averages in float, rounded once; order shuffled from a seed", "[io][dataset]") {
    pggtest::TempDir tmp("ds");
    const auto images = random_images(10, 16, 1);
    write_dataset(tmp / "ds", images, 7);
    io::Dataset ds(tmp / "ds");
    REQUIRE(ds.size() == 10);
    REQUIRE(ds.resolution() == 16);
    std::set<std::int32_t> seen;
    bool shuffled = false;
    for (index_t pos = 0; pos < 10; ++pos) {
        const std::int32_t i = ds.label(pos); // labels are the input indices
        seen.insert(i);
        shuffled |= i != pos;
        Tensor<std::uint8_t> full = ds.image(pos, 16);
        CHECK(max(abs(cast<int>(full) - cast<int>(images[i]))) == 0);
        for (index_t r : {8, 4}) { // reference: block means of the original, in double, rounded once
            const index_t f = 16 / r;
            Tensor<std::uint8_t> lv = ds.image(pos, r);
            for (index_t y = 0; y < r; ++y)
                for (index_t x = 0; x < r; ++x) {
                    double s = 0;
                    for (index_t a = 0; a < f; ++a)
                        for (index_t b = 0; b < f; ++b) s += images[i].at(0, 0, y * f + a, x * f + b);
                    REQUIRE(int(lv.at(0, 0, y, x)) == int(std::floor(s / double(f * f) + 0.5)));
                }
        }
    }
    CHECK(seen.size() == 10);
    CHECK(shuffled);
    // the same seed gives the same order, another seed another one
    write_dataset(tmp / "same", images, 7);
    write_dataset(tmp / "other", images, 8);
    io::Dataset same(tmp / "same"), other(tmp / "other");
    bool differs = false;
    for (index_t pos = 0; pos < 10; ++pos) {
        CHECK(same.label(pos) == ds.label(pos));
        differs |= other.label(pos) != ds.label(pos);
    }
    CHECK(differs);
}

TEST_CASE("dataset: minibatches in [-1, 1] with the fade between levels", "[io][dataset]") {
    pggtest::TempDir tmp("ds");
    write_dataset(tmp / "ds", random_images(6, 16, 2), 3);
    io::Dataset ds(tmp / "ds");
    Generator g(5);
    Tensor<float> x;
    std::vector<index_t> idx;
    ds.minibatch(g, 4, 1.25, x, &idx); // resolution 8, a quarter of the way to 4
    REQUIRE(x.shape() == Shape{4, 1, 8, 8});
    REQUIRE(idx.size() == 4);
    for (index_t b = 0; b < 4; ++b) {
        Tensor<std::uint8_t> img = ds.image(idx[b], 8);
        for (index_t y = 0; y < 8; ++y)
            for (index_t xx = 0; xx < 8; ++xx) {
                auto v = [&](index_t yy, index_t xq) { return img.at(0, 0, yy, xq) / 127.5 - 1.0; };
                const index_t y0 = y / 2 * 2, x0 = xx / 2 * 2;
                const double pooled = (v(y0, x0) + v(y0 + 1, x0) + v(y0, x0 + 1) + v(y0 + 1, x0 + 1)) / 4;
                const double want = v(y, xx) + (pooled - v(y, xx)) * 0.25;
                REQUIRE(x.at(b, 0, y, xx) == Approx(want).margin(1e-5));
            }
    }
    CHECK(max(abs(x)) <= 1.0f);
    CHECK_THROWS_WITH(ds.minibatch(g, 2, 2.5, x), Catch::Contains("level of detail 2.5"));
}

TEST_CASE("dataset: bad input is reported and leaves no partial output", "[io][dataset]") {
    pggtest::TempDir tmp("ds");
    const auto images = random_images(3, 8, 3);
    {
        io::DatasetWriter w(tmp / "partial", 3, 1, 8);
        w.add(0, images[0]);
        CHECK_THROWS_WITH(w.add(1, Tensor<std::uint8_t>({1, 1, 4, 4})), Catch::Contains("has shape [1, 1, 4, 4]"));
        CHECK_THROWS_WITH(w.finish(), Catch::Contains("1 of 3 images were added"));
    }
    CHECK_FALSE(fs::exists(tmp / "partial"));
    CHECK(std::distance(fs::directory_iterator(tmp.path), fs::directory_iterator{}) == 0); // no temporary left
    CHECK_THROWS_WITH(io::DatasetWriter(tmp / "x", 3, 1, 12), Catch::Contains("not a power of two"));
    write_dataset(tmp / "ds", images, 1);
    CHECK_THROWS_WITH(io::DatasetWriter(tmp / "ds", 3, 1, 8), Catch::Contains("already exists"));
    fs::resize_file(fs::path(tmp / "ds") / "level-4.npy", 100);
    CHECK_THROWS_WITH(io::Dataset(tmp / "ds"), Catch::Contains("level-4.npy"));
    std::ofstream(fs::path(tmp / "ds") / "manifest.json") << "{ broken";
    CHECK_THROWS_WITH(io::Dataset(tmp / "ds"), Catch::Contains("manifest.json: corrupt manifest"));
    CHECK_THROWS_WITH(io::Dataset(tmp / "nothing"), Catch::Contains("not a pgg dataset folder"));
}

// Regressions from fuzz/ (docs/reliability.md): manifests that disagree with their files.
TEST_CASE("dataset: manifest numbers and the labels file are checked (fuzz)", "[io][dataset][fuzz]") {
    pggtest::TempDir tmp("ds_fuzz");
    write_dataset(tmp / "ds", random_images(3, 8, 5), 1);
    const std::string manifest = fs::path(tmp / "ds") / "manifest.json";
    std::ifstream in(manifest);
    const nlohmann::json good = nlohmann::json::parse(in);
    auto with = [&](const std::string& key, const nlohmann::json& value) {
        nlohmann::json m = good;
        m[key] = value;
        std::ofstream(manifest) << m.dump();
        return tmp / "ds";
    };
    // a labels file with fewer labels than images was accepted, and label(i) read past its end
    io::write_npy(fs::path(tmp / "ds") / "short.npy", std::vector<std::int32_t>{0, 1}.data(), {2});
    CHECK_THROWS_WITH(io::Dataset(with("labels", "short.npy")), Catch::Contains("short.npy: labels of shape (2) for 3 images"));
    // 1e300 and 1e10 were converted to integers with undefined behaviour; 8.5 was read as 8
    CHECK_THROWS_WITH(io::Dataset(with("count", 1e300)), Catch::Contains("manifest.json: count is 1e+300, not an integer"));
    CHECK_THROWS_WITH(io::Dataset(with("channels", 1e10)), Catch::Contains("manifest.json: channels is 10000000000.0, not an integer"));
    CHECK_THROWS_WITH(io::Dataset(with("resolution", 8.5)), Catch::Contains("manifest.json: resolution is 8.5, not an integer"));
    CHECK_THROWS_WITH(io::Dataset(with("levels", {8, 4.7})), Catch::Contains("manifest.json: a level is 4.7, not an integer"));
    // a dataset of no images drew index -1 in minibatch()
    CHECK_THROWS_WITH(io::Dataset(with("count", 0)), Catch::Contains("manifest.json: count is 0, not an integer in [1,"));
    CHECK(io::Dataset(with("labels", "labels.npy")).size() == 3);
}
