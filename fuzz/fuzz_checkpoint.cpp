// Harness: the checkpoint loaders of pgg/io/checkpoint.hpp (load_network, load_adam) on a safetensors
// file, into a small network with the names and shapes of tests/test_checkpoint.cpp's model:
//   <prefix>conv.weight (4, 1, 3, 3), conv.bias (4), fc.weight (3, 64), fc.bias (3)
// under "G." and "Gs.", Adam's moments under "adam_G." and its step count in the metadata.
// Loading is all or nothing: a rejected file must leave every parameter and the step count as they were.
#include <pgg/core/ops.hpp>
#include <pgg/backend/cpu/eval.hpp>
#include <pgg/io/checkpoint.hpp>

#include <cstring>

#include "fuzz_common.hpp"

namespace {

struct TinyNet {
    using value_type = float;
    using device_type = pgg::cpu;
    pgg::Tensor<float> conv_w{pgg::Shape{4, 1, 3, 3}}, conv_b{pgg::Shape{4}}, fc_w{pgg::Shape{3, 64}}, fc_b{pgg::Shape{3}};
    pgg::Tensor<float> g_conv_w{pgg::Shape{4, 1, 3, 3}}, g_conv_b{pgg::Shape{4}}, g_fc_w{pgg::Shape{3, 64}}, g_fc_b{pgg::Shape{3}};
    template <class F>
    void for_each_parameter(F&& f, const std::string& prefix = "") {
        f(prefix + "conv.weight", conv_w, g_conv_w);
        f(prefix + "conv.bias", conv_b, g_conv_b);
        f(prefix + "fc.weight", fc_w, g_fc_w);
        f(prefix + "fc.bias", fc_b, g_fc_b);
    }
};

// The bytes of every tensor of the network and the optimiser.
std::string state(TinyNet& net, pgg::optim::Adam<float>& adam) {
    std::string s;
    auto add = [&](const pgg::Tensor<float>& t) { s.append(reinterpret_cast<const char*>(t.data()), t.bytes()); };
    net.for_each_parameter([&](const std::string&, pgg::Tensor<float>& v, pgg::Tensor<float>&) { add(v); });
    for (auto& m : adam.first_moments()) add(m);
    for (auto& v : adam.second_moments()) add(v);
    s += std::to_string(adam.steps());
    return s;
}

template <class F>
void all_or_nothing(TinyNet& net, pgg::optim::Adam<float>& adam, F&& load) {
    const std::string before = state(net, adam);
    try {
        load();
    } catch (const pgg::error&) {
        if (state(net, adam) != before) std::abort(); // a rejected load changed something
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = pgg_fuzz::input_file().write(data, size);
    try {
        const auto f = pgg::io::SafetensorsFile::read(path);
        TinyNet g, gs;
        pgg::optim::Adam<float> adam(pgg::nn::parameters(g));
        adam.set_steps(7);
        for (auto* t : {&g.conv_w, &g.conv_b, &g.fc_w, &g.fc_b}) t->fill(0.5f);
        all_or_nothing(g, adam, [&] { pgg::io::load_network(f, g, "G."); });
        all_or_nothing(gs, adam, [&] { pgg::io::load_network(f, gs, "Gs."); });
        all_or_nothing(g, adam, [&] {
            pgg::io::load_adam(f, adam, "adam_G.");
            if (adam.steps() < 0) std::abort(); // a step count must be a count
        });
        all_or_nothing(g, adam, [&] { pgg::io::load_network(f, g); }); // no prefix: every tensor must be in the model
        all_or_nothing(g, adam, [&] { (void)f.require_checksum(); });
    } catch (const pgg::error&) {
    }
    return 0;
}
