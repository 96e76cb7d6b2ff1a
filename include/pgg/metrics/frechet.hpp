#pragma once
// The Frechet distance between two sets of feature vectors, each summarised by a Gaussian (mean and
// covariance), as FID does with Inception features (Heusel et al. 2017):
//
//     d^2 = |m1 - m2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))
//
// tr((S1 S2)^(1/2)) is computed as the sum of the square roots of the eigenvalues of the symmetric
// S1^(1/2) S2 S1^(1/2) (similar to S1 S2), which needs no complex arithmetic and is exact for singular
// covariances (fewer samples than features); round-off negatives are clipped to 0.
#include "../core/eigen.hpp" // first: it configures Eigen
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <string>

#include "../core/tensor.hpp"

namespace pgg::metrics {

// Templates, so that the eigen-solver is compiled only where it is used (it costs seconds per file).
template <class Scalar>
struct BasicGaussian {
    Eigen::Matrix<Scalar, Eigen::Dynamic, 1> mean;
    Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> cov; // unbiased (divided by n - 1), as numpy.cov and the FID reference code
    index_t count = 0;
};
using Gaussian = BasicGaussian<double>;

// Mean and covariance of the rows of `features` (N, F...), N >= 2, in double precision.
template <class T>
Gaussian fit_gaussian(const Tensor<T>& features, const std::string& what = "features") {
    const index_t n = features.rank() ? features.shape()[0] : 0;
    PGG_CHECK(n >= 2, "fit_gaussian: ", what, " has ", n, " rows; a covariance needs at least 2");
    const index_t f = features.numel() / n;
    Eigen::MatrixXd x(n, f);
    for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < f; ++j) {
            const double v = double(features.data()[i * f + j]);
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

template <class Scalar>
double frechet_distance(const BasicGaussian<Scalar>& a, const BasicGaussian<Scalar>& b) {
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
    PGG_CHECK(a.mean.size() == b.mean.size(), "frechet_distance: ", a.mean.size(), " features against ", b.mean.size());
    const auto clipped_root = [](Scalar v) { return std::sqrt(std::max(v, Scalar(0))); };
    Eigen::SelfAdjointEigenSolver<Matrix> ea(a.cov);
    const Vector root_vals = ea.eigenvalues().unaryExpr(clipped_root);
    const Matrix root_a = ea.eigenvectors() * root_vals.asDiagonal() * ea.eigenvectors().transpose();
    const Matrix m = root_a * b.cov * root_a;
    Eigen::SelfAdjointEigenSolver<Matrix> em(Scalar(0.5) * (m + m.transpose()), Eigen::EigenvaluesOnly);
    const double tr_root = double(em.eigenvalues().unaryExpr(clipped_root).sum());
    return std::max(0.0, double((a.mean - b.mean).squaredNorm() + a.cov.trace() + b.cov.trace()) - 2 * tr_root);
}

} // namespace pgg::metrics
