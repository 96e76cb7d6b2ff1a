#!/usr/bin/env bash
# scripts/augmentation_study.sh end to end on the shared CXRs with the `tiny` preset (32x32, PG-GANs of
# a few hundred images, 3-epoch classifiers, 2 seeds): every stage's output, a report with all four
# regimes, the paired tests and the quality table; a stopped study resumes (a removed classifier run is
# retrained bit-identically, nothing else is redone); compare and frechet on their own; bad input.
# Usage: study_end_to_end.sh BIN_DIR WORK_DIR CXR_DIR
set -euo pipefail
BIN=$1 WORK=$2 CXR=$3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STUDY=$ROOT/scripts/augmentation_study.sh
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"

bash "$STUDY" tiny "$CXR" study --bin "$BIN" > study.txt 2>&1 || fail "study: $(tail -20 study.txt)"
for f in study.json timings.csv crops crops-masks/summary.csv labels.csv split/train/normal.txt split/test/abnormal.txt \
         datasets/normal datasets/abnormal pggan/normal/000-normal/network-final.safetensors \
         pggan/abnormal/000-abnormal/network-final.safetensors synthetic/normal/fake000023.png synthetic/abnormal/fake000000.png \
         quality/normal-frechet.json quality/abnormal-frechet-floor.json quality/abnormal-swd.csv \
         report/report.md report/report.json report/roc.png report/auc.png report/samples-normal.png report/samples-abnormal.png; do
  [ -e "study/$f" ] || fail "study/$f missing"
done
for r in none traditional gan traditional+gan; do
  for s in 1 2; do
    [ -s "study/classifier/$r/seed-$s/evaluation/predictions.csv" ] || fail "$r seed $s: no test predictions"
  done
done
# 14 training images per class (12% of the 120 TB images); the rest of the 250 is the test split
[ "$(wc -l < study/split/train/normal.txt)" -eq 14 ] && [ "$(wc -l < study/split/train/abnormal.txt)" -eq 14 ] ||
  fail "training lists should hold 14 images per class"
python3 - study/report/report.json <<'PY' || fail "report.json: $(head -c 600 study/report/report.json)"
import json, math, sys
r = json.load(open(sys.argv[1]))
assert r["test_images"]["total"] == 222, r["test_images"]
assert sorted(r["regimes"]) == ["gan", "none", "traditional", "traditional+gan"], list(r["regimes"])
for name, g in r["regimes"].items():
    assert g["seeds"] == ["seed-1", "seed-2"], g["seeds"]
    for m in ("auc", "balanced_accuracy", "sensitivity", "specificity", "f1"):
        v = g[m]
        assert len(v["per_seed"]) == 2 and all(0 <= x <= 1 for x in v["per_seed"]), (name, m, v)
        assert abs(v["mean"] - sum(v["per_seed"]) / 2) < 1e-12 and v["sd"] >= 0, (name, m, v)
    e = g["seed_mean_auc"]
    assert 0 <= e["95ci"][0] <= e["auc"] <= e["95ci"][1] <= 1, (name, e)
assert len(r["comparisons"]) == 5, r["comparisons"]
for c in r["comparisons"]:
    assert 0 <= c["p"] <= 1 and c["interval"][0] <= c["difference"] <= c["interval"][1], c
    assert len(c["per_seed"]) == 2
for cls in ("normal", "abnormal"):
    q = r["quality"][cls]
    for k in ("frechet", "frechet_floor"):
        assert math.isfinite(q[k]["frechet_distance"]) and q[k]["frechet_distance"] >= 0, q
    n_test = r["test_images"][cls]
    assert q["frechet"]["fakes"]["count"] == min(24, n_test) and q["frechet_floor"]["fakes"]["count"] == n_test, q
    assert q["frechet"]["reals"]["count"] == q["frechet_floor"]["reals"]["count"] == 14, q
    assert math.isfinite(q["swd"]["synthetic"]["swd_avg_x1e3"]) and math.isfinite(q["swd"]["reals"]["ms_ssim"]), q
