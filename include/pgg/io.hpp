#pragma once
// Files: atomic writes, safetensors checkpoints.
#include "io/atomic_file.hpp"
#include "io/checkpoint.hpp"
#include "io/dataset.hpp"
#include "io/idx.hpp"
#include "io/image.hpp"
#include "io/npy.hpp"
#include "io/safetensors.hpp"
