#!/usr/bin/env bash
# Installs the Debian packages pgg needs to build, test and run its examples.
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libeigen3-dev          # CPU tensor math
  libhwy-dev             # Highway: portable SIMD for the CPU kernels (AVX2, AVX-512, NEON)
  libstb-dev             # PNG/JPEG/BMP/PNM reading, PNG writing, TrueType text in plots
  fonts-dejavu-core      # the plots' typeface (matplotlib's default); without it a built-in pixel font
  nlohmann-json3-dev     # manifests, checkpoint headers, configs
  zlib1g-dev             # gzipped IDX files (MNIST, Fashion-MNIST)
  libcli11-dev           # command lines of the examples
  libdcmtk-dev           # DICOM input (optional for pgg, used by cxr_pggan and the tests)
  libopenmpi-dev openmpi-bin # data-parallel training across processes and machines (mpirun; optional for pgg)
  iproute2               # network namespaces for the two-machine test (tests/dist/two_machines.sh)
  catch2                 # tests
  libbenchmark-dev       # benchmarks
  clang-14 libclang-rt-14-dev # libFuzzer and the sanitizers' runtimes (scripts/fuzz.sh)
  g++-aarch64-linux-gnu qemu-user # the kernels cross-compiled for ARM and run emulated (scripts/test_aarch64.sh)
  python3-numpy          # tests that read pgg files from Python
  python3-torch python3-pil # python/pggan_torch.py (pgg's generator in PyTorch) and its test
  dataset-fashion-mnist  # the fashion_mnist example and its test
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
