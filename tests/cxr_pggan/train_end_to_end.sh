#!/usr/bin/env bash
# A tiny PG-GAN run on the shared chest X-rays (resized to 16x16, 4x4 -> 16x16 in a few kimg): outputs
# written, losses finite, a run split by --resume identical to a straight one, `generate` writing valid
# PNGs of the right size, SIGINT leaving a snapshot to resume from.
# The embedded generator (examples/embed_generator) must write the very PNGs `generate` writes, and
# python/pggan_torch.py the same images from given latents (`generate --latents`).
# Usage: train_end_to_end.sh CXR_PGGAN WORK_DIR CXR_DIR SAME_WEIGHTS_PY EMBED_GENERATOR FINITE_METRICS_PY
set -euo pipefail
P=$1
W=$2
CXR=$3
SAME=$4
EMBED=$5
FINITE=$6
rm -rf "$W" && mkdir -p "$W" && cd "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$P" dataset create_from_images cxr16 "$CXR/images" --resize 16 > /dev/null
"$P" dataset info cxr16 | grep -q "images      250" || fail "dataset"

S=(--data cxr16 --results runs --threads 2 --set lod_training_kimg=0.5 --set lod_transition_kimg=0.5
   --set tick_kimg_base=0.5 --set minibatch_base=16 --set network_snapshot_ticks=2 --set grid_width=4 --set grid_height=2)
"$P" train "${S[@]}" --total-kimg 3 --desc straight > straight.txt
"$P" train "${S[@]}" --total-kimg 1.5 --desc split > split.txt
"$P" train --resume runs/001-split --total-kimg 3 > resumed.txt
/usr/bin/python3 "$SAME" runs/000-straight/network-final.safetensors runs/001-split/network-final.safetensors ||
    fail "a resumed run differs from a straight one"

# adaptive augmentation (ADA): p rises (a target below any r_t), is logged, plotted and restored on resume
# (the split lands inside an adjustment interval: 94 minibatches, intervals of 4)
A=(--set augment=ada --set ada_target=-0.99 --set ada_kimg=5)
"$P" train "${S[@]}" "${A[@]}" --total-kimg 3 --desc ada > /dev/null
"$P" train "${S[@]}" "${A[@]}" --total-kimg 1.5 --desc ada-split > /dev/null
"$P" train --resume runs/003-ada-split --total-kimg 3 > /dev/null
/usr/bin/python3 "$SAME" runs/002-ada/network-final.safetensors runs/003-ada-split/network-final.safetensors ||
    fail "a resumed ADA run differs from a straight one"
/usr/bin/python3 "$FINITE" runs/002-ada/metrics.jsonl augment_p ada_rt real_sign real_vs_fake || fail "non-finite augmentation metrics"
/usr/bin/python3 - runs/002-ada/metrics.jsonl runs/003-ada-split/metrics.jsonl <<'PY' || fail "augment_p did not rise as ADA moves it, or differs after resume"
import json, sys
a, b = ([json.loads(l)["augment_p"] for l in open(f)] for f in sys.argv[1:])
# at most 3008 images in steps of 64 / 5000 = 0.0128 per 4 minibatches of 16: p <= 0.6016
print("augment_p by tick:", a)
sys.exit(0 if a == b and 0.3 < a[-1] <= 0.6016 and a[-1] > a[0] > 0 else 1)
PY
grep -q "augmentation: ada, p from 0.000 holding r_t (real_vs_fake) at -0.99" runs/002-ada/log.txt || fail "the log does not describe the augmentation"
grep -q "augment p 0\.[1-9]" runs/002-ada/log.txt || fail "the tick lines lack p"
[ -s runs/002-ada/augment.png ] && [ ! -e runs/000-straight/augment.png ] || fail "augment.png missing with ADA, or written without"
if "$P" train "${S[@]}" --set augment=always --total-kimg 0.1 --desc bad-augment 2> err.txt; then fail "augment=always accepted"; fi
grep -q "augment must be none, ada, fixed or diffaugment" err.txt || fail "augment=always's error: $(cat err.txt)"

