#!/usr/bin/env bash
# cxr_unet end to end on the shared CXRs at 64x64: a short training run reaches a validation Dice far
# above the trivial baselines (test_unet.cpp measures those: at most about 0.8); a run interrupted by
# SIGINT and resumed ends bit-identical to the straight run; evaluate writes its CSV; segment crops (with the
# UNet's masks, and with given masks by --masks),
# skips what it must with a reason, writes masks, uncertainty maps and overlays, and its output feeds
# `cxr_pggan dataset create_from_images`.
# Usage: unet_end_to_end.sh CXR_UNET WORK_DIR CXR_DIR SAME_WEIGHTS_PY [CXR_PGGAN]
set -euo pipefail
U=$1 WORK=$2 CXR=$3 SAME=$4 PGGAN=${5:-}
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
args=(--images "$CXR/images" --masks "$CXR/masks" --size 64 --batch 8 --seed 3)

# a straight run
"$U" train "${args[@]}" --out straight --epochs 12 > straight.txt || fail "train"
for f in options.json log.txt metrics.csv curves.png last.safetensors best.safetensors validation.txt done.txt; do
  [ -s "straight/$f" ] || fail "straight/$f missing"
done
[ "$(tail -n +2 straight/metrics.csv | wc -l)" -eq 12 ] || fail "metrics.csv should have 12 rows"
[ "$(wc -l < straight/validation.txt)" -eq 50 ] || fail "validation.txt should name 50 images"

# the same run, interrupted during epoch 2 (SIGINT) and resumed: identical weights and optimiser state
"$U" train "${args[@]}" --out broken --epochs 12 > broken.txt 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "epoch   1/12" broken.txt 2>/dev/null && break; sleep 0.1; done
sleep 0.5
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || fail "an interrupted run exited with status $rc, not 130 (128 + SIGINT)"
grep -q "interrupted in epoch 2" broken/log.txt || fail "no interruption line in the log: $(tail -3 broken.txt)"
"$U" train --resume broken > resumed.txt || fail "resume"
/usr/bin/python3 "$SAME" straight/last.safetensors broken/last.safetensors || fail "resumed run differs from the straight run"
cmp -s straight/metrics.csv <(cut -d, -f1-6 broken/metrics.csv | paste -d, - <(cut -d, -f7 straight/metrics.csv)) ||
  fail "resumed metrics differ: $(diff straight/metrics.csv broken/metrics.csv | head -5)"

# validation Dice far above the baselines
"$U" evaluate --checkpoint straight/best.safetensors --images "$CXR/images" --masks "$CXR/masks" \
  --list straight/validation.txt --csv eval.csv --quiet > eval.txt || fail "evaluate"
[ "$(tail -n +2 eval.csv | wc -l)" -eq 50 ] || fail "eval.csv should have 50 rows"
dice=$(sed -n 's/.*mean Dice \([0-9.]*\).*/\1/p' eval.txt)
echo "validation Dice at 64x64 after 12 epochs: $dice"
awk -v d="$dice" 'BEGIN { exit !(d >= 0.90) }' || fail "validation Dice $dice below 0.90"

# segment: 12 CXRs, a corrupt file and a blank image
mkdir in
images=("$CXR"/images/*) # no `ls | head` pipe: under pipefail, ls killed by SIGPIPE failed the script at random
cp "${images[@]:0:12}" in/
printf 'not a png' > in/corrupt.png
/usr/bin/python3 -c "import sys; sys.stdout.buffer.write(b'P5 64 64 255\n' + bytes(64 * 64))" > in/blank.pgm
"$U" segment --checkpoint straight/best.safetensors --in in --out crops --size 96 --mc-samples 3 > segment.txt ||
  fail "segment: $(cat segment.txt)"
cat segment.txt
[ "$(ls crops | wc -l)" -ge 10 ] || fail "fewer than 10 crops"
grep -q '^corrupt.png,skipped,' crops-masks/summary.csv || fail "corrupt file not reported"
grep -q '^blank.png,skipped,' crops-masks/summary.csv || fail "blank image not reported"
[ -s crops-masks/overlay-000.png ] || fail "no overlay"
ls crops-masks/*_uncertainty.png > /dev/null || fail "no uncertainty maps"
if "$U" segment --checkpoint straight/best.safetensors --in in --out crops 2> again.txt; then fail "segment overwrote a folder"; fi
grep -q "already exists" again.txt || fail "no clear error for an existing output folder"
# segment --masks: the given masks instead of the UNet's; the crops are the images' lung boxes
mkdir given && cp "${images[@]:0:12}" given/
"$U" segment --masks "$CXR/masks" --in given --out given-crops --size 64 > given.txt || fail "segment --masks: $(cat given.txt)"
[ "$(ls given-crops | wc -l)" -eq 12 ] || fail "segment --masks: not 12 crops"
[ "$(grep -c ',cropped,' given-crops-masks/summary.csv)" -eq 12 ] || fail "segment --masks: not 12 rows cropped"
# a missing mask: an error naming the image, before anything is written
printf 'not a png' > given/extra.png
if "$U" segment --masks "$CXR/masks" --in given --out given-2 > missing.txt 2>&1; then fail "segment --masks ran without a mask"; fi
grep -q "no mask for .*extra.png" missing.txt || fail "no clear error for a missing mask: $(cat missing.txt)"
[ ! -e given-2 ] && [ ! -e given-2-masks ] || fail "segment --masks left output after an error"
if "$U" segment --in given --out given-3 > neither.txt 2>&1; then fail "segment ran without --checkpoint or --masks"; fi
grep -q "either --checkpoint" neither.txt || fail "no clear error without --checkpoint or --masks: $(cat neither.txt)"
if [ -n "$PGGAN" ]; then
  "$PGGAN" dataset create_from_images dataset crops --resize 64 > dataset.txt || fail "crops do not make a dataset"
fi
echo "PASS"
