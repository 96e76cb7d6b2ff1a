// The GPU tests' runner. Without a usable CUDA device it runs nothing and exits with 77, which CTest
// reports as "skipped" (SKIP_RETURN_CODE), never as passed. Listing the tests needs no device.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cuda_runtime.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    bool listing = false;
    for (int i = 1; i < argc; ++i) listing = listing || std::string(argv[i]).rfind("--list", 0) == 0;
    int devices = 0;
    const cudaError_t e = cudaGetDeviceCount(&devices);
    if (!listing && (e != cudaSuccess || devices == 0)) {
        std::printf("SKIPPED: no usable CUDA device (%s)\n", e != cudaSuccess ? cudaGetErrorString(e) : "none found");
        return 77;
    }
    return Catch::Session().run(argc, argv);
}
