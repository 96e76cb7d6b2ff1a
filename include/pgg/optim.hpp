#pragma once
// Optimisers, weight averaging and learning-rate schedules.
#include "optim/adam.hpp"
#include "optim/ema.hpp"
#include "optim/schedule.hpp"
#include "optim/sgd.hpp"
