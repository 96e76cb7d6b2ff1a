#pragma once
// The Frechet distance between two sets of feature vectors, each summarised by a Gaussian (mean and
// covariance), as FID does with Inception features (Heusel et al. 2017):
//
//     d^2 = |m1 - m2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))
//
// tr((S1 S2)^(1/2)) is computed as the sum of the square roots of the eigenvalues of the symmetric
// S1^(1/2) S2 S1^(1/2) (similar to S1 S2), which needs no complex arithmetic and is exact for singular
// covariances (fewer samples than features); round-off negatives are clipped to 0.
#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <string>

#include "../core/tensor.hpp"

namespace pgg::metrics {

struct Gaussian {
    Eigen::VectorXd mean;
    Eigen::MatrixXd cov; // unbiased (divided by n - 1), as numpy.cov and the FID reference code
    index_t count = 0;
};

// Mean and covariance of the rows of `features` (N, F...), N >= 2, in double precision.
inline Gaussian fit_gaussian(const Tensor<float>& features, const std::string& what = "features") {
    const index_t n = features.rank() ? features.shape()[0] : 0;
    PGG_CHECK(n >= 2, "fit_gaussian: ", what, " has ", n, " rows; a covariance needs at least 2");
    const index_t f = features.numel() / n;
    Eigen::MatrixXd x(n, f);
    for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < f; ++j) {
            const double v = features.data()[i * f + j];
            PGG_CHECK(std::isfinite(v), "fit_gaussian: ", what, " has a non-finite value in row ", i, ", feature ", j);
            x(i, j) = v;
        }
    Gaussian g;
    g.count = n;
    g.mean = x.colwise().mean().transpose();
    x.rowwise() -= g.mean.transpose();
    g.cov = x.transpose() * x / double(n - 1);
    return g;
}

inline double frechet_distance(const Gaussian& a, const Gaussian& b) {
    PGG_CHECK(a.mean.size() == b.mean.size(), "frechet_distance: ", a.mean.size(), " features against ", b.mean.size());
    const auto clipped_root = [](double v) { return std::sqrt(std::max(v, 0.0)); };
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ea(a.cov);
    const Eigen::VectorXd root_vals = ea.eigenvalues().unaryExpr(clipped_root);
    const Eigen::MatrixXd root_a = ea.eigenvectors() * root_vals.asDiagonal() * ea.eigenvectors().transpose();
    const Eigen::MatrixXd m = root_a * b.cov * root_a;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> em(0.5 * (m + m.transpose()), Eigen::EigenvaluesOnly);
    const double tr_root = em.eigenvalues().unaryExpr(clipped_root).sum();
    return std::max(0.0, (a.mean - b.mean).squaredNorm() + a.cov.trace() + b.cov.trace() - 2 * tr_root);
}

} // namespace pgg::metrics
