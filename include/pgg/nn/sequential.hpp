#pragma once
// Sequential<L...>: layers applied in order, composed at compile time over a flat type list.
//
//     using Block = Sequential<Upsample2x, Named<"conv0", Conv2d<512, 256, 3, equalized>>, LeakyReLU<>,
//                              PixelNorm, Named<"conv1", Conv2d<256, 256, 3, equalized>>, LeakyReLU<>, PixelNorm>;
//
// A channel mismatch between neighbours fails to compile (see ChannelCheck in layer.hpp). Sequentials
// nest; parameters are named by position ("0.weight") as in torch.nn.Sequential, or by Named<"...">.
#include <algorithm>
#include <array>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "layer.hpp"

namespace pgg::nn {

// A compile-time string for Named<"conv1", ...>.
template <std::size_t N>
struct FixedString {
    char text[N];
    constexpr FixedString(const char (&s)[N]) { std::copy_n(s, N, text); } // NOLINT: implicit on purpose
    std::string str() const { return std::string(text, N - 1); }
};

// Gives a layer a parameter-name prefix of its own instead of its position; Named<"", L> adds none, so
// L's parameters keep their own names (for composites whose paths carry the names).
template <FixedString Name, class Spec>
struct Named {
    static constexpr int in_channels = Spec::in_channels;
    template <int In>
    static constexpr int out_channels_for = detail::out_channels_for<Spec, In>();
    static constexpr bool named = true;

    template <class T, class D>
    struct bind : Net<Spec, T, D> {
        template <class F>
        void for_each_parameter(F&& f, const std::string& prefix = "") {
            Net<Spec, T, D>::for_each_parameter(f, Name.str().empty() ? prefix : prefix + Name.str() + ".");
        }
    };
};

namespace detail {
template <int I, int C>
constexpr int chain() {
    return C;
}
// Checks each layer's input channels against what the previous one produces; returns the last output.
template <int I, int C, class L, class... Rest>
constexpr int chain() {
    static_assert(ChannelCheck<I, L::in_channels, C>::ok);
    constexpr int in = C == any_channels ? L::in_channels : C;
    return chain<I + 1, out_channels_for<L, in>(), Rest...>();
}
template <class L>
constexpr bool is_named() {
    if constexpr (requires { L::named; }) return L::named;
    else return false;
}
// Whether layer L applies the leaky ReLU Next in its own forward pass (Conv2d; activation.hpp).
template <class L, class Next, class T, class D>
constexpr bool fuses_activation() {
    if constexpr (requires { Next::fusable_slope; })
        return Next::fusable_slope >= 0.0f &&
               requires(Net<L, T, D>& l, const Tensor<T, D>& x) { l.forward(x, std::optional<T>()); };
    else return false;
}
} // namespace detail

template <class... Ls>
struct Sequential {
    static_assert(sizeof...(Ls) > 0, "Sequential: at least one layer");
    static constexpr int in_channels = std::tuple_element_t<0, std::tuple<Ls...>>::in_channels;
    template <int In>
    static constexpr int out_channels_for = detail::chain<0, In, Ls...>();
    static_assert(detail::chain<0, in_channels, Ls...>() >= any_channels);

    template <class T, class D>
    struct bind {
        using value_type = T;
        using device_type = D;
        using Spec = Sequential;
        static constexpr std::size_t size = sizeof...(Ls);

        std::tuple<Net<Ls, T, D>...> layers;

        template <std::size_t I>
        auto& get() {
            return std::get<I>(layers);
        }

