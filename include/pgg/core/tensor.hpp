#pragma once
// Tensor<T, Device>: an NCHW array with shared, aligned storage.
//
// Copies are cheap handles to the same storage (as in PyTorch); clone() copies the data.
// Assigning an expression evaluates it into the existing storage (or allocates it when the tensor is
// empty), so views can be written through: `x.slice(0, 2) = y * 2.0f`.
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "allocator.hpp"
#include "expr.hpp"
#include "shape.hpp"

namespace pgg {

// How expressions, reductions and copies run on a device: specialised in backend/<device>/.
template <class Device>
struct Executor;

// Copies bytes from device From to another device To: specialised per pair (backend/cuda/ adds the
// pairs with cuda; within one device, Allocator<Device>::copy). Returns once the source may be changed
// and, for To = cpu, the data has arrived.
template <class From, class To>
struct Transfer;

namespace detail {
template <class Device>
struct Storage {
    void* ptr = nullptr;
    std::size_t bytes = 0;
    explicit Storage(std::size_t b) : ptr(Allocator<Device>::allocate(b)), bytes(b) {}
    ~Storage() { Allocator<Device>::deallocate(ptr, bytes); }
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
};
} // namespace detail

template <class T, class Device = cpu>
class Tensor {
    static_assert(std::is_arithmetic_v<T>, "pgg::Tensor holds arithmetic element types");

public:
    using value_type = T;
    using device_type = Device;

    Tensor() = default;
    // A zero-filled tensor of the given shape.
    explicit Tensor(const Shape& shape) : shape_(shape) {
        index_t n = shape.numel();
        if (n > 0) {
            storage_ = std::make_shared<detail::Storage<Device>>(static_cast<std::size_t>(n) * sizeof(T));
            data_ = static_cast<T*>(storage_->ptr);
            Allocator<Device>::zero(data_, bytes());
        }
    }
    Tensor(std::initializer_list<index_t> dims) : Tensor(Shape(dims)) {}

    // A CPU tensor holding `values` (row-major, NCHW).
    static Tensor from(const Shape& shape, const std::vector<T>& values) {
        static_assert(std::is_same_v<Device, cpu>, "Tensor::from fills host memory; copy to the device with to<>()");
        PGG_CHECK(static_cast<index_t>(values.size()) == shape.numel(), "Tensor::from: shape ", shape, " needs ",
                  shape.numel(), " values, got ", values.size());
        Tensor t(shape);
        if (!values.empty()) std::memcpy(t.data(), values.data(), values.size() * sizeof(T));
        return t;
    }
    static Tensor full(const Shape& shape, T value) {
        Tensor t(shape);
        t.fill(value);
        return t;
    }

    Tensor(const Tensor&) = default;
    Tensor(Tensor&&) noexcept = default;
    Tensor& operator=(const Tensor&) = default; // rebinds the handle, like PyTorch
    Tensor& operator=(Tensor&&) noexcept = default;

    // Evaluates an elementwise expression into this tensor in one pass.
    template <class E>
        requires is_expression_v<E>
    Tensor& operator=(const E& e) {
        assign_expression(e);
        return *this;
    }
    template <class E>
        requires is_expression_v<E>
    Tensor(const E& e) { // NOLINT: implicit on purpose, `Tensor y = a * b;`
        assign_expression(e);
    }
    // Evaluates a reduction (sum_per_channel(...), mean_over_channels(...), ...) into this tensor.
    template <class R>
        requires is_reduction_v<R>
    Tensor& operator=(const R& r) {
        prepare(r.shape());
        Executor<Device>::reduce_into(*this, r);
        return *this;
    }
    template <class R>
        requires is_reduction_v<R>
    Tensor(const R& r) { // NOLINT
        *this = r;
    }

    // Copies the values of `src` (same shape) into this tensor's storage.
    Tensor& copy_(const Tensor& src) {
        PGG_CHECK(src.shape() == shape_, "Tensor::copy_: shape ", src.shape(), " into ", shape_);
        Allocator<Device>::copy(data_, src.data_, bytes());
        return *this;
    }
    // Copies the values of `src` (same shape) from another device, as torch's copy_.
    template <class From>
        requires(!std::is_same_v<From, Device>)
    Tensor& copy_(const Tensor<T, From>& src) {
        PGG_CHECK(src.shape() == shape_, "Tensor::copy_: shape ", src.shape(), " on ", From::name, " into ", shape_,
                  " on ", Device::name);
        Transfer<From, Device>::copy(data_, src.data(), bytes());
        return *this;
    }
    // Gives the tensor shape s: keeps its storage when it already has that shape (so buffers are reused
    // from step to step), else allocates a zero-filled one. Returns *this.
    Tensor& resize_(const Shape& s) {
        if (!(shape_ == s)) *this = Tensor(s);
        return *this;
    }
    Tensor clone() const {
        Tensor t(shape_);
        t.copy_(*this);
        return t;
    }
    Tensor& fill(T value) {
        *this = Scalar<T>(value);
        return *this;
    }
    Tensor& zero_() {
        Allocator<Device>::zero(data_, bytes());
        return *this;
    }

