#include "reference.hpp"

#include <sstream>

using namespace pgg;
using pggtest::random_tensor;

TEST_CASE("tensor: construction is zero-filled, NCHW and aligned", "[tensor]") {
    Tensor<float> t({2, 3, 5, 7});
    CHECK(t.numel() == 210);
    CHECK(t.n() == 2);
    CHECK(t.c() == 3);
    CHECK(t.h() == 5);
    CHECK(t.w() == 7);
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
    for (float v : t) CHECK(v == 0.0f);
    t.at(1, 2, 4, 6) = 3.5f;
    CHECK(t.data()[209] == 3.5f);

    Tensor<float> e;
    CHECK(e.empty());
    CHECK(e.numel() == 0);
    Tensor<std::uint8_t> img({1, 1, 2, 2});
    CHECK(img.bytes() == 4);
}

TEST_CASE("tensor: from() checks the value count", "[tensor]") {
    auto t = Tensor<double>::from({2, 2}, {1, 2, 3, 4});
    CHECK(t.at(1, 1) == 4.0);
    CHECK_THROWS_WITH(Tensor<double>::from({2, 2}, {1, 2, 3}), Catch::Contains("needs 4 values, got 3"));
}

TEST_CASE("tensor: copies share storage, clone copies data", "[tensor]") {
    auto a = random_tensor<float>({2, 3, 4, 4}, 1);
    Tensor<float> b = a;
    CHECK(b.shares_storage(a));
    b.at(0, 0, 0, 0) = 42.0f;
    CHECK(a.at(0, 0, 0, 0) == 42.0f);
    Tensor<float> c = a.clone();
    CHECK_FALSE(c.shares_storage(a));
    c.at(0, 0, 0, 0) = -1.0f;
    CHECK(a.at(0, 0, 0, 0) == 42.0f);
}

TEST_CASE("tensor: slice and reshape are views that write through", "[tensor]") {
    auto a = random_tensor<float>({4, 2, 3, 3}, 2);
    Tensor<float> s = a.slice(1, 3);
    CHECK(s.shape() == Shape{2, 2, 3, 3});
    CHECK(s.data() == a.data() + 18);
    s = s * 0.0f + 7.0f; // evaluates into the view
    for (index_t i = 0; i < a.numel(); ++i) {
        bool inside = i >= 18 && i < 54;
        if (inside) CHECK(a.data()[i] == 7.0f);
        else CHECK(a.data()[i] != 7.0f);
    }
    Tensor<float> r = a.reshape({4, 18});
    CHECK(r.shares_storage(a));
    CHECK(r.shape() == Shape{4, 18});
    CHECK(a[3].shape() == Shape{1, 2, 3, 3});
    CHECK_THROWS_WITH(a.reshape({5, 7}), Catch::Contains("72 elements") && Catch::Contains("35 elements"));
    CHECK_THROWS_WITH(a.slice(2, 5), Catch::Contains("out of range"));
}

TEST_CASE("tensor: copy_ and fill", "[tensor]") {
    auto a = random_tensor<double>({3, 4}, 3);
    Tensor<double> b({3, 4});
    b.copy_(a);
    for (index_t i = 0; i < 12; ++i) CHECK(b.data()[i] == a.data()[i]);
    b.fill(2.5);
    for (double v : b) CHECK(v == 2.5);
    Tensor<double> wrong({4, 3});
    CHECK_THROWS_WITH(wrong.copy_(a), Catch::Contains("copy_"));
}

TEST_CASE("tensor: printing shows dtype, shape and elided values", "[tensor]") {
    auto t = Tensor<float>::from({2, 3}, {1, 2, 3, 4, 5, 6});
    std::ostringstream os;
    os << t;
    CHECK(os.str().find("float32") != std::string::npos);
    CHECK(os.str().find("[2, 3]") != std::string::npos);
    CHECK(os.str().find("6") != std::string::npos);
    Tensor<std::uint8_t> big({1, 1, 20, 20});
    std::ostringstream ob;
    ob << big;
    CHECK(ob.str().find("...") != std::string::npos);
    CHECK(ob.str().find("uint8") != std::string::npos);
}
