#pragma once
// The abnormality classifier: a small ResNet (He et al. 2016) without batch normalisation, one
// compile-time Sequential per input side S (a power of two, 64 to 512):
//
//   stem   = conv3x3 1 -> 16, stride 2, ReLU                                          (S/2)
//   stage  = conv3x3 Cin -> Cout, stride 2, ReLU, block(Cout)                          (halves the side)
//   block  = ReLU(x + conv3x3(ReLU(conv3x3 x)))                                        (identity shortcut)
//   net    = stem, stages until the side is 4 (widths 32, 64, 128, then 128), global average pool,
//            dense 128 -> 1 logit (abnormal)
//
// Why no batch normalisation: class-balanced minibatches of a few hundred images and evaluation one
// image at a time make batch statistics a source of train/test mismatch; instead every residual
// branch starts as zero (its second convolution's weights are zero, as in Fixup and SkipInit), so the
// initial network is a plain He-initialised stack whose signal keeps its scale, and each block learns
// its residual from there. The global average pool makes the head independent of the input side.
#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

#include <pgg/pgg.hpp>

namespace cxr_classifier {

using namespace pgg::nn;

inline constexpr int stem_width = 16, max_width = 128;

template <int C>
using BasicBlock = Sequential<Named<"block", Residual<Named<"", Sequential<Named<"conv1", Conv2d<C, C, 3>>, ReLU,
                                                                           Named<"conv2", Conv2d<C, C, 3>>>>>>,
                              ReLU>;

template <int In, int Out>
using Stage = Sequential<Named<"down", Conv2d<In, Out, 3, LayerOptions{.stride = 2}>>, ReLU, Named<"", BasicBlock<Out>>>;

// The stages from side `Side` (channels In) down to 4x4, named stage1, stage2, ...: a tuple of layers.
template <int Side, int In, int Index>
struct StageList {
    static constexpr int out = std::min(2 * In, max_width);
    static constexpr char name[] = {'s', 't', 'a', 'g', 'e', char('0' + Index), '\0'};
    using stage = Named<name, Stage<In, out>>;
    using rest = typename StageList<Side / 2, out, Index + 1>::layers;
    using layers = decltype(std::tuple_cat(std::declval<std::tuple<stage>>(), std::declval<rest>()));
    static constexpr int width = StageList<Side / 2, out, Index + 1>::width;
};
template <int In, int Index>
struct StageList<4, In, Index> {
    using layers = std::tuple<>;
    static constexpr int width = In;
};

template <class Tuple>
struct SequentialOf;
template <class... Ls>
struct SequentialOf<std::tuple<Ls...>> {
    using type = Sequential<Ls...>;
};

template <int Side>
struct ResNet {
    static_assert(Side >= 16 && (Side & (Side - 1)) == 0, "ResNet: the input side must be a power of two, at least 16");
    using stages = StageList<Side / 2, stem_width, 1>;
    static constexpr int features = stages::width; // the penultimate layer: channels after the global pool
    using body = Sequential<Named<"stem", Conv2d<1, stem_width, 3, LayerOptions{.stride = 2}>>, ReLU,
                            Named<"", typename SequentialOf<typename stages::layers>::type>, GlobalAvgPool>;
    using type = Sequential<Named<"features", body>, Named<"head", Dense<features, 1>>>;
};

// He initialisation for the convolutions (N(0, 2 / fan_in), which keeps the signal's scale through
// ReLUs), zero for every residual branch's last convolution and for biases, N(0, 1 / fan_in) for the
// logit's weights.
template <class Net>
void reset_parameters(Net& net, pgg::Generator& g) {
    net.for_each_parameter([&](const std::string& name, auto& v, auto&) {
        const bool branch_end = name.size() >= 12 && name.compare(name.size() - 12, 12, "conv2.weight") == 0;
        if (v.rank() == 1 || branch_end) {
            v.zero_();
            return;
        }
        const double fan_in = double(v.numel() / v.shape()[0]);
        pgg::fill_normal(v, g, 0.0f, float(std::sqrt((v.rank() == 4 ? 2.0 : 1.0) / fan_in)));
    });
}

} // namespace cxr_classifier
