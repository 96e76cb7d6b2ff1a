#!/usr/bin/env bash
# Does training learn? A short run of the demo networks on the shared chest X-rays at 4x4 -> 32x32
# must bring the statistics of generated images (image_statistics.py) to at most half the distance of
# an untrained generator's.
# Usage: learning_check.sh CXR_PGGAN WORK_DIR CXR_DIR IMAGE_STATISTICS_PY
set -euo pipefail
P=$1
W=$2
CXR=$3
STATS=$4
rm -rf "$W" && mkdir -p "$W" && cd "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$P" dataset create_from_images cxr32 "$CXR/images" --resize 32 > /dev/null
S=(--data cxr32 --results runs --threads 2 --set tick_kimg_base=2 --set network_snapshot_ticks=100)
# untrained: one step at a negligible learning rate, straight at 32x32
"$P" train "${S[@]}" --desc untrained --total-kimg 0.004 --set lod_initial_resolution=32 --set minibatch_base=4 \
    --set minibatch_repeats=1 --set G_lrate_base=1e-12 --set D_lrate_base=1e-12 > untrained.txt
# 4x4 -> 32x32 in phases of 4 kimg, minibatch 16 (250 steps a phase), 2 kimg into the 32x32 stable phase
"$P" train "${S[@]}" --desc trained --total-kimg 26 --set lod_training_kimg=4 --set lod_transition_kimg=4 \
    --set minibatch_base=16 > trained.txt
for run in untrained trained; do
    "$P" generate --snapshot runs/*-$run/network-final.safetensors --num 250 --batch 50 --out gen-$run > /dev/null
    "$P" dataset create_from_images ds-$run gen-$run > /dev/null
done
before=$(/usr/bin/python3 "$STATS" cxr32 ds-untrained)
after=$(/usr/bin/python3 "$STATS" cxr32 ds-trained)
echo "distance to the real images: untrained $before, trained $after"
awk -v a="${after%% *}" -v b="${before%% *}" 'BEGIN { exit !(a <= 0.5 * b) }' || fail "training did not halve the distance"
echo "learning check: passed"
