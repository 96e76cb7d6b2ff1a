// pgg/io/pickle.hpp: the restricted unpickler on opcode streams written out here as Python's pickle
// module writes them (protocols 2-5), and numpy arrays in the three forms numpy pickles them.
// tests/cxr_pggan/import_official.sh covers real pickles written by Python and numpy.
#include "reference.hpp"

#include <cstring>
#include <string>
#include <vector>

#include <pgg/io/pickle.hpp>

using pgg::io::Pickle;
using pgg::io::PickleValue;
using K = PickleValue::Kind;

namespace {
// Concatenation by appending (GCC 12 warns falsely about literal + std::string temporaries: -Wrestrict).
template <class... A>
std::string cat(const A&... parts) {
    std::string s;
    ((s += parts), ...);
    return s;
}
std::string le(std::uint64_t v, int n) {
    std::string s;
    for (int k = 0; k < n; ++k) s += char(v >> (8 * k) & 0xff);
    return s;
}
std::string str(const std::string& s) { return cat("\x8c", le(s.size(), 1), s); } // SHORT_BINUNICODE
std::string bytes(const std::string& s) { return cat("B", le(s.size(), 4), s); }   // BINBYTES
std::string global(const std::string& m, const std::string& n) { return cat(str(m), str(n), "\x93"); }
std::string small(int v) { return cat("K", le(std::uint64_t(v), 1)); } // BININT1
std::string dtype(const std::string& type, char order) {
    return cat(global("numpy", "dtype"), "(", str(type), "\x89\x88tR(", small(3), str(std::string(1, order)),
               "NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xff", small(0), "tb");
}
std::string shape(const std::vector<int>& dims) {
    std::string s = "(";
    for (int d : dims) s += cat("J", le(std::uint64_t(d), 4)); // BININT
    return s + "t";
}
// ndarray.__reduce__: _reconstruct(ndarray, (0,), b'b'), then __setstate__((1, shape, dtype, fortran, data))
std::string reconstruct(const std::string& type, char order, const std::vector<int>& dims, bool fortran, const std::string& data,
                        const std::string& core = "numpy.core") {
    return cat(global(core + ".multiarray", "_reconstruct"), global("numpy", "ndarray"), small(0), "\x85", bytes("b"), "\x87R(", small(1),
               shape(dims), dtype(type, order), fortran ? "\x88" : "\x89", bytes(data), "tb");
}
std::string proto(const std::string& body, int version = 4) { return cat("\x80", le(std::uint64_t(version), 1), body, "."); }
std::string f32(std::vector<float> v) {
    std::string s(v.size() * 4, '\0');
    std::memcpy(s.data(), v.data(), s.size());
    return s;
}
} // namespace

TEST_CASE("pickle: plain values, containers and the memo", "[pickle]") {
    // {"a": [1, -2, 300, 2**40, -2**40], "b": (True, None, 1.5), "c": b"xy"}, memoized as protocol 4 does
    const std::string body = cat("}\x94(", str("a"), "\x94]\x94(", small(1), "J\xfe\xff\xff\xff", "M,\x01", "\x8a\x06", le(1ull << 40, 6),
                                 "\x8a\x06", le(std::uint64_t(-(1ll << 40)), 6), "e", str("b"), "\x88NG\x3f\xf8", std::string(6, '\0'), "\x87",
                                 str("c"), "C\x02xy", "u");
    const Pickle p = Pickle::parse(proto(cat("\x95", le(body.size(), 8), body)), "plain.pkl");
    const PickleValue& root = p.root();
    REQUIRE(root.is(K::Dict));
    const PickleValue* a = root.find("a");
    REQUIRE((a && a->is(K::List) && a->items.size() == 5));
    CHECK(a->items[0]->i == 1);
    CHECK(a->items[1]->i == -2);
    CHECK(a->items[2]->i == 300);
    CHECK(a->items[3]->i == (1ll << 40));
    CHECK(a->items[4]->i == -(1ll << 40));
    const PickleValue* b = root.find("b");
    REQUIRE((b && b->is(K::Tuple) && b->items.size() == 3));
    CHECK((b->items[0]->is(K::Bool) && b->items[0]->i == 1));
    CHECK(b->items[1]->is(K::None));
    CHECK(b->items[2]->f == 1.5);
    CHECK((root.find("c")->is(K::Bytes) && root.find("c")->s == "xy"));
    CHECK(root.find("missing") == nullptr);

    // BINPUT / BINGET share one value; a list appended to itself is a cycle, read without looping or leaking
    const Pickle shared = Pickle::parse(proto(cat("(", str("x"), "q\x07h\x07t"), 2), "shared.pkl");
    CHECK(shared.root().items[0] == shared.root().items[1]);
    const Pickle cycle = Pickle::parse(proto(std::string("]q\x00" "h\x00" "a", 6), 2), "cycle.pkl");
    CHECK(cycle.root().items.at(0) == &cycle.root());

    // nothing is imported or called: a global is a name, a call an Object recording it
    const Pickle call = Pickle::parse(proto(cat(global("os", "system"), "(", str("rm -rf /"), "tR")), "call.pkl");
    CHECK(call.root().is(K::Object));
    CHECK(call.root().callable->is_global("os.system"));
    CHECK(call.root().args->items.at(0)->s == "rm -rf /");
}

