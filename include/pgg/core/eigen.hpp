#pragma once
// Eigen (the CPU's GEMM in double and in plain x86-64 builds, the metrics' linear algebra) without
// threads of its own: pgg parallelises over its tiles, and Eigen's threads would split a product
// differently by its size, so that a sample's result would depend on its minibatch (data-parallel
// training splits minibatches). The macro counts only before a translation unit's first Eigen header.
#ifndef EIGEN_DONT_PARALLELIZE
#define EIGEN_DONT_PARALLELIZE
#endif
#include <Eigen/Core>
