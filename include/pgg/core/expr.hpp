#pragma once
// Expression nodes: trivially copyable functors that read one element of an elementwise expression.
//
// Every node offers two reads of element (plane o, offset i) of an NCHW result whose planes hold
// `inner` = H*W elements: `at(o, i)`, used by the CPU loops (o fixed per row, so broadcasts hoist
// out of the inner loop), and the flat `operator[](k)`, used where no row structure helps (CUDA
// kernels, expressions without broadcasts). Nodes hold raw pointers: an expression must not outlive
// the tensors it reads, so never keep one in an `auto` past the statement that assigns it.
#include <cmath>
#include <type_traits>

#include "config.hpp"
#include "device.hpp"
#include "shape.hpp"

namespace pgg {

template <class T>
struct is_tensor : std::false_type {};

struct ExprTag {};      // base of every elementwise node
struct ReductionTag {}; // base of every lazy reduction

template <class E>
inline constexpr bool is_expression_v = std::is_base_of_v<ExprTag, E>;
template <class E>
inline constexpr bool is_reduction_v = std::is_base_of_v<ReductionTag, E>;

// Reads a contiguous tensor of the result's shape.
template <class T, class D>
struct Leaf : ExprTag {
    using value_type = T;
    using device_type = D;
    static constexpr bool broadcasts = false;

    const T* p;
    index_t inner;
    Shape s;

    Leaf(const T* data, const Shape& shape) : p(data), inner(shape.plane()), s(shape) {}
    PGG_HD PGG_INLINE T operator[](index_t k) const { return p[k]; }
    PGG_HD PGG_INLINE T at(index_t o, index_t i) const { return p[o * inner + i]; }
    bool bound() const { return true; }
    const Shape& shape() const { return s; }
    void bind(const Shape& shape) const {
        PGG_CHECK(shape == s, "pgg: expression operands of shapes ", s, " and ", shape, " differ");
    }
};

// A constant; takes the shape of whatever it is combined with.
template <class T>
struct Scalar : ExprTag {
    using value_type = T;
    using device_type = void;
    static constexpr bool broadcasts = false;

    T v;
    explicit Scalar(T value) : v(value) {}
    PGG_HD PGG_INLINE T operator[](index_t) const { return v; }
    PGG_HD PGG_INLINE T at(index_t, index_t) const { return v; }
    bool bound() const { return false; }
    Shape shape() const { return {}; }
    void bind(const Shape&) {}
};

// How a broadcast vector maps onto an NCHW result.
enum class Broadcast {
    channel, // C values: one per channel, shared by every sample and pixel (a bias)
    sample,  // N values: one per sample
    pixel,   // N*H*W values (shape N,1,H,W): one per sample and pixel, shared by the channels
};

template <class T, class D, Broadcast B>
struct BroadcastLeaf : ExprTag {
    using value_type = T;
    using device_type = D;
    static constexpr bool broadcasts = true;

    const T* p;
    index_t count;        // values held (C, N or N*H*W)
    index_t channels = 0; // of the result, once bound
    index_t inner = 0;    // H*W of the result, once bound
    bool is_bound = false;
    Shape s;

    BroadcastLeaf(const T* data, index_t n) : p(data), count(n) {}

    PGG_HD PGG_INLINE T at(index_t o, index_t i) const {
        if constexpr (B == Broadcast::channel) return p[o % channels];
        else if constexpr (B == Broadcast::sample) return p[o / channels];
        else return p[(o / channels) * inner + i];
    }
    PGG_HD PGG_INLINE T operator[](index_t k) const { return at(k / inner, k % inner); }
    bool bound() const { return is_bound; }
    const Shape& shape() const { return s; }
    void bind(const Shape& shape) {
        const char* what = B == Broadcast::channel ? "per_channel" : B == Broadcast::sample ? "per_sample" : "per_pixel";
        index_t need = B == Broadcast::channel ? shape.c()
                     : B == Broadcast::sample  ? shape.n()
                                               : shape.n() * shape.plane();
        PGG_CHECK(need == count, "pgg: ", what, " broadcast of ", count, " values onto shape ", shape, " needs ", need);
        channels = shape.c();
        inner = shape.plane();
        s = shape;
        is_bound = true;
    }
};

namespace detail {
template <class A, class B>
struct common_device {
    static_assert(std::is_void_v<A> || std::is_void_v<B> || std::is_same_v<A, B>,
                  "pgg: expression mixes tensors of different devices; copy with to<Device>() first");
    using type = std::conditional_t<std::is_void_v<A>, B, A>;
};
} // namespace detail

template <class Op, class E>
struct Unary : ExprTag {
    using value_type = decltype(Op{}(typename E::value_type{}));
    using device_type = typename E::device_type;
    static constexpr bool broadcasts = E::broadcasts;

