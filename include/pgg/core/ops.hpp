#pragma once
// The elementwise vocabulary on tensors and expressions: operators, math functions, broadcasts,
// where / lerp / clamp, casts, and reductions.
#include <limits>
#include <type_traits>

#include "expr.hpp"
#include "tensor.hpp"

namespace pgg {

template <class E>
concept ExprLike = is_expression_v<E> || is_tensor<E>::value;

template <class A, class B>
concept BinaryOperands = (ExprLike<A> && (ExprLike<B> || std::is_arithmetic_v<B>)) ||
                         (std::is_arithmetic_v<A> && ExprLike<B>);

template <class E>
    requires is_expression_v<E>
const E& as_expr(const E& e) {
    return e;
}

template <class E>
using expr_t = std::remove_cvref_t<decltype(as_expr(std::declval<const E&>()))>;

namespace detail {
// An arithmetic operand becomes a Scalar of the other side's element type: `x * 2` keeps x's type.
template <class Other, class A>
auto operand(const A& a) {
    if constexpr (std::is_arithmetic_v<A>) return Scalar<typename expr_t<Other>::value_type>(a);
    else return as_expr(a);
}
template <class Op, class A, class B>
auto binary(const A& a, const B& b) {
    auto l = operand<B>(a);
    auto r = operand<A>(b);
    return Binary<Op, decltype(l), decltype(r)>(l, r);
}
} // namespace detail

// clang-format off
template <class A, class B> requires BinaryOperands<A, B> auto operator+(const A& a, const B& b) { return detail::binary<op::add>(a, b); }
template <class A, class B> requires BinaryOperands<A, B> auto operator-(const A& a, const B& b) { return detail::binary<op::sub>(a, b); }
template <class A, class B> requires BinaryOperands<A, B> auto operator*(const A& a, const B& b) { return detail::binary<op::mul>(a, b); }
template <class A, class B> requires BinaryOperands<A, B> auto operator/(const A& a, const B& b) { return detail::binary<op::div>(a, b); }
template <class A, class B> requires BinaryOperands<A, B> auto operator<(const A& a, const B& b) { return detail::binary<op::less>(a, b); }
template <class A, class B> requires BinaryOperands<A, B> auto operator<=(const A& a, const B& b) { return detail::binary<op::less_equal>(a, b); }
template <class A, class B> requires BinaryOperands<A, B> auto operator>(const A& a, const B& b) { return detail::binary<op::greater>(a, b); }
template <class A, class B> requires BinaryOperands<A, B> auto operator>=(const A& a, const B& b) { return detail::binary<op::greater_equal>(a, b); }
template <class A, class B> requires BinaryOperands<A, B> auto operator==(const A& a, const B& b) { return detail::binary<op::equal>(a, b); }
template <class A, class B> requires BinaryOperands<A, B> auto operator!=(const A& a, const B& b) { return detail::binary<op::not_equal>(a, b); }
template <class A, class B> requires BinaryOperands<A, B> auto minimum(const A& a, const B& b) { return detail::binary<op::minimum>(a, b); }
template <class A, class B> requires BinaryOperands<A, B> auto maximum(const A& a, const B& b) { return detail::binary<op::maximum>(a, b); }

template <ExprLike E> auto operator-(const E& e) { return Unary<op::neg, expr_t<E>>(as_expr(e)); }
template <ExprLike E> auto square(const E& e) { return Unary<op::square, expr_t<E>>(as_expr(e)); }
template <ExprLike E> auto abs(const E& e) { return Unary<op::abs, expr_t<E>>(as_expr(e)); }
template <ExprLike E> auto exp(const E& e) { return Unary<op::exp, expr_t<E>>(as_expr(e)); }
template <ExprLike E> auto log(const E& e) { return Unary<op::log, expr_t<E>>(as_expr(e)); }
template <ExprLike E> auto sqrt(const E& e) { return Unary<op::sqrt, expr_t<E>>(as_expr(e)); }
template <ExprLike E> auto rsqrt(const E& e) { return Unary<op::rsqrt, expr_t<E>>(as_expr(e)); }
template <ExprLike E> auto tanh(const E& e) { return Unary<op::tanh, expr_t<E>>(as_expr(e)); }
template <ExprLike E> auto sigmoid(const E& e) { return Unary<op::sigmoid, expr_t<E>>(as_expr(e)); }
// clang-format on

template <class T, ExprLike E>
auto cast(const E& e) {
    return Cast<T, expr_t<E>>(as_expr(e));
}

// where(cond, a, b): a where cond is non-zero, else b; a or b may be numbers.
template <class C, class A, class B>
    requires ExprLike<C> && (ExprLike<A> || ExprLike<B> || std::is_arithmetic_v<A>)
auto where(const C& cond, const A& a, const B& b) {
    using T = std::conditional_t<ExprLike<A>, A, std::conditional_t<ExprLike<B>, B, C>>;
    auto x = detail::operand<T>(a);
    auto y = detail::operand<T>(b);
    auto c = as_expr(cond);
    return Select<decltype(c), decltype(x), decltype(y)>(c, x, y);
}

// lerp(a, b, t) = a + (b - a) * t, as torch.lerp.
template <class A, class B, class W>
auto lerp(const A& a, const B& b, const W& t) {
    return a + (b - a) * t;
}

template <ExprLike E, class Lo, class Hi>
auto clamp(const E& e, const Lo& lo, const Hi& hi) {
    return minimum(maximum(e, lo), hi);
}

// Broadcasts of a small tensor over an NCHW result (see Broadcast).
template <class T, class D>
auto per_channel(const Tensor<T, D>& v) {
    return BroadcastLeaf<T, D, Broadcast::channel>(v.data(), v.numel());
}
template <class T, class D>
auto per_sample(const Tensor<T, D>& v) {
    return BroadcastLeaf<T, D, Broadcast::sample>(v.data(), v.numel());
}
template <class T, class D>
auto per_pixel(const Tensor<T, D>& v) {
    return BroadcastLeaf<T, D, Broadcast::pixel>(v.data(), v.numel());
}

// ---------------------------------------------------------------------------------------------
// Reductions. Over everything they return a number at once; along an axis they are lazy objects
// that a tensor evaluates when assigned (`Tensor<float> m = mean_per_channel(x);`).

enum class ReduceOp { sum, mean, sum_sq, max };

namespace detail {
// The fold of each ReduceOp, for every device's reductions (host and device code).
// max propagates NaN as NumPy's does (a NaN anywhere gives NaN, so a check like max(abs(a - b)) < tol
// fails on a broken result); the max of nothing is -inf. Sums propagate NaN by arithmetic.
template <ReduceOp Op, class A>
PGG_HD inline A reduce_identity() {
    return Op == ReduceOp::max ? -std::numeric_limits<A>::infinity() : A(0);
}
template <ReduceOp Op, class A>
PGG_HD PGG_INLINE A reduce_combine(A a, A b) {
    if constexpr (Op == ReduceOp::max) return (b > a || b != b) ? b : a; // once a is NaN, it stays
    else return a + b;
}
template <ReduceOp Op, class A>
PGG_HD PGG_INLINE A reduce_step(A acc, A v) {
    if constexpr (Op == ReduceOp::sum_sq) return acc + v * v;
    else return reduce_combine<Op, A>(acc, v);
}
} // namespace detail

enum class Axis {
    all,
    per_sample,    // -> (N): over C, H, W
    per_channel,   // -> (C): over N, H, W
    over_channels, // -> (N, 1, H, W): over C
};

template <ReduceOp Op, Axis A, class E>
struct Reduction : ReductionTag {
    using value_type = typename E::value_type;
    using device_type = typename E::device_type;
    static constexpr ReduceOp op = Op;
    static constexpr Axis axis = A;
    E e;
    explicit Reduction(const E& x) : e(x) {
        PGG_CHECK(e.bound(), "pgg: reduction of an expression without shape (only scalars or broadcasts)");
    }
    Shape shape() const {
        Shape s = e.shape();
        if constexpr (A == Axis::per_sample) return {s.n()};
        else if constexpr (A == Axis::per_channel) return {s.c()};
        else if constexpr (A == Axis::over_channels) return {s.n(), 1, s.h(), s.w()};
        else return {1};
    }
    // Elements folded into each output value.
    index_t count() const { return e.shape().numel() / shape().numel(); }
};

template <ReduceOp Op, Axis A, ExprLike E>
auto reduce(const E& e) {
    return Reduction<Op, A, expr_t<E>>(as_expr(e));
}

namespace detail {
template <ReduceOp Op, ExprLike E>
auto reduce_all(const E& e) {
    using D = typename expr_t<E>::device_type;
    static_assert(!std::is_void_v<D>, "pgg: reduction of an expression with no tensor in it");
    return Executor<D>::reduce_all(reduce<Op, Axis::all>(e));
}
} // namespace detail

// clang-format off
template <ExprLike E> auto sum(const E& e) { return detail::reduce_all<ReduceOp::sum>(e); }
template <ExprLike E> auto mean(const E& e) { return detail::reduce_all<ReduceOp::mean>(e); }
template <ExprLike E> auto sum_sq(const E& e) { return detail::reduce_all<ReduceOp::sum_sq>(e); }
template <ExprLike E> auto max(const E& e) { return detail::reduce_all<ReduceOp::max>(e); }
template <ExprLike E> auto sum_per_sample(const E& e) { return reduce<ReduceOp::sum, Axis::per_sample>(e); }
template <ExprLike E> auto mean_per_sample(const E& e) { return reduce<ReduceOp::mean, Axis::per_sample>(e); }
template <ExprLike E> auto sum_sq_per_sample(const E& e) { return reduce<ReduceOp::sum_sq, Axis::per_sample>(e); }
template <ExprLike E> auto max_per_sample(const E& e) { return reduce<ReduceOp::max, Axis::per_sample>(e); }
template <ExprLike E> auto sum_per_channel(const E& e) { return reduce<ReduceOp::sum, Axis::per_channel>(e); }
template <ExprLike E> auto mean_per_channel(const E& e) { return reduce<ReduceOp::mean, Axis::per_channel>(e); }
template <ExprLike E> auto sum_sq_per_channel(const E& e) { return reduce<ReduceOp::sum_sq, Axis::per_channel>(e); }
template <ExprLike E> auto max_per_channel(const E& e) { return reduce<ReduceOp::max, Axis::per_channel>(e); }
template <ExprLike E> auto sum_over_channels(const E& e) { return reduce<ReduceOp::sum, Axis::over_channels>(e); }
template <ExprLike E> auto mean_over_channels(const E& e) { return reduce<ReduceOp::mean, Axis::over_channels>(e); }
template <ExprLike E> auto sum_sq_over_channels(const E& e) { return reduce<ReduceOp::sum_sq, Axis::over_channels>(e); }
template <ExprLike E> auto max_over_channels(const E& e) { return reduce<ReduceOp::max, Axis::over_channels>(e); }
// clang-format on

} // namespace pgg
