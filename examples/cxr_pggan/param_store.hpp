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

// Adam's state by parameter name, across resolutions (config reset_opt_for_new_lod = false): the
// moments "m.<name>" and "v.<name>", and the step count.
struct AdamStore {
    ParamStore moments;
    long steps = 0;
};

template <class D>
void save_adam(pgg::optim::Adam<float, D>& adam, AdamStore& store) {
    const auto& params = adam.parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
        store.moments["m." + params[i].name] = pgg::to<pgg::cpu>(adam.first_moments()[i]);
        store.moments["v." + params[i].name] = pgg::to<pgg::cpu>(adam.second_moments()[i]);
    }
    store.steps = adam.steps();
}

// Moments of the parameters the store knows; the others (new layers) start at zero, as in a fresh Adam.
template <class D>
void load_adam(const AdamStore& store, pgg::optim::Adam<float, D>& adam) {
    adam.reset();
    const auto& params = adam.parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
        const auto m = store.moments.find("m." + params[i].name), v = store.moments.find("v." + params[i].name);
        if (m == store.moments.end() || v == store.moments.end()) continue;
        PGG_CHECK(m->second.shape() == params[i].value.shape() && v->second.shape() == params[i].value.shape(), "Adam state of ",
                  params[i].name, ": stored shape ", m->second.shape(), ", the parameter's ", params[i].value.shape());
        adam.first_moments()[i].copy_(m->second);
        adam.second_moments()[i].copy_(v->second);
    }
    adam.set_steps(store.steps);
}

} // namespace pggan
