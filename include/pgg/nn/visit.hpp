#pragma once
// Visiting every layer of a network, composites included: to set a mode or an option on all layers of
// one kind (the rate and noise streams of every dropout layer, say) without naming their positions.
#include <tuple>

namespace pgg::nn {

// Calls f(layer) on `net` and then on each layer inside it, depth first, in forward order.
template <class L, class F>
void for_each_layer(L& net, F&& f) {
    f(net);
    if constexpr (requires { net.layers; }) {
        std::apply([&](auto&... child) { (for_each_layer(child, f), ...); }, net.layers);
    } else if constexpr (requires { net.inner; }) {
        for_each_layer(net.inner, f);
    } else if constexpr (requires { net.branch; }) {
        for_each_layer(net.branch, f);
    } else if constexpr (requires {
                             net.a;
                             net.b;
                         }) {
        for_each_layer(net.a, f);
        for_each_layer(net.b, f);
    }
}

} // namespace pgg::nn
