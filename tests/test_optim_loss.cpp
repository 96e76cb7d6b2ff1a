#include "layer_check.hpp"

#include <fstream>
#include <map>
#include <sstream>

using namespace pgg;
using namespace pgg::nn;

namespace {
// PyTorch's results (tests/golden/make_optim_golden.py): name -> per step, the parameter values.
std::map<std::string, std::vector<std::vector<double>>> read_golden() {
    std::ifstream in(PGG_TEST_SOURCE_DIR "/golden/optim.txt");
    REQUIRE(in.good());
    std::map<std::string, std::vector<std::vector<double>>> out;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream is(line);
        std::string name;
        int step;
        is >> name >> step;
        std::vector<double> v;
        for (double x; is >> x;) v.push_back(x);
        out[name].push_back(v);
    }
    return out;
}

std::vector<double> golden_grad(int step) {
    return {0.1 * (step + 1), -0.2, 0.05 * (step % 2 ? -1 : 1), 1.5 / (step + 1), -0.01 * step};
}

template <class Opt, class Make>
void check_against_golden(const std::string& name, Make make) {
    const auto golden = read_golden().at(name);
    optim::ParameterList<double, cpu> params{{"w", Tensor<double>::from({5}, {1.0, -2.0, 0.5, 3.0, -0.25}), Tensor<double>({5})}};
    Opt opt = make(params);
    for (std::size_t s = 0; s < golden.size(); ++s) {
        auto g = golden_grad(int(s));
        std::copy(g.begin(), g.end(), params[0].grad.begin());
        REQUIRE(opt.step());
        for (int i = 0; i < 5; ++i) {
            INFO(name << " step " << s + 1 << " element " << i);
            CHECK(params[0].value.data()[i] == Approx(golden[s][i]).epsilon(1e-12).margin(1e-14));
        }
    }
}
} // namespace

TEST_CASE("Adam and SGD match PyTorch step by step", "[optim]") {
    using P = optim::ParameterList<double, cpu>;
    check_against_golden<optim::Adam<double>>("adam_pggan", [](P p) { return optim::Adam<double>(p, {.lr = 0.01, .beta1 = 0.0, .beta2 = 0.99}); });
    check_against_golden<optim::Adam<double>>("adam_default", [](P p) { return optim::Adam<double>(p, {.lr = 0.01}); });
    check_against_golden<optim::SGD<double>>("sgd_momentum", [](P p) {
        return optim::SGD<double>(p, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01});
    });
    check_against_golden<optim::SGD<double>>("sgd_nesterov", [](P p) {
        return optim::SGD<double>(p, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
    });
}

TEST_CASE("Adam: non-finite gradients skip the step; reset forgets the moments", "[optim]") {
    Net<Dense<3, 2>> d;
    Generator g(1);
    d.reset_parameters(g);
    optim::Adam<float> adam(parameters(d));
    auto params = parameters(d);
    const Tensor<float> before = params[0].value.clone();
    for (auto& p : params) p.grad.fill(0.5f);
    params[1].grad.data()[1] = std::numeric_limits<float>::quiet_NaN();
    CHECK_FALSE(adam.step());
    CHECK(adam.skipped() == 1);
    CHECK(max(abs(params[0].value - before)) == 0.0f);
    params[1].grad.data()[1] = std::numeric_limits<float>::infinity();
    CHECK_FALSE(adam.step());
    params[1].grad.fill(0.5f);
    CHECK(adam.step());
    CHECK(adam.steps() == 1);
    CHECK(max(abs(adam.first_moments()[0])) > 0.0f);
    adam.reset();
    CHECK(adam.steps() == 0);
    CHECK(max(abs(adam.first_moments()[0])) == 0.0f);
}

TEST_CASE("ExponentialMovingAverage and learning-rate schedules", "[optim]") {
    Net<Dense<2, 1>> g, gs;
    Generator gen(2);
    g.reset_parameters(gen);
    optim::ExponentialMovingAverage<float> ema(parameters(g), parameters(gs));
    CHECK(max(abs(gs.weight - g.weight)) == 0.0f); // starts as a copy
    const Tensor<float> avg0 = gs.weight.clone();
    g.weight = g.weight + 1.0f;
    ema.update(0.999);
    Tensor<float> want = avg0 * 0.999f + g.weight * 0.001f;
    CHECK(max(abs(gs.weight - want)) < 1e-6f);
    optim::StepLR step{0.1, 0.5, 10};
    CHECK(step(9) == Approx(0.1));
    CHECK(step(25) == Approx(0.025));
    optim::CosineAnnealingLR cos{1.0, 0.0, 100};
    CHECK(cos(0) == Approx(1.0));
    CHECK(cos(50) == Approx(0.5));
    CHECK(cos(100) == Approx(0.0).margin(1e-12));
}

namespace {
// d loss / d x by central differences against the analytic gradient.
template <class F>
void check_loss_gradient(Tensor<double>& x, const Tensor<double>& grad, F&& loss) {
    pggtest::check_gradient("loss input", x, grad, loss, {.max_points = 40});
}
} // namespace

TEST_CASE("losses: values and gradients", "[loss]") {
    auto x = pggtest::random_tensor<double>({6, 3}, 1, -4.0, 4.0);
    auto t = pggtest::random_tensor<double>({6, 3}, 2, 0.0, 1.0);
    Tensor<double> grad, scratch;
    const double bce = bce_with_logits(x, t, grad);
    double want = 0;
    for (index_t i = 0; i < 18; ++i) {
        const double v = x.data()[i], p = 1 / (1 + std::exp(-v));
        want -= t.data()[i] * std::log(p) + (1 - t.data()[i]) * std::log(1 - p);
    }
    CHECK(bce == Approx(want / 18).epsilon(1e-12));
    check_loss_gradient(x, grad, [&] { return bce_with_logits(x, t, scratch); });

    std::vector<std::int32_t> labels = {0, 2, 1, 1, 0, 2};
    const double ce = softmax_cross_entropy(x, labels, grad);
    CHECK(ce > 0);
    check_loss_gradient(x, grad, [&] { return softmax_cross_entropy(x, labels, scratch); });
    CHECK_THROWS_WITH(softmax_cross_entropy(x, std::vector<std::int32_t>{0, 1, 2, 3, 0, 0}, grad),
                      Catch::Contains("label 3 of sample 3 outside [0, 3)"));

    auto p = pggtest::random_tensor<double>({2, 1, 4, 4}, 3, 0.0, 1.0);
    Tensor<double> mask = where(pggtest::random_tensor<double>({2, 1, 4, 4}, 4) > 0.0, 1.0, 0.0);
    soft_dice(p, mask, grad);
    check_loss_gradient(p, grad, [&] { return soft_dice(p, mask, scratch); });
    Tensor<double> perfect = mask.clone();
    CHECK(soft_dice(perfect, mask, scratch, 1e-9) == Approx(0.0).margin(1e-9));

    auto real = pggtest::random_tensor<double>({5, 1}, 5, -3.0, 3.0), fake = pggtest::random_tensor<double>({5, 1}, 6, -3.0, 3.0);
    Tensor<double> gr, gf, s1, s2;
    logistic_generator(fake, gf);
    check_loss_gradient(fake, gf, [&] { return logistic_generator(fake, s1); });
    logistic_discriminator(real, fake, gr, gf);
    check_loss_gradient(real, gr, [&] { return logistic_discriminator(real, fake, s1, s2); });
    check_loss_gradient(fake, gf, [&] { return logistic_discriminator(real, fake, s1, s2); });
}
