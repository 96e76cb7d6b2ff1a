// Data-parallel gradient sums without MPI: a stand-in Reducer for P processes holding the same
// gradients (the sum is P times the buffer, exact for P = 2), which records when each sum starts.
// The processes themselves are tested by the data-parallel CTest scripts under mpirun.
#include <catch2/catch.hpp>

#include <pgg/dist/gradients.hpp>
#include <pgg/pgg.hpp>

#include "reference.hpp"
#include "small_discriminator.hpp"

using namespace pgg;
using namespace pgg::nn;
using pggtest::SmallD;

namespace {

// Tells the sums of each layer done, and keeps the order.
struct Spy final : LayerDone {
    LayerDone* inner = nullptr;
    std::vector<std::size_t> order;
    void operator()(std::size_t layer) override {
        order.push_back(layer);
        if (inner) (*inner)(layer);
    }
};

struct TwoProcesses final : dist::Reducer {
    const Spy* spy = nullptr;
    std::vector<std::pair<float*, std::size_t>> pending;
    std::vector<std::size_t> started_after; // layers done when each sum started
    bool device = false;
    void sum(float* data, std::size_t n) override {
        for (std::size_t i = 0; i < n; ++i) data[i] *= 2;
    }
    void sum(double* data, std::size_t n) override {
        for (std::size_t i = 0; i < n; ++i) data[i] *= 2;
    }
    bool device_memory() const override { return device; }
    void start_sum(float* data, std::size_t n) override {
        pending.emplace_back(data, n);
        started_after.push_back(spy ? spy->order.size() : 0);
    }
    void wait() override {
        for (auto [data, n] : pending) sum(data, n);
        pending.clear();
    }
};

std::vector<Tensor<float>> gradients(Net<SmallD>& d) {
    std::vector<Tensor<float>> out;
    d.for_each_parameter([&](const std::string&, Tensor<float>&, Tensor<float>& g) { out.push_back(g.clone()); });
    return out;
}

} // namespace

TEST_CASE("Sequential tells LayerDone after each of its own layers, last to first, not its layers' layers", "[dist]") {
    Net<SmallD> d;
    Generator init(3);
    d.reset_parameters(init);
    const auto x = pggtest::random_tensor<float>({4, 1, 8, 8}, 4);
    const Tensor<float>& y = d.forward(x);
    Tensor<float> dy(y.shape()), dx(x.shape());
    dy.fill(1.0f);
    Spy spy;
    d.backward(dy, dx, {.done = &spy});
    std::vector<std::size_t> want(Net<SmallD>::size);
    for (std::size_t i = 0; i < want.size(); ++i) want[i] = want.size() - 1 - i;
    CHECK(spy.order == want);
    // the block "block8" (layer 2) is a Sequential of 5 layers: its parameters count for layer 2
    const auto per_layer = d.parameters_per_layer();
    CHECK(per_layer == std::vector<std::size_t>{2, 0, 4, 0, 2, 0, 0, 2, 0, 2});
}

TEST_CASE("OverlappedSum: buckets started during D's last WGAN-GP pass sum to what one flat sum gives", "[dist][wgan-gp]") {
    Net<SmallD> d;
    Generator init(5);
    d.reset_parameters(init);
    const auto real = pggtest::random_tensor<float>({4, 1, 8, 8}, 6), fake = pggtest::random_tensor<float>({4, 1, 8, 8}, 7);
    const Generator draws(8);
    WganGpOptions opt{.lambda = 10.0, .drift = 1e-3};
    Generator g = draws;
    wgan_gp_discriminator(d, real, fake, g, opt);
    const auto plain = gradients(d);

    auto params = parameters(d);
    TwoProcesses two;
    Tensor<float> flat;
    dist::sum_gradients(params, two, 0.25f, flat); // one flat all-reduce: 2 x 0.25 = half of each gradient
    const auto flat_sums = gradients(d);

    // buckets of at least 200 values, whole layers from the last back: dense1 (9 values) + dense0 (776),
    // conv (384), block8 (370), fromrgb (8)
    dist::OverlappedSum<float, cpu> sums(params, d.parameters_per_layer(), 200);
    REQUIRE(sums.buckets() == 4);
    Spy spy;
    spy.inner = &sums;
    two.spy = &spy;
    sums.begin(two, 0.25f);
    opt.last_pass_done = &spy;
    g = draws;
    wgan_gp_discriminator(d, real, fake, g, opt);
    // every bucket started within the last pass, as soon as its layers were done (layers 9-7, 6-4,
    // 3-2, 1-0 of 10), none left for end()
    CHECK(two.started_after == std::vector<std::size_t>{3, 6, 8, 10});
    CHECK(spy.order.size() == Net<SmallD>::size); // told in the last pass only
    sums.end();
    const auto bucket_sums = gradients(d);
    for (std::size_t i = 0; i < plain.size(); ++i) {
        INFO("parameter " << i);
        CHECK(std::isfinite(double(pgg::sum(abs(plain[i])))));
        CHECK(pgg::sum(abs(plain[i])) > 0);
        for (index_t k = 0; k < plain[i].numel(); ++k) {
            REQUIRE(flat_sums[i].data()[k] == 0.5f * plain[i].data()[k]);
            REQUIRE(bucket_sums[i].data()[k] == flat_sums[i].data()[k]);
        }
    }

    // a layer told done after its bucket started (the hook in two passes): refused
    sums.begin(two, 1.0f);
    sums(7);
    CHECK_THROWS_WITH(sums(8), Catch::Contains("done after its bucket's sum started"));
    sums.end();

    // begin/end without a backward pass: every bucket at end(); scale 0 sums zeros
    sums.begin(two, 0.0f);
    sums.end();
    for (const auto& p : params) CHECK(pgg::sum(abs(p.grad)) == 0);

    // a reducer of GPU memory for host gradients: refused, naming both
    two.device = true;
    CHECK_THROWS_WITH(sums.begin(two, 1.0f), Catch::Contains("host memory and a reducer of GPU memory"));
    CHECK_THROWS_WITH(dist::sum_gradients(params, two, 1.0f, flat), Catch::Contains("host memory and a reducer of GPU memory"));
}
