#pragma once
// Learning-rate schedules as functions of the step (PyTorch's StepLR and CosineAnnealingLR).
#include <cmath>

namespace pgg::optim {

struct StepLR {
    double base, gamma;
    long step_size;
    double operator()(long step) const { return base * std::pow(gamma, double(step / step_size)); }
};

struct CosineAnnealingLR {
    double base, eta_min;
    long t_max;
    double operator()(long step) const {
        const double pi = 3.14159265358979323846;
        return eta_min + (base - eta_min) * (1 + std::cos(pi * double(std::min(step, t_max)) / double(t_max))) / 2;
    }
};

} // namespace pgg::optim
