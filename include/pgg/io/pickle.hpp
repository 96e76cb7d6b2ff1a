#pragma once
// Python pickles (protocols 2-5) read without Python and without running anything: a restricted
// unpickler that builds a tree of values. A global ("module.name") stays a name; calling it (REDUCE,
// NEWOBJ) makes an Object that records the callable, its arguments and, after BUILD, its state. The
// caller decides what those objects mean: numpy arrays are understood by `pickled_array`. This is how
// trained networks of Python programs (the official PG-GAN's network-*.pkl) are read.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../core/error.hpp"

namespace pgg::io {

struct PickleValue {
    enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Object };
    Kind kind = Kind::None;
    std::int64_t i = 0; // Int, Bool
    double f = 0;       // Float
    std::string_view s; // String, Bytes (into the file's bytes), Global ("module.name", owned by the pickle)
    std::vector<const PickleValue*> items; // Tuple, List; Dict: key, value, key, value, ...
    const PickleValue* callable = nullptr; // Object: what was called,
    const PickleValue* args = nullptr;     // with these arguments (a Tuple),
    const PickleValue* state = nullptr;    // and the state BUILD gave it (nullptr: none)

    bool is(Kind k) const { return kind == k; }
    bool is_global(std::string_view name) const { return kind == Kind::Global && s == name; }
    // The value of a Dict's string key, or nullptr.
    const PickleValue* find(std::string_view key) const {
        if (kind != Kind::Dict) return nullptr;
        for (std::size_t k = 0; k + 1 < items.size(); k += 2)
            if (items[k]->kind == Kind::String && items[k]->s == key) return items[k + 1];
        return nullptr;
    }
};

inline const char* pickle_kind_name(PickleValue::Kind k) {
    constexpr const char* names[] = {"None", "bool", "int", "float", "str", "bytes", "tuple", "list", "dict", "global", "object"};
    return names[int(k)];
}

// A parsed pickle: owns its bytes and every value; `root()` is what pickle.load would return.
class Pickle {
public:
    static Pickle read(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw error(path + ": cannot open");
        std::ostringstream ss;
        ss << in.rdbuf();
        if (in.bad()) throw error(path + ": read error");
        return parse(std::move(ss).str(), path);
    }
    // `name` is used in error messages (the file's path).
    static Pickle parse(std::string bytes, const std::string& name) {
        Pickle p;
        p.bytes_ = std::make_unique<std::string>(std::move(bytes));
        p.name_ = name;
        p.run();
        return p;
    }
    const PickleValue& root() const { return *root_; }
    const std::string& name() const { return name_; }

private:
    std::unique_ptr<std::string> bytes_; // stable address: values point into it
    std::string name_;
    std::vector<std::unique_ptr<PickleValue>> values_;
    std::vector<std::unique_ptr<std::string>> names_; // globals' "module.name"
    const PickleValue* root_ = nullptr;

    [[noreturn]] void fail(std::size_t at, const std::string& what) const {
        throw error(name_ + ": not a pickle this reader accepts: " + what + " (byte " + std::to_string(at) + ")");
    }
    PickleValue* make(PickleValue::Kind k) {
        values_.push_back(std::make_unique<PickleValue>());
        values_.back()->kind = k;
        return values_.back().get();
    }

