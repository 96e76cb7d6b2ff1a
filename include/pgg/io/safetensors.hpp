#pragma once
// safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then
// the raw little-endian data. Python opens them with the safetensors package, or with numpy alone.
//
// Reading validates the whole file (sizes, JSON, every entry's dtype, shape and offsets) before
// anything is returned; every problem is reported with the file name.
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/tensor.hpp"
#include "atomic_file.hpp"

namespace pgg::io {

template <class T>
constexpr const char* safetensors_dtype() {
    if constexpr (std::is_same_v<T, float>) return "F32";
    else if constexpr (std::is_same_v<T, double>) return "F64";
    else if constexpr (std::is_same_v<T, std::uint8_t>) return "U8";
    else if constexpr (std::is_same_v<T, std::int32_t>) return "I32";
    else if constexpr (std::is_same_v<T, std::int64_t>) return "I64";
    else static_assert(sizeof(T) == 0, "safetensors: unsupported element type");
}
inline std::size_t safetensors_dtype_size(const std::string& d) {
    if (d == "F32" || d == "I32" || d == "U32") return 4;
    if (d == "F64" || d == "I64" || d == "U64") return 8;
    if (d == "U8" || d == "I8" || d == "BOOL") return 1;
    if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
    return 0;
}

// Collects named tensors (copied to the host when added) and metadata, then writes them atomically.
class SafetensorsWriter {
public:
    template <class T, class D>
        requires(!std::is_same_v<D, cpu>)
    void add(const std::string& name, const Tensor<T, D>& t) {
        add(name, to<cpu>(t));
    }
    template <class T>
    void add(const std::string& name, const Tensor<T, cpu>& t) {
        PGG_CHECK(!name.empty() && name != "__metadata__", "safetensors: invalid tensor name '", name, "'");
        for (const auto& e : entries_) PGG_CHECK(e.name != name, "safetensors: tensor '", name, "' added twice");
        std::vector<std::int64_t> shape;
        for (int i = 0; i < t.rank(); ++i) shape.push_back(t.size(i));
        std::string bytes(reinterpret_cast<const char*>(t.data()), t.bytes());
        entries_.push_back({name, safetensors_dtype<T>(), std::move(shape), std::move(bytes)});
    }
    void metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }

    void write(const std::string& path) const {
        nlohmann::json header = nlohmann::json::object();
        if (!metadata_.empty()) header["__metadata__"] = metadata_;
        std::uint64_t offset = 0;
        for (const auto& e : entries_) {
            header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.bytes.size()}}};
            offset += e.bytes.size();
        }
        std::string text = header.dump();
        text.append((8 - text.size() % 8) % 8, ' '); // data starts 8-byte aligned
        const std::uint64_t n = text.size();
        unsigned char len[8];
        for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
        AtomicFile f(path);
        f.write(len, 8);
        f.write(text);
        for (const auto& e : entries_) f.write(e.bytes.data(), e.bytes.size());
        f.commit();
    }

private:
    struct Entry {
        std::string name, dtype;
        std::vector<std::int64_t> shape;
        std::string bytes;
    };
    std::vector<Entry> entries_;
    std::map<std::string, std::string> metadata_;
};

// A whole safetensors file, read and validated.
class SafetensorsFile {
public:
    struct Info {
        std::string dtype;
        std::vector<std::int64_t> shape;
        std::uint64_t begin = 0, end = 0;
    };

    static SafetensorsFile read(const std::string& path) {
        SafetensorsFile f;
        f.path_ = path;
        std::ifstream in(path, std::ios::binary);
        if (!in) throw error(path + ": cannot open");
        std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (all.size() < 8) throw error(path + ": truncated: " + std::to_string(all.size()) + " bytes, not even a header length");
        std::uint64_t n = 0;
        for (int i = 0; i < 8; ++i) n |= std::uint64_t(static_cast<unsigned char>(all[i])) << (8 * i);
        if (n > all.size() - 8)
            throw error(path + ": truncated or corrupt: header of " + std::to_string(n) + " bytes but the file has " +
                        std::to_string(all.size() - 8) + " after the length");
        nlohmann::json header;
        try {
            header = nlohmann::json::parse(all.begin() + 8, all.begin() + 8 + std::ptrdiff_t(n));
        } catch (const nlohmann::json::exception& e) {
            throw error(path + ": corrupt header: " + e.what());
        }
        if (!header.is_object()) throw error(path + ": corrupt header: not a JSON object");
        f.data_ = all.substr(8 + n);
        for (auto it = header.begin(); it != header.end(); ++it) {
            if (it.key() == "__metadata__") {
                if (!it->is_object()) throw error(path + ": __metadata__ is not an object");
                for (auto m = it->begin(); m != it->end(); ++m) {
                    if (!m->is_string()) throw error(path + ": metadata '" + m.key() + "' is not a string");
                    f.metadata_[m.key()] = m->get<std::string>();
                }
                continue;
            }
            f.tensors_[it.key()] = parse_info(path, it.key(), *it, f.data_.size());
        }
        return f;
    }

