#pragma once
// The classifier behind one interface, so that the input side is a run-time option chosen among the
// compiled ones (models.cpp) and the device a run-time choice; checkpoints (safetensors, atomic) hold
// the weights under "net.", and for training the optimiser's state under "opt.".
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <pgg/dist/gradients.hpp>
#include <pgg/pgg.hpp>

namespace cxr_classifier {

struct OptimizerOptions {
    std::string name = "adam"; // adam or sgd
    double momentum = 0.9;     // sgd
    double weight_decay = 5e-4; // sgd (L2, PyTorch's rule)
};

// A classifier on a device ("cpu", or "cuda" in builds with the CUDA backend). Images, logits and
// features cross the interface as host tensors; the weights and the optimiser state stay on the device.
class Model {
public:
    virtual ~Model() = default;
    // Logits (N, 1) of gray images (N, 1, S, S) in [0, 1]: the log-odds of "abnormal".
    virtual const pgg::Tensor<float>& forward(const pgg::Tensor<float>& x) = 0;
    // Parameter gradients (overwritten) of the last forward, given d loss / d logits.
    virtual void backward(const pgg::Tensor<float>& dlogits) = 0;
    // The penultimate layer (N, F): the globally pooled features the logit is a linear function of.
    virtual const pgg::Tensor<float>& features(const pgg::Tensor<float>& x) = 0;
    virtual int feature_count() const = 0;
    virtual void use_optimizer(const OptimizerOptions& o) = 0;
    // Data parallelism: the gradients of the last backward, times `scale` (this process's share of the
    // minibatch; 0: it had no samples), summed over the processes.
    virtual void sum_gradients(pgg::dist::Reducer& reduce, float scale) = 0;
    // One optimiser step at learning rate lr; false (and nothing changed) when a gradient was not finite.
    virtual bool step(double lr) = 0;
    virtual long skipped() const = 0;
    virtual void save_optimizer(pgg::io::SafetensorsWriter& w) = 0;
    virtual void load_optimizer(const pgg::io::SafetensorsFile& f) = 0;
    virtual void reset_parameters(pgg::Generator& g) = 0;
    virtual void save(pgg::io::SafetensorsWriter& w) = 0;
    virtual void load(const pgg::io::SafetensorsFile& f) = 0;
    virtual std::size_t parameter_count() = 0;
    int side = 0;
};

// The compiled input sides, and a model for one of them on `device` (an error lists the others).
const std::vector<int>& compiled_sides();
std::unique_ptr<Model> make_model(int side, const std::string& device = "cpu");

// fn(x, b0, nb) over `images` ((1, 1, S, S) each) in batches of `batch`: x (nb, 1, S, S) holds images
// b0 .. b0 + nb - 1.
template <class F>
void for_each_batch(const std::vector<pgg::Tensor<float>>& images, int side, pgg::index_t batch, F&& fn) {
    const pgg::index_t S = side, n = pgg::index_t(images.size());
    pgg::Tensor<float> x;
    for (pgg::index_t b0 = 0; b0 < n; b0 += batch) {
        const pgg::index_t nb = std::min(batch, n - b0);
        x.resize_({nb, 1, S, S});
        for (pgg::index_t i = 0; i < nb; ++i) std::copy_n(images[std::size_t(b0 + i)].data(), S * S, x.data() + i * S * S);
        fn(x, b0, nb);
    }
}

// P(abnormal) = sigmoid(logit) of each image ((1, 1, S, S) in [0, 1]), in batches of `batch`.
inline std::vector<double> predict(Model& m, const std::vector<pgg::Tensor<float>>& images, pgg::index_t batch,
                                   pgg::Progress* progress = nullptr) {
    std::vector<double> p(images.size());
    for_each_batch(images, m.side, batch, [&](const pgg::Tensor<float>& x, pgg::index_t b0, pgg::index_t nb) {
        const pgg::Tensor<float>& logits = m.forward(x);
        for (pgg::index_t i = 0; i < nb; ++i) p[std::size_t(b0 + i)] = 1.0 / (1.0 + std::exp(-double(logits.data()[i])));
        if (progress) progress->advance(nb);
    });
    return p;
}

// A model for inference from a checkpoint written by `cxr_classifier train`: its side, the decision
// threshold chosen on validation, and the weights.
struct LoadedModel {
    std::unique_ptr<Model> model;
    double threshold = 0.5;
    nlohmann::json options; // the training options
};
inline LoadedModel load_checkpoint(const std::string& path, const std::string& device = "cpu") {
    const auto f = pgg::io::SafetensorsFile::read(path);
    f.require_checksum();
    PGG_CHECK(f.metadata().count("format") && f.string_metadata("format") == "pgg-cxr-classifier", path,
              ": not a cxr_classifier checkpoint");
    LoadedModel out;
    try {
        out.options = nlohmann::json::parse(f.string_metadata("train.options"));
        out.threshold = std::stod(f.string_metadata("classifier.threshold"));
        out.model = make_model(std::stoi(f.string_metadata("classifier.side")), device);
    } catch (const std::logic_error& e) { // std::stod/stoi and nlohmann's errors
        throw pgg::error(path + ": corrupt checkpoint metadata: " + e.what());
    }
    out.model->load(f);
    return out;
}

} // namespace cxr_classifier
