#pragma once
// The examples' --device: a model made by the CPU factory, or by the CUDA one where the program was
// built with the CUDA backend (an empty factory otherwise), with errors that name the option.
#include <functional>
#include <memory>
#include <string>

#include <pgg/core/error.hpp>

namespace pgg::app {

template <class Model>
using Factory = std::function<std::unique_ptr<Model>()>;

// The factory's model for "cpu" or "cuda" (null when the factory has none of that shape).
template <class Model>
std::unique_ptr<Model> make_on_device(const std::string& device, const Factory<Model>& cpu, const Factory<Model>& cuda) {
    if (device == "cpu") return cpu();
    PGG_CHECK(device == "cuda", "unknown device '", device, "' (cpu or cuda)");
    PGG_CHECK(cuda, "--device cuda: this build has no CUDA backend (configure with a CUDA compiler, PGG_WITH_CUDA=ON)");
    try {
        return cuda();
    } catch (const pgg::error& e) {
        throw pgg::error(std::string("--device cuda: ") + e.what()); // e.g. no usable GPU
    }
}

} // namespace pgg::app
