// Every layer on the GPU against the same layer on the CPU (same parameters, same inputs): forward,
// backward with both accumulation modes, and the tangent passes of the gradient penalty; then a whole
// discriminator's WGAN-GP loss with its exact gradient, an Adam step, and the PG-GAN-style generator.
#include "gpu_check.hpp"
#include "small_discriminator.hpp"

using namespace pgg;
using namespace pgg::nn;
using pggpu::random_cpu;

namespace {

// Copies every parameter of the CPU layer into the GPU layer.
template <class C, class G>
void copy_parameters(C& c, G& g) {
    auto pc = parameters(c);
    auto pg = parameters(g);
    REQUIRE(pc.size() == pg.size());
    for (std::size_t i = 0; i < pc.size(); ++i) pg[i].value.copy_(pc[i].value);
}

template <class C, class G>
void check_parameter_grads(C& c, G& g, double tol) {
    auto pc = parameters(c);
    auto pg = parameters(g);
    for (std::size_t i = 0; i < pc.size(); ++i) {
        INFO("gradient of " << pc[i].name);
        CHECK_MATCHES(pg[i].grad, pc[i].grad, tol);
    }
}

template <class Spec, bool Tangent = false>
void compare_layer(const Shape& in, double tol = pggpu::conv_tol) {
    Net<Spec, float, cpu> c;
    Net<Spec, float, cuda> g;
    Generator init(1);
    c.reset_parameters(init);
    c.for_each_parameter([&](const std::string&, Tensor<float>& v, Tensor<float>&) {
        if (v.numel()) fill_normal(v, init, 0.0f, 0.5f); // non-zero biases too
    });
    copy_parameters(c, g);
    const auto x = random_cpu<float>(in, 2);
    const auto gx = to<cuda>(x);

    const Tensor<float> y = c.forward(x).clone();
    CHECK_MATCHES(g.forward(gx), y, tol);

    const auto dy = random_cpu<float>(y.shape(), 3);
    for (bool accumulate : {false, true}) {
        INFO("accumulate " << accumulate);
        const auto dx0 = random_cpu<float>(in, 4);
        Tensor<float> dx = dx0.clone();
        Tensor<float, cuda> gdx = to<cuda>(dx0);
        c.backward(dy, dx, Accumulate{accumulate, accumulate});
        g.backward(to<cuda>(dy), gdx, Accumulate{accumulate, accumulate});
        CHECK_MATCHES(gdx, dx, tol);
        check_parameter_grads(c, g, tol);
    }
    if constexpr (Tangent) {
        const auto xt = random_cpu<float>(in, 5);
        c.forward(x);
        g.forward(gx);
        const Tensor<float> yt = c.tangent(xt).clone();
        CHECK_MATCHES(g.tangent(to<cuda>(xt)), yt, tol);
        const auto dyt = random_cpu<float>(y.shape(), 6);
        for (bool zero_primal : {false, true}) { // WGAN-GP's tangent pass seeds dy = 0
            INFO("zero primal seed " << zero_primal);
            const Tensor<float> seed = zero_primal ? Tensor<float>(y.shape()) : dy;
            Tensor<float> dx, dxt;
            Tensor<float, cuda> gdx, gdxt;
            c.backward_tangent(seed, dyt, dx, dxt, Accumulate{false, false});
            g.backward_tangent(to<cuda>(seed), to<cuda>(dyt), gdx, gdxt, Accumulate{false, false});
            CHECK_MATCHES(gdx, dx, tol);
            CHECK_MATCHES(gdxt, dxt, tol);
            check_parameter_grads(c, g, tol);
        }
    }
}

using pggtest::SmallD;

} // namespace

TEST_CASE("cuda layers: convolutions and dense", "[gpu][layer]") {
    compare_layer<Conv2d<3, 4, 3>>({2, 3, 5, 6});
    compare_layer<Conv2d<3, 4, 3, equalized>, true>({2, 3, 5, 6});
    compare_layer<Conv2d<2, 3, 4, LayerOptions{.stride = 2, .padding = 1}>>({2, 2, 6, 6});
    compare_layer<Conv2d<16, 8, 1, LayerOptions{.bias = false}>>({2, 16, 4, 4});
    compare_layer<Conv2d<32, 32, 3, equalized>, true>({4, 32, 16, 16});
    compare_layer<ConvTranspose2d<3, 2, 4>>({2, 3, 3, 4});
    compare_layer<Dense<12, 5>>({3, 12});
    compare_layer<Dense<12, 5, equalized>, true>({3, 12});
    compare_layer<Bias<3>, true>({2, 3, 4, 4});
}