    void run() {
        const std::string_view b = *bytes_;
        std::size_t pos = 0, op_at = 0;
        std::vector<PickleValue*> stack;
        std::vector<std::size_t> marks;
        std::unordered_map<std::uint64_t, PickleValue*> memo;
        if (b.empty() || std::uint8_t(b[0]) != 0x80) fail(0, "no protocol header (protocol 2 or later)");
        auto need = [&](std::size_t n) {
            if (b.size() - pos < n) fail(op_at, "truncated");
        };
        auto uint = [&](int n) {
            need(std::size_t(n));
            std::uint64_t v = 0;
            for (int k = n - 1; k >= 0; --k) v = v << 8 | std::uint8_t(b[pos + std::size_t(k)]);
            pos += std::size_t(n);
            return v;
        };
        auto take = [&](std::uint64_t n) {
            need(n > b.size() ? b.size() + 1 : std::size_t(n));
            const std::string_view v = b.substr(pos, std::size_t(n));
            pos += std::size_t(n);
            return v;
        };
        auto line = [&] {
            const std::size_t end = b.find('\n', pos);
            if (end == std::string_view::npos) fail(op_at, "truncated");
            const std::string_view v = b.substr(pos, end - pos);
            pos = end + 1;
            return v;
        };
        auto pop = [&] {
            if (stack.empty() || (!marks.empty() && stack.size() == marks.back())) fail(op_at, "stack underflow");
            PickleValue* v = stack.back();
            stack.pop_back();
            return v;
        };
        auto top = [&]() -> PickleValue* {
            if (stack.empty() || (!marks.empty() && stack.size() == marks.back())) fail(op_at, "stack underflow");
            return stack.back();
        };
        auto pop_mark = [&] { // the values above the last MARK, which is removed
            if (marks.empty()) fail(op_at, "no MARK");
            std::vector<const PickleValue*> v(stack.begin() + std::ptrdiff_t(marks.back()), stack.end());
            stack.resize(marks.back());
            marks.pop_back();
            return v;
        };
        auto push = [&](PickleValue* v) { stack.push_back(v); };
        auto scalar = [&](PickleValue::Kind k) {
            PickleValue* v = make(k);
            push(v);
            return v;
        };
        auto text = [&](PickleValue::Kind k, std::string_view s) { scalar(k)->s = s; };
        auto global = [&](std::string_view module, std::string_view qualname) {
            names_.push_back(std::make_unique<std::string>(std::string(module) + "." + std::string(qualname)));
            text(PickleValue::Kind::Global, *names_.back());
        };
        auto container = [&](PickleValue::Kind k, std::vector<const PickleValue*> items) {
            if (k == PickleValue::Kind::Dict && items.size() % 2) fail(op_at, "odd number of dict items");
            scalar(k)->items = std::move(items);
        };
        auto extend = [&](PickleValue* target, const std::vector<const PickleValue*>& items, PickleValue::Kind k) {
            if (!target->is(k)) fail(op_at, std::string("adding items to a ") + pickle_kind_name(target->kind));
            if (k == PickleValue::Kind::Dict && items.size() % 2) fail(op_at, "odd number of dict items");
            target->items.insert(target->items.end(), items.begin(), items.end());
        };
        auto call = [&](const PickleValue* callable, const PickleValue* args) {
            if (!args->is(PickleValue::Kind::Tuple)) fail(op_at, "call arguments are not a tuple");
            PickleValue* v = scalar(PickleValue::Kind::Object);
            v->callable = callable, v->args = args;
        };
        auto memo_get = [&](std::uint64_t key) {
            const auto it = memo.find(key);
            if (it == memo.end()) fail(op_at, "memo entry " + std::to_string(key) + " undefined");
            push(it->second);
        };

        for (;;) {
            op_at = pos;
            need(1);
            const auto op = std::uint8_t(b[pos++]);
            using K = PickleValue::Kind;
            switch (op) {
            case 0x80: { // PROTO
                const auto v = uint(1);
                if (v < 2 || v > 5) fail(op_at, "protocol " + std::to_string(v) + " (2 to 5 are read)");
                break;
            }
            case 0x95: uint(8); break; // FRAME: a length hint only
            case '.':                  // STOP
                root_ = pop();
                return;
            case '(': marks.push_back(stack.size()); break;
            case '0': pop(); break;
            case '1': pop_mark(); break;
            case '2': push(top()); break;
            case 'N': scalar(K::None); break;
            case 0x88: scalar(K::Bool)->i = 1; break;
            case 0x89: scalar(K::Bool)->i = 0; break;
            case 'J': scalar(K::Int)->i = std::int32_t(std::uint32_t(uint(4))); break;
            case 'K': scalar(K::Int)->i = std::int64_t(uint(1)); break;
            case 'M': scalar(K::Int)->i = std::int64_t(uint(2)); break;
            case 0x8a: { // LONG1: little-endian two's complement of n bytes
                const auto n = int(uint(1));
                if (n > 8) fail(op_at, "integer of " + std::to_string(n) + " bytes");
                std::uint64_t v = n ? uint(n) : 0;
                if (n && n < 8 && (v >> (8 * n - 1) & 1)) v |= ~std::uint64_t(0) << (8 * n);
                scalar(K::Int)->i = std::int64_t(v);
                break;
            }
            case 'G': { // BINFLOAT: big-endian IEEE double
                need(8);
                std::uint64_t v = 0;
                for (int k = 0; k < 8; ++k) v = v << 8 | std::uint8_t(b[pos++]);
                scalar(K::Float)->f = std::bit_cast<double>(v);
                break;
            }
            case 0x8c: text(K::String, take(uint(1))); break; // SHORT_BINUNICODE
            case 'X': text(K::String, take(uint(4))); break;  // BINUNICODE
            case 0x8d: text(K::String, take(uint(8))); break; // BINUNICODE8
            case 'U': text(K::String, take(uint(1))); break;  // SHORT_BINSTRING (Python 2 str)
            case 'T': {                                       // BINSTRING
                const auto n = std::int32_t(std::uint32_t(uint(4)));
                if (n < 0) fail(op_at, "negative string length");
                text(K::String, take(std::uint64_t(n)));
                break;
            }
            case 'C': text(K::Bytes, take(uint(1))); break;  // SHORT_BINBYTES
            case 'B': text(K::Bytes, take(uint(4))); break;  // BINBYTES
            case 0x8e: text(K::Bytes, take(uint(8))); break; // BINBYTES8
            case 0x96: text(K::Bytes, take(uint(8))); break; // BYTEARRAY8
            case ')': container(K::Tuple, {}); break;
            case 't': container(K::Tuple, pop_mark()); break;
            case 0x85: container(K::Tuple, {pop()}); break;
            case 0x86: {
                const PickleValue* y = pop();
                container(K::Tuple, {pop(), y});
                break;
            }
            case 0x87: {
                const PickleValue* z = pop();
                const PickleValue* y = pop();
                container(K::Tuple, {pop(), y, z});
                break;
            }
            case ']': container(K::List, {}); break;
            case 'l': container(K::List, pop_mark()); break;
            case 'a': {
                const PickleValue* v = pop();
                extend(top(), {v}, K::List);
                break;
            }
            case 'e': {
                auto items = pop_mark();
                extend(top(), items, K::List);
                break;
            }
            case '}': container(K::Dict, {}); break;
            case 'd': container(K::Dict, pop_mark()); break;
            case 's': {
                const PickleValue* v = pop();
                const PickleValue* k = pop();
                extend(top(), {k, v}, K::Dict);
                break;
            }
            case 'u': {
                auto items = pop_mark();
                extend(top(), items, K::Dict);
                break;
            }
            case 'c': { // GLOBAL "module\nname\n"
                const std::string_view module = line();
                global(module, line());
                break;
            }
            case 0x93: { // STACK_GLOBAL
                const PickleValue* qualname = pop();
                const PickleValue* module = pop();
                if (!module->is(K::String) || !qualname->is(K::String)) fail(op_at, "STACK_GLOBAL of non-strings");
                global(module->s, qualname->s);
                break;
            }
            case 'R': { // REDUCE
                const PickleValue* args = pop();
                call(pop(), args);
                break;
            }
            case 0x81: { // NEWOBJ
                const PickleValue* args = pop();
                call(pop(), args);
                break;
            }
            case 0x92: { // NEWOBJ_EX: keyword arguments are not kept
                pop();
                const PickleValue* args = pop();
                call(pop(), args);
                break;
            }
            case 'b': { // BUILD
                const PickleValue* state = pop();
                PickleValue* obj = top();
                if (!obj->is(K::Object) || obj->state) fail(op_at, std::string("BUILD on a ") + pickle_kind_name(obj->kind));
                obj->state = state;
                break;
            }
            case 'q': memo[uint(1)] = top(); break;
            case 'r': memo[uint(4)] = top(); break;
            case 0x94: { // MEMOIZE
                const std::uint64_t key = memo.size();
                memo[key] = top();
                break;
            }
            case 'h': memo_get(uint(1)); break;
            case 'j': memo_get(uint(4)); break;
            default: {
                std::ostringstream what;
                what << "opcode 0x" << std::hex << int(op) << " (not used by pickles of protocols 2-5 with plain data)";
                fail(op_at, what.str());
            }
            }
        }
    }
};

