#pragma once
// The UNet behind one interface, so that the base width and depth are run-time options chosen among
// the compiled ones (models.cpp), and checkpoints (safetensors, atomic): the weights under "net.",
// and for training Adam's moments under "adam." plus the epoch, the noise streams and the options.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <pgg/dist/gradients.hpp>
#include <pgg/pgg.hpp>

namespace cxr_unet {

struct ModelShape {
    int base = 16;
    int depth = 4;
};

// A UNet on a device ("cpu", or "cuda" in builds with the CUDA backend). Images, logits and their
// gradients cross the interface as host tensors (one channel: a small copy on a GPU); the weights and
// the optimiser state stay on the device.
class Model {
public:
    virtual ~Model() = default;
    // Logits (N, 1, H, W) of images (N, 1, H, W); H and W multiples of 2^depth.
    virtual const pgg::Tensor<float>& forward(const pgg::Tensor<float>& x) = 0;
    // Parameter gradients (overwritten) of the last forward, given d loss / d logits.
    virtual void backward(const pgg::Tensor<float>& dlogits) = 0;
    // Dropout noise on (training, Monte-Carlo sampling) or off.
    virtual void train(bool on) = 0;
    // Adam on the parameters: created by use_adam, then one step per backward (false: skipped, a
    // gradient was not finite); its state goes into checkpoints under `prefix`.
    virtual void use_adam(const pgg::optim::AdamOptions& o) = 0;
    virtual bool adam_step(double lr) = 0;
    virtual long adam_skipped() const = 0;
    virtual void save_adam(pgg::io::SafetensorsWriter& w, const std::string& prefix) = 0;
    virtual void load_adam(const pgg::io::SafetensorsFile& f, const std::string& prefix) = 0;
    virtual void reset_parameters(pgg::Generator& g) = 0;
    virtual void set_dropout(float rate, std::uint64_t seed) = 0;
    virtual std::vector<pgg::Generator*> noise_streams() = 0;
    // Data parallelism: the next forward passes take samples [first, first + N) of minibatches of
    // `total` (0: whole ones), drawing those samples' dropout noise; and the gradients of the last
    // backward, times `scale`, summed over the processes.
    virtual void set_share(pgg::index_t first, pgg::index_t total) = 0;
    virtual void sum_gradients(pgg::dist::Reducer& reduce, float scale) = 0;
    virtual void save(pgg::io::SafetensorsWriter& w) = 0;
    virtual void load(const pgg::io::SafetensorsFile& f) = 0;
    virtual std::size_t parameter_count() = 0;
    ModelShape shape;
};

// The compiled (base, depth) pairs, and a model of one of them on `device` (an error lists the others).
const std::vector<ModelShape>& compiled_shapes();
std::unique_ptr<Model> make_model(ModelShape s, const std::string& device = "cpu");

// Probabilities sigmoid(logits) of a batch, dropout off, or with T > 1 the mean of T passes with
// dropout on (Monte-Carlo dropout) and the per-pixel standard deviation in `stddev`.
inline pgg::Tensor<float> predict(Model& m, const pgg::Tensor<float>& x, int samples = 1, pgg::Tensor<float>* stddev = nullptr) {
    if (samples <= 1) {
        m.train(false);
        pgg::Tensor<float> p = pgg::sigmoid(m.forward(x));
        if (stddev) stddev->resize_(p.shape()).zero_();
        return p;
    }
    m.train(true);
    pgg::Tensor<float> sum(x.shape()), sum_sq(x.shape());
    sum.zero_();
    sum_sq.zero_();
    for (int t = 0; t < samples; ++t) {
        pgg::Tensor<float> p = pgg::sigmoid(m.forward(x));
        sum = sum + p;
        sum_sq = sum_sq + p * p;
    }
    m.train(false);
    const float inv = 1.0f / float(samples);
    pgg::Tensor<float> mean = sum * inv;
    if (stddev) stddev->resize_(mean.shape()) = pgg::sqrt(pgg::maximum(sum_sq * inv - mean * mean, 0.0f));
    return mean;
}

// A model for inference from a checkpoint written by `cxr_unet train`: its shape, input size and weights.
struct LoadedModel {
    std::unique_ptr<Model> model;
    pgg::index_t size = 0;  // the training input size
    float dropout = 0;
};
inline LoadedModel load_checkpoint(const std::string& path, const std::string& device = "cpu") {
    const auto f = pgg::io::SafetensorsFile::read(path);
    f.require_checksum();
    auto meta = [&](const std::string& k) {
        const auto it = f.metadata().find(k);
        PGG_CHECK(it != f.metadata().end(), path, ": not a cxr_unet checkpoint (no '", k, "' in its metadata)");
        return it->second;
    };
    ModelShape s{std::stoi(meta("unet.base")), std::stoi(meta("unet.depth"))};
    LoadedModel out{make_model(s, device), std::stol(meta("unet.size")), std::stof(meta("unet.dropout"))};
    out.model->set_dropout(out.dropout, 0);
    out.model->load(f);
    return out;
}

} // namespace cxr_unet
