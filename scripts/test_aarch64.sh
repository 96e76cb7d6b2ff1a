#!/usr/bin/env bash
# The CPU kernels on ARM: cross-compiles the GEMM and convolution unit tests for aarch64 with Debian's
# g++-aarch64-linux-gnu (Highway's NEON target: 4 lanes, a 12 x 8 GEMM block; it needs the crypto
# extension, which every ARMv8 server and Apple CPU has) and runs them under qemu-user. The tests need
# only header-only libraries (Eigen, Highway, nlohmann-json, stb, Catch2), whose headers the host's
# /usr/include provides for every architecture; they are searched after the cross compiler's own
# system headers so that aarch64's C library headers win.
# Usage: scripts/test_aarch64.sh   (scripts/setup.sh installs the cross compiler and qemu-user)
set -euo pipefail
cd "$(dirname "$0")/.."
cxx=aarch64-linux-gnu-g++
for tool in "$cxx" qemu-aarch64; do
  command -v "$tool" > /dev/null || { echo "test_aarch64: $tool not found (scripts/setup.sh installs it)" >&2; exit 1; }
done
out=build/aarch64
mkdir -p "$out"
echo "test_aarch64: compiling the kernel tests with $cxx"
"$cxx" -std=c++20 -O2 -march=armv8-a+crypto -fopenmp -Wno-psabi -Iinclude -Itests -idirafter /usr/include -idirafter /usr/include/eigen3 \
  -idirafter /usr/include/stb -DPGG_TEST_SOURCE_DIR="\"$PWD/tests\"" -DPGG_TEST_BINARY_DIR="\"$PWD/$out\"" \
  tests/main.cpp tests/test_gemm_conv.cpp -o "$out/pgg_kernel_tests.tmp"
mv "$out/pgg_kernel_tests.tmp" "$out/pgg_kernel_tests"
echo "test_aarch64: running them under qemu-aarch64"
OMP_NUM_THREADS=2 qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/pgg_kernel_tests"
