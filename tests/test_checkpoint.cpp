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

TEST_CASE("checkpoint: SGD's momentum buffers round-trip, and the next step is the same", "[checkpoint]") {
    pggtest::TempDir dir("ckpt");
    const fs::path file = dir.path / "sgd.safetensors";
    Net<Model> a, b;
    Generator g(4);
    a.reset_parameters(g);
    const optim::SgdOptions o{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3};
    optim::SGD<float> sgd(parameters(a), o);
    for (int s = 0; s < 2; ++s) {
        for (auto& p : parameters(a)) fill_normal(p.grad, g);
        REQUIRE(sgd.step());
    }
    io::SafetensorsWriter w;
    io::add_network(w, a, "net.");
    io::add_sgd(w, sgd, "opt.");
    w.write(file.string());
    optim::SGD<float> sgd_b(parameters(b), o);
    const auto f = io::SafetensorsFile::read(file.string());
    io::load_network(f, b, "net.");
    io::load_sgd(f, sgd_b, "opt.");
    CHECK(sgd_b.steps() == 2);
    CHECK(same_values(snapshot(a), snapshot(b)));
    // the same gradient on both: the same parameters after the step (a fresh buffer would differ)
    Generator ga(9), gb(9);
    for (auto& p : parameters(a)) fill_normal(p.grad, ga);
    for (auto& p : parameters(b)) fill_normal(p.grad, gb);
    REQUIRE(sgd.step());
    REQUIRE(sgd_b.step());
    CHECK(same_values(snapshot(a), snapshot(b)));
    // a step count that is not a count is refused by name
    io::SafetensorsWriter bad;
    io::add_sgd(bad, sgd, "opt.");
    bad.metadata("opt.steps", "-3");
    bad.write(file.string());
    CHECK_THROWS_WITH(io::load_sgd(io::SafetensorsFile::read(file.string()), sgd_b, "opt."), Catch::Contains("'opt.steps' = '-3'"));
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

TEST_CASE("checkpoint: a CRC-32 over every byte refuses any flipped bit; files of other writers need none", "[checkpoint]") {
    pggtest::TempDir tmp("crc");
    const fs::path dir = tmp.path, file = dir / "m.safetensors";
    Net<Model> m;
    Generator g(2);
    m.reset_parameters(g);
    io::SafetensorsWriter w;
    io::add_network(w, m);
    w.metadata("note", "some text");
    w.write(file.string());
    std::string bytes;
    {
        std::ifstream in(file, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const auto f = io::SafetensorsFile::read(file.string());
    CHECK(f.has_checksum());
    CHECK_NOTHROW(f.require_checksum());
    auto write_raw = [&](const std::string& name, const std::string& content) {
        std::ofstream(dir / name, std::ios::binary) << content;
        return (dir / name).string();
    };
    const std::uint64_t header = std::uint64_t(static_cast<unsigned char>(bytes[0])) | std::uint64_t(static_cast<unsigned char>(bytes[1])) << 8;
    const std::size_t note = bytes.find("some text"), crc = bytes.find("\"pgg.crc32\":\"") + 13;
    REQUIRE(note < 8 + header);
    // one bit: in the last and the first bytes of data, in a metadata value, in the JSON's syntax, in the checksum
    for (std::size_t at : {bytes.size() - 3, std::size_t(8 + header + 1), note + 2, std::size_t(9), crc + 3}) {
        std::string flipped = bytes;
        flipped[at] = char(flipped[at] ^ 0x04);
        INFO("bit flipped at byte " << at << " of " << bytes.size());
        CHECK_THROWS_WITH(io::SafetensorsFile::read(write_raw("flipped", flipped)), Catch::Contains("flipped: corrupt"));
    }
    // a file without the entry (as another writer makes it) reads, but is no pgg checkpoint
    std::string plain = bytes;
    const std::size_t key = plain.find("\"pgg.crc32\"");
    plain.replace(key, 11, "\"xyz.crc32\""); // same length: the offsets stay valid
    const auto other = io::SafetensorsFile::read(write_raw("other", plain));
    CHECK_FALSE(other.has_checksum());
    CHECK_THROWS_WITH(other.require_checksum(), Catch::Contains("other: no 'pgg.crc32' checksum"));
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

// Regressions from fuzz/ (docs/reliability.md).
TEST_CASE("safetensors: numbers out of range in the header are errors, not undefined behaviour (fuzz)", "[checkpoint][fuzz]") {
    pggtest::TempDir tmp("ckpt_fuzz");
    auto write = [&](const std::string& name, const std::string& header, const std::string& data = "") {
        std::string len(8, '\0');
        for (int i = 0; i < 8; ++i) len[std::size_t(i)] = char((header.size() >> (8 * i)) & 0xff);
        std::ofstream(tmp / name, std::ios::binary) << len << header << data;
        return tmp / name;
    };
    // a shape of 2^64 bytes wrapped to 0 and matched offsets [0, 0]: accepted
    CHECK_THROWS_WITH(io::SafetensorsFile::read(write("wrap", R"({"a": {"dtype": "U8", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}})")),
                      Catch::Contains("wrap: tensor 'a': shape [4611686018427387904, 4] holds more than 2^64 bytes"));
    // 1.5e300 and 1e30 were converted to integers with undefined behaviour
    CHECK_THROWS_WITH(io::SafetensorsFile::read(write("float_dim", R"({"a": {"dtype": "U8", "shape": [1.5e300], "data_offsets": [0, 0]}})")),
                      Catch::Contains("float_dim: tensor 'a': malformed entry: dimension 1.5e+300 is not an integer"));
    CHECK_THROWS_WITH(io::SafetensorsFile::read(write("float_off", R"({"a": {"dtype": "U8", "shape": [2], "data_offsets": [1e30, 1]}})")),
                      Catch::Contains("float_off: tensor 'a': malformed entry: data_offsets"));
    CHECK_THROWS_WITH(io::SafetensorsFile::read(write("neg", R"({"a": {"dtype": "U8", "shape": [-2], "data_offsets": [0, 2]}})", "xx")),
                      Catch::Contains("neg: tensor 'a': negative dimension"));
    CHECK_THROWS_WITH(io::SafetensorsFile::read(write("str", R"({"a": {"dtype": 3, "shape": [2], "data_offsets": [0, 2]}})", "xx")),
                      Catch::Contains("str: tensor 'a': malformed entry: dtype is not a string"));
    const auto ok = io::SafetensorsFile::read(write("ok", R"({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}})", "xy"));
    CHECK(ok.tensors().at("a").end == 2);
}

TEST_CASE("checkpoint: Adam's step count must be a whole count (fuzz)", "[checkpoint][fuzz]") {
    pggtest::TempDir tmp("ckpt_fuzz");
    Net<Model> m;
    optim::Adam<float> adam(parameters(m));
    for (const std::string steps : {"-5", "12abc", "99999999999999999999999", ""}) {
        io::SafetensorsWriter w;
        io::add_adam(w, adam, "adam_G.");
        w.metadata("adam_G.steps", steps); // overrides what add_adam wrote
        w.write(tmp / "a.safetensors");
        optim::Adam<float> back(parameters(m));
        back.set_steps(3);
        // std::stol took "-5" as -5 (a negative bias correction) and "12abc" as 12
        CHECK_THROWS_WITH(io::load_adam(io::SafetensorsFile::read(tmp / "a.safetensors"), back, "adam_G."),
                          Catch::Contains("metadata 'adam_G.steps' = '" + steps + "' is not a step count"));
        CHECK(back.steps() == 3);
    }
}
