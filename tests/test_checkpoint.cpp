#include "layer_check.hpp"

#include <filesystem>
#include <fstream>

using namespace pgg;
using namespace pgg::nn;
namespace fs = std::filesystem;

namespace {
using Model = Sequential<Named<"conv", Conv2d<1, 4, 3, equalized>>, LeakyReLU<>, Flatten, Named<"fc", Dense<64, 3>>>;
using Other = Sequential<Named<"conv", Conv2d<1, 5, 3, equalized>>, LeakyReLU<>, Flatten, Named<"head", Dense<80, 3>>>;

std::vector<Tensor<float>> snapshot(Net<Model>& m) {
    std::vector<Tensor<float>> out;
    for (auto& p : parameters(m)) out.push_back(p.value.clone());
    return out;
}
bool same_values(const std::vector<Tensor<float>>& a, const std::vector<Tensor<float>>& b) {
    for (std::size_t i = 0; i < a.size(); ++i)
        if (max(abs(a[i] - b[i])) != 0.0f) return false;
    return true;
}
} // namespace

TEST_CASE("checkpoint: parameters, Adam state and metadata round-trip", "[checkpoint]") {
    pggtest::TempDir dir("ckpt");
    const fs::path file = dir.path / "model.safetensors";
    Net<Model> a;
    Generator g(1);
    a.reset_parameters(g);
    optim::Adam<float> adam(parameters(a), {.lr = 1e-3, .beta1 = 0.0, .beta2 = 0.99});
    for (auto& p : parameters(a)) fill_normal(p.grad, g);
    REQUIRE(adam.step());
    io::SafetensorsWriter w;
    io::add_network(w, a, "G.");
    io::add_adam(w, adam, "adam_G.");
    w.metadata("kimg", "1440.0");
    w.write(file.string());

    Net<Model> b;
    optim::Adam<float> adam_b(parameters(b));
    const auto f = io::SafetensorsFile::read(file.string());
    io::load_network(f, b, "G.");
    io::load_adam(f, adam_b, "adam_G.");
    CHECK(same_values(snapshot(a), snapshot(b)));
    CHECK(adam_b.steps() == 1);
    CHECK(max(abs(adam_b.second_moments()[0] - adam.second_moments()[0])) == 0.0f);
    CHECK(f.string_metadata("kimg") == "1440.0");
    CHECK(f.contains("G.fc.bias"));
}

TEST_CASE("checkpoint: a different model is reported by name and changes nothing", "[checkpoint]") {
    pggtest::TempDir dir("ckpt");
    const fs::path file = dir.path / "other.safetensors";
    Net<Other> other;
    io::SafetensorsWriter w;
    io::add_network(w, other, "G.");
    w.write(file.string());
    Net<Model> m;
    Generator g(2);
    m.reset_parameters(g);
    const auto before = snapshot(m);
    const auto f = io::SafetensorsFile::read(file.string());
    try {
        io::load_network(f, m, "G.");
        FAIL("a mismatching checkpoint loaded");
    } catch (const pgg::error& e) {
        const std::string msg = e.what();
        CHECK(msg.find("other.safetensors") != std::string::npos);
        CHECK(msg.find("'G.conv.weight' has shape [5, 1, 3, 3], expected [4, 1, 3, 3]") != std::string::npos);
        CHECK(msg.find("'G.fc.weight' is missing") != std::string::npos);
        CHECK(msg.find("'G.head.weight' is not in the model") != std::string::npos);
    }
    CHECK(same_values(before, snapshot(m)));
}

TEST_CASE("checkpoint: truncated and corrupt files give clear errors", "[checkpoint]") {
    pggtest::TempDir tmp("ckpt");
    const fs::path dir = tmp.path, file = dir / "m.safetensors";
    Net<Model> m;
    io::SafetensorsWriter w;
    io::add_network(w, m);
    w.write(file.string());
    std::string bytes;
    {
        std::ifstream in(file, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto write_raw = [&](const std::string& name, const std::string& content) {
        std::ofstream(dir / name, std::ios::binary) << content;
        return (dir / name).string();
    };
    CHECK_THROWS_WITH(io::SafetensorsFile::read(write_raw("short", bytes.substr(0, 5))), Catch::Contains("short: truncated"));
    CHECK_THROWS_WITH(io::SafetensorsFile::read(write_raw("cut_header", bytes.substr(0, 40))), Catch::Contains("truncated or corrupt"));
    CHECK_THROWS_WITH(io::SafetensorsFile::read(write_raw("cut_data", bytes.substr(0, bytes.size() - 10))),
                      Catch::Contains("(truncated?)"));
    std::string garbled = bytes;
    garbled[8] = '#'; // the header's opening brace
    CHECK_THROWS_WITH(io::SafetensorsFile::read(write_raw("garbled", garbled)), Catch::Contains("garbled: corrupt header"));
    CHECK_THROWS_WITH(io::SafetensorsFile::read((dir / "absent").string()), Catch::Contains("absent: cannot open"));
}

TEST_CASE("checkpoint: writes are atomic", "[checkpoint]") {
    pggtest::TempDir tmp("ckpt");
    const fs::path dir = tmp.path;
    Net<Model> m;
    io::SafetensorsWriter w;
    io::add_network(w, m);
    CHECK_THROWS_WITH(w.write((dir / "no_such_dir" / "m.safetensors").string()), Catch::Contains("cannot create a temporary"));
    w.write((dir / "m.safetensors").string());
    w.write((dir / "m.safetensors").string()); // replaces
    std::size_t files = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++files;
    CHECK(files == 1); // no temporary left behind
}

// Not run by default: writes a checkpoint and an .npy with known values for tests/read_safetensors.py.
TEST_CASE("checkpoint: write files for the numpy reader", "[.][write-for-python]") {
    Net<Model> m;
    index_t k = 0;
    for (auto& p : parameters(m))
        for (float& v : p.value) v = float(k++) * 0.5f;
    io::SafetensorsWriter w;
    io::add_network(w, m);
    w.metadata("format", "pgg");
    w.write(PGG_TEST_BINARY_DIR "/numpy_check.safetensors");
    Tensor<std::uint8_t> levels({3, 1, 4, 4});
    for (index_t i = 0; i < levels.numel(); ++i) levels.data()[i] = std::uint8_t(i);
    io::write_npy(PGG_TEST_BINARY_DIR "/numpy_check.npy", levels);
}