    // Views sharing this tensor's storage.
    Tensor slice(index_t n0, index_t n1) const { // samples [n0, n1) along the first dimension
        PGG_CHECK(shape_.rank() >= 1 && 0 <= n0 && n0 <= n1 && n1 <= shape_[0], "Tensor::slice: [", n0, ", ", n1,
                  ") out of range for shape ", shape_);
        std::vector<index_t> dims(shape_.rank());
        for (int i = 0; i < shape_.rank(); ++i) dims[i] = shape_[i];
        dims[0] = n1 - n0;
        Tensor v = *this;
        v.shape_ = Shape::from_range(dims.begin(), dims.end());
        v.data_ = data_ + n0 * (shape_.numel() / (shape_[0] ? shape_[0] : 1));
        return v;
    }
    Tensor operator[](index_t n) const { return slice(n, n + 1); }
    Tensor reshape(const Shape& s) const {
        PGG_CHECK(s.numel() == shape_.numel(), "Tensor::reshape: ", shape_, " (", shape_.numel(), " elements) to ", s,
                  " (", s.numel(), " elements)");
        Tensor v = *this;
        v.shape_ = s;
        return v;
    }

    const Shape& shape() const { return shape_; }
    index_t numel() const { return shape_.numel(); }
    std::size_t bytes() const { return static_cast<std::size_t>(numel()) * sizeof(T); }
    int rank() const { return shape_.rank(); }
    index_t size(int i) const { return shape_[i]; }
    index_t n() const { return shape_.n(); }
    index_t c() const { return shape_.c(); }
    index_t h() const { return shape_.h(); }
    index_t w() const { return shape_.w(); }
    bool empty() const { return numel() == 0; }
    T* data() { return data_; }
    const T* data() const { return data_; }
    // True when both share one storage block (views of each other).
    bool shares_storage(const Tensor& o) const { return storage_ && storage_ == o.storage_; }

    // Host element access (CPU tensors only): at(n, c, h, w) in NCHW.
    T& at(index_t n, index_t c = 0, index_t h = 0, index_t w = 0) {
        static_assert(std::is_same_v<Device, cpu>, "Tensor::at reads host memory");
        return data_[((n * shape_.c() + c) * shape_.h() + h) * shape_.w() + w];
    }
    T at(index_t n, index_t c = 0, index_t h = 0, index_t w = 0) const {
        return const_cast<Tensor*>(this)->at(n, c, h, w);
    }
    T* begin() { return data_; }
    T* end() { return data_ + numel(); }
    const T* begin() const { return data_; }
    const T* end() const { return data_ + numel(); }

    // The expression leaf reading this tensor.
    Leaf<T, Device> expr() const { return Leaf<T, Device>(data_, shape_); }

private:
    void prepare(const Shape& s) {
        if (shape_.empty()) {
            *this = Tensor(s);
        } else {
            PGG_CHECK(s == shape_, "pgg: assigning a result of shape ", s, " to a tensor of shape ", shape_);
        }
    }
    template <class E>
    void assign_expression(const E& e) {
        static_assert(std::is_same_v<typename E::value_type, T>,
                      "pgg: expression element type differs from the tensor's; wrap it in cast<T>(...)");
        static_assert(std::is_same_v<typename E::device_type, Device> || std::is_void_v<typename E::device_type>,
                      "pgg: expression on another device than the tensor; copy with to<Device>() first");
        if (e.bound()) {
            prepare(e.shape());
            Executor<Device>::assign(*this, e);
        } else { // scalars and broadcasts take the destination's shape
            PGG_CHECK(!shape_.empty(), "pgg: cannot assign a broadcast or scalar to a tensor without shape");
            E bound = e;
            bound.bind(shape_);
            Executor<Device>::assign(*this, bound);
        }
    }

    std::shared_ptr<detail::Storage<Device>> storage_;
    T* data_ = nullptr;
    Shape shape_;
};

template <class T, class D>
struct is_tensor<Tensor<T, D>> : std::true_type {};

// A copy of t on device To (a new tensor, also when To is t's own device): `to<cuda>(x)`.
template <class To, class T, class From>
Tensor<T, To> to(const Tensor<T, From>& t) {
    Tensor<T, To> out(t.shape());
    out.copy_(t); // the same-device or the cross-device copy_
    return out;
}

// t itself when it already lives on device To; else its copy in buf, whose storage is kept from call to
// call (a step's inputs moved to the GPU without a new allocation each time).
template <class To, class T, class From>
const Tensor<T, To>& on_device(const Tensor<T, From>& t, Tensor<T, To>& buf) {
    if constexpr (std::is_same_v<From, To>) {
        return t;
    } else {
        buf.resize_(t.shape());
        return buf.copy_(t);
    }
}

// Tensor -> leaf; anything else is already an expression.
template <class T, class D>
Leaf<T, D> as_expr(const Tensor<T, D>& t) {
    return t.expr();
}

} // namespace pgg
