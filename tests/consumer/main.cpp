// A user's program built against an installed pgg: an expression, a reduction and a convolution.
#include <pgg/pgg.hpp>

#include <cstdio>

int main() {
    pgg::Tensor<float> x({2, 3, 8, 8}), w({4, 3, 3, 3}), y;
    pgg::Generator gen(42);
    pgg::fill_normal(x, gen);
    pgg::fill_normal(w, gen);
    pgg::conv2d_forward(x, w, y, {3, 1, 1});
    y = pgg::where(y > 0.0f, y, 0.2f * y);
    std::printf("consumer ok: shape %lld %lld %lld %lld sum_sq %.3f\n", (long long)y.n(), (long long)y.c(),
                (long long)y.h(), (long long)y.w(), pgg::sum_sq(y));
    return y.shape() == pgg::Shape{2, 4, 8, 8} ? 0 : 1;
}