    E e;
    explicit Unary(const E& x) : e(x) {}
    PGG_HD PGG_INLINE value_type operator[](index_t k) const { return Op{}(e[k]); }
    PGG_HD PGG_INLINE value_type at(index_t o, index_t i) const { return Op{}(e.at(o, i)); }
    bool bound() const { return e.bound(); }
    Shape shape() const { return e.shape(); }
    void bind(const Shape& s) { e.bind(s); }
};

template <class Op, class L, class R>
struct Binary : ExprTag {
    static_assert(std::is_same_v<typename L::value_type, typename R::value_type>,
                  "pgg: expression mixes element types; convert one side with cast<T>(...)");
    using value_type = typename L::value_type;
    using device_type = typename detail::common_device<typename L::device_type, typename R::device_type>::type;
    static constexpr bool broadcasts = L::broadcasts || R::broadcasts;

    L l;
    R r;
    Binary(const L& a, const R& b) : l(a), r(b) {
        if (l.bound() && !r.bound()) r.bind(l.shape());
        else if (r.bound() && !l.bound()) l.bind(r.shape());
        else if (l.bound() && r.bound())
            PGG_CHECK(l.shape() == r.shape(), "pgg: expression operands of shapes ", l.shape(), " and ", r.shape(),
                      " differ");
    }
    PGG_HD PGG_INLINE value_type operator[](index_t k) const { return Op{}(l[k], r[k]); }
    PGG_HD PGG_INLINE value_type at(index_t o, index_t i) const { return Op{}(l.at(o, i), r.at(o, i)); }
    bool bound() const { return l.bound() || r.bound(); }
    Shape shape() const { return l.bound() ? l.shape() : r.shape(); }
    void bind(const Shape& s) {
        if (!l.bound()) l.bind(s);
        if (!r.bound()) r.bind(s);
        PGG_CHECK(!bound() || shape() == s, "pgg: expression of shape ", shape(), " assigned to shape ", s);
    }
};

// where(c, a, b): a where c is non-zero, else b.
template <class C, class A, class B>
struct Select : ExprTag {
    using value_type = typename A::value_type;
    using device_type = typename detail::common_device<
        typename detail::common_device<typename C::device_type, typename A::device_type>::type,
        typename B::device_type>::type;
    static constexpr bool broadcasts = C::broadcasts || A::broadcasts || B::broadcasts;
    static_assert(std::is_same_v<typename A::value_type, typename B::value_type>,
                  "pgg: where() branches have different element types");

    Binary<struct select_pair_tag, A, B> ab; // binds a and b to a common shape
    C c;
    Select(const C& cond, const A& a, const B& b) : ab(a, b), c(cond) {
        if (c.bound() && !ab.bound()) ab.bind(c.shape());
        else if (ab.bound() && !c.bound()) c.bind(ab.shape());
        else if (c.bound() && ab.bound())
            PGG_CHECK(c.shape() == ab.shape(), "pgg: where() condition of shape ", c.shape(), " and values of shape ",
                      ab.shape());
    }
    // Both branches are evaluated (every read is in bounds), so the choice compiles to a blend.
    PGG_HD PGG_INLINE value_type operator[](index_t k) const {
        const value_type a = ab.l[k], b = ab.r[k];
        return c[k] != typename C::value_type(0) ? a : b;
    }
    PGG_HD PGG_INLINE value_type at(index_t o, index_t i) const {
        const value_type a = ab.l.at(o, i), b = ab.r.at(o, i);
        return c.at(o, i) != typename C::value_type(0) ? a : b;
    }
    bool bound() const { return c.bound() || ab.bound(); }
    Shape shape() const { return c.bound() ? c.shape() : ab.shape(); }
    void bind(const Shape& s) {
        if (!c.bound()) c.bind(s);
        if (!ab.bound()) ab.bind(s);
    }
};

// cast<T>(e): converts each element.
template <class T, class E>
struct Cast : ExprTag {
    using value_type = T;
    using device_type = typename E::device_type;
    static constexpr bool broadcasts = E::broadcasts;

