// The compiled classifier sides: each side is one Sequential type; add sides here and in make_resnet
// (model_impl.hpp) to offer more. The CUDA models compile in models_cuda.cu.
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
    std::unique_ptr<Model> m;
    if (device == "cpu") {
        m = make_resnet<pgg::cpu>(side);
    } else if (device == "cuda") {
#if defined(CXR_CLASSIFIER_WITH_CUDA)
        try {
            m = make_cuda_resnet(side);
        } catch (const pgg::error& e) {
            throw pgg::error(std::string("--device cuda: ") + e.what()); // e.g. no usable GPU
        }
#else
        throw pgg::error("--device cuda: this build has no CUDA backend (configure with a CUDA compiler, PGG_WITH_CUDA=ON)");
#endif
    } else {
        throw pgg::error("unknown device '" + device + "' (cpu or cuda)");
    }
    if (m) return m;
    std::ostringstream os;
    os << "no classifier for side " << side << " is compiled in; compiled:";
    for (int s : compiled_sides()) os << " " << s;
    throw pgg::error(os.str() + " (add one in examples/cxr_classifier/model_impl.hpp)");
}

} // namespace cxr_classifier
