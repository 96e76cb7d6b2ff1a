#pragma once
// The Model interface over the compiled ResNet of side S on device Dev. Included by models.cpp (the
// CPU) and models_cuda.cu (the GPU, compiled by nvcc).
#include <sstream>

#include "model.hpp"
#include "network.hpp"

namespace cxr_classifier {

template <int S, class Dev>
class ResNetModel final : public Model {
    using DevTensor = pgg::Tensor<float, Dev>;
    using Spec = typename ResNet<S>::type;

public:
    ResNetModel() { side = S; }
    const pgg::Tensor<float>& forward(const pgg::Tensor<float>& x) override {
        return pgg::on_device(net.forward(network_input(x)), logits_);
    }
    void backward(const pgg::Tensor<float>& dlogits) override {
        DevTensor dx;
        net.backward(pgg::on_device(dlogits, dy_), dx, {.input = false, .params = false});
    }
    const pgg::Tensor<float>& features(const pgg::Tensor<float>& x) override {
        return pgg::on_device(net.template get<0>().forward(network_input(x)), features_);
    }
    int feature_count() const override { return ResNet<S>::features; }
    void use_optimizer(const OptimizerOptions& o) override {
        if (o.name == "sgd") sgd_ = std::make_unique<pgg::optim::SGD<float, Dev>>(
                                 pgg::nn::parameters(net), pgg::optim::SgdOptions{.momentum = o.momentum, .weight_decay = o.weight_decay});
        else adam_ = std::make_unique<pgg::optim::Adam<float, Dev>>(pgg::nn::parameters(net));
    }
    void sum_gradients(pgg::dist::Reducer& reduce, float scale) override {
        if (params_.empty()) params_ = pgg::nn::parameters(net);
        pgg::dist::sum_gradients(params_, reduce, scale, flat_);
    }
    bool step(double lr) override {
        if (sgd_) {
            sgd_->set_lr(lr);
            return sgd_->step();
        }
        adam_->set_lr(lr);
        return adam_->step();
    }
    long skipped() const override { return sgd_ ? sgd_->skipped() : adam_->skipped(); }
    void save_optimizer(pgg::io::SafetensorsWriter& w) override {
        if (sgd_) pgg::io::add_sgd(w, *sgd_, "opt.");
        else pgg::io::add_adam(w, *adam_, "opt.");
    }
    void load_optimizer(const pgg::io::SafetensorsFile& f) override {
        if (sgd_) pgg::io::load_sgd(f, *sgd_, "opt.");
        else pgg::io::load_adam(f, *adam_, "opt.");
    }
    void reset_parameters(pgg::Generator& g) override { cxr_classifier::reset_parameters(net, g); }
    void save(pgg::io::SafetensorsWriter& w) override { pgg::io::add_network(w, net, "net."); }
    void load(const pgg::io::SafetensorsFile& f) override { pgg::io::load_network(f, net, "net."); }
    std::size_t parameter_count() override { return pgg::nn::parameter_count(net); }

private:
    // The images' [0, 1] gray values as the network sees them, in [-1, 1], on the device.
    const DevTensor& network_input(const pgg::Tensor<float>& x) {
        PGG_CHECK(x.rank() == 4 && x.c() == 1 && x.h() == S && x.w() == S, "classifier (side ", S, "): input ", x.shape(),
                  " should be (N, 1, ", S, ", ", S, ")");
        input_.resize_(x.shape()) = pgg::on_device(x, x_) * 2.0f - 1.0f;
        return input_;
    }

    pgg::nn::Net<Spec, float, Dev> net;
    std::unique_ptr<pgg::optim::Adam<float, Dev>> adam_;
    std::unique_ptr<pgg::optim::SGD<float, Dev>> sgd_;
    DevTensor x_, dy_;                    // device copies of the inputs (GPU only)
    DevTensor input_;                     // the scaled images
    pgg::optim::ParameterList<float, Dev> params_; // data parallelism: the gradients summed
    DevTensor flat_;                               // over the processes, in one buffer
    pgg::Tensor<float> logits_, features_; // host copies of the outputs (GPU only)
};

// The compiled sides on device Dev; null for a side that is not compiled.
template <class Dev>
std::unique_ptr<Model> make_resnet(int side) {
    switch (side) {
    case 32: return std::make_unique<ResNetModel<32, Dev>>();
    case 64: return std::make_unique<ResNetModel<64, Dev>>();
    case 128: return std::make_unique<ResNetModel<128, Dev>>();
    case 256: return std::make_unique<ResNetModel<256, Dev>>();
    case 512: return std::make_unique<ResNetModel<512, Dev>>();
    default: return nullptr;
    }
}

} // namespace cxr_classifier
