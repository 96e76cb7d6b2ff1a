#!/usr/bin/env bash
# The augmentation study of Ganesan et al. (EMBC 2019) end to end (docs/augmentation_study.md):
#
#   scripts/augmentation_study.sh PRESET DATA OUT [--unet CHECKPOINT] [--device cuda] [--bin DIR]
#
# PRESET  cpu (../shared/data/cxr's 250 CXRs at 64x64 on 2 CPU cores), rsna-512 (the source study's
#         scale, on a GPU), tiny (the end-to-end test), or a file of the settings below.
# DATA    a folder with images/ and labels.csv (file,label: 0 normal, 1 abnormal) and lung masks in
#         masks/ (same names) or, with --unet, a `cxr_unet train` checkpoint; or RSNA's folder
#         (stage_2_train_images/, stage_2_detailed_class_info.csv) with --unet.
# OUT     the study folder; every stage's output is kept there, and running the same command again
#         resumes at the first stage not finished (a stopped training resumes from its last snapshot).
# --bin   use the programs built in DIR instead of installing and building (build/release/examples)
#
# Stages: crops (cxr_unet segment), split (cxr_pggan split: equal training counts per class, a
# held-out test split), datasets and one PG-GAN per class, synthetic images, the classifier under every
# regime (none, traditional, gan, traditional+gan) for every seed with its test evaluation, image
# quality (a CXR FID on the `none` classifier's features, SWD and MS-SSIM), and report/.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 3 ] || usage
PRESET=$1 DATA=$2 OUT=$3
shift 3
UNET="" DEVICE=cpu B=""
while [ $# -gt 0 ]; do
    case $1 in
        --unet) UNET=$(realpath "$2"); shift 2 ;;
        --device) DEVICE=$2; shift 2 ;;
        --bin) B=$(realpath "$2"); shift 2 ;;
        *) echo "augmentation_study.sh: unknown option '$1'" >&2; usage ;;
    esac
done
die() { echo "augmentation_study.sh: $*" >&2; exit 1; }

# ---- settings (a preset sets them; see docs/augmentation_study.md) ----
SIZE=64                 # crop, PG-GAN and classifier side
TRAIN_FRACTION=0.7      # training share of the smallest class, the same count in every class
TRAIN_PER_CLASS=0       # or a fixed count (RSNA: 6268)
SPLIT_SEED=1000
GAN_CONFIG=demo
GAN_SETS=()             # --set key=value for cxr_pggan train
SYNTHETIC=200           # synthetic images generated per class
RATIO=1                 # synthetic : real training images per class in the gan regimes
SEEDS="1 2 3"
CLASSIFIER_ARGS=()      # e.g. --epochs 40 --batch 32
SWD_NUM=42              # images per set in SWD/MS-SSIM (at most half the training reals of a class)
case $PRESET in
    cpu)
        GAN_SETS=(lod_training_kimg=10 lod_transition_kimg=10 total_kimg=110 network_snapshot_ticks=2)
        CLASSIFIER_ARGS=(--epochs 40 --batch 32) ;;
    tiny)
        SIZE=32 SYNTHETIC=24 SEEDS="1 2" SWD_NUM=6 TRAIN_FRACTION=0.12
        GAN_SETS=(lod_training_kimg=0.2 lod_transition_kimg=0.2 total_kimg=1.6 tick_kimg_base=0.4 minibatch_base=16
                  network_snapshot_ticks=1 image_snapshot_ticks=2)
        CLASSIFIER_ARGS=(--epochs 3 --batch 16) ;;
    rsna-512)
        SIZE=512 TRAIN_PER_CLASS=6268 GAN_CONFIG=rsna-512 SYNTHETIC=6300 SWD_NUM=3134
        CLASSIFIER_ARGS=(--epochs 30 --batch 32) ;;
    *)
        [ -f "$PRESET" ] || die "unknown preset '$PRESET' (cpu, tiny, rsna-512, or a file of settings)"
        # shellcheck disable=SC1090
        source "$PRESET" ;;
esac

# ---- inputs ----
[ -d "$DATA" ] || die "$DATA: not a folder"
DATA=$(realpath "$DATA")
if [ -f "$DATA/labels.csv" ]; then
    IMAGES=$DATA/images
    [ -d "$IMAGES" ] || die "$DATA: no images/ folder beside labels.csv"
    if [ -z "$UNET" ]; then
        [ -d "$DATA/masks" ] || die "$DATA: no masks/ folder; give a lung segmentation checkpoint with --unet"
    fi
elif [ -f "$DATA/stage_2_detailed_class_info.csv" ]; then
    IMAGES=$DATA/stage_2_train_images
    [ -n "$UNET" ] || die "$DATA: RSNA's images have no lung masks; give a cxr_unet checkpoint with --unet"
else
    die "$DATA: neither labels.csv nor RSNA's stage_2_detailed_class_info.csv"
