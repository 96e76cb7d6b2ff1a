#!/usr/bin/env bash
# The main job on a small default: installs what pgg needs, builds cxr_pggan, makes a dataset and
# trains the `demo` PG-GAN (4x4 -> 32x32, about seven minutes of training on 2 CPU cores) into results/NNN-demo/.
#
#   scripts/demo.sh                 Fashion-MNIST (Debian's dataset-fashion-mnist), padded to 32x32
#   scripts/demo.sh IMAGE_FOLDER    any folder of images, e.g. chest X-rays, resized to 32x32 gray
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Only what the demo needs (the `demo` preset, build/demo): cxr_pggan with the Narrow one-channel
# stages up to 32x32, on the CPU. The full build (build/release) compiles every stage to 512x512 and
# the CUDA ones: minutes more.
cmake --preset demo
cmake --build --preset demo -j "$(nproc)" --target cxr_pggan
P=./build/demo/examples/cxr_pggan
mkdir -p datasets
if [ $# -ge 1 ]; then
    name="$(basename "$(realpath "$1")")-32"
    [ -d "datasets/$name" ] || "$P" dataset create_from_images "datasets/$name" "$1" --resize 32 --channels 1 --skip-bad
else
    name=fashion-mnist-32
    [ -d "datasets/$name" ] || "$P" dataset create_fashion_mnist "datasets/$name"
fi
"$P" train --config demo --data "datasets/$name"
echo "Results: the newest folder in results/ (fakes*.png, losses.png, log.txt, network-final.safetensors)."