TEST_CASE("pickle: numpy arrays as _reconstruct, _frombuffer (protocol 5) and scalars", "[pickle]") {
    const Pickle c = Pickle::parse(proto(reconstruct("f4", '<', {2, 3}, false, f32({0, 1, 2, 3, 4, 5}))), "c.pkl");
    const auto a = pgg::io::pickled_array(c.root(), "c");
    CHECK(a.type == "f4");
    CHECK(a.shape == std::vector<std::int64_t>{2, 3});
    CHECK(a.values() == std::vector<double>{0, 1, 2, 3, 4, 5});

    // Fortran order, big-endian int32, numpy 2's module name: column-major [[0, 1, 2], [3, 4, 5]]
    std::string be;
    for (int v : {0, 3, 1, 4, 2, 5}) be += cat(std::string(3, '\0'), char(v));
    const Pickle f = Pickle::parse(proto(reconstruct("i4", '>', {2, 3}, true, be, "numpy._core"), 3), "f.pkl");
    CHECK(pgg::io::pickled_array(f.root(), "f").values() == std::vector<double>{0, 1, 2, 3, 4, 5});

    // numpy.core.numeric._frombuffer(buffer, dtype, shape, order), the buffer in-band as BYTEARRAY8
    const std::string buffer = f32({1.5f, -2});
    const Pickle fb = Pickle::parse(proto(cat(global("numpy.core.numeric", "_frombuffer"), "(\x96", le(buffer.size(), 8), buffer, dtype("f4", '<'),
                                              shape({2}), str("C"), "tR"),
                                          5),
                                    "fb.pkl");
    CHECK(pgg::io::pickled_array(fb.root(), "fb").values() == std::vector<double>{1.5, -2});

    // a numpy scalar, as TensorFlow returns a 0-d variable: numpy.core.multiarray.scalar(dtype, bytes)
    const Pickle s = Pickle::parse(proto(cat(global("numpy.core.multiarray", "scalar"), dtype("f4", '<'), "C\x04", f32({0.25f}), "\x86R")),
                                   "s.pkl");
    const auto sa = pgg::io::pickled_array(s.root(), "s");
    CHECK(sa.shape.empty());
    CHECK(sa.values() == std::vector<double>{0.25});
}

TEST_CASE("pickle: bad input is a pgg::error naming the file", "[pickle][fuzz]") {
    auto refused = [](const std::string& bytes, const std::string& part) {
        try {
            Pickle::parse(bytes, "bad.pkl");
        } catch (const pgg::error& e) {
            const std::string what = e.what();
            return what.find("bad.pkl") != std::string::npos && what.find(part) != std::string::npos;
        }
        return false;
    };
    const std::string valid = proto(reconstruct("f4", '<', {2, 3}, false, f32({0, 1, 2, 3, 4, 5})));
    for (std::size_t n = 0; n < valid.size(); ++n) CHECK(refused(valid.substr(0, n), n ? "truncated" : "no protocol header"));
    CHECK(refused("(lp0\nI1\na.", "no protocol header")); // protocol 0 text
    CHECK(refused("\x80\x01N.", "protocol 1"));
    CHECK(refused(proto("a"), "stack underflow"));
    CHECK(refused(proto("))b"), "BUILD on a tuple"));
    CHECK(refused(proto("h\x05"), "memo entry 5 undefined"));
    CHECK(refused(proto("I1\n"), "opcode 0x49"));
    CHECK(refused(proto(cat("(", str("k"), "d")), "odd number of dict items"));
    CHECK(refused(proto(cat("\x8a\x09", std::string(9, '\x01'))), "integer of 9 bytes"));

    auto array_refused = [](const std::string& bytes, const std::string& part) {
        const Pickle p = Pickle::parse(bytes, "arr.pkl");
        try {
            pgg::io::pickled_array(p.root(), "arr.pkl x");
        } catch (const pgg::error& e) {
            return std::string(e.what()).find(part) != std::string::npos;
        }
        return false;
    };
    CHECK(array_refused(proto(reconstruct("f4", '<', {2, 3}, false, f32({0, 1, 2}))), "holds 12 bytes"));
    CHECK(array_refused(proto(reconstruct("f2", '<', {1}, false, "ab")), "dtype 'f2' is not read"));
    CHECK(array_refused(proto(reconstruct("f4", '<', {1 << 30, 1 << 30}, false, f32({1}))), "holds 4 bytes"));
    CHECK(array_refused(proto(small(1)), "not a value of type int"));
    CHECK(array_refused(proto(cat(global("os", "system"), "(tR")), "made by os.system"));
}
