#pragma once
// Readable printing of shapes and (CPU) tensors, for debugging: `std::cout << t;`.
#include <iomanip>
#include <ostream>
#include <type_traits>

#include "tensor.hpp"

namespace pgg {

namespace detail {
template <class T>
const char* dtype_name() {
    if constexpr (std::is_same_v<T, float>) return "float32";
    else if constexpr (std::is_same_v<T, double>) return "float64";
    else if constexpr (std::is_same_v<T, std::uint8_t>) return "uint8";
    else if constexpr (std::is_same_v<T, std::int32_t>) return "int32";
    else if constexpr (std::is_same_v<T, std::int64_t>) return "int64";
    else return "arithmetic";
}
} // namespace detail

// Prints the last dimension as rows, at most `edge` values at each end of every dimension.
template <class T>
std::ostream& operator<<(std::ostream& os, const Tensor<T, cpu>& t) {
    constexpr index_t edge = 3;
    os << "tensor(" << detail::dtype_name<T>() << ", shape " << t.shape() << ")";
    if (t.empty()) return os << " []";
    const Shape& s = t.shape();
    const index_t w = s.rank() ? s[s.rank() - 1] : 1, rows = t.numel() / w;
    auto show = [&](index_t count, auto&& f) {
        for (index_t i = 0; i < count; ++i) {
            if (count > 2 * edge && i == edge) {
                f(-1);
                i = count - edge - 1;
                continue;
            }
            f(i);
        }
    };
    auto flags = os.flags();
    os << '\n';
    show(rows, [&](index_t r) {
        if (r < 0) { os << "  ...\n"; return; }
        os << "  [";
        show(w, [&](index_t i) {
            if (i < 0) { os << " ..."; return; }
            os << (i ? " " : "");
            if constexpr (std::is_floating_point_v<T>) os << std::setw(10) << std::setprecision(4) << t.data()[r * w + i];
            else os << +t.data()[r * w + i];
        });
        os << "]\n";
    });
    os.flags(flags);
    return os;
}

} // namespace pgg
