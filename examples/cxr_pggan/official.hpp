#pragma once
// The official PG-GAN code's trained networks in pgg's names and layouts: network-*.pkl, the pickled
// (G, D, Gs) tuple of tfutil.Network objects built by G_paper and D_paper (the official networks.py),
// read without TensorFlow or Python (pgg/io/pickle.hpp). docs/cxr_pggan.md, "Networks of the official
// code", lists the mapping. Only pgg/core and pgg/io: fuzz/fuzz_pickle.cpp compiles it with clang 14.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <pgg/core/tensor.hpp>
#include <pgg/io/pickle.hpp>

namespace pggan::official {

using Params = std::map<std::string, pgg::Tensor<float>>; // pggan::ParamStore

struct OfficialNetworks {
    long resolution, channels, fmap_base, fmap_max, latent_size;
    double lod; // the official level of detail: 0 the full resolution; 1.5 half of it, halfway faded in over a quarter
    Params G, D, Gs;
};

using pgg::io::PickledArray;
using pgg::io::PickleValue;
using Kind = PickleValue::Kind;

// One of the three networks: its build function, keyword arguments and variables by name.
struct OfficialNetwork {
    std::string where; // "FILE (Gs)", for messages
    std::string build_func;
    const PickleValue* kwargs = nullptr;
    std::map<std::string, PickledArray> vars;

    [[noreturn]] void fail(const std::string& what) const { throw pgg::error(where + ": " + what); }

