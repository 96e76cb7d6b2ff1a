#!/usr/bin/env bash
# Installs what pgg needs, builds the release preset (library, tests, examples, benchmarks) and runs
# the whole test suite. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release -DPGG_BUILD_TESTS=ON -DPGG_BUILD_EXAMPLES=ON -DPGG_BUILD_BENCHMARKS=ON
cmake --build --preset release -j "$(nproc)"
ctest --preset release
