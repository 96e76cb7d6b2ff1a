// Harness: pgg::io::SafetensorsFile::read, then every accessor on what it accepted: metadata, the
// tensor table, mismatch() and copy_to() for each tensor of a dtype pgg reads (into a tensor of the
// shape the file states, when that is small), so that an accepted entry's offsets are proven in range.
#include <pgg/core/ops.hpp>
#include <pgg/backend/cpu/eval.hpp>
#include <pgg/io/safetensors.hpp>

#include "fuzz_common.hpp"

namespace {
template <class T>
void copy_out(const pgg::io::SafetensorsFile& f, const std::string& name, const pgg::io::SafetensorsFile::Info& info) {
    if (info.dtype != pgg::io::safetensors_dtype<T>()) {
        if (f.mismatch<T>(name, pgg::Shape{}).empty()) std::abort(); // a dtype mismatch must be reported
        return;
    }
    if (info.shape.size() > 8) return; // pgg shapes hold at most 8 dimensions
    std::vector<pgg::index_t> dims;
    std::uint64_t n = 1;
    for (auto d : info.shape) {
        if (d < 0 || __builtin_mul_overflow(n, std::uint64_t(d), &n)) std::abort(); // accepted: a real element count
        dims.push_back(pgg::index_t(d));
    }
    if (n * sizeof(T) != info.end - info.begin) std::abort();
    if (n > (1u << 20)) return;
    pgg::Tensor<T> t(pgg::Shape::from_range(dims.begin(), dims.end()));
    f.copy_to(name, t);
    unsigned sum = 0;
    const auto* bytes = reinterpret_cast<const unsigned char*>(t.data());
    for (std::size_t i = 0; i < t.bytes(); ++i) sum += bytes[i];
    pgg_fuzz::keep(sum);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = pgg_fuzz::input_file().write(data, size);
    try {
        const auto f = pgg::io::SafetensorsFile::read(path);
        for (const auto& [key, value] : f.metadata())
            if (f.string_metadata(key) != value) std::abort();
        for (const auto& [name, info] : f.tensors()) {
            if (!f.contains(name) || info.end < info.begin) std::abort();
            copy_out<float>(f, name, info);
            copy_out<double>(f, name, info);
            copy_out<std::uint8_t>(f, name, info);
            copy_out<std::int32_t>(f, name, info);
            copy_out<std::int64_t>(f, name, info);
        }
        if (f.mismatch<float>("no such tensor \x01", pgg::Shape{1}).empty()) std::abort();
        try {
            (void)f.string_metadata("no such key \x01");
            std::abort();
        } catch (const pgg::error&) {
        }
    } catch (const pgg::error&) {
    }
    return 0;
}
