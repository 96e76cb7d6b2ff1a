#pragma once
// Every parameter a run has trained so far, by name, across resolutions: when the networks grow, the
// new stage's networks take what the store holds and keep their fresh initialisation for the rest.
#include <map>
#include <string>
#include <vector>

#include <pgg/pgg.hpp>

namespace pggan {

using ParamStore = std::map<std::string, pgg::Tensor<float>>;

// Copies the network's parameters into the store (replacing entries of the same name).
template <class Net>
void save_parameters(Net& net, ParamStore& store) {
    net.for_each_parameter([&](const std::string& name, auto& value, auto&) { store[name] = pgg::to<pgg::cpu>(value); });
}

// Copies the store's entries into the network's parameters of the same name; returns the names the
// store lacks. A stored shape that differs is an error.
template <class Net>
std::vector<std::string> load_parameters(const ParamStore& store, Net& net) {
    std::vector<std::string> missing;
    net.for_each_parameter([&](const std::string& name, auto& value, auto&) {
        auto it = store.find(name);
        if (it == store.end()) {
            missing.push_back(name);
            return;
        }
        PGG_CHECK(it->second.shape() == value.shape(), "parameter ", name, ": stored shape ", it->second.shape(),
                  ", the network's ", value.shape());
        value.copy_(it->second);
    });
    return missing;
}

} // namespace pggan
