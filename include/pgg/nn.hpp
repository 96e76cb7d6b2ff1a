#pragma once
// The layers and their composition.
#include "nn/activation.hpp"
#include "nn/bias.hpp"
#include "nn/combine.hpp"
#include "nn/conv.hpp"
#include "nn/dense.hpp"
#include "nn/dropout.hpp"
#include "nn/layer.hpp"
#include "nn/loss.hpp"
#include "nn/minibatch_stddev.hpp"
#include "nn/pixel_norm.hpp"
#include "nn/resample.hpp"
#include "nn/sequential.hpp"
