#!/usr/bin/env bash
# cxr_classifier end to end on a toy task (make_blobs.py: textures with and without a faint blob, 32x32):
# a 30-epoch run (seconds) separates the classes on validation and on a held-out test set; a run interrupted by
# SIGINT and resumed ends bit-identical to the straight run (traditional augmentation on); evaluate and
# predict write what they promise; GAN augmentation from a folder and from a cxr_pggan snapshot (a tiny
# PG-GAN trained here to 32x32); and bad input: a clear error naming the file, a non-zero exit and no
# output.
# Usage: classifier_end_to_end.sh CXR_CLASSIFIER WORK_DIR SAME_WEIGHTS_PY [CXR_PGGAN]
set -euo pipefail
C=$1 WORK=$2 SAME=$3 PGGAN=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
/usr/bin/python3 "$HERE/make_blobs.py" train 80 32 1
/usr/bin/python3 "$HERE/make_blobs.py" test 30 32 2
args=(--images train --labels train/labels.csv --size 32 --batch 16 --seed 3)

# a straight run, traditional augmentation
"$C" train "${args[@]}" --epochs 30 --augment traditional --out straight > straight.txt || fail "train: $(tail -5 straight.txt)"
for f in options.json log.txt metrics.csv curves.png last.safetensors best.safetensors validation.txt validation.json \
         validation_roc.png done.txt; do
  [ -s "straight/$f" ] || fail "straight/$f missing"
done
[ "$(tail -n +2 straight/metrics.csv | wc -l)" -eq 30 ] || fail "metrics.csv should have 30 rows"
[ "$(wc -l < straight/validation.txt)" -eq 32 ] || fail "validation.txt should name 32 images (20% of each class)"
auc=$(/usr/bin/python3 -c "import json; print(json.load(open('straight/validation.json'))['auc'])")
echo "validation AUC after 30 epochs: $auc"
awk -v a="$auc" 'BEGIN { exit !(a >= 0.9) }' || fail "validation AUC $auc below 0.9"

# the same run interrupted after its first epoch (SIGINT) and resumed: identical weights and optimiser state
"$C" train "${args[@]}" --epochs 30 --augment traditional --out broken > broken.txt 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "epoch   1/30" broken.txt 2>/dev/null && break; sleep 0.02; done
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || fail "an interrupted run exited with status $rc, not 130 (128 + SIGINT)"
grep -q "interrupted in epoch" broken/log.txt || fail "no interruption line in the log: $(tail -3 broken.txt)"
"$C" train --resume broken > resumed.txt || fail "resume: $(tail -5 resumed.txt)"
/usr/bin/python3 "$SAME" straight/last.safetensors broken/last.safetensors || fail "resumed run differs from the straight run"
/usr/bin/python3 "$SAME" straight/best.safetensors broken/best.safetensors || fail "resumed best model differs"

# evaluate on the held-out test set, at the threshold chosen on validation
"$C" evaluate --checkpoint straight/best.safetensors --images test --labels test/labels.csv --out eval > eval.txt ||
  fail "evaluate: $(cat eval.txt)"
cat eval.txt
for f in metrics.json predictions.csv roc.png; do [ -s "eval/$f" ] || fail "eval/$f missing"; done
[ "$(tail -n +2 eval/predictions.csv | wc -l)" -eq 60 ] || fail "predictions.csv should have 60 rows"
/usr/bin/python3 - <<'PY' || fail "test metrics"
import json, math
m = json.load(open("eval/metrics.json"))
for k in ("auc", "sensitivity", "specificity", "balanced_accuracy", "f1"):
    assert math.isfinite(m[k]), k
assert m["auc"] >= 0.9, f"test AUC {m['auc']}"
lo, hi = m["auc_95ci"]
assert lo <= m["auc"] <= hi, (lo, m["auc"], hi)
c = m["confusion"]
assert c["tp"] + c["fn"] == 30 and c["tn"] + c["fp"] == 30, c
ckpt = open("straight/best.safetensors", "rb").read()
meta = json.loads(ckpt[8:8 + int.from_bytes(ckpt[:8], "little")])["__metadata__"]
assert abs(m["threshold"] - float(meta["classifier.threshold"])) < 1e-9, (m["threshold"], meta["classifier.threshold"])
PY
"$C" predict --checkpoint straight/best.safetensors --images test --out pred.csv > /dev/null || fail "predict"
[ "$(tail -n +2 pred.csv | wc -l)" -eq 60 ] || fail "pred.csv should have 60 rows"
cmp -s <(cut -d, -f1-3 eval/predictions.csv) pred.csv || fail "predict and evaluate disagree"