    E e;
    explicit Cast(const E& x) : e(x) {}
    PGG_HD PGG_INLINE T operator[](index_t k) const { return static_cast<T>(e[k]); }
    PGG_HD PGG_INLINE T at(index_t o, index_t i) const { return static_cast<T>(e.at(o, i)); }
    bool bound() const { return e.bound(); }
    Shape shape() const { return e.shape(); }
    void bind(const Shape& s) { e.bind(s); }
};

// The elementwise functions. Each is a stateless functor usable on host and device.
namespace op {
// clang-format off
struct add { template <class T> PGG_HD PGG_INLINE T operator()(T a, T b) const { return a + b; } };
struct sub { template <class T> PGG_HD PGG_INLINE T operator()(T a, T b) const { return a - b; } };
struct mul { template <class T> PGG_HD PGG_INLINE T operator()(T a, T b) const { return a * b; } };
struct div { template <class T> PGG_HD PGG_INLINE T operator()(T a, T b) const { return a / b; } };
struct minimum { template <class T> PGG_HD PGG_INLINE T operator()(T a, T b) const { return b < a ? b : a; } };
struct maximum { template <class T> PGG_HD PGG_INLINE T operator()(T a, T b) const { return a < b ? b : a; } };
struct less { template <class T> PGG_HD PGG_INLINE T operator()(T a, T b) const { return T(a < b); } };
struct less_equal { template <class T> PGG_HD PGG_INLINE T operator()(T a, T b) const { return T(a <= b); } };
struct greater { template <class T> PGG_HD PGG_INLINE T operator()(T a, T b) const { return T(a > b); } };
struct greater_equal { template <class T> PGG_HD PGG_INLINE T operator()(T a, T b) const { return T(a >= b); } };
struct equal { template <class T> PGG_HD PGG_INLINE T operator()(T a, T b) const { return T(a == b); } };
struct not_equal { template <class T> PGG_HD PGG_INLINE T operator()(T a, T b) const { return T(a != b); } };
struct neg { template <class T> PGG_HD PGG_INLINE T operator()(T a) const { return -a; } };
struct square { template <class T> PGG_HD PGG_INLINE T operator()(T a) const { return a * a; } };
struct abs { template <class T> PGG_HD PGG_INLINE T operator()(T a) const { return a < T(0) ? -a : a; } };
struct exp { template <class T> PGG_HD PGG_INLINE T operator()(T a) const { using std::exp; return exp(a); } };
struct log { template <class T> PGG_HD PGG_INLINE T operator()(T a) const { using std::log; return log(a); } };
struct sqrt { template <class T> PGG_HD PGG_INLINE T operator()(T a) const { using std::sqrt; return sqrt(a); } };
struct rsqrt { template <class T> PGG_HD PGG_INLINE T operator()(T a) const { using std::sqrt; return T(1) / sqrt(a); } };
struct tanh { template <class T> PGG_HD PGG_INLINE T operator()(T a) const { using std::tanh; return tanh(a); } };
struct sigmoid {
    template <class T> PGG_HD PGG_INLINE T operator()(T a) const {
        using std::exp; // split by sign so that exp never overflows
        if (a >= T(0)) return T(1) / (T(1) + exp(-a));
        T e = exp(a);
        return e / (T(1) + e);
    }
};
// clang-format on
} // namespace op

} // namespace pgg
