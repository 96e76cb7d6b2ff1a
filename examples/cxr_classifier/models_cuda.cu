// The classifier models on the GPU (compiled by nvcc in builds with PGG_WITH_CUDA).
#include "model_impl.hpp"

namespace cxr_classifier {

std::unique_ptr<Model> make_cuda_resnet(int side) { return make_resnet<pgg::cuda>(side); }

} // namespace cxr_classifier
