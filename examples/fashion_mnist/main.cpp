// fashion_mnist: trains a small CNN built with pgg::nn::Sequential on Fashion-MNIST (Debian's
// dataset-fashion-mnist), with Adam, and reports test accuracy after every epoch.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>

#include "model.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

double accuracy(pgg::nn::Net<fashion::Model>& net, const pgg::Tensor<std::uint8_t>& images, const pgg::Tensor<std::uint8_t>& labels,
                pgg::index_t count) {
    std::vector<pgg::index_t> order(count);
    std::iota(order.begin(), order.end(), 0);
    pgg::Tensor<float> x;
    pgg::index_t correct = 0;
    for (pgg::index_t b = 0; b < count; b += 500) {
        const pgg::index_t n = std::min<pgg::index_t>(500, count - b);
        fashion::make_batch(images, order, b, n, x);
        const pgg::Tensor<float>& logits = net.forward(x);
        for (pgg::index_t i = 0; i < n; ++i) {
            const float* row = logits.data() + i * 10;
            correct += std::max_element(row, row + 10) - row == labels.data()[b + i];
        }
    }
    return double(correct) / double(count);
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Train a small CNN on Fashion-MNIST with pgg."};
    std::string data = "/usr/share/datasets/fashion-mnist", save;
    int epochs = 5;
    pgg::index_t batch = 64, train_count = 0, test_count = 0;
    double lr = 1e-3, min_accuracy = 0;
    std::uint64_t seed = 1;
    app.add_option("--data", data, "folder with the four *-ubyte.gz files")->capture_default_str();
    app.add_option("--epochs", epochs, "passes over the training set")->capture_default_str()->check(CLI::Range(1, 1000));
    app.add_option("--batch", batch, "minibatch size")->capture_default_str()->check(CLI::Range(1, 100000));
    app.add_option("--lr", lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--train-subset", train_count, "train on the first N images only (0: all)")->check(CLI::NonNegativeNumber);
    app.add_option("--test-subset", test_count, "test on the first N images only (0: all)")->check(CLI::NonNegativeNumber);
    app.add_option("--seed", seed, "seed of initialisation and shuffling")->capture_default_str();
    app.add_option("--save", save, "write the trained network to this .safetensors file");
    app.add_option("--min-accuracy", min_accuracy, "exit with status 2 if the final test accuracy is lower")
        ->check(CLI::Range(0.0, 1.0));
    CLI11_PARSE(app, argc, argv);

    try {
        using namespace pgg;
        set_flush_denormal(true); // see pgg/backend/cpu/denormal.hpp
        const auto train_x = io::read_idx(data + "/train-images-idx3-ubyte.gz");
        const auto train_y = io::read_idx(data + "/train-labels-idx1-ubyte.gz");
        const auto test_x = io::read_idx(data + "/t10k-images-idx3-ubyte.gz");
        const auto test_y = io::read_idx(data + "/t10k-labels-idx1-ubyte.gz");
        PGG_CHECK(train_x.n() == train_y.n() && test_x.n() == test_y.n(), data, ": image and label counts differ");
        PGG_CHECK(train_x.h() == 28 && train_x.w() == 28, data, ": images are ", train_x.h(), "x", train_x.w(), ", expected 28x28");
        train_count = train_count ? std::min(train_count, train_x.n()) : train_x.n();
        test_count = test_count ? std::min(test_count, test_x.n()) : test_x.n();
        std::printf("fashion_mnist: %lld training and %lld test images, batch %lld, Adam lr %g, %d threads\n",
                    (long long)train_count, (long long)test_count, (long long)batch, lr, cpu_detail::max_threads());

        nn::Net<fashion::Model> net;
        Generator gen(seed);
        net.reset_parameters(gen);
        optim::Adam<float> adam(nn::parameters(net), {.lr = lr});
        Tensor<float> x, grad, dx;
        std::vector<std::int32_t> labels;
        double test_acc = 0;
        const auto start = clock_type::now();
        for (int epoch = 1; epoch <= epochs; ++epoch) {
            const auto t0 = clock_type::now();
            const auto order = random_permutation(train_count, gen);
            double loss_sum = 0;
            pgg::index_t seen = 0, steps = 0, next_report = train_count / 10;
            for (pgg::index_t b = 0; b + batch <= train_count; b += batch) {
                fashion::make_batch(train_x, order, b, batch, x);
                labels.resize(batch);
                for (pgg::index_t i = 0; i < batch; ++i) labels[i] = train_y.data()[order[b + i]];
                loss_sum += nn::softmax_cross_entropy(net.forward(x), labels, grad);
                net.backward(grad, dx, {false, false});
                adam.step();
                seen += batch, ++steps;
                if (seen >= next_report && seen < train_count - batch) {
                    const double el = seconds_since(t0), rate = double(seen) / el;
                    std::printf("  epoch %d  %3.0f%%  loss %.4f  %.0f img/s  ETA %s\n", epoch, 100.0 * seen / train_count,
                                loss_sum / steps, rate, pgg::format_duration(double(train_count - seen) / rate).c_str());
                    std::fflush(stdout);
                    next_report += train_count / 10;
                }
            }
            const double train_s = seconds_since(t0);
            test_acc = accuracy(net, test_x, test_y, test_count);
            std::printf("epoch %d/%d  loss %.4f  test accuracy %.2f%%  %s (%.0f img/s)  total %s\n", epoch, epochs,
                        loss_sum / std::max<pgg::index_t>(steps, 1), 100 * test_acc, pgg::format_duration(train_s).c_str(),
                        double(seen) / train_s, pgg::format_duration(seconds_since(start)).c_str());
            std::fflush(stdout);
        }
        if (adam.skipped()) std::printf("skipped %ld steps with non-finite gradients\n", adam.skipped());
        if (!save.empty()) {
            io::SafetensorsWriter w;
            io::add_network(w, net);
            w.metadata("test_accuracy", std::to_string(test_acc));
            w.write(save);
            std::printf("saved %s\n", save.c_str());
        }
        if (test_acc < min_accuracy) {
            std::fprintf(stderr, "fashion_mnist: test accuracy %.4f is below --min-accuracy %.4f\n", test_acc, min_accuracy);
            return 2;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fashion_mnist: %s\n", e.what());
        return 1;
    }
    return 0;
}
