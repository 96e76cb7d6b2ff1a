#pragma once
// safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then
// the raw little-endian data. Python opens them with the safetensors package, or with numpy alone.
//
// Reading validates the whole file (sizes, JSON, every entry's dtype, shape and offsets) before
// anything is returned; every problem is reported with the file name.
//
// Checksum: pgg writes the metadata entry "pgg.crc32", 8 hex digits: zlib's CRC-32 of the whole file
// with those 8 digits read as "00000000" (so it covers the header, its padding and the data). Reading
// verifies it where present: a bit flipped anywhere is refused. Files of other writers have none and
// are read as they are; pgg's own checkpoints require one (require_checksum). In Python:
//   zlib.crc32(raw.replace(b'"pgg.crc32":"' + c, b'"pgg.crc32":"00000000', 1)) == int(c, 16)
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include <zlib.h>

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
inline constexpr const char* safetensors_checksum_key = "pgg.crc32";

namespace detail {
inline std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t n) {
    const auto* p = static_cast<const Bytef*>(data);
    while (n > 0) { // zlib takes uInt lengths
        const uInt chunk = uInt(std::min<std::size_t>(n, 1u << 30));
        crc = std::uint32_t(::crc32(crc, p, chunk));
        p += chunk, n -= chunk;
    }
    return crc;
}
// Where the checksum's 8 hex digits sit in a header written by pgg (nlohmann's compact dump).
inline std::size_t checksum_position(const std::string& header) {
    const std::string key = std::string("\"") + safetensors_checksum_key + "\":\"";
    const std::size_t at = header.find(key);
    return at == std::string::npos ? at : at + key.size();
}
inline std::string hex8(std::uint32_t v) {
    char b[9];
    std::snprintf(b, sizeof b, "%08x", unsigned(v));
    return b;
}
} // namespace detail

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
        auto meta = metadata_;
        meta[safetensors_checksum_key] = "00000000";
        header["__metadata__"] = meta;
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
        std::uint32_t crc = detail::crc32_update(0, len, 8);
        crc = detail::crc32_update(crc, text.data(), text.size());
        for (const auto& e : entries_) crc = detail::crc32_update(crc, e.bytes.data(), e.bytes.size());
        text.replace(detail::checksum_position(text), 8, detail::hex8(crc));
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
        f.verify_checksum(header, all, n); // after the structure, so that a truncation is named as one
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
    // Whether the file carried a checksum (and so passed it: read() refuses a mismatch).
    bool has_checksum() const { return metadata_.count(safetensors_checksum_key) > 0; }
    // For pgg's own checkpoints: a file without a checksum is refused (its header may be damaged).
    const SafetensorsFile& require_checksum() const {
        if (!has_checksum())
            throw error(path_ + ": no '" + safetensors_checksum_key + "' checksum in its metadata: not written by pgg, or damaged");
        return *this;
    }
    std::string string_metadata(const std::string& key) const {
        auto it = metadata_.find(key);
        if (it == metadata_.end()) throw error(path_ + ": metadata '" + key + "' is missing");
        return it->second;
    }

private:
    void verify_checksum(const nlohmann::json& header, std::string& all, std::uint64_t n) const {
        const auto meta = header.find("__metadata__");
        if (meta == header.end() || !meta->is_object() || !meta->contains(safetensors_checksum_key)) return;
        const auto& value = (*meta)[safetensors_checksum_key];
        const std::string stored = value.is_string() ? value.get<std::string>() : "";
        const std::size_t at = detail::checksum_position(all.substr(8, n));
        if (stored.size() != 8 || at == std::string::npos || all.compare(8 + at, 8, stored) != 0)
            throw error(path_ + ": corrupt header: its '" + safetensors_checksum_key + "' entry is malformed");
        all.replace(8 + at, 8, "00000000");
        const std::uint32_t crc = detail::crc32_update(0, all.data(), all.size());
        all.replace(8 + at, 8, stored);
        if (detail::hex8(crc) != stored)
            throw error(path_ + ": corrupt: CRC-32 " + detail::hex8(crc) + " of its bytes does not match the " + stored +
                        " written with it (damaged on disk or in transfer, or changed since)");
    }

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
        // numbers are checked for type and range before conversion (nlohmann converts 1e30 to an integer
        // with undefined behaviour)
        const nlohmann::json &dtype = j.at("dtype"), &shape = j.at("shape"), &off = j.at("data_offsets");
        if (!dtype.is_string()) throw bad("malformed entry: dtype is not a string");
        i.dtype = dtype.get<std::string>();
        if (!shape.is_array()) throw bad("malformed entry: shape is not an array");
        for (const auto& d : shape) {
            if (d.is_number_integer() && !d.is_number_unsigned()) throw bad("negative dimension");
            if (!d.is_number_unsigned() || d.get<std::uint64_t>() > std::uint64_t(INT64_MAX))
                throw bad("malformed entry: dimension " + d.dump() + " is not an integer in [0, 2^63)");
            i.shape.push_back(d.get<std::int64_t>());
        }
        if (!off.is_array() || off.size() != 2) throw bad("data_offsets must hold two numbers");
        if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
            throw bad("malformed entry: data_offsets " + off.dump() + " are not two integers >= 0");
        i.begin = off[0].get<std::uint64_t>(), i.end = off[1].get<std::uint64_t>();
        const std::size_t elem = safetensors_dtype_size(i.dtype);
        if (!elem) throw bad("unknown dtype " + i.dtype);
        std::uint64_t count = 1;
        bool too_large = false;
        for (auto d : i.shape) {
            too_large = too_large || (d && count > UINT64_MAX / std::uint64_t(d));
            count *= std::uint64_t(d);
        }
        too_large = too_large || count > UINT64_MAX / elem;
        if (too_large) throw bad("shape " + shape_text(i.shape) + " holds more than 2^64 bytes");
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
