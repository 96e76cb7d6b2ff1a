// The compiled UNet shapes: each (base, depth) is one Sequential type; add pairs here to offer more.
#include <sstream>

#include "model.hpp"
#include "unet.hpp"

namespace cxr_unet {
namespace {

template <int Base, int Depth>
class UNetModel final : public Model {
public:
    UNetModel() { shape = {Base, Depth}; }
    const pgg::Tensor<float>& forward(const pgg::Tensor<float>& x) override {
        PGG_CHECK(x.rank() == 4 && x.c() == 1 && x.h() % (1 << Depth) == 0 && x.w() % (1 << Depth) == 0, "UNet (depth ",
                  Depth, "): input ", x.shape(), " should be (N, 1, H, W) with H and W multiples of ", 1 << Depth);
        return net.forward(x);
    }
    void backward(const pgg::Tensor<float>& dlogits) override {
        pgg::Tensor<float> dx;
        net.backward(dlogits, dx, {.input = false, .params = false});
    }
    void train(bool on) override { net.train(on); }
    pgg::optim::ParameterList<float, pgg::cpu> parameters() override { return pgg::nn::parameters(net); }
    void reset_parameters(pgg::Generator& g) override { reset_parameters_he(net, g); }
    void set_dropout(float rate, std::uint64_t seed) override { cxr_unet::set_dropout(net, rate, seed); }
    std::vector<pgg::Generator*> noise_streams() override { return dropout_generators(net); }
    void save(pgg::io::SafetensorsWriter& w) override { pgg::io::add_network(w, net, "net."); }
    void load(const pgg::io::SafetensorsFile& f) override { pgg::io::load_network(f, net, "net."); }
    std::size_t parameter_count() override {
        std::size_t n = 0;
        net.for_each_parameter([&](const std::string&, pgg::Tensor<float>& v, pgg::Tensor<float>&) { n += v.numel(); });
        return n;
    }

private:
    pgg::nn::Net<UNet<Base, Depth>> net;
};

} // namespace

const std::vector<ModelShape>& compiled_shapes() {
    static const std::vector<ModelShape> shapes = {{16, 4}, {32, 4}};
    return shapes;
}

std::unique_ptr<Model> make_model(ModelShape s) {
    if (s.base == 16 && s.depth == 4) return std::make_unique<UNetModel<16, 4>>();
    if (s.base == 32 && s.depth == 4) return std::make_unique<UNetModel<32, 4>>();
    std::ostringstream os;
    os << "no UNet with base width " << s.base << " and depth " << s.depth << " is compiled in; compiled:";
    for (const auto& c : compiled_shapes()) os << " (base " << c.base << ", depth " << c.depth << ")";
    throw pgg::error(os.str() + " (add one in examples/cxr_unet/models.cpp)");
}

} // namespace cxr_unet