// A numpy array held in a pickle: its element type (numpy's kind and size, such as "f4"), byte order,
// shape, memory order and raw bytes.
struct PickledArray {
    std::string type;       // "f4", "f8", "i8", ...
    bool big_endian = false;
    bool fortran = false;
    std::vector<std::int64_t> shape;
    std::string_view data;

    std::int64_t size() const {
        std::int64_t n = 1;
        for (std::int64_t d : shape) n *= d;
        return n;
    }
    // The values as double, in C order (a Fortran-ordered array is transposed).
    std::vector<double> values() const;
};

namespace detail {
inline bool is_numpy(const PickleValue& v, std::string_view module, std::string_view name) {
    // numpy 2 renamed numpy.core to numpy._core; pickles of either are read alike
    if (!v.is(PickleValue::Kind::Global)) return false;
    for (std::string_view prefix : {"numpy.core.", "numpy._core."})
        if (v.s.size() == prefix.size() + module.size() + 1 + name.size() && v.s.substr(0, prefix.size()) == prefix &&
            v.s.substr(prefix.size(), module.size()) == module && v.s[prefix.size() + module.size()] == '.' &&
            v.s.substr(prefix.size() + module.size() + 1) == name)
            return true;
    return false;
}

// numpy.dtype(type, align, copy) with BUILD state (version, byte order, ...).
inline void read_dtype(const PickleValue& d, PickledArray& a, const std::string& where) {
    if (!d.is(PickleValue::Kind::Object) || !d.callable->is_global("numpy.dtype") || d.args->items.empty() ||
        !d.args->items[0]->is(PickleValue::Kind::String))
        throw error(where + ": not a numpy dtype");
    a.type = std::string(d.args->items[0]->s);
    char order = '|';
    if (d.state && d.state->is(PickleValue::Kind::Tuple) && d.state->items.size() > 1 && d.state->items[1]->is(PickleValue::Kind::String) &&
        d.state->items[1]->s.size() == 1)
        order = d.state->items[1]->s[0];
    a.big_endian = order == '>';
}

inline std::vector<std::int64_t> read_shape(const PickleValue& s, const std::string& where) {
    if (!s.is(PickleValue::Kind::Tuple)) throw error(where + ": array shape is not a tuple");
    std::vector<std::int64_t> shape;
    std::int64_t n = 1;
    for (const PickleValue* d : s.items) {
        if (!d->is(PickleValue::Kind::Int) || d->i < 0) throw error(where + ": bad array dimension");
        if (d->i && n > std::numeric_limits<std::int64_t>::max() / d->i) throw error(where + ": array too large");
        n *= d->i;
        shape.push_back(d->i);
    }
    return shape;
}

inline std::size_t dtype_bytes(const PickledArray& a, const std::string& where) {
    if (a.type == "f4" || a.type == "i4" || a.type == "u4") return 4;
    if (a.type == "f8" || a.type == "i8" || a.type == "u8") return 8;
    if (a.type == "i2" || a.type == "u2") return 2;
    if (a.type == "i1" || a.type == "u1" || a.type == "b1") return 1;
    throw error(where + ": numpy dtype '" + a.type + "' is not read");
}
} // namespace detail

