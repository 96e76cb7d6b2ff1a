#pragma once
// What every layer shares: the binding of a layer description to an element type and device, channel
// rules checked at compile time, parameter lists and gradient-accumulation modes.
//
// A layer is described by a small spec type (`Conv2d<1, 512, 3>`, `LeakyReLU<>`) that holds no data;
// `Net<Spec, T, Device>` is the layer itself, with its parameters and saved activations:
//
//     pgg::nn::Net<Conv2d<3, 64, 3>> conv;            // float on the CPU
//     pgg::nn::Net<Conv2d<3, 64, 3>, double> check;   // the same layer in double, for gradient checks
//
// Every bound layer offers:
//     const Tensor& forward(const Tensor& x);                      keeps what backward needs
//     void backward(const Tensor& dy, Tensor& dx, Accumulate = {}); dx += J^T dy; parameter gradients
//                                                                   are overwritten (or added, if asked)
//     template <class F> void for_each_parameter(F&& f, const std::string& prefix = "");
//     void train(bool on);
// and the layers a discriminator uses also the forward-over-reverse pair (docs/design.md, "Exact
// second-order gradients"):
//     tangent(xt) -> yt = J x', with J the Jacobian at the x of the last forward (which it reuses);
//     backward_tangent(dy, dyt, dx, dxt, Accumulate): the vector-Jacobian product of (x, xt) -> (y, yt).
#include <string>
#include <type_traits>

#include "../core/ops.hpp"
#include "../core/random.hpp"

namespace pgg::nn {

// A channel count that is not known at compile time (not checked).
inline constexpr int any_channels = -1;
// As an output channel count: the same as the input's.
inline constexpr int same_channels = -2;

// Told by a Sequential, after each of its own layers' backward pass, that this layer's parameter
// gradients are now what the pass makes them: data-parallel training starts summing them over the
// processes while the layers below still run (pgg::dist::OverlappedSum).
class LayerDone {
public:
    virtual void operator()(std::size_t layer) = 0;

protected:
    ~LayerDone() = default;
};

// How backward treats existing gradients.
struct Accumulate {
    bool input = true;        // dx += J^T dy (false: dx = J^T dy)
    bool params = false;      // parameter gradients += (false: overwritten)
    bool param_grads = true;  // false: parameter gradients are neither computed nor touched (only dx is wanted,
                              // e.g. D's backward pass in a generator step)
    LayerDone* done = nullptr; // told by the Sequential it is given to (directly or through Augmented),
                               // which does not pass it on to its layers
};

// The bound layer of a spec.
template <class Spec, class T = float, class Device = cpu>
using Net = typename Spec::template bind<T, Device>;

// The members of a layer without parameters or modes (activations, pooling, reshapes).
struct ParameterFree {
    template <class F>
    void for_each_parameter(F&&, const std::string& = "") {}
    void reset_parameters(Generator&) {}
    void train(bool) {}
};

// One parameter: a name that maps onto a PyTorch state_dict key, its value and its gradient.
template <class T, class Device>
struct Parameter {
    std::string name;
    Tensor<T, Device> value;
    Tensor<T, Device> grad;
};

// A layer's parameters as a list of handles (sharing storage with the layer).
template <class Layer>
auto parameters(Layer& layer) {
    using P = Parameter<typename Layer::value_type, typename Layer::device_type>;
    std::vector<P> out;
    layer.for_each_parameter([&](const std::string& name, auto& value, auto& grad) { out.push_back({name, value, grad}); });
    return out;
}

// The number of values in a layer's parameters (PyTorch: sum(p.numel() for p in model.parameters())).
template <class Layer>
std::size_t parameter_count(Layer& layer) {
    std::size_t n = 0;
    layer.for_each_parameter([&](const std::string&, auto& value, auto&) { n += std::size_t(value.numel()); });
    return n;
}

namespace detail {
// Output channels of a spec given its input channels: its out_channels_for<In> when it has one, else
// its out_channels (`same_channels`: the input's).
template <class Spec, int In>
constexpr int out_channels_for() {
    if constexpr (requires { Spec::template out_channels_for<In>; }) return Spec::template out_channels_for<In>;
    else return Spec::out_channels == same_channels ? In : Spec::out_channels;
}

// Fails to compile when layer `Index` expects `Expected` channels but receives `Got`. The compiler
// prints the three numbers as this template's arguments.
template <int Index, int Expected, int Got>
struct ChannelCheck {
    static_assert(Expected == any_channels || Got == any_channels || Expected == Got,
                  "pgg::nn::Sequential: channel mismatch; see ChannelCheck<layer index, channels the layer expects, "
                  "channels it receives> in this message");
    static constexpr bool ok = true;
};

// dst = value + (accumulate ? dst : 0) for a gradient; an empty dst is allocated (nothing to add).
template <class T, class D, class E>
void write_grad(Tensor<T, D>& dst, const E& value, bool accumulate) {
    if (accumulate && !dst.shape().empty()) dst = dst + value;
    else dst = as_expr(value); // a tensor value is copied, never aliased

}

// An input-gradient buffer of shape s: allocated when empty; the caller's tensor otherwise, which must
// already have that shape. Returns the beta that the backend's `dx = ... + beta * dx` should use.
template <class T, class D>
T prepare_grad(Tensor<T, D>& dx, const Shape& s, bool accumulate) {
    if (dx.shape().empty()) {
        dx = Tensor<T, D>(s);
        return T(0);
    }
    PGG_CHECK(dx.shape() == s, "backward: input gradient has shape ", dx.shape(), ", the input had ", s);
    return accumulate ? T(1) : T(0);
}
// False when every element of g is zero: in WGAN-GP's tangent pass the primal cotangent is zero above the
// first layer with curvature (minibatch stddev), and the products with it can be skipped. NaN counts as
// nonzero, so a non-finite gradient still propagates.
template <class T, class D>
bool nonzero(const Tensor<T, D>& g) {
    return !(sum(abs(g)) == T(0)); // a sum, not a max: max would skip NaN
}
} // namespace detail

} // namespace pgg::nn
