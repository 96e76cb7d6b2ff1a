#pragma once
// test_layer: central finite differences in double precision for every layer's backward pass, and for
// the forward-over-reverse (tangent) pass of the layers a discriminator uses.
//
// First order: with L = <dy, f(x; theta)>, backward must add dL/dx to whatever the input gradient
// held (it is pre-filled with random values) and overwrite the parameter gradients (pre-filled with
// garbage); with Accumulate{true, true} it must add to both.
// Second order: with Q = <dy, y> + <dy', y'> for (y, y') = (f(x), J x'), backward_tangent must give
// dQ/dx, dQ/dx' and dQ/dtheta; tangent's y' must equal the directional derivative of f.
#include <functional>

#include "reference.hpp"

namespace pggtest {

using namespace pgg;

struct CheckOptions {
    std::uint64_t seed = 1;
    int max_points = 60;    // finite-difference points per tensor (all when fewer)
    double step = 1e-5;     // central-difference step
    double tolerance = 1e-6; // on |analytic - numeric| / max(1, |numeric|)
};

inline std::vector<index_t> sample_points(index_t n, int max_points, std::uint64_t seed) {
    std::vector<index_t> idx;
    if (n <= max_points) {
        for (index_t i = 0; i < n; ++i) idx.push_back(i);
        return idx;
    }
    Tensor<double> r({max_points});
    Generator g(seed, 77);
    fill_uniform(r, g);
    for (double v : r) idx.push_back(std::min<index_t>(n - 1, index_t(v * double(n))));
    return idx;
}

// d f / d t[k] for each sampled k, by central differences.
template <class F>
void check_gradient(const char* what, Tensor<double>& t, const Tensor<double>& analytic, F&& f, const CheckOptions& o) {
    REQUIRE(analytic.shape() == t.shape());
    for (index_t k : sample_points(t.numel(), o.max_points, o.seed + 13)) {
        const double saved = t.data()[k];
        t.data()[k] = saved + o.step;
        const double up = f();
        t.data()[k] = saved - o.step;
        const double down = f();
        t.data()[k] = saved;
        const double numeric = (up - down) / (2 * o.step), a = analytic.data()[k];
        INFO(what << " element " << k << ": analytic " << a << ", numeric " << numeric);
        CHECK(std::abs(a - numeric) <= o.tolerance * std::max(1.0, std::abs(numeric)));
    }
}

template <class L>
void randomize_parameters(L& layer, Generator& g) {
    layer.reset_parameters(g);
    layer.for_each_parameter([&](const std::string&, Tensor<double>& v, Tensor<double>&) {
        if (v.numel()) fill_normal(v, g, 0.0, 0.5); // non-zero biases too
    });
}

template <class L>
void fill_parameter_grads(L& layer, double value) {
    layer.for_each_parameter([&](const std::string&, Tensor<double>&, Tensor<double>& gr) {
        if (gr.numel()) gr.fill(value);
    });
}

// First-order check of layer spec `Spec` on inputs of shape `in`.
template <class Spec>
void check_layer(const Shape& in, CheckOptions o = {}, std::function<void(nn::Net<Spec, double>&)> before_forward = {}) {
    nn::Net<Spec, double> layer;
    Generator g(o.seed);
    randomize_parameters(layer, g);
    auto x = random_tensor<double>(in, o.seed + 1);
    auto run = [&]() -> const Tensor<double>& {
        if (before_forward) before_forward(layer);
        return layer.forward(x);
    };
    const Shape out = run().shape();
    auto dy = random_tensor<double>(out, o.seed + 2);
    auto loss = [&] { return sum(dy * run()); };

    run();
    auto prefill = random_tensor<double>(in, o.seed + 3);
    Tensor<double> dx = prefill.clone();
    fill_parameter_grads(layer, 1e6); // garbage that backward must overwrite
    layer.backward(dy, dx);
    Tensor<double> dx_only = dx - prefill;
    check_gradient("input", x, dx_only, loss, o);
    std::vector<Tensor<double>> first;
    layer.for_each_parameter([&](const std::string& name, Tensor<double>& v, Tensor<double>& gr) {
        first.push_back(gr.clone());
        check_gradient(name.c_str(), v, gr, loss, o);
    });

    // Accumulate{true, true} adds to both the input and the parameter gradients.
    run();
    Tensor<double> dx2 = dx.clone();
    layer.backward(dy, dx2, nn::Accumulate{true, true});
    CHECK(max(abs(dx2 - dx - dx_only)) <= 1e-12 * std::max(1.0, max(abs(dx_only))));
    std::size_t i = 0;
    layer.for_each_parameter([&](const std::string& name, Tensor<double>&, Tensor<double>& gr) {
        INFO("accumulated " << name);
        CHECK(max(abs(gr - first[i] * 2.0)) <= 1e-12 * std::max(1.0, max(abs(first[i]))));
        ++i;
    });
    // Accumulate{false, ...} overwrites the input gradient.
    run();
    Tensor<double> dx3 = prefill.clone();
    layer.backward(dy, dx3, nn::Accumulate{false, false});
    CHECK(max(abs(dx3 - dx_only)) <= 1e-12 * std::max(1.0, max(abs(dx_only))));
}

// Second-order (tangent) check of layer spec `Spec` on inputs of shape `in`.
template <class Spec>
void check_layer_tangent(const Shape& in, CheckOptions o = {}, std::function<void(nn::Net<Spec, double>&)> before_forward = {}) {
    nn::Net<Spec, double> layer;
    auto forward = [&](const Tensor<double>& at) -> const Tensor<double>& {
        if (before_forward) before_forward(layer);
        return layer.forward(at);
    };
    Generator g(o.seed);
    randomize_parameters(layer, g);
    auto x = random_tensor<double>(in, o.seed + 1);
    auto xt = random_tensor<double>(in, o.seed + 4);

    // y' is the directional derivative of f along x'
    const Tensor<double> y = forward(x).clone();
    const Tensor<double> yt = layer.tangent(xt).clone();
    Tensor<double> xp = x + xt * o.step, xm = x - xt * o.step;
    const Tensor<double> fp = forward(xp).clone();
    const Tensor<double> fm = forward(xm).clone();
    Tensor<double> numeric = (fp - fm) / (2 * o.step);
    CHECK(max(abs(numeric - yt)) <= o.tolerance * std::max(1.0, max(abs(numeric))));

    auto dy = random_tensor<double>(y.shape(), o.seed + 2);
    auto dyt = random_tensor<double>(y.shape(), o.seed + 5);
    auto q = [&] {
        const double a = sum(dy * forward(x));
        return a + sum(dyt * layer.tangent(xt));
    };
    forward(x);
    layer.tangent(xt);
    auto p1 = random_tensor<double>(in, o.seed + 6), p2 = random_tensor<double>(in, o.seed + 7);
    Tensor<double> dx = p1.clone(), dxt = p2.clone();
    fill_parameter_grads(layer, 1e6);
    layer.backward_tangent(dy, dyt, dx, dxt);
    Tensor<double> gx = dx - p1, gxt = dxt - p2;
    check_gradient("input (tangent pass)", x, gx, q, o);
    check_gradient("input tangent", xt, gxt, q, o);
    layer.for_each_parameter([&](const std::string& name, Tensor<double>& v, Tensor<double>& gr) {
        check_gradient((name + " (tangent pass)").c_str(), v, gr, q, o);
    });
}

} // namespace pggtest
