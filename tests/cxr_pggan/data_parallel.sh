#!/usr/bin/env bash
# Data-parallel `cxr_pggan train` under mpirun (docs/distributed.md), on the shared chest X-rays at 16x16:
# two processes with half of every minibatch train the same networks as one process with all of it (up
# to the order of floating-point sums) and write the same files; a run started with 2 processes resumes
# with 1 and the other way round; a minibatch that does not split is refused before anything is written;
# a killed process stops the run, the snapshots stay intact and the run resumes; with ADA, the
# augmentations and p are the same in both.
# Usage: data_parallel.sh CXR_PGGAN WORK_DIR CXR_DIR SAME_WEIGHTS_PY MPIEXEC
set -euo pipefail
P=$1
W=$2
CXR=$3
SAME=$4
MPI=$5
rm -rf "$W" && mkdir -p "$W" && cd "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # CI runs as root
mpi() { "$MPI" --oversubscribe -np "$@"; }
close() { /usr/bin/python3 "$SAME" "$1" "$2" --rtol 5e-6 || fail "$3"; }

"$P" dataset create_from_images cxr16 "$CXR/images" --resize 16 > /dev/null
# 20 minibatches of 16 (5 x 4 repeats): 4x4, then into the 8x8 fade. (Across the end of a fade, where
# Adam starts afresh and its first steps are nearly sign(gradient), rounding differences grow far
# faster: docs/distributed.md.)
S=(--data cxr16 --results runs --set lod_training_kimg=0.05 --set lod_transition_kimg=0.3 --set tick_kimg_base=0.064
   --set minibatch_base=16 --set network_snapshot_ticks=1 --set grid_width=4 --set grid_height=2)
"$P" train "${S[@]}" --threads 1 --total-kimg 0.32 --desc one > one.txt
mpi 2 "$P" train "${S[@]}" --total-kimg 0.32 --desc two > two.txt
grep -q "2 processes (MPI), 1 thread(s) each" two.txt || fail "the 2-process run did not say so: $(head -3 two.txt)"
close runs/000-one/network-final.safetensors runs/001-two/network-final.safetensors "2 processes trained other networks than 1"
[ "$(cd runs/000-one && ls | sort)" = "$(cd runs/001-two && ls | sort)" ] || fail "the runs wrote different files"
[ "$(grep -c '^tick' runs/000-one/log.txt)" = "$(grep -c '^tick' runs/001-two/log.txt)" ] || fail "different ticks in log.txt"
grep -q '"_processes": 2' runs/001-two/config.json || fail "config.json does not record the processes"

# resume across process counts: 2 then 1, 1 then 2
mpi 2 "$P" train "${S[@]}" --total-kimg 0.128 --desc two-one > /dev/null
"$P" train --resume runs/002-two-one --threads 1 --total-kimg 0.32 > /dev/null
close runs/000-one/network-final.safetensors runs/002-two-one/network-final.safetensors "2 processes resumed with 1"
"$P" train "${S[@]}" --threads 1 --total-kimg 0.128 --desc one-two > /dev/null
mpi 2 "$P" train --resume runs/003-one-two --total-kimg 0.32 > /dev/null
close runs/000-one/network-final.safetensors runs/003-one-two/network-final.safetensors "1 process resumed with 2"

# ADA: every sample's augmentations, and the p adapted from the processes' summed statistic, are those
# of one process (8 minibatches: later, the cancellation in D's last bias gradient, 2 eps mean D(real),
# makes rounding differences outgrow the tolerance faster than without augmentation)
A=(--set augment=ada --set augment_p=0.2 --set ada_kimg=0.5 --set ada_target=-0.99)
"$P" train "${S[@]}" "${A[@]}" --threads 1 --total-kimg 0.128 --desc ada-one > /dev/null
mpi 2 "$P" train "${S[@]}" "${A[@]}" --total-kimg 0.128 --desc ada-two > /dev/null
close runs/*-ada-one/network-final.safetensors runs/*-ada-two/network-final.safetensors "2 processes trained other networks than 1 with ADA"
p_of() { grep -o '"augment_p":[0-9.e-]*' runs/*-"$1"/metrics.jsonl | tr '\n' ' '; }
[ "$(p_of ada-one)" = "$(p_of ada-two)" ] && [ "$(p_of ada-one)" != '"augment_p":0.2 "augment_p":0.2 ' ] ||
    fail "ADA's p differs between 1 and 2 processes, or did not move: $(p_of ada-one) / $(p_of ada-two)"

# 3 processes cannot share minibatches of 16 in whole groups of 4: a clear error, no run folder
if mpi 3 "$P" train "${S[@]}" --total-kimg 0.32 --desc three > three.txt 2>&1; then fail "3 processes took minibatches of 16"; fi
grep -q "multiple of 12" three.txt || fail "the uneven split's error: $(grep -v '^-' three.txt | head -5)"
! ls -d runs/*-three > /dev/null 2>&1 || fail "a refused run left a folder"

# a process killed mid-run stops the run (mpirun names it); the snapshots are whole and the run resumes
K=(--data cxr16 --results runs --set lod_training_kimg=50 --set tick_kimg_base=0.128 --set minibatch_base=16
   --set network_snapshot_ticks=1 --set grid_width=4 --set grid_height=2)
mpi 2 "$P" train "${K[@]}" --total-kimg 100 --desc killed > killed.txt 2>&1 &
launcher=$!
for _ in $(seq 100); do ls runs/*-killed/network-snapshot-000000.safetensors > /dev/null 2>&1 && break; sleep 0.2; done
victim=$(pgrep -f "^$P train .*--desc killed" | tail -1) # a training process, not mpirun
[ -n "$victim" ] || fail "no training process to kill"
kill -9 "$victim"
if wait "$launcher"; then fail "mpirun exited 0 after a process was killed"; fi
grep -q "rank 1\|rank 0" killed.txt || fail "mpirun did not name the killed process: $(grep -v '^-' killed.txt | tail -5)"
run=$(ls -d runs/*-killed)
"$P" train --resume "$run" --threads 2 --total-kimg 0.5 > resumed.txt || fail "resuming after a killed process"
grep -q "^resumed from" resumed.txt && [ -s "$run/network-final.safetensors" ] || fail "the killed run did not resume"
echo "data parallel: 2 processes = 1 process, resumed across process counts, bad split refused, killed process survived"
