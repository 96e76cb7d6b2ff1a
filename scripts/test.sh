#!/usr/bin/env bash
# Installs what pgg needs, builds the release preset (library, tests, examples, benchmarks) and runs
# the whole test suite, then the reader tests under the sanitizers and a reproducible fuzzing run of
# every reader. This is the README's test command and what CI runs.
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
  # Without a GPU the CUDA stages can only be compiled, not run: 4x4, the first fade-in (8x8) and
  # 512x512 prove that they compile (each is about a minute of nvcc; the others are the same code).
  if nvidia-smi --list-gpus > /dev/null 2>&1; then
    cuda+=(-UPGGAN_CUDA_RESOLUTIONS)
  else
    cuda+=(-DPGGAN_CUDA_RESOLUTIONS="4;8;512")
    echo "test: no GPU found: the CUDA PG-GAN stages compile at 4x4, 8x8 and 512x512 only"
  fi
elif [ "${PGG_REQUIRE_CUDA:-0}" = 1 ]; then
  echo "test: PGG_REQUIRE_CUDA=1 but no nvcc was found (on PATH or in /usr/local/cuda/bin)" >&2
  exit 1
else
  cuda=(-DPGG_WITH_CUDA=OFF)
  echo "test: no nvcc found: the CUDA backend is not compiled (PGG_REQUIRE_CUDA=1 makes this an error)"
fi
cmake --preset release -DPGG_BUILD_TESTS=ON -DPGG_BUILD_EXAMPLES=ON -DPGG_BUILD_BENCHMARKS=ON "${cuda[@]}"
cmake --build --preset release -j "$(nproc)"
ctest --preset release

# The kernels on ARM (NEON): cross-compiled and run under qemu-user, from x86 hosts.
if [ "$(uname -m)" = x86_64 ]; then bash scripts/test_aarch64.sh; fi

# Sanitizers: the unit tests of everything that reads or holds outside data, under ASan and UBSan
# (any report fails: the preset does not recover); the whole suite is `cmake --build --preset asan`.
cmake --preset asan -DPGG_BUILD_EXAMPLES=OFF -DPGG_BUILD_BENCHMARKS=OFF -DPGG_WITH_CUDA=OFF
cmake --build --preset asan --target pgg_tests_io -j "$(nproc)"
ASAN_OPTIONS=detect_leaks=1 ./build/asan/tests/pgg_tests_io

# Fuzzing: every reader's libFuzzer harness, 50,000 inputs from the generated seed corpora with a fixed
# seed, the same inputs on every run (docs/reliability.md; long campaigns by hand).
bash scripts/fuzz.sh --runs "${PGG_FUZZ_RUNS:-50000}"