    const std::string& path() const { return path_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    const std::map<std::string, Info>& tensors() const { return tensors_; }
    bool contains(const std::string& name) const { return tensors_.count(name) > 0; }

    // Empty when `name` exists with T's dtype and the given shape, else what is wrong.
    template <class T>
    std::string mismatch(const std::string& name, const Shape& shape) const {
        auto it = tensors_.find(name);
        if (it == tensors_.end()) return "'" + name + "' is missing";
        const Info& i = it->second;
        if (i.dtype != safetensors_dtype<T>())
            return "'" + name + "' has dtype " + i.dtype + ", expected " + safetensors_dtype<T>();
        std::vector<std::int64_t> want;
        for (int d = 0; d < shape.rank(); ++d) want.push_back(shape[d]);
        if (i.shape != want) return "'" + name + "' has shape " + shape_text(i.shape) + ", expected " + shape_text(want);
        return {};
    }
    // Copies tensor `name` into dst (same dtype and shape, else pgg::error), on any device.
    template <class T, class D>
        requires(!std::is_same_v<D, cpu>)
    void copy_to(const std::string& name, Tensor<T, D>& dst) const {
        Tensor<T, cpu> host(dst.shape());
        copy_to(name, host);
        dst.copy_(host);
    }
    template <class T>
    void copy_to(const std::string& name, Tensor<T, cpu>& dst) const {
        const std::string bad = mismatch<T>(name, dst.shape());
        if (!bad.empty()) throw error(path_ + ": " + bad);
        const Info& i = tensors_.at(name);
        if (dst.bytes()) std::memcpy(dst.data(), data_.data() + i.begin, dst.bytes());
    }
    std::string string_metadata(const std::string& key) const {
        auto it = metadata_.find(key);
        if (it == metadata_.end()) throw error(path_ + ": metadata '" + key + "' is missing");
        return it->second;
    }

private:
    static std::string shape_text(const std::vector<std::int64_t>& s) {
        std::string t = "[";
        for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
        return t + "]";
    }
    static Info parse_info(const std::string& path, const std::string& name, const nlohmann::json& j, std::size_t data_size) {
        auto bad = [&](const std::string& what) { return error(path + ": tensor '" + name + "': " + what); };
        if (!j.is_object() || !j.contains("dtype") || !j.contains("shape") || !j.contains("data_offsets"))
            throw bad("needs dtype, shape and data_offsets");
        Info i;
        try {
            i.dtype = j.at("dtype").get<std::string>();
            i.shape = j.at("shape").get<std::vector<std::int64_t>>();
            auto off = j.at("data_offsets").get<std::vector<std::uint64_t>>();
            if (off.size() != 2) throw bad("data_offsets must hold two numbers");
            i.begin = off[0], i.end = off[1];
        } catch (const nlohmann::json::exception& e) {
            throw bad(std::string("malformed entry: ") + e.what());
        }
        const std::size_t elem = safetensors_dtype_size(i.dtype);
        if (!elem) throw bad("unknown dtype " + i.dtype);
        std::uint64_t count = 1;
        for (auto d : i.shape) {
            if (d < 0) throw bad("negative dimension");
            count *= std::uint64_t(d);
        }
        if (i.end < i.begin || i.end - i.begin != count * elem)
            throw bad("data_offsets [" + std::to_string(i.begin) + ", " + std::to_string(i.end) + ") do not hold " +
                      std::to_string(count) + " values of " + i.dtype);
        if (i.end > data_size)
            throw bad("data ends at byte " + std::to_string(i.end) + " but the file holds " + std::to_string(data_size) +
                      " (truncated?)");
        return i;
    }

    std::string path_, data_;
    std::map<std::string, Info> tensors_;
    std::map<std::string, std::string> metadata_;
};

} // namespace pgg::io
