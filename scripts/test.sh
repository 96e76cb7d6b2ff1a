#!/usr/bin/env bash
# Installs what pgg needs, builds the release preset (library, tests, examples, benchmarks) and runs
# the whole test suite. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The CUDA parts compile wherever nvcc is (also when it is not on PATH), and never silently stay off
# from an earlier configure (scripts/demo.sh turns them off); without a GPU their tests report Skipped.
nvcc=$(command -v nvcc || true)
if [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc; fi
if [ -n "$nvcc" ]; then
  cuda=(-DPGG_WITH_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc")
  echo "test: with the CUDA backend ($nvcc)"
else
  cuda=(-DPGG_WITH_CUDA=OFF)
  echo "test: no nvcc found: the CUDA backend is not compiled"
fi
cmake --preset release -DPGG_BUILD_TESTS=ON -DPGG_BUILD_EXAMPLES=ON -DPGG_BUILD_BENCHMARKS=ON "${cuda[@]}"
cmake --build --preset release -j "$(nproc)"
ctest --preset release
