#pragma once
// Checkpoints of networks and optimiser state in one safetensors file. Names are the parameters'
// hierarchical names under a prefix ("G.", "Gs.", "D.", "adam_G.m."); loading checks every name,
// shape and dtype first, reports each mismatch by name, and changes nothing unless all match.
#include <charconv>
#include <set>
#include <sstream>

#include "../nn/layer.hpp"
#include "../optim/adam.hpp"
#include "../optim/sgd.hpp"
#include "safetensors.hpp"

namespace pgg::io {

template <class Net>
void add_network(SafetensorsWriter& w, Net& net, const std::string& prefix = "") {
    net.for_each_parameter([&](const std::string& name, auto& value, auto&) { w.add(prefix + name, value); });
}

template <class T, class D>
void add_adam(SafetensorsWriter& w, optim::Adam<T, D>& adam, const std::string& prefix) {
    const auto& params = adam.parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
        w.add(prefix + "m." + params[i].name, adam.first_moments()[i]);
        w.add(prefix + "v." + params[i].name, adam.second_moments()[i]);
    }
    w.metadata(prefix + "steps", std::to_string(adam.steps()));
}

template <class T, class D>
void add_sgd(SafetensorsWriter& w, optim::SGD<T, D>& sgd, const std::string& prefix) {
    const auto& params = sgd.parameters();
    for (std::size_t i = 0; i < params.size(); ++i) w.add(prefix + "momentum." + params[i].name, sgd.momentum_buffers()[i]);
    w.metadata(prefix + "steps", std::to_string(sgd.steps()));
}

namespace detail {
// Checks (name, tensor) pairs against the file, plus names under `prefix` that the model lacks.
template <class Pairs>
void require_match(const SafetensorsFile& f, const Pairs& pairs, const std::string& prefix) {
    std::vector<std::string> problems;
    std::set<std::string> expected;
    for (const auto& [name, tensor] : pairs) {
        expected.insert(name);
        using T = typename std::remove_cvref_t<decltype(*tensor)>::value_type;
        std::string bad = f.template mismatch<T>(name, tensor->shape());
        if (!bad.empty()) problems.push_back(bad);
    }
    for (const auto& [name, info] : f.tensors())
        if (name.rfind(prefix, 0) == 0 && !expected.count(name)) problems.push_back("'" + name + "' is not in the model");
    if (problems.empty()) return;
    std::ostringstream os;
    os << f.path() << ": does not match the model (" << problems.size() << " problem" << (problems.size() > 1 ? "s" : "")
       << "):";
    for (const auto& p : problems) os << "\n  - " << p;
    throw error(os.str());
}

// An optimiser's step count from metadata prefix + "steps": the whole text a count >= 0, as add_adam
// and add_sgd write it (std::stol took "12abc" as 12 and "-5" as -5).
inline long step_count(const SafetensorsFile& f, const std::string& prefix) {
    const std::string text = f.string_metadata(prefix + "steps");
    long steps = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), steps);
    if (ec != std::errc() || end != text.data() + text.size() || steps < 0)
        throw error(f.path() + ": metadata '" + prefix + "steps' = '" + text + "' is not a step count (an integer >= 0)");
    return steps;
}
} // namespace detail

// Loads the network's parameters from names prefix + name; all or nothing.
template <class Net>
void load_network(const SafetensorsFile& f, Net& net, const std::string& prefix = "") {
    using T = typename Net::value_type;
    using D = typename Net::device_type;
    std::vector<std::pair<std::string, Tensor<T, D>*>> pairs;
    net.for_each_parameter([&](const std::string& name, Tensor<T, D>& value, Tensor<T, D>&) {
        pairs.emplace_back(prefix + name, &value);
    });
    detail::require_match(f, pairs, prefix);
    for (auto& [name, t] : pairs) f.copy_to(name, *t);
}

// Loads Adam's moments and step count saved by add_adam; all or nothing.
template <class T, class D>
void load_adam(const SafetensorsFile& f, optim::Adam<T, D>& adam, const std::string& prefix) {
    const auto& params = adam.parameters();
    std::vector<std::pair<std::string, Tensor<T, D>*>> pairs;
    for (std::size_t i = 0; i < params.size(); ++i) {
        pairs.emplace_back(prefix + "m." + params[i].name, &adam.first_moments()[i]);
        pairs.emplace_back(prefix + "v." + params[i].name, &adam.second_moments()[i]);
    }
    detail::require_match(f, pairs, prefix);
    const long steps = detail::step_count(f, prefix);
    for (auto& [name, t] : pairs) f.copy_to(name, *t);
    adam.set_steps(steps);
}

// Loads SGD's momentum buffers and step count saved by add_sgd; all or nothing.
template <class T, class D>
void load_sgd(const SafetensorsFile& f, optim::SGD<T, D>& sgd, const std::string& prefix) {
    const auto& params = sgd.parameters();
    std::vector<std::pair<std::string, Tensor<T, D>*>> pairs;
    for (std::size_t i = 0; i < params.size(); ++i) pairs.emplace_back(prefix + "momentum." + params[i].name, &sgd.momentum_buffers()[i]);
    detail::require_match(f, pairs, prefix);
    const long steps = detail::step_count(f, prefix);
    for (auto& [name, t] : pairs) f.copy_to(name, *t);
    sgd.set_steps(steps);
}

} // namespace pgg::io