# GAN augmentation from folders of synthetic images (here: other toy images, ratio 0.5)
mkdir -p syn/normal syn/abnormal
/usr/bin/python3 "$HERE/make_blobs.py" synsrc 40 32 4
for f in synsrc/*.pgm; do
  n=$(basename "$f"); l=$(grep "^$n," synsrc/labels.csv | cut -d, -f2)
  if [ "$l" = 1 ]; then cp "$f" syn/abnormal/; else cp "$f" syn/normal/; fi
done
"$C" train "${args[@]}" --epochs 2 --augment traditional+gan --gan normal=syn/normal --gan abnormal=syn/abnormal \
  --synthetic-ratio 0.5 --out gan > gan.txt || fail "gan from folders: $(tail -5 gan.txt)"
grep -q "128 real training images (64 normal, 64 abnormal) + 32 normal and 32 abnormal synthetic, 32 validation" gan/log.txt ||
  fail "unexpected counts: $(head -1 gan/log.txt)"

# bad input: a clear error naming the problem, a non-zero exit, no run folder
bad() { # NAME EXPECTED_MESSAGE ARGS...
  local name=$1 msg=$2; shift 2
  if "$C" "$@" > "bad-$name.txt" 2>&1; then fail "$name: accepted"; fi
  grep -q -- "$msg" "bad-$name.txt" || fail "$name: no '$msg' in: $(cat "bad-$name.txt")"
}
cp train/labels.csv missing.csv && echo "nothere.pgm,1" >> missing.csv
bad missing "missing.csv:162: train/nothere.pgm: no such image" train --images train --labels missing.csv --size 32 --out b1
cp train/labels.csv unknown.csv && sed -i '5s/,1$/,tb/' unknown.csv
bad unknown "unknown.csv:5: unknown label 'tb'" train --images train --labels unknown.csv --size 32 --out b2
grep -v ',1$' test/labels.csv > normal_only.csv
bad oneclass "normal_only.csv: no abnormal images" evaluate --checkpoint straight/best.safetensors --images test --labels normal_only.csv --out b3
bad size "no classifier for side 48" train --images train --labels train/labels.csv --size 48 --out b4
bad nogan "needs --gan normal=SOURCE" train --images train --labels train/labels.csv --size 32 --augment gan --out b5
mkdir -p syn64 && /usr/bin/python3 "$HERE/make_blobs.py" syn64 2 64 5
bad synsize "img0000.pgm: 64x64 with 1 channel(s); synthetic images must be gray 32x32" train "${args[@]}" --augment gan \
  --gan normal=syn64 --gan abnormal=syn/abnormal --synthetic-ratio 0.01 --out b6
bad exists "straight: already exists" train "${args[@]}" --out straight
printf 'garbage' > trunc.safetensors
bad trunc "trunc.safetensors" evaluate --checkpoint trunc.safetensors --images test --labels test/labels.csv
for d in b1 b2 b3 b4 b5 b6; do [ ! -e "$d" ] || fail "$d was created by a failing command"; done

# GAN augmentation from a cxr_pggan snapshot: a tiny PG-GAN on the toy images, 4x4 -> 32x32
if [ -n "$PGGAN" ]; then
  "$PGGAN" dataset create_from_images toy32 train > /dev/null || fail "dataset of the toy images"
  "$PGGAN" train --data toy32 --results runs --threads 2 --total-kimg 3.5 --set lod_training_kimg=0.25 --set lod_transition_kimg=0.25 \
    --set tick_kimg_base=0.5 --set minibatch_base=16 --set network_snapshot_ticks=100 --desc toy > pggan.txt || fail "PG-GAN training"
  snap=runs/000-toy/network-final.safetensors
  "$C" train "${args[@]}" --epochs 1 --augment gan --gan normal=$snap --gan abnormal=$snap --synthetic-ratio 0.25 --out gansnap \
    > gansnap.txt || fail "gan from a snapshot: $(tail -5 gansnap.txt)"
  grep -q "+ 16 normal and 16 abnormal synthetic" gansnap/log.txt || fail "unexpected counts: $(head -1 gansnap/log.txt)"
  # the snapshot's images are those `cxr_pggan generate` writes: the same run from the generated folder is identical
  "$PGGAN" generate --snapshot $snap --num 16 --out gen > /dev/null || fail "generate"
  "$C" train "${args[@]}" --epochs 1 --augment gan --gan normal=gen --gan abnormal=gen --synthetic-ratio 0.25 --out ganfolder \
    > ganfolder.txt || fail "gan from the generated folder"
  /usr/bin/python3 "$SAME" gansnap/last.safetensors ganfolder/last.safetensors || fail "snapshot and generated folder train differently"
  bad notckpt "not a cxr_classifier checkpoint" evaluate --checkpoint $snap --images test --labels test/labels.csv
  bad snapsize "a 32x32 generator at lod 0; this run classifies 64x64" train --images train --labels train/labels.csv --size 64 \
    --augment gan --gan normal=$snap --gan abnormal=$snap --out b7
fi
echo "PASS"
