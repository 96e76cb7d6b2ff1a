// The compiled classifier sides: each side is one Sequential type; add sides here and in make_resnet
// (model_impl.hpp) to offer more. The CUDA models compile in models_cuda.cu.
#include "../common/device.hpp"
#include "model_impl.hpp"

namespace cxr_classifier {

#if defined(CXR_CLASSIFIER_WITH_CUDA)
std::unique_ptr<Model> make_cuda_resnet(int side); // models_cuda.cu
#endif

const std::vector<int>& compiled_sides() {
    static const std::vector<int> sides = {32, 64, 128, 256, 512};
    return sides;
}

std::unique_ptr<Model> make_model(int side, const std::string& device) {
    pgg::app::Factory<Model> cuda;
#if defined(CXR_CLASSIFIER_WITH_CUDA)
    cuda = [&] { return make_cuda_resnet(side); };
#endif
    auto m = pgg::app::make_on_device<Model>(device, [&] { return make_resnet<pgg::cpu>(side); }, cuda);
    if (m) return m;
    std::ostringstream os;
    os << "no classifier for side " << side << " is compiled in; compiled:";
    for (int s : compiled_sides()) os << " " << s;
    throw pgg::error(os.str() + " (add one in examples/cxr_classifier/model_impl.hpp)");
}

} // namespace cxr_classifier