# --device cuda without a usable GPU (or in a build without CUDA): a clear error, and no run folder
if ! nvidia-smi > /dev/null 2>&1; then
    if "$P" train "${S[@]}" --config rsna-512 --total-kimg 0.1 --desc gpu --device cuda 2> err.txt; then
        fail "--device cuda trained without a GPU"
    fi
    grep -q -- "--device cuda\|on cuda" err.txt || fail "--device cuda's error: $(cat err.txt)"
    ! ls -d runs/*-gpu > /dev/null 2>&1 || fail "a failed --device cuda left a run folder"
fi

R=runs/000-straight
for f in config.json log.txt metrics.jsonl reals.png fakes000000.png fakes000003.png losses.png network-final.safetensors _finished.txt; do
    [ -s "$R/$f" ] || fail "missing $R/$f"
done
ls "$R"/network-snapshot-*.safetensors > /dev/null || fail "no periodic snapshot"
grep -q "^tick 1 .*kimg 0.5" "$R/log.txt" || fail "log.txt lacks the tick line"
/usr/bin/python3 "$FINITE" "$R/metrics.jsonl" D_loss G_loss D_real D_fake penalty grad_norm || fail "non-finite losses in metrics.jsonl"
[ "$(wc -l < "$R/metrics.jsonl")" -ge 6 ] || fail "metrics.jsonl has too few ticks"
grep -q '"lod":0.0' "$R/metrics.jsonl" || fail "the run did not reach 16x16"

# generate: N PNGs that read back as 16x16 gray images
"$P" generate --snapshot "$R/network-final.safetensors" --num 5 --batch 2 --out gen > /dev/null
[ "$(ls gen/*.png | wc -l)" -eq 5 ] || fail "generate wrote $(ls gen | wc -l) files"
"$P" dataset create_from_images gen_ds gen | grep -q "5 images, 1 channel(s), 16x16" || fail "generated PNGs are not 16x16 gray"
"$EMBED" "$R/network-final.safetensors" emb- 1000 5
for i in 0 1 2 3 4; do cmp -s "emb-00000$i.png" "gen/fake00000$i.png" || fail "embedded generator image $i differs"; done
if "$EMBED" "$R/network-snapshot-000001.safetensors" x- 2> err.txt; then fail "embed_generator took a 4x4/8x8 snapshot"; fi
grep -q "compiled for" err.txt || fail "embed_generator's mismatch message: $(cat err.txt)"
# given latents: python/pggan_torch.py (pgg's generator in PyTorch) makes the same images, stable and while fading
T="$(dirname "$0")/torch_export.py"
for f in network-final network-snapshot-000001 network-snapshot-000002; do
    /usr/bin/python3 "$T" latents "$R/$f.safetensors" "z-$f.npy" 8
    "$P" generate --snapshot "$R/$f.safetensors" --latents "z-$f.npy" --out "torch-$f" > /dev/null 2>&1 || fail "generate --latents"
    /usr/bin/python3 "$T" compare "$R/$f.safetensors" "z-$f.npy" "torch-$f" || fail "PyTorch's generator differs ($f)"
done
if "$P" generate --snapshot "$R/network-final.safetensors" --latents z-network-final.npy --grid 3x1 --out bad 2> err.txt; then
    fail "generate took 8 latents for PNGs of 3"
fi
grep -q "multiple of the 3 images per PNG" err.txt || fail "generate --latents's error: $(cat err.txt)"
"$P" generate --snapshot "$R/network-final.safetensors" --num 2 --grid 3x2 --shrink 2 --out grid > /dev/null
"$P" dataset create_from_images grid_ds grid --resize 8 > /dev/null || fail "grid PNGs unreadable"
if "$P" generate --snapshot "$R/log.txt" --num 1 --out bad 2> err.txt; then fail "generate accepted a non-snapshot"; fi
[ ! -e bad ] || fail "a failed generate left output"
"$P" interpolate --snapshot "$R/network-final.safetensors" --frames 4 --no-mp4 --out frames > /dev/null
[ "$(ls frames/*.png | wc -l)" -eq 4 ] || fail "interpolate"

# evaluate: every snapshot of the run, newest first, after the reals-vs-reals floor; a CSV and a plot
"$P" evaluate --run "$R" --reals cxr16 --num 64 > eval.txt || fail "evaluate --run"
[ -s "$R/evaluate.csv" ] && [ -s "$R/evaluate.png" ] || fail "evaluate wrote no CSV or plot"
[ "$(grep -c '^"network-' "$R/evaluate.csv")" -eq "$(ls "$R"/network-*.safetensors | wc -l)" ] || fail "evaluate skipped snapshots"
[ "$(sed -n 2p "$R/evaluate.csv" | cut -d, -f1)" = '"reals (held out)"' ] || fail "no floor row first: $(cat "$R/evaluate.csv")"
[ "$(sed -n 3p "$R/evaluate.csv" | cut -d, -f1)" = '"network-final.safetensors"' ] || fail "not newest first"
floor=$(sed -n 2p "$R/evaluate.csv" | cut -d, -f7); final=$(sed -n 3p "$R/evaluate.csv" | cut -d, -f7)
awk "BEGIN { exit !($floor < $final) }" || fail "a 3-kimg generator scored at or below the reals floor ($final <= $floor)"
# compare: evaluated runs in one plot and a table of best and final SWD; an unevaluated run is an error
"$P" evaluate --run runs/002-ada --reals cxr16 --num 64 > /dev/null || fail "evaluate --run (ADA run)"
"$P" compare "$R" runs/002-ada --out cmp > cmp.txt || fail "compare"
[ -s cmp.png ] && [ "$(wc -l < cmp.csv)" -eq 3 ] || fail "compare wrote no plot or a wrong table: $(cat cmp.csv)"
grep -q '^"002-ada","ada",16,[0-9.]*,[0-9.]*,[0-9.]*,3.008,' cmp.csv || fail "compare's table: $(cat cmp.csv)"
if "$P" compare "$R" runs/003-ada-split --out cmp2 2> err.txt; then fail "compare took a run without evaluate.csv"; fi
grep -q "003-ada-split/evaluate.csv: cannot open" err.txt && [ ! -e cmp2.csv ] || fail "compare's error: $(cat err.txt)"
# any two folders of images, brought to a common power-of-two size (here 16)
"$P" evaluate --images gen --reals "$CXR/images" --num 5 > eval_images.txt || fail "evaluate --images"
grep -q '^"gen",nan,16,' gen-evaluate.csv || fail "evaluate --images: $(cat gen-evaluate.csv)"
if "$P" evaluate --snapshot "$R/network-final.safetensors" --run "$R" --reals cxr16 2> err.txt; then fail "evaluate took two sources"; fi
# the reals are drawn by their contents, not their names: a folder sorted by source (as the shared one
# is) and a shuffled, renamed copy of it give the very same distances
mkdir sorted shuffled
cxrs=("$CXR"/images/*)
for i in $(seq 0 59); do cp "${cxrs[$((i * 4))]}" "sorted/$(printf %03d "$i").png"; done
/usr/bin/python3 -c '
import os, random, shutil
names = sorted(os.listdir("sorted")); new = list(names); random.Random(5).shuffle(new)
for a, b in zip(names, new): shutil.copy(os.path.join("sorted", a), os.path.join("shuffled", "x" + b))'
"$P" evaluate --images gen --reals sorted --num 5 --out ev-sorted > /dev/null
"$P" evaluate --images gen --reals shuffled --num 5 --out ev-shuffled > /dev/null
cmp -s ev-sorted.csv ev-shuffled.csv || fail "a shuffled copy of the reals scored differently: $(cat ev-sorted.csv ev-shuffled.csv)"

# SIGINT: a snapshot, a clean exit, and a run that resumes from it
"$P" train "${S[@]}" --total-kimg 100 --desc interrupted > interrupted.txt &
pid=$!
sleep 6
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || fail "an interrupted run exited with status $rc, not 130 (128 + SIGINT)"
grep -q "interrupted (signal 2)" runs/004-interrupted/log.txt || fail "no interruption note in the log"
ls runs/004-interrupted/network-snapshot-*.safetensors > /dev/null || fail "no snapshot after SIGINT"
ls runs/004-interrupted | grep -q "tmp" && fail "a temporary file was left behind"
kimg=$(sed -n 's/.*at kimg \([0-9.]*\);.*/\1/p' runs/004-interrupted/log.txt)
"$P" train --resume runs/004-interrupted --total-kimg "$(awk "BEGIN { print $kimg + 0.2 }")" > resumed2.txt || fail "resume after SIGINT"
grep -q "resumed from" runs/004-interrupted/log.txt || fail "resume note"
# reset_opt_for_new_lod=false: Adam's state runs on across the level-of-detail boundaries at 0.5 and
# 1 kimg (its step count is that of every minibatch); true (the default) restarts it at each
"$P" train "${S[@]}" --total-kimg 1.5 --desc keepadam --set reset_opt_for_new_lod=false > keepadam.txt
/usr/bin/python3 - runs/*-keepadam/network-final.safetensors runs/000-straight/network-snapshot-000002.safetensors <<'PY' ||
import json, struct, sys
def meta(path):
    with open(path, "rb") as f:
        return json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))["__metadata__"]
keep, reset = meta(sys.argv[1]), meta(sys.argv[2])
nimg = json.loads(keep["state"])["cur_nimg"]
steps = [int(keep["adam_G.steps"]), int(keep["adam_D.steps"])]
print("kept Adam:", steps, "steps for", nimg, "images; reset at each boundary:", reset["adam_G.steps"])
sys.exit(0 if steps == [nimg // 16] * 2 and int(reset["adam_G.steps"]) < nimg // 16 else 1)
PY
    fail "reset_opt_for_new_lod=false did not keep Adam's state across stages"
# evaluate: a run's 4x4 snapshots are skipped (SWD needs 8x8); a 4x4 snapshot alone is an error
"$P" train "${S[@]}" --total-kimg 0.1 --desc tiny --set network_snapshot_ticks=1 --set tick_kimg_base=0.05 > /dev/null
if "$P" evaluate --run runs/*-tiny --reals cxr16 --num 8 > tiny.txt 2> err.txt; then fail "evaluate scored a run of 4x4 snapshots"; fi
grep -q "skipped network-final.safetensors: 4x4" tiny.txt && grep -q "no snapshot is 8x8 or larger" err.txt ||
    fail "evaluate on 4x4 snapshots: $(cat tiny.txt err.txt)"
if "$P" evaluate --snapshot runs/*-tiny/network-final.safetensors --reals cxr16 --num 8 2> err.txt > /dev/null; then
    fail "evaluate scored a 4x4 snapshot"
fi
grep -q "SWD needs 8x8 images at least" err.txt || fail "evaluate --snapshot on 4x4: $(cat err.txt)"
echo "train end to end: all checks passed"