// The numpy array `v` stands for, as pickled by numpy (ndarray.__reduce__ via _reconstruct and
// __setstate__, protocol 5's _frombuffer, or a numpy scalar as shape ()); `where` names it in errors.
inline PickledArray pickled_array(const PickleValue& v, const std::string& where) {
    using K = PickleValue::Kind;
    PickledArray a;
    if (!v.is(K::Object)) throw error(where + ": a numpy array was expected, not a value of type " + pickle_kind_name(v.kind));
    const PickleValue* buffer = nullptr;
    if (detail::is_numpy(*v.callable, "multiarray", "_reconstruct")) {
        // state: (version, shape, dtype, is_fortran, data)
        const PickleValue* s = v.state;
        if (!s || !s->is(K::Tuple) || s->items.size() != 5 || !s->items[3]->is(K::Bool))
            throw error(where + ": numpy array without its state");
        a.shape = detail::read_shape(*s->items[1], where);
        detail::read_dtype(*s->items[2], a, where);
        a.fortran = s->items[3]->i != 0;
        buffer = s->items[4];
    } else if (detail::is_numpy(*v.callable, "numeric", "_frombuffer")) {
        // args: (buffer, dtype, shape, order)
        const auto& args = v.args->items;
        if (args.size() != 4 || !args[3]->is(K::String)) throw error(where + ": numpy array with unexpected arguments");
        detail::read_dtype(*args[1], a, where);
        a.shape = detail::read_shape(*args[2], where);
        a.fortran = args[3]->s == "F";
        buffer = args[0];
    } else if (detail::is_numpy(*v.callable, "multiarray", "scalar")) {
        // a numpy scalar (what TensorFlow returns for a 0-d variable): args (dtype, bytes), shape ()
        const auto& args = v.args->items;
        if (args.size() != 2) throw error(where + ": numpy scalar with unexpected arguments");
        detail::read_dtype(*args[0], a, where);
        buffer = args[1];
    } else {
        throw error(where + ": a numpy array was expected, not an object made by " + std::string(v.callable->is(K::Global) ? v.callable->s : "a call"));
    }
    if (!buffer->is(K::Bytes) && !buffer->is(K::String)) throw error(where + ": numpy array data is not bytes");
    const std::size_t item = detail::dtype_bytes(a, where);
    if (std::uint64_t(a.size()) > buffer->s.size() / item || std::uint64_t(a.size()) * item != buffer->s.size())
        throw error(where + ": numpy array of " + std::to_string(a.size()) + " " + a.type + " values holds " +
                    std::to_string(buffer->s.size()) + " bytes");
    a.data = buffer->s;
    return a;
}