fi

if [ -z "$B" ]; then
    bash "$ROOT/scripts/setup.sh"
    cuda=OFF
    [ "$DEVICE" = cuda ] && cuda=ON
    (cd "$ROOT" && cmake --preset release -DPGG_BUILD_TESTS=OFF -DPGG_BUILD_BENCHMARKS=OFF -DPGG_WITH_CUDA=$cuda >/dev/null)
    cmake --build "$ROOT/build/release" -j "$(nproc)" --target cxr_unet cxr_pggan cxr_classifier
    B=$ROOT/build/release/examples
fi
for p in cxr_unet cxr_pggan cxr_classifier; do [ -x "$B/$p" ] || die "$B/$p: not built"; done

mkdir -p "$OUT"
OUT=$(realpath "$OUT")
CLASSES="normal abnormal"

# ---- bookkeeping: a stage is done when its folder exists (every tool creates its folder whole) ----
stage_start=0
begin() { stage_start=$(date +%s); echo "== $1"; }
finish() { # stage name: its time appended to timings.csv
    [ -f "$OUT/timings.csv" ] || echo "stage,seconds" > "$OUT/timings.csv"
    echo "$1,$(( $(date +%s) - stage_start ))" >> "$OUT/timings.csv"
}
if [ ! -f "$OUT/study.json" ]; then
    sets=$(printf '"%s",' "${GAN_SETS[@]}"); cargs=$(printf '"%s",' "${CLASSIFIER_ARGS[@]}")
    cat > "$OUT/study.json.tmp" <<EOF
{
  "preset": "$PRESET", "data": "$DATA", "unet": "$UNET", "device": "$DEVICE",
  "size": $SIZE, "train_fraction": $TRAIN_FRACTION, "train_per_class": $TRAIN_PER_CLASS, "split_seed": $SPLIT_SEED,
  "gan_config": "$GAN_CONFIG", "gan_sets": [${sets%,}], "synthetic_per_class": $SYNTHETIC, "synthetic_ratio": $RATIO,
  "seeds": [$(echo $SEEDS | tr ' ' ',')], "classifier_args": [${cargs%,}], "swd_num": $SWD_NUM,
  "machine": "$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores",
  "pgg_commit": "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)", "started": "$(date -u +%FT%TZ)"
}
EOF
    mv "$OUT/study.json.tmp" "$OUT/study.json"
fi

# 1. lung crops
if [ ! -d "$OUT/crops" ]; then
    begin "crops: lungs segmented and cropped to ${SIZE}x${SIZE}"
    rm -rf "$OUT/crops-masks"
    if [ -n "$UNET" ]; then
        "$B/cxr_unet" segment --checkpoint "$UNET" --in "$IMAGES" --out "$OUT/crops" --masks-out "$OUT/crops-masks" --size "$SIZE" --device "$DEVICE"
    else
        "$B/cxr_unet" segment --masks "$DATA/masks" --in "$IMAGES" --out "$OUT/crops" --masks-out "$OUT/crops-masks" --size "$SIZE"
    fi
    finish crops
fi

# 2. the split, of the images that were cropped (segment skips images without plausible lungs)
if [ ! -d "$OUT/split" ]; then
    begin "split: equal training counts per class, the rest held out for testing"
    args=(--train-fraction "$TRAIN_FRACTION" --seed "$SPLIT_SEED")
    [ "$TRAIN_PER_CLASS" -gt 0 ] && args+=(--train-per-class "$TRAIN_PER_CLASS")
    if [ -f "$DATA/labels.csv" ]; then
        labels=$DATA/labels.csv
    else # RSNA: one row per patient and box; Normal against Lung Opacity, the third class left out
        labels=$OUT/rsna-labels.csv
        { echo "file,label"
          awk -F, 'NR > 1 { gsub(/"/, ""); if ($2 == "Normal") print $1 ".dcm,0"; else if ($2 == "Lung Opacity") print $1 ".dcm,1" }' \
              "$DATA/stage_2_detailed_class_info.csv" | sort -u; } > "$labels"
    fi
    # labels of the crops: the same names with .png, only those segment wrote
    (cd "$OUT/crops" && find . -name '*.png' | sed 's|^\./||' | sort) > "$OUT/cropped.txt"
    awk -F, 'NR == FNR { have[$0] = 1; next }
             FNR == 1 { print; next }
             { f = $1; sub(/\.[^.\/]*$/, ".png", f); if (f in have) { $1 = f; print } }' OFS=, \
        "$OUT/cropped.txt" "$labels" > "$OUT/labels.csv.tmp"
    mv "$OUT/labels.csv.tmp" "$OUT/labels.csv"
    "$B/cxr_pggan" split "$OUT/split" --csv "$OUT/labels.csv" --class-map 0=normal --class-map 1=abnormal "${args[@]}"
    finish split
fi

