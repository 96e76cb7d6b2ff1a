// The UNet models on the GPU (compiled by nvcc in builds with PGG_WITH_CUDA).
#include "model_impl.hpp"

namespace cxr_unet {

std::unique_ptr<Model> make_cuda_unet(ModelShape s) { return make_unet<pgg::cuda>(s); }

} // namespace cxr_unet
