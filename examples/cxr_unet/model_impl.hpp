#pragma once
// The Model interface over one compiled UNet type on device Dev. Included by models.cpp (the CPU) and
// models_cuda.cu (the GPU, compiled by nvcc).
#include <sstream>

#include "model.hpp"
#include "unet.hpp"

namespace cxr_unet {

template <int Base, int Depth, class Dev>
class UNetModel final : public Model {
    using DevTensor = pgg::Tensor<float, Dev>;

public:
    UNetModel() { shape = {Base, Depth}; }
    const pgg::Tensor<float>& forward(const pgg::Tensor<float>& x) override {
        PGG_CHECK(x.rank() == 4 && x.c() == 1 && x.h() % (1 << Depth) == 0 && x.w() % (1 << Depth) == 0, "UNet (depth ",
                  Depth, "): input ", x.shape(), " should be (N, 1, H, W) with H and W multiples of ", 1 << Depth);
        return pgg::on_device(net.forward(pgg::on_device(x, x_)), logits_);
    }
    void backward(const pgg::Tensor<float>& dlogits) override {
        DevTensor dx;
        net.backward(pgg::on_device(dlogits, dy_), dx, {.input = false, .params = false});
    }
    void train(bool on) override { net.train(on); }
    void use_adam(const pgg::optim::AdamOptions& o) override {
        adam_ = std::make_unique<pgg::optim::Adam<float, Dev>>(pgg::nn::parameters(net), o);
    }
    bool adam_step(double lr) override {
        adam_->set_lr(lr);
        return adam_->step();
    }
    long adam_skipped() const override { return adam_->skipped(); }
    void save_adam(pgg::io::SafetensorsWriter& w, const std::string& prefix) override { pgg::io::add_adam(w, *adam_, prefix); }
    void load_adam(const pgg::io::SafetensorsFile& f, const std::string& prefix) override { pgg::io::load_adam(f, *adam_, prefix); }
    void reset_parameters(pgg::Generator& g) override { reset_parameters_he(net, g); }
    void set_dropout(float rate, std::uint64_t seed) override { pgg::nn::set_dropout(net, rate, seed); }
    std::vector<pgg::Generator*> noise_streams() override { return pgg::nn::dropout_generators(net); }
    void set_share(pgg::index_t first, pgg::index_t total) override { pgg::nn::set_dropout_share(net, first, total); }
    void sum_gradients(pgg::dist::Reducer& reduce, float scale) override {
        if (params_.empty()) params_ = pgg::nn::parameters(net);
        pgg::dist::sum_gradients(params_, reduce, scale, flat_);
    }
    void save(pgg::io::SafetensorsWriter& w) override { pgg::io::add_network(w, net, "net."); }
    void load(const pgg::io::SafetensorsFile& f) override { pgg::io::load_network(f, net, "net."); }
    std::size_t parameter_count() override { return pgg::nn::parameter_count(net); }

private:
    pgg::nn::Net<UNet<Base, Depth>, float, Dev> net;
    std::unique_ptr<pgg::optim::Adam<float, Dev>> adam_;
    DevTensor x_, dy_;          // device copies of the inputs (GPU only)
    pgg::Tensor<float> logits_; // host copy of the logits (GPU only)
    pgg::optim::ParameterList<float, Dev> params_; // data parallelism: the gradients summed
    DevTensor flat_;                               // over the processes, in one buffer
};

// The compiled shapes on device Dev; null for a shape that is not compiled.
template <class Dev>
std::unique_ptr<Model> make_unet(ModelShape s) {
    if (s.base == 16 && s.depth == 4) return std::make_unique<UNetModel<16, 4, Dev>>();
    if (s.base == 32 && s.depth == 4) return std::make_unique<UNetModel<32, 4, Dev>>();
    return nullptr;
}

} // namespace cxr_unet