TEST_CASE("cuda layers: activations, normalisation, resampling, reshapes", "[gpu][layer]") {
    compare_layer<LeakyReLU<>, true>({2, 3, 4, 5}, 1e-6);
    compare_layer<ReLU>({2, 3, 4, 5}, 1e-6);
    compare_layer<Sigmoid, true>({2, 3, 4, 5}, 1e-6);
    compare_layer<Tanh, true>({2, 3, 4, 5}, 1e-6);
    compare_layer<PixelNorm>({2, 5, 3, 3}, 1e-6);
    compare_layer<Upsample2x, true>({2, 3, 3, 4}, 1e-6);
    compare_layer<AvgPool2x, true>({2, 3, 4, 6}, 1e-6);
    compare_layer<MaxPool2x>({2, 3, 4, 6}, 1e-6);
    compare_layer<GlobalAvgPool, true>({2, 3, 4, 6}, 1e-6);
    compare_layer<Flatten, true>({2, 3, 2, 2}, 1e-6);
    compare_layer<Reshape<3, 2, 2>, true>({2, 12}, 1e-6);
    compare_layer<MinibatchStddev<4>, true>({8, 3, 2, 2}, 1e-6);
    compare_layer<GaussianDropout<0.2f>>({2, 3, 4, 4}, 1e-5); // the same noise from the same seed
}

TEST_CASE("cuda layers: augmentation draws and computes what the CPU does", "[gpu][layer][augment]") {
    Net<Augment, float, cpu> c;
    Net<Augment, float, cuda> g;
    c.options = g.options = {.p = 0.8, .xflip = true, .rotate90 = true};
    c.reseed(3, {4, 9, 1});
    g.reseed(3, {4, 9, 1});
    const auto x = random_cpu<float>({3, 2, 16, 12}, 2);
    const Tensor<float> y = c.forward(x).clone();
    CHECK_MATCHES(g.forward(to<cuda>(x)), y, 1e-5); // noise included: the same Philox numbers
    const auto dy = random_cpu<float>(y.shape(), 3), dx0 = random_cpu<float>(x.shape(), 4);
    for (bool accumulate : {false, true}) {
        INFO("accumulate " << accumulate);
        Tensor<float> dx = dx0.clone();
        Tensor<float, cuda> gdx = to<cuda>(dx0);
        c.backward(dy, dx, Accumulate{accumulate, accumulate});
        g.backward(to<cuda>(dy), gdx, Accumulate{accumulate, accumulate}); // atomics: another order of sums
        CHECK_MATCHES(gdx, dx, 1e-5);
    }
    const auto xt = random_cpu<float>(x.shape(), 5);
    CHECK_MATCHES(g.tangent(to<cuda>(xt)), c.tangent(xt), 1e-5);
}

TEST_CASE("cuda layers: a whole discriminator, first and second order", "[gpu][layer]") {
    compare_layer<SmallD, true>({4, 1, 8, 8});
    compare_layer<Sequential<Conv2d<2, 3, 3>, Tanh, Sequential<Upsample2x, Conv2d<3, 2, 1>>, PixelNorm>>({2, 2, 3, 3});
    // the classifier's residual block (tests/test_sequential.cpp checks it against finite differences)
    compare_layer<Sequential<Conv2d<2, 3, 3, LayerOptions{.stride = 2}>, ReLU, Residual<Sequential<Conv2d<3, 3, 3>, Tanh, Conv2d<3, 3, 3>>>>,
                  true>({2, 2, 6, 6});
}

TEST_CASE("cuda: the WGAN-GP discriminator loss and its gradient match the CPU, and so do Adam steps", "[gpu][wgan-gp]") {
    Net<SmallD, float, cpu> c;
    Net<SmallD, float, cuda> g;
    Generator init(8);
    c.reset_parameters(init);
    copy_parameters(c, g);
    const auto real = random_cpu<float>({4, 1, 8, 8}, 9), fake = random_cpu<float>({4, 1, 8, 8}, 10);
    const WganGpOptions opt{.lambda = 10.0, .drift = 1e-3, .norm_scale = 2.0};
    Generator gc(11), gg(11);
    const WganGpParts pc = wgan_gp_discriminator(c, real, fake, gc, opt);
    const WganGpParts pg = wgan_gp_discriminator(g, to<cuda>(real), to<cuda>(fake), gg, opt);
    CHECK(pg.loss == Approx(pc.loss).epsilon(1e-4));
    CHECK(pg.penalty == Approx(pc.penalty).epsilon(1e-4));
    CHECK(pg.grad_norm == Approx(pc.grad_norm).epsilon(1e-4));
    check_parameter_grads(c, g, pggpu::conv_tol);

    optim::Adam<float, cpu> ac(parameters(c), {.lr = 1e-3, .beta1 = 0.0, .beta2 = 0.99});
    optim::Adam<float, cuda> ag(parameters(g), {.lr = 1e-3, .beta1 = 0.0, .beta2 = 0.99});
    for (int i = 0; i < 3; ++i) {
        ac.step();
        ag.step();
    }
    auto vc = parameters(c);
    auto vg = parameters(g);
    for (std::size_t i = 0; i < vc.size(); ++i) {
        INFO(vc[i].name << " after 3 Adam steps");
        CHECK_MATCHES(vg[i].value, vc[i].value, 1e-5);
    }
}