    const PickleValue* kwarg(const std::string& key) const {
        const PickleValue* v = kwargs->find(key);
        return v && !v->is(Kind::None) ? v : nullptr;
    }
    long integer(const std::string& key, long fallback) const {
        const PickleValue* v = kwarg(key);
        if (!v) return fallback;
        if (!v->is(Kind::Int) && !v->is(Kind::Bool)) fail("static_kwargs['" + key + "'] is not an integer");
        return long(v->i);
    }
    double real(const std::string& key, double fallback) const {
        const PickleValue* v = kwarg(key);
        if (!v) return fallback;
        if (v->is(Kind::Float)) return v->f;
        if (v->is(Kind::Int)) return double(v->i);
        fail("static_kwargs['" + key + "'] is not a number");
    }
    bool flag(const std::string& key, bool fallback) const { return integer(key, fallback) != 0; }
    std::string text(const std::string& key, const std::string& fallback) const {
        const PickleValue* v = kwarg(key);
        if (!v) return fallback;
        if (!v->is(Kind::String)) fail("static_kwargs['" + key + "'] is not a string");
        return std::string(v->s);
    }
};

inline OfficialNetwork read_network(const PickleValue& v, const std::string& where) {
    OfficialNetwork net;
    net.where = where;
    if (!v.is(Kind::Object) || !v.callable->is_global("tfutil.Network") || !v.state || !v.state->is(Kind::Dict))
        net.fail("not an official PG-GAN network (a pickled tfutil.Network)");
    const PickleValue& s = *v.state;
    const PickleValue* version = s.find("version");
    if (!version || !version->is(Kind::Int) || version->i != 2)
        net.fail("network state of version " + (version && version->is(Kind::Int) ? std::to_string(version->i) : std::string("?")) +
                 "; the official code's version 2 is read");
    const PickleValue* func = s.find("build_func_name");
    const PickleValue* kwargs = s.find("static_kwargs");
    const PickleValue* vars = s.find("variables");
    if (!func || !func->is(Kind::String) || !kwargs || !kwargs->is(Kind::Dict) || !vars || !vars->is(Kind::List))
        net.fail("network state without build_func_name, static_kwargs or variables");
    net.build_func = std::string(func->s);
    net.kwargs = kwargs;
    for (const PickleValue* item : vars->items) {
        if (!item->is(Kind::Tuple) || item->items.size() != 2 || !item->items[0]->is(Kind::String))
            net.fail("a variable is not a (name, array) pair");
        const std::string name(item->items[0]->s);
        if (!net.vars.emplace(name, pgg::io::pickled_array(*item->items[1], where + " variable " + name)).second)
            net.fail("variable " + name + " appears twice");
    }
    return net;
}

// How an official variable becomes a pgg parameter.
enum class Layout {
    Bias,   // [n]
    Dense,  // [in, out] -> [out, in]
    Conv,   // [k, k, in, out] (HWIO) -> [out, in, k, k]
    ConvUp, // the fused upscale2d_conv2d: [k, k, out, in], applied transposed -> flipped [out, in, k, k]
};

struct Target {
    std::string name; // pgg's
    Layout layout;
    long in = 0, out = 0, k = 1;
    double gain = std::sqrt(2.0);
};

inline long pgg_nf(long base, long max, long r) { return std::max(1L, std::min(2 * base / r, max)); }

inline std::string shape_text(const std::vector<std::int64_t>& shape) {
    std::string s = "[";
    for (std::size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
    return s + "]";
}

// The official variable names of G_paper (generator) or D_paper at `resolution`, and what each becomes.
inline std::map<std::string, Target> official_layout(bool generator, long resolution, long channels, long latent, bool fused, long base,
                                              long max) {
    auto nf_at = [&](long r) { return pgg_nf(base, max, r); };
    std::map<std::string, Target> t;
    auto layer = [&](const std::string& official, const std::string& pgg, Layout layout, long in, long out, long k, double gain) {
        t[official + "/weight"] = {pgg + ".weight", layout, in, out, k, gain};
        t[official + "/bias"] = {pgg + ".bias", Layout::Bias, 0, layout == Layout::Dense && official == "4x4/Dense" ? out / 16 : out};
    };
    const double sqrt2 = std::sqrt(2.0);
    int lod = 0;
    for (long r = resolution; r >= 4; r /= 2, ++lod) {
        const std::string res = std::to_string(r) + "x" + std::to_string(r), b = "b" + std::to_string(r);
        if (generator) {
            layer("ToRGB_lod" + std::to_string(lod), "torgb" + std::to_string(r), Layout::Conv, nf_at(r), channels, 1, 1.0);
            if (r == 4) {
                layer(res + "/Dense", b + ".dense", Layout::Dense, latent, nf_at(4) * 16, 1, sqrt2 / 4);
                layer(res + "/Conv", b + ".conv", Layout::Conv, nf_at(4), nf_at(4), 3, sqrt2);
            } else {
                layer(res + (fused ? "/Conv0_up" : "/Conv0"), b + ".conv0", fused ? Layout::ConvUp : Layout::Conv, nf_at(r / 2), nf_at(r), 3, sqrt2);
                layer(res + "/Conv1", b + ".conv1", Layout::Conv, nf_at(r), nf_at(r), 3, sqrt2);
            }
        } else {
            layer("FromRGB_lod" + std::to_string(lod), "fromrgb" + std::to_string(r) + ".0", Layout::Conv, channels, nf_at(r), 1, sqrt2);
            if (r == 4) {
                layer(res + "/Conv", b + ".conv", Layout::Conv, nf_at(4) + 1, nf_at(4), 3, sqrt2);
                layer(res + "/Dense0", b + ".dense0", Layout::Dense, nf_at(4) * 16, nf_at(4), 1, sqrt2);
                layer(res + "/Dense1", b + ".dense1", Layout::Dense, nf_at(4), 1, 1, 1.0);
            } else {
                layer(res + "/Conv0", b + ".conv0", Layout::Conv, nf_at(r), nf_at(r), 3, sqrt2);
                layer(res + "/Conv1_down", b + ".conv1", Layout::Conv, nf_at(r), nf_at(r / 2), 3, sqrt2);
            }
        }
    }
    return t;
}

// The pgg parameters of one network; `wscale`: the official weights are scaled at run time as pgg's
// are (use_wscale), else they are the run-time weights and pgg's stored ones are divided by the scale.
inline Params convert(const OfficialNetwork& net, const std::map<std::string, Target>& layout, bool wscale) {
    Params store;
    for (const auto& [name, a] : net.vars) {
        if (name == "lod") continue;
        const auto it = layout.find(name);
        if (it == layout.end()) net.fail("variable " + name + " (shape " + shape_text(a.shape) +
                                         ") has no place in pgg's network of these settings");
        const Target& t = it->second;
        std::vector<std::int64_t> expect;
        switch (t.layout) {
        case Layout::Bias: expect = {t.out}; break;
        case Layout::Dense: expect = {t.in, t.out}; break;
        case Layout::Conv: expect = {t.k, t.k, t.in, t.out}; break;
        case Layout::ConvUp: expect = {t.k, t.k, t.out, t.in}; break;
        }
        if (a.shape != expect)
            net.fail("variable " + name + " has shape " + shape_text(a.shape) + ", expected " +
                     shape_text(expect));
        const std::vector<double> v = a.values();
        const double scale = wscale || t.layout == Layout::Bias ? 1.0 : std::sqrt(double(t.in * t.k * t.k)) / t.gain;
        pgg::Tensor<float> p;
        switch (t.layout) {
        case Layout::Bias:
            p = pgg::Tensor<float>({t.out});
            for (long o = 0; o < t.out; ++o) p.data()[o] = float(v[o]);
            break;
        case Layout::Dense:
            p = pgg::Tensor<float>({t.out, t.in});
            for (long i = 0; i < t.in; ++i)
                for (long o = 0; o < t.out; ++o) p.data()[o * t.in + i] = float(v[i * t.out + o] * scale);
            break;
        case Layout::Conv:
        case Layout::ConvUp:
            // a transposed convolution with stride 2 of the 2x2-summed kernel is nearest upsampling followed
            // by a convolution with the kernel rotated by 180 degrees
            p = pgg::Tensor<float>({t.out, t.in, t.k, t.k});
            for (long y = 0; y < t.k; ++y)
                for (long x = 0; x < t.k; ++x)
                    for (long i = 0; i < t.in; ++i)
                        for (long o = 0; o < t.out; ++o) {
                            const bool up = t.layout == Layout::ConvUp;
                            const long sy = up ? t.k - 1 - y : y, sx = up ? t.k - 1 - x : x;
                            const double w = up ? v[((sy * t.k + sx) * t.out + o) * t.in + i] : v[((sy * t.k + sx) * t.in + i) * t.out + o];
                            p.data()[((o * t.in + i) * t.k + y) * t.k + x] = float(w * scale);
                        }
            break;
        }
        for (pgg::index_t k = 0; k < p.numel(); ++k) // also a float64 value past float32's range
            if (!std::isfinite(p.data()[k])) net.fail("variable " + name + " holds a value that is not a finite float32");
        store[t.name] = p;
    }
    for (const auto& [name, t] : layout)
        if (!net.vars.count(name)) net.fail("variable " + name + " is missing");
    return store;
}

// The (G, D, Gs) of an official network-*.pkl in pgg's names and layouts.
inline OfficialNetworks read_official(const std::string& in) {
    const auto pickle = pgg::io::Pickle::read(in);
    const PickleValue& root = pickle.root();
    if (!root.is(Kind::Tuple) || root.items.size() != 3)
        throw pgg::error(in + ": not an official PG-GAN snapshot: a (G, D, Gs) tuple was expected; the pickle holds a value of type " +
                         std::string(pgg::io::pickle_kind_name(root.kind)));
    const OfficialNetwork g = read_network(*root.items[0], in + " (G)"), d = read_network(*root.items[1], in + " (D)"),
                          gs = read_network(*root.items[2], in + " (Gs)");
    for (const OfficialNetwork* n : {&g, &gs})
        if (n->build_func != "G_paper") n->fail("built by " + n->build_func + "; pgg represents the paper's G_paper");
    if (d.build_func != "D_paper") d.fail("built by " + d.build_func + "; pgg represents the paper's D_paper");

    // G_paper's and D_paper's defaults (official networks.py) for the keywords a snapshot leaves out
    const long resolution = gs.integer("resolution", 32), channels = gs.integer("num_channels", 1);
    const long base = gs.integer("fmap_base", 8192), max = gs.integer("fmap_max", 512);
    const long latent = gs.integer("latent_size", std::min(base, max));
    auto refuse = [](const OfficialNetwork& n, bool bad, const std::string& why) {
        if (bad) n.fail(why + ": pgg's PG-GAN cannot represent this network");
    };
    for (const OfficialNetwork* n : {&g, &d, &gs}) {
        refuse(*n, n->integer("resolution", 32) != resolution || n->integer("num_channels", 1) != channels ||
                       n->integer("fmap_base", 8192) != base || n->integer("fmap_max", 512) != max,
               "its resolution, channels or widths differ from Gs's");
        refuse(*n, n->integer("label_size", 0) != 0, "conditioned on labels (label_size " + std::to_string(n->integer("label_size", 0)) + ")");
        refuse(*n, n->real("fmap_decay", 1.0) != 1.0, "fmap_decay " + std::to_string(n->real("fmap_decay", 1.0)) + " (pgg halves the maps: 1.0)");
        refuse(*n, n->text("dtype", "float32") != "float32", "dtype " + n->text("dtype", "float32") + " (pgg computes in float32)");
        refuse(*n, n->flag("use_wscale", true) != gs.flag("use_wscale", true), "use_wscale differs between the networks");
    }
    for (const OfficialNetwork* n : {&g, &gs}) {
        refuse(*n, n->integer("latent_size", std::min(base, max)) != latent, "its latent size differs from Gs's");
        refuse(*n, !n->flag("normalize_latents", true), "normalize_latents=False");
        refuse(*n, !n->flag("use_pixelnorm", true), "use_pixelnorm=False");
        refuse(*n, n->real("pixelnorm_epsilon", 1e-8) != 1e-8, "pixelnorm_epsilon other than 1e-8");
        refuse(*n, !n->flag("use_leakyrelu", true), "use_leakyrelu=False (ReLU)");
        refuse(*n, n->flag("fused_scale", true) != gs.flag("fused_scale", true), "fused_scale differs between G and Gs");
    }
    refuse(d, d.integer("mbstd_group_size", 4) != 4, "mbstd_group_size " + std::to_string(d.integer("mbstd_group_size", 4)) + " (pgg's is 4)");
    refuse(d, !d.flag("fused_scale", true), "fused_scale=False in D (bias and leaky ReLU before the 2x2 pooling; pgg's D pools first)");
    if (resolution < 4 || resolution > 1024 || (resolution & (resolution - 1)))
        gs.fail("resolution " + std::to_string(resolution) + ": a power of two from 4 to 1024 is expected");
    constexpr long most = 1L << 20;
    refuse(gs, channels < 1 || channels > 4 || latent < 1 || latent > most || base < 1 || base > most || max < 1 || max > most,
           "num_channels (1-4), latent_size, fmap_base or fmap_max (1-2^20) out of range");
    for (long r = 4; r <= resolution; r *= 2)
        refuse(gs, base / (r / 2) < 1, "fewer than one feature map at " + std::to_string(r) + "x" + std::to_string(r));
    // D's Dense0 has nf(0) = min(fmap_base, fmap_max) outputs, pgg's nf(4) = min(fmap_base / 2, fmap_max)
    refuse(d, std::min(base, max) != pgg_nf(base, max, 4), "D's 4x4/Dense0 is wider than its 4x4 convolution (fmap_base / 2 < fmap_max)");

    // the level of detail G was trained to: pgg's stage at resolution >> floor(lod), fading by lod - floor(lod)
    const auto lod_it = gs.vars.find("lod");
    if (lod_it == gs.vars.end() || lod_it->second.size() != 1) gs.fail("no scalar variable lod");
    const double lod = lod_it->second.values()[0];
    const int levels = int(std::log2(double(resolution))) - 2;
    if (!(lod >= 0 && lod <= levels)) gs.fail("lod " + std::to_string(lod) + " outside 0.." + std::to_string(levels));

    const bool wscale = gs.flag("use_wscale", true), fused = gs.flag("fused_scale", true);
    const auto g_layout = official_layout(true, resolution, channels, latent, fused, base, max);
    const auto d_layout = official_layout(false, resolution, channels, latent, true, base, max);
    return {resolution, channels, base, max, latent, lod, convert(g, g_layout, wscale), convert(d, d_layout, wscale),
            convert(gs, g_layout, wscale)};
}


} // namespace pggan::official
