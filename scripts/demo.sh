#!/usr/bin/env bash
# Installs what pgg needs, builds the examples and runs the main job on a small default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release -DPGG_BUILD_TESTS=OFF -DPGG_BUILD_BENCHMARKS=OFF
cmake --build --preset release -j "$(nproc)" --target pgg_demo
./build/release/examples/pgg_demo
