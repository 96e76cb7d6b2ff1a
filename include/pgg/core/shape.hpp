#pragma once
// Shape: up to four dimensions, read as NCHW (missing trailing dimensions are 1).
#include <array>
#include <initializer_list>
#include <ostream>

#include "config.hpp"
#include "error.hpp"

namespace pgg {

class Shape {
public:
    static constexpr int max_rank = 4;

    Shape() = default;
    Shape(std::initializer_list<index_t> dims) {
        PGG_CHECK(dims.size() <= max_rank, "Shape: rank ", dims.size(), " exceeds ", max_rank);
        for (index_t d : dims) {
            PGG_CHECK(d >= 0, "Shape: negative dimension ", d);
            dims_[rank_++] = d;
        }
    }
    template <class It>
    static Shape from_range(It first, It last) {
        Shape s;
        for (; first != last; ++first) {
            PGG_CHECK(s.rank_ < max_rank, "Shape: rank exceeds ", max_rank);
            PGG_CHECK(*first >= 0, "Shape: negative dimension ", *first);
            s.dims_[s.rank_++] = static_cast<index_t>(*first);
        }
        return s;
    }

    int rank() const { return rank_; }
    index_t operator[](int i) const { return dims_[i]; }
    // A shape without dimensions (a default-constructed tensor) holds nothing; scalars are {1}.
    index_t numel() const {
        if (rank_ == 0) return 0;
        index_t n = 1;
        for (int i = 0; i < rank_; ++i) n *= dims_[i];
        return n;
    }
    bool empty() const { return rank_ == 0; }

    // NCHW reading; absent dimensions count as 1.
    index_t n() const { return dim_or_one(0); }
    index_t c() const { return dim_or_one(1); }
    index_t h() const { return dim_or_one(2); }
    index_t w() const { return dim_or_one(3); }
    // Elements in one (sample, channel) plane: the contiguous inner extent of an NCHW tensor.
    index_t plane() const { return h() * w(); }
    // Number of (sample, channel) planes.
    index_t planes() const { return n() * c(); }

    friend bool operator==(const Shape& a, const Shape& b) {
        if (a.rank_ != b.rank_) return false;
        for (int i = 0; i < a.rank_; ++i)
            if (a.dims_[i] != b.dims_[i]) return false;
        return true;
    }

    friend std::ostream& operator<<(std::ostream& os, const Shape& s) {
        os << '[';
        for (int i = 0; i < s.rank_; ++i) os << (i ? ", " : "") << s.dims_[i];
        return os << ']';
    }

private:
    index_t dim_or_one(int i) const { return i < rank_ ? dims_[i] : 1; }

    std::array<index_t, max_rank> dims_{};
    int rank_ = 0;
};

} // namespace pgg