# 3. one dataset and one PG-GAN per class
for c in $CLASSES; do
    if [ ! -d "$OUT/datasets/$c" ]; then
        begin "dataset: $c"
        mkdir -p "$OUT/datasets"
        "$B/cxr_pggan" dataset create_from_images "$OUT/datasets/$c" "$OUT/crops" --list "$OUT/split/train/$c.txt" --channels 1
        finish "dataset $c"
    fi
done
for c in $CLASSES; do
    run=$OUT/pggan/$c/000-$c
    [ -f "$run/_finished.txt" ] && continue
    begin "PG-GAN: $c"
    sets=()
    for s in "${GAN_SETS[@]}"; do sets+=(--set "$s"); done
    if [ -f "$run/config.json" ]; then
        "$B/cxr_pggan" train --resume "$run" --device "$DEVICE"
    else
        rm -rf "$OUT/pggan/$c"
        "$B/cxr_pggan" train --config "$GAN_CONFIG" --data "$OUT/datasets/$c" --results "$OUT/pggan/$c" --desc "$c" \
            --device "$DEVICE" "${sets[@]}"
    fi
    finish "PG-GAN $c"
done

# 4. synthetic images (image i is cxr_pggan generate --seed 1000's fake<i>.png)
for c in $CLASSES; do
    [ -d "$OUT/synthetic/$c" ] && continue
    begin "synthetic: $SYNTHETIC $c images"
    mkdir -p "$OUT/synthetic"
    "$B/cxr_pggan" generate --snapshot "$OUT/pggan/$c/000-$c/network-final.safetensors" --out "$OUT/synthetic/$c" \
        --num "$SYNTHETIC" --seed 1000 --device "$DEVICE"
    finish "synthetic $c"
done

# 5. the classifier under every regime and seed, each evaluated on the test split
lists=(--images "$OUT/crops" --list "normal=$OUT/split/train/normal.txt" --list "abnormal=$OUT/split/train/abnormal.txt")
tests=(--images "$OUT/crops" --list "normal=$OUT/split/test/normal.txt" --list "abnormal=$OUT/split/test/abnormal.txt")
for regime in none traditional gan traditional+gan; do
    for seed in $SEEDS; do
        dir=$OUT/classifier/$regime/seed-$seed
        [ -d "$dir/evaluation" ] && continue
        begin "classifier: $regime, seed $seed"
        mkdir -p "$dir"
        if [ ! -f "$dir/run/done.txt" ]; then
            if [ -f "$dir/run/last.safetensors" ]; then
                "$B/cxr_classifier" train --resume "$dir/run" --device "$DEVICE"
            else
                rm -rf "$dir/run"
                gan=()
                case $regime in *gan) gan=(--gan "normal=$OUT/synthetic/normal" --gan "abnormal=$OUT/synthetic/abnormal" --synthetic-ratio "$RATIO") ;; esac
                "$B/cxr_classifier" train "${lists[@]}" --size "$SIZE" --augment "$regime" "${gan[@]}" --seed "$seed" \
                    --out "$dir/run" --device "$DEVICE" "${CLASSIFIER_ARGS[@]}"
            fi
        fi
        "$B/cxr_classifier" evaluate --checkpoint "$dir/run/best.safetensors" "${tests[@]}" --out "$dir/evaluation" --device "$DEVICE"
        finish "classifier $regime"
    done
done

# 6. image quality: the Frechet distance on the none classifier's features (against the real test
#    images of the class as the floor), SWD and MS-SSIM
if [ ! -d "$OUT/quality" ]; then
    begin "quality of the synthetic images"
    first_seed=${SEEDS%% *}
    q=$OUT/quality.tmp
    rm -rf "$q" && mkdir -p "$q"
    for c in $CLASSES; do
        f=(--checkpoint "$OUT/classifier/none/seed-$first_seed/run/best.safetensors" --reals "$OUT/crops"
           --reals-list "$OUT/split/train/$c.txt" --device "$DEVICE")
        # as many synthetic images as the floor has real test images: the estimate depends on the set sizes
        "$B/cxr_classifier" frechet "${f[@]}" --fakes "$OUT/synthetic/$c" --limit "$(grep -c . "$OUT/split/test/$c.txt")" \
            --out "$q/$c-frechet.json"
        "$B/cxr_classifier" frechet "${f[@]}" --fakes "$OUT/crops" --fakes-list "$OUT/split/test/$c.txt" --out "$q/$c-frechet-floor.json"
        "$B/cxr_pggan" evaluate --images "$OUT/synthetic/$c" --reals "$OUT/datasets/$c" --num "$SWD_NUM" --out "$q/$c-swd"
    done
    mv "$q" "$OUT/quality"
    finish quality
fi

# 7. the report (made again on every run: it is cheap)
rm -rf "$OUT/report"
"$B/cxr_classifier" report --study "$OUT" > /dev/null
echo "== done: $OUT/report/report.md"
