#!/usr/bin/env bash
# Does training learn? A short run of the demo networks on 150 of the shared chest X-rays, 4x4 -> 32x32;
# its generated images are scored by pgg's sliced Wasserstein distance (cxr_pggan evaluate) against 100
# real images the run never saw. Of those, evaluate holds 50 out as the floor (50 reals against the
# other 50: the distance no generator can beat at this N) and scores 50 generated images against the
# same 50. The trained generator must come within FLOOR_FACTOR x the floor, and an untrained one must not.
# Usage: learning_check.sh CXR_PGGAN WORK_DIR CXR_DIR
set -euo pipefail
P=$1
W=$2
CXR=$3
FLOOR_FACTOR=${FLOOR_FACTOR:-2}
rm -rf "$W" && mkdir -p "$W" && cd "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }

# a seeded split of the 250 images: 150 to train on, 100 never seen by the run
mkdir train heldout
/usr/bin/python3 - "$CXR/images" <<'PY'
import os, random, sys
files = sorted(os.listdir(sys.argv[1]))
random.Random(2019).shuffle(files)
for i, f in enumerate(files):
    os.symlink(os.path.join(sys.argv[1], f), os.path.join("train" if i < 150 else "heldout", f))
PY
"$P" dataset create_from_images cxr32 train --resize 32 > /dev/null
S=(--data cxr32 --results runs --threads 2 --set tick_kimg_base=2 --set network_snapshot_ticks=100)
# untrained: one step at a negligible learning rate, straight at 32x32
"$P" train "${S[@]}" --desc untrained --total-kimg 0.004 --set lod_initial_resolution=32 --set minibatch_base=4 \
    --set minibatch_repeats=1 --set G_lrate_base=1e-12 --set D_lrate_base=1e-12 > untrained.txt
# 4x4 -> 32x32 in phases of 4 kimg, minibatch 16 (250 steps a phase), 2 kimg into the 32x32 stable phase
"$P" train "${S[@]}" --desc trained --total-kimg 26 --set lod_training_kimg=4 --set lod_transition_kimg=4 \
    --set minibatch_base=16 > trained.txt
swd() { sed -n "${2}p" "$1" | cut -d, -f7; }
for run in untrained trained; do
    "$P" evaluate --snapshot runs/*-$run/network-final.safetensors --reals heldout --num 50 --out eval-$run > eval-$run.txt
    [ "$(sed -n 2p eval-$run.csv | cut -d, -f4)" = 50 ] && [ "$(sed -n 3p eval-$run.csv | cut -d, -f4)" = 50 ] ||
        fail "evaluate did not score 50 images per set: $(cat eval-$run.csv)"
done
floor=$(swd eval-trained.csv 2); after=$(swd eval-trained.csv 3); before=$(swd eval-untrained.csv 3)
echo "SWD x1000 against 50 held-out reals: floor (50 other held-out reals) $floor, untrained $before, trained $after"
awk -v f="$floor" -v a="$after" -v b="$before" -v k="$FLOOR_FACTOR" \
    'BEGIN { exit !(f > 0 && a > 0 && b > 0 && a <= k * f && b > k * f) }' ||
    fail "the trained generator is not within ${FLOOR_FACTOR}x the floor, or the untrained one is"
echo "learning check: passed"