inline std::vector<double> PickledArray::values() const {
    const std::size_t item = std::min<std::size_t>(detail::dtype_bytes(*this, "numpy array"), 8);
    const std::size_t n = std::size_t(size());
    std::vector<double> out(n);
    for (std::size_t k = 0; k < n; ++k) {
        unsigned char raw[8];
        std::memcpy(raw, data.data() + k * item, item);
        if (big_endian != (std::endian::native == std::endian::big))
            for (std::size_t l = 0; l < item / 2; ++l) std::swap(raw[l], raw[item - 1 - l]);
        auto get = [&]<class T>(T) {
            T x;
            std::memcpy(&x, raw, sizeof(T));
            return double(x);
        };
        switch (type[0] * 16 + type[1]) {
        case 'f' * 16 + '4': out[k] = get(float{}); break;
        case 'f' * 16 + '8': out[k] = get(double{}); break;
        case 'i' * 16 + '1': out[k] = get(std::int8_t{}); break;
        case 'i' * 16 + '2': out[k] = get(std::int16_t{}); break;
        case 'i' * 16 + '4': out[k] = get(std::int32_t{}); break;
        case 'i' * 16 + '8': out[k] = get(std::int64_t{}); break;
        case 'u' * 16 + '1': case 'b' * 16 + '1': out[k] = get(std::uint8_t{}); break;
        case 'u' * 16 + '2': out[k] = get(std::uint16_t{}); break;
        case 'u' * 16 + '4': out[k] = get(std::uint32_t{}); break;
        case 'u' * 16 + '8': out[k] = get(std::uint64_t{}); break;
        default: throw error("numpy dtype '" + type + "' is not read");
        }
    }
    if (fortran && shape.size() > 1) { // column-major to row-major
        std::vector<double> c(n);
        std::vector<std::int64_t> idx(shape.size(), 0);
        for (std::size_t k = 0; k < n; ++k) {
            std::size_t f = 0, stride = 1;
            for (std::size_t d = 0; d < shape.size(); ++d) f += std::size_t(idx[d]) * stride, stride *= std::size_t(shape[d]);
            c[k] = out[f];
            for (std::size_t d = shape.size(); d-- > 0;)
                if (++idx[d] < shape[d]) break;
                else idx[d] = 0;
        }
        out = std::move(c);
    }
    return out;
}

} // namespace pgg::io
