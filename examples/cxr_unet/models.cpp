// The compiled UNet shapes: each (base, depth) is one Sequential type; add pairs here and in
// make_unet (model_impl.hpp) to offer more. The CUDA models compile in models_cuda.cu.
#include "../common/device.hpp"
#include "model_impl.hpp"

namespace cxr_unet {

#if defined(CXR_UNET_WITH_CUDA)
std::unique_ptr<Model> make_cuda_unet(ModelShape s); // models_cuda.cu
#endif

const std::vector<ModelShape>& compiled_shapes() {
    static const std::vector<ModelShape> shapes = {{16, 4}, {32, 4}};
    return shapes;
}

std::unique_ptr<Model> make_model(ModelShape s, const std::string& device) {
    pgg::app::Factory<Model> cuda;
#if defined(CXR_UNET_WITH_CUDA)
    cuda = [&] { return make_cuda_unet(s); };
#endif
    auto m = pgg::app::make_on_device<Model>(device, [&] { return make_unet<pgg::cpu>(s); }, cuda);
    if (m) return m;
    std::ostringstream os;
    os << "no UNet with base width " << s.base << " and depth " << s.depth << " is compiled in; compiled:";
    for (const auto& c : compiled_shapes()) os << " (base " << c.base << ", depth " << c.depth << ")";
    throw pgg::error(os.str() + " (add one in examples/cxr_unet/model_impl.hpp)");
}

} // namespace cxr_unet
