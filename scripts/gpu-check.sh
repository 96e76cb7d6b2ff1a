#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: builds the CUDA tests and benchmarks, runs the GPU tests (the CUDA
# backend against the CPU backend on the same random inputs), then the GPU benchmarks and PyTorch's same
# training step (benchmarks/torch_pggan_step.py --device cuda), and prints a short table last.
# Full outputs go to $OUT (default build/gpu-check). Meant to finish within 8 minutes on an H200.
#
# Dependencies: the Debian packages of scripts/setup.sh, or, on a machine without them, the copy that
# scripts/gather-gpu-deps.sh makes in build/gpu-deps (relative paths inside it are rewritten to this
# checkout's absolute path, so gather in the same checkout location or re-run it there).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-build/gpu-check}
mkdir -p "$out"
start=$(date +%s)
log() { echo "[gpu-check $(( $(date +%s) - start ))s] $*"; }

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv | tee "$out/gpu.txt"
nvcc_bin=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
args=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER="$nvcc_bin" -DPGG_WITH_CUDA=ON -DPGG_WITH_DCMTK=OFF
      -DPGG_BUILD_TESTS=ON -DPGG_BUILD_EXAMPLES=ON -DPGG_BUILD_BENCHMARKS=ON
      -DPGGAN_WIDTHS=Official -DPGGAN_CUDA_WIDTHS=Official -DPGGAN_CHANNELS=1)
if [ -d build/gpu-deps/usr ]; then
  deps=$PWD/build/gpu-deps/usr
  old=$(cat build/gpu-deps/prefix)
  if [ "$old" != "$deps" ]; then # gathered in another checkout location: rewrite the package files' paths
    grep -rl "$old" "$deps/lib" "$deps/share" 2>/dev/null | while read -r f; do sed -i "s|$old|$deps|g" "$f"; done
    echo "$deps" > build/gpu-deps/prefix
  fi
  args+=(-DCMAKE_PREFIX_PATH="$deps" -DSTB_INCLUDE_DIR="$deps/include/stb" -DSTB_LIBRARY="$deps/lib/libstb.so")
  export LD_LIBRARY_PATH="$deps/lib:${LD_LIBRARY_PATH:-}"
fi
bin=build/gpu
if [ -n "${PGG_PREBUILT:-}" ]; then # binaries built elsewhere (tests/pgg_gpu_tests, benchmarks/bench_cuda below it)
  bin=$PGG_PREBUILT
  log "using the binaries in $bin"
else
  log "configure"
  cmake -S . -B build/gpu "${args[@]}" > "$out/configure.txt" 2>&1 || { tail -30 "$out/configure.txt"; exit 1; }
  log "build"
  cmake --build build/gpu -j "$(nproc)" --target pgg_gpu_tests bench_cuda > "$out/build.txt" 2>&1 || { grep -E "error" "$out/build.txt" | head -40; exit 1; }
fi

log "GPU tests"
"$bin/tests/pgg_gpu_tests" -r compact > "$out/tests.txt" 2>&1
tests_rc=$?
tail -5 "$out/tests.txt"
gpus=$(nvidia-smi --list-gpus | wc -l)
if [ "$gpus" -gt 1 ] && command -v mpiexec > /dev/null; then # NCCL's sums over one process per GPU
  log "NCCL over $gpus GPUs"
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpiexec --oversubscribe -np "$gpus" \
    "$bin/tests/pgg_gpu_tests" "[nccl]" > "$out/nccl.txt" 2>&1 || tests_rc=1
  tail -3 "$out/nccl.txt"
fi

log "GPU benchmarks"
"$bin/benchmarks/bench_cuda" --benchmark_out="$out/bench_cuda.json" --benchmark_out_format=json > "$out/bench_cuda.txt" 2>&1
bench_rc=$?
log "PyTorch peer"
python3 benchmarks/torch_pggan_step.py --device cuda --min-time 1 > "$out/torch_fp32.txt" 2>&1
python3 benchmarks/torch_pggan_step.py --device cuda --tf32 --min-time 1 > "$out/torch_tf32.txt" 2>&1
python3 benchmarks/torch_pggan_step.py --device cuda --generate --res 512 --min-time 1 > "$out/torch_generate.txt" 2>&1
for base in 16 32; do
  python3 benchmarks/torch_unet.py --device cuda --base $base --seconds 2 > "$out/torch_unet_$base.txt" 2>&1
done

log "done (tests rc $tests_rc, benchmarks rc $bench_rc)"
python3 benchmarks/gpu_table.py "$out"
exit $(( tests_rc != 0 || bench_rc != 0 ))
