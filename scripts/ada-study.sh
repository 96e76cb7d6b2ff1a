#!/usr/bin/env bash
# Adaptive discriminator augmentation on small sets of chest X-rays (docs/cxr_pggan.md, "Training on
# small data sets"): the demo-scale PG-GAN at 32x32 trained on 50 and on 100 normal CXRs, without
# augmentation and with ADA, two seeds each; every snapshot's SWD and MS-SSIM against 30 held-out
# normal CXRs; one plot and table per training-set size (compare-<n>.png, compare-<n>.csv).
#
#   scripts/ada-study.sh [CXR_DIR] [OUT_DIR]     defaults: ../shared/data/cxr and ada-study
#
# CXR_DIR holds images/ and labels.csv (file,label; 0 = normal). Each run takes about 13 minutes on 2
# CPU cores; the script can be stopped at any time and started again: finished runs are kept, an
# interrupted one resumes from its last snapshot. SIZES, MODES and SEEDS (environment) pick a part;
# KIMG (default 80) is the length of training: a larger one extends finished runs at 32x32 (the
# documented 160 kimg of the 50-image arm: SIZES=50 KIMG=160).
set -euo pipefail
cd "$(dirname "$0")/.."
CXR=${1:-../shared/data/cxr}
OUT=${2:-ada-study}
SIZES=${SIZES:-"50 100"}
MODES=${MODES:-"none ada"}
SEEDS=${SEEDS:-"1 2"}
KIMG=${KIMG:-80}
P=${PGGAN:-./build/demo/examples/cxr_pggan}
if [ ! -x "$P" ]; then
    bash scripts/setup.sh
    cmake --preset demo
    cmake --build --preset demo -j "$(nproc)" --target cxr_pggan
fi
mkdir -p "$OUT"

# Training lists: per class, 100 of a seeded order (50: the first 50 of the same order); the other
# 30 normals are the reference, seen by no run.
[ -d "$OUT/split-100" ] || "$P" split "$OUT/split-100" --csv "$CXR/labels.csv" --train-per-class 100 --seed 1
[ -d "$OUT/split-50" ] || "$P" split "$OUT/split-50" --csv "$CXR/labels.csv" --train-per-class 50 --seed 1
[ -d "$OUT/reference" ] ||
    "$P" dataset create_from_images "$OUT/reference" "$CXR/images" --list "$OUT/split-100/test/0.txt" --resize 32 --channels 1
for n in $SIZES; do
    [ -d "$OUT/normal-$n" ] ||
        "$P" dataset create_from_images "$OUT/normal-$n" "$CXR/images" --list "$OUT/split-$n/train/0.txt" --resize 32 --channels 1
done

# The demo config reaching 32x32 after 35 kimg (5 kimg per stage and per fade), then KIMG - 35 there;
# a snapshot every tick (4 kimg) for the curves. ADA: p from 0, able to go from 0 to 1 in 10 kimg (the
# paper's 500 kimg is 2% of its 25,000-kimg runs; this is an eighth of these), r_t held at 0.6.
common=(--config demo --results "$OUT/runs" --set lod_training_kimg=5 --set lod_transition_kimg=5
        --set total_kimg="$KIMG" --set network_snapshot_ticks=1)
declare -A mode_args=([none]="--set augment=none" [ada]="--set augment=ada --set ada_kimg=10 --set ada_target=0.6")
for n in $SIZES; do
    for seed in $SEEDS; do
        for mode in $MODES; do
            desc="$mode-$n-s$seed"
            run=$(ls -d "$OUT/runs/"*-"$desc" 2> /dev/null | head -1 || true)
            # _finished.txt reads "kimg <where the run ended>"
            if [ -n "$run" ] && [ -e "$run/_finished.txt" ] && awk -v k="$KIMG" '{exit !($2 >= k)}' "$run/_finished.txt"; then
                echo "$desc: done ($run)"
            elif [ -n "$run" ] && ls "$run"/network-snapshot-*.safetensors > /dev/null 2>&1; then
                rm -f "$run/evaluate.csv" # new snapshots to score
                "$P" train --resume "$run" --total-kimg "$KIMG"
            else
                [ -z "$run" ] || rm -rf "$run" # killed before its first snapshot
                # shellcheck disable=SC2086
                "$P" train "${common[@]}" --data "$OUT/normal-$n" --seed "$seed" --desc "$desc" ${mode_args[$mode]}
                run=$(ls -d "$OUT/runs/"*-"$desc" | head -1)
            fi
            [ -e "$run/evaluate.csv" ] || "$P" evaluate --run "$run" --reals "$OUT/reference" --num 256
        done
    done
    runs=()
    for mode in $MODES; do for seed in $SEEDS; do runs+=("$(ls -d "$OUT/runs/"*-"$mode-$n-s$seed" | head -1)"); done; done
    "$P" compare "${runs[@]}" --out "$OUT/compare-$n"
done