assert r["study"]["preset"] == "tiny" and r["study"]["seeds"] == [1, 2]
for stage in ("crops", "split", "PG-GAN normal", "classifier none", "quality"):
    assert stage in r["timings_s"], r["timings_s"]
PY
grep -q "| gan − none |" study/report/report.md || fail "report.md has no gan - none comparison"

# Resume: a removed run is trained again (bit-identically: same metrics), nothing else is redone.
cp study/classifier/gan/seed-2/evaluation/metrics.json gan2-metrics.json
cp study/report/report.json report-before.json
rows=$(wc -l < study/timings.csv)
rm -rf study/classifier/gan/seed-2
bash "$STUDY" tiny "$CXR" study --bin "$BIN" > again.txt 2>&1 || fail "resume: $(tail -20 again.txt)"
[ "$(wc -l < study/timings.csv)" -eq $((rows + 1)) ] || fail "resume redid more than the removed run: $(tail -n +$rows study/timings.csv)"
grep -q "classifier: gan, seed 2" again.txt || fail "resume did not retrain gan seed 2"
cmp -s gan2-metrics.json study/classifier/gan/seed-2/evaluation/metrics.json || fail "the retrained run scores differently"
python3 - report-before.json study/report/report.json <<'PY' || fail "the report changed after the resume"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["regimes"] == b["regimes"] and a["comparisons"] == b["comparisons"] and a["quality"] == b["quality"]
PY

# compare and frechet on their own
C=$BIN/cxr_classifier
E=study/classifier
"$C" compare $E/none/seed-1/evaluation/predictions.csv $E/gan/seed-1/evaluation/predictions.csv --out cmp.json > cmp.txt ||
  fail "compare: $(cat cmp.txt)"
grep -q "DeLong z" cmp.txt || fail "compare printed no test: $(cat cmp.txt)"
"$C" compare $E/none/seed-1/evaluation/predictions.csv $E/none/seed-1/evaluation/predictions.csv > same.txt
grep -q "A - B  +0.0000.*p 1$" same.txt || fail "a classifier against itself: $(cat same.txt)"
"$C" frechet --checkpoint $E/none/seed-1/run/best.safetensors --reals study/crops --reals-list study/split/test/normal.txt \
  --fakes study/crops --fakes-list study/split/test/normal.txt > self.txt || fail "frechet: $(cat self.txt)"
awk '/Frechet distance/ { exit !($3 < 1e-3) }' self.txt || fail "a set against itself is not at distance 0: $(cat self.txt)"

# Bad input: a clear error naming the file, a non-zero exit, no output.
expect_error() { # name, expected text, command...
  local name=$1 text=$2; shift 2
  if "$@" > "$name.txt" 2>&1; then fail "$name: succeeded"; fi
  grep -q -- "$text" "$name.txt" || fail "$name: no '$text' in: $(cat "$name.txt")"
}
head -5 $E/gan/seed-1/evaluation/predictions.csv > short.csv
expect_error fewer "short.csv 4" "$C" compare $E/none/seed-1/evaluation/predictions.csv short.csv --out bad.json
[ ! -e bad.json ] || fail "compare wrote output after an error"
sed '3s/,[01]$/,7/' $E/gan/seed-1/evaluation/predictions.csv > badlabel.csv
expect_error label "badlabel.csv:3: label '7'" "$C" compare $E/none/seed-1/evaluation/predictions.csv badlabel.csv
mkdir -p nodata/images && cp study/labels.csv nodata/
expect_error masks "no masks/ folder" bash "$STUDY" tiny nodata bad-study --bin "$BIN"
expect_error preset "unknown preset 'huge'" bash "$STUDY" huge "$CXR" bad-study --bin "$BIN"
[ ! -e bad-study ] || fail "a failed study left a folder"
mkdir -p empty-study
expect_error report "no classifier runs" "$C" report --study empty-study
[ ! -e empty-study/report ] || fail "report wrote a folder after an error"
echo "study end to end: OK"
