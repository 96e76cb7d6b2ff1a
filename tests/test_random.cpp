#include "reference.hpp"

#include <omp.h>

using namespace pgg;

TEST_CASE("philox: known-answer vectors of Philox4x32-10", "[random]") {
    // From the Random123 distribution's kat_vectors.
    std::uint32_t out[4];
    philox::generate(0, 0, 0, 0, 0, 0, out);
    CHECK(out[0] == 0x6627e8d5u);
    CHECK(out[1] == 0xe169c58du);
    CHECK(out[2] == 0xbc57ac4cu);
    CHECK(out[3] == 0x9b00dbd8u);
    philox::generate(~0u, ~0u, ~0u, ~0u, ~0u, ~0u, out);
    CHECK(out[0] == 0x408f276du);
    CHECK(out[1] == 0x41c83b0eu);
    CHECK(out[2] == 0xa20bc7c6u);
    CHECK(out[3] == 0x6d5451fdu);
}

TEST_CASE("random: the same numbers for any number of threads and fill split", "[random]") {
    const Shape s{3, 7, 33, 35}; // large enough to run in parallel, odd tail
    Tensor<float> a(s), b(s), c1({s.numel() / 2 / 4 * 4}), c2({s.numel() - s.numel() / 2 / 4 * 4});
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    Generator g1(1234, 5);
    fill_normal(a, g1);
    omp_set_num_threads(std::max(2, saved));
    Generator g2(1234, 5);
    fill_normal(b, g2);
    omp_set_num_threads(saved);
    for (index_t i = 0; i < a.numel(); ++i) REQUIRE(a.data()[i] == b.data()[i]);
    CHECK(g1.offset == g2.offset);
    // Two fills that split on a block boundary read the same stream as one fill.
    Generator g3(1234, 5);
    fill_normal(c1, g3);
    fill_normal(c2, g3);
    for (index_t i = 0; i < c1.numel(); ++i) REQUIRE(c1.data()[i] == a.data()[i]);
    for (index_t i = 0; i < c2.numel(); ++i) REQUIRE(c2.data()[i] == a.data()[c1.numel() + i]);
}

TEST_CASE("random: streams, seeds and successive fills differ", "[random]") {
    Tensor<float> a({1000}), b({1000}), c({1000}), d({1000});
    Generator g(7, 0), h(7, 1), k(8, 0);
    fill_uniform(a, g);
    fill_uniform(b, h);
    fill_uniform(c, k);
    fill_uniform(d, g); // advanced
    int same_ab = 0, same_ac = 0, same_ad = 0;
    for (int i = 0; i < 1000; ++i) {
        same_ab += a.data()[i] == b.data()[i];
        same_ac += a.data()[i] == c.data()[i];
        same_ad += a.data()[i] == d.data()[i];
    }
    CHECK(same_ab < 5);
    CHECK(same_ac < 5);
    CHECK(same_ad < 5);
}

TEST_CASE("random: uniform and normal moments", "[random]") {
    Tensor<double> u({1 << 18}), n({1 << 18});
    Tensor<float> nf({1 << 18});
    Generator g(99);
    fill_uniform(u, g, -1.0, 3.0);
    fill_normal(n, g, 0.5, 2.0);
    fill_normal(nf, g);
    CHECK(mean(u) == Approx(1.0).margin(0.01));
    CHECK(*std::min_element(u.begin(), u.end()) > -1.0);
    CHECK(*std::max_element(u.begin(), u.end()) < 3.0);
    CHECK(mean(n) == Approx(0.5).margin(0.01));
    CHECK(std::sqrt(mean(square(n - 0.5))) == Approx(2.0).margin(0.01));
    CHECK(mean(nf) == Approx(0.0).margin(0.01));
    CHECK(mean(square(nf)) == Approx(1.0).margin(0.01));
    CHECK(mean(square(square(nf))) == Approx(3.0).margin(0.05)); // fourth moment of a Gaussian
}
