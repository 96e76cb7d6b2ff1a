#pragma once
// Exponential moving average of weights (PG-GAN's Gs): after each step, avg = lerp(w, avg, beta),
// i.e. avg = w + (avg - w) * beta. The average lives in a second network of the same type.
#include "optimizer.hpp"

namespace pgg::optim {

template <class T, class D = cpu>
class ExponentialMovingAverage {
public:
    // `average` starts as a copy of `source`.
    ExponentialMovingAverage(ParameterList<T, D> source, ParameterList<T, D> average)
        : src_(std::move(source)), avg_(std::move(average)) {
        PGG_CHECK(src_.size() == avg_.size(), "ExponentialMovingAverage: ", src_.size(), " and ", avg_.size(),
                  " parameters differ");
        for (std::size_t i = 0; i < src_.size(); ++i) {
            PGG_CHECK(src_[i].value.shape() == avg_[i].value.shape(), "ExponentialMovingAverage: ", src_[i].name, " has shape ",
                      src_[i].value.shape(), " but its average ", avg_[i].value.shape());
            avg_[i].value.copy_(src_[i].value);
        }
    }
    void update(double beta) {
        const T b = T(beta);
        for (std::size_t i = 0; i < src_.size(); ++i)
            if (src_[i].value.numel()) avg_[i].value = lerp(src_[i].value, avg_[i].value, b);
    }

private:
    ParameterList<T, D> src_, avg_;
};

} // namespace pgg::optim
