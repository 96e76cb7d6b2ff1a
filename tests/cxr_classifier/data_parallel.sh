#!/usr/bin/env bash
# Data-parallel `cxr_classifier train` under mpirun (docs/distributed.md) on the toy task of
# make_blobs.py: 2 and 3 processes (the latter with unequal parts of the minibatches of 16) train the
# same classifier as one process, up to the order of floating-point sums, with traditional augmentation;
# process 0 alone writes the run folder, with the same files as one process.
# Usage: data_parallel.sh CXR_CLASSIFIER WORK_DIR SAME_WEIGHTS_PY MPIEXEC
set -euo pipefail
C=$1 WORK=$2 SAME=$3 MPI=$4
HERE=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # CI runs as root
/usr/bin/python3 "$HERE/make_blobs.py" train 80 32 1 > /dev/null
args=(--images train --labels train/labels.csv --size 32 --batch 16 --seed 3 --epochs 3 --augment traditional)

# one thread, as each of the processes has here: the thread count alone changes the sums' order. Sums in
# another order can switch a ReLU: 2 threads in one process, or 3 processes, end 2.4e-6 apart in the
# weights and 2.0e-4 in Adam's moments (measured); a sample lost from each minibatch of 16 (batch 15)
# ends 3.4e-2 and 0.97 apart. The bound, 1e-3, sits between the two.
OMP_NUM_THREADS=1 "$C" train "${args[@]}" --out one > one.txt 2>&1 || fail "one process: $(tail -3 one.txt)"
for P in 2 3; do
  "$MPI" --oversubscribe -np $P "$C" train "${args[@]}" --out p$P > p$P.txt 2>&1 || fail "$P processes: $(tail -5 p$P.txt)"
  for f in last best; do
    /usr/bin/python3 "$SAME" one/$f.safetensors p$P/$f.safetensors --rtol 1e-3 || fail "$P processes: $f.safetensors differs"
  done
  [ "$(cd one && ls | sort)" = "$(cd p$P && ls | sort)" ] || fail "$P processes wrote other files than one"
  [ "$(grep -c 'train loss' p$P.txt)" -eq 3 ] || fail "$P processes: epoch lines printed $(grep -c 'train loss' p$P.txt) times, not 3"
done
echo "data parallel: 2 and 3 processes train the classifier 1 process trains"