        const Tensor<T, D>& forward(const Tensor<T, D>& x) {
            const Tensor<T, D>* h = &x;
            each([&]<std::size_t I>(auto& layer) {
                in_shapes_[I] = h->shape();
                if constexpr (fused<I>()) h = &layer.adopt(*h);
                else if constexpr (fused<I + 1>()) h = &layer.forward(*h, std::optional<T>(Layer<I + 1>::fusable_slope));
                else h = &layer.forward(*h);
            });
            return *h;
        }
        void backward(const Tensor<T, D>& dy, Tensor<T, D>& dx, Accumulate acc = {}) {
            each_reverse([&]<std::size_t I>(auto& layer) {
                const Tensor<T, D>& g = I + 1 == size ? dy : grads_[I + 1];
                if constexpr (I == 0) {
                    layer.backward(g, dx, Accumulate{acc.input, acc.params, acc.param_grads});
                } else {
                    grads_[I].resize_(in_shapes_[I]);
                    layer.backward(g, grads_[I], Accumulate{false, acc.params, acc.param_grads});
                }
                if (acc.done) (*acc.done)(I);
            });
        }
        const Tensor<T, D>& tangent(const Tensor<T, D>& xt) {
            const Tensor<T, D>* ht = &xt;
            each([&]<std::size_t I>(auto& layer) { ht = &layer.tangent(*ht); });
            return *ht;
        }
        void backward_tangent(const Tensor<T, D>& dy, const Tensor<T, D>& dyt, Tensor<T, D>& dx, Tensor<T, D>& dxt,
                              Accumulate acc = {}) {
            each_reverse([&]<std::size_t I>(auto& layer) {
                const Tensor<T, D>& g = I + 1 == size ? dy : grads_[I + 1];
                const Tensor<T, D>& gt = I + 1 == size ? dyt : tangent_grads_[I + 1];
                if constexpr (I == 0) {
                    layer.backward_tangent(g, gt, dx, dxt, Accumulate{acc.input, acc.params, acc.param_grads});
                } else {
                    grads_[I].resize_(in_shapes_[I]);
                    tangent_grads_[I].resize_(in_shapes_[I]);
                    layer.backward_tangent(g, gt, grads_[I], tangent_grads_[I], Accumulate{false, acc.params, acc.param_grads});
                }
                if (acc.done) (*acc.done)(I);
            });
        }

        // How many parameter tensors each layer holds, in order (what LayerDone's indices cover).
        std::vector<std::size_t> parameters_per_layer() {
            std::vector<std::size_t> n(size, 0);
            each([&]<std::size_t I>(auto& layer) { layer.for_each_parameter([&](const std::string&, auto&, auto&) { ++n[I]; }); });
            return n;
        }
        template <class F>
        void for_each_parameter(F&& f, const std::string& prefix = "") {
            each([&]<std::size_t I>(auto& layer) {
                using L = std::tuple_element_t<I, std::tuple<Ls...>>;
                layer.for_each_parameter(f, detail::is_named<L>() ? prefix : prefix + std::to_string(I) + ".");
            });
        }
        void reset_parameters(Generator& g) {
            each([&]<std::size_t>(auto& layer) { layer.reset_parameters(g); });
        }
        void train(bool on) {
            each([&]<std::size_t>(auto& layer) { layer.train(on); });
        }

    private:
        template <std::size_t I>
        using Layer = std::tuple_element_t<I, std::tuple<Ls...>>;
        // Layer I is an activation that layer I - 1 applies (one pass over the output fewer).
        template <std::size_t I>
        static constexpr bool fused() {
            if constexpr (I == 0 || I >= size) return false;
            else return detail::fuses_activation<Layer<I - 1>, Layer<I>, T, D>();
        }

        template <class F>
        void each(F&& f) {
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                (f.template operator()<I>(std::get<I>(layers)), ...);
            }(std::make_index_sequence<size>{});
        }
        template <class F>
        void each_reverse(F&& f) {
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                (f.template operator()<size - 1 - I>(std::get<size - 1 - I>(layers)), ...);
            }(std::make_index_sequence<size>{});
        }

        std::array<Shape, size> in_shapes_{};
        std::array<Tensor<T, D>, size> grads_, tangent_grads_;
    };
};

} // namespace pgg::nn
