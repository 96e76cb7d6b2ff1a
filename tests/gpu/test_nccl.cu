// NCCL's sums of device memory over the run's processes: one process here (NCCL with one rank), one
// process per GPU under `mpiexec -np G pgg_gpu_tests "[nccl]"` on a machine with G GPUs.
#include "gpu_check.hpp"

#include <pgg/dist/gradients.hpp>
#include <pgg/dist/nccl.hpp>

using namespace pgg;

TEST_CASE("nccl: NcclReducer sums device buffers and sum_gradients weighted gradients over the processes", "[gpu][nccl]") {
    auto& world = dist::Communicator::world();
    dist::NcclReducer nccl(world);
    const int P = world.size(), r = world.rank();
    const double ranks = P * (P + 1) / 2.0; // sum of (r + 1) over the processes

    // written on pgg's stream just before the sum, read on it just after: the events order all three
    Tensor<float> host({1000});
    for (index_t i = 0; i < 1000; ++i) host.data()[i] = float((r + 1) * (i + 1));
    Tensor<float, cuda> x = to<cuda>(host);
    x = x * 2.0f;
    nccl.sum(x.data(), std::size_t(x.numel()));
    const Tensor<float> got = to<cpu>(x);
    for (index_t i = 0; i < 1000; ++i) REQUIRE(double(got.data()[i]) == 2 * ranks * double(i + 1));

    double stats[2] = {double(r + 1), 1.0}; // host values go through MPI
    nccl.sum(stats, 2);
    CHECK(stats[0] == ranks);
    CHECK(stats[1] == double(P));

    // two parameters, each process weighting its gradients by its share (r + 1) / ranks: the sum is the
    // share-weighted mean, here (sum of (r + 1)^2) / ranks times the gradient of process 0
    optim::ParameterList<float, cuda> params(2);
    params[0].grad = to<cuda>(pggpu::random_cpu<float>({3, 5}, 11));
    params[1].grad = to<cuda>(pggpu::random_cpu<float>({7}, 12));
    const Tensor<float> g0 = to<cpu>(params[0].grad), g1 = to<cpu>(params[1].grad);
    for (auto& p : params) p.grad = p.grad * float(r + 1);
    Tensor<float, cuda> flat;
    dist::sum_gradients(params, nccl, float((r + 1) / ranks), flat);
    const double squares = P * (P + 1) * (2 * P + 1) / 6.0;
    CHECK(pggpu::rel_error(params[0].grad, Tensor<float>(g0 * float(squares / ranks))) < pggpu::float_tol);
    CHECK(pggpu::rel_error(params[1].grad, Tensor<float>(g1 * float(squares / ranks))) < pggpu::float_tol);

    // host gradients with a GPU reducer: refused, naming both
    optim::ParameterList<float, cpu> host_params(1);
    host_params[0].grad = pggpu::random_cpu<float>({4}, 13);
    Tensor<float> host_flat;
    CHECK_THROWS_WITH(dist::sum_gradients(host_params, nccl, 1.0f, host_flat), Catch::Contains("host memory and a reducer of GPU memory"));
}
