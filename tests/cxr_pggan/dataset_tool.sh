#!/usr/bin/env bash
# `cxr_pggan dataset` and `cxr_pggan split` on small files made here: good inputs, every kind of bad
# input (each must fail with the file named, a non-zero exit and no output folder), --skip-bad,
# --resize, --list, display, extract, info, compare, and the class-balanced split.
# With PGG_TESTS (the test binary, when built with DCMTK) also create_from_dicom on DICOM files it writes.
# Usage: dataset_tool.sh CXR_PGGAN WORK_DIR [PGG_TESTS]
set -euo pipefail
P=$1
W=$2
TESTS=${3:-}
rm -rf "$W" && mkdir -p "$W" && cd "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_error "what the message must contain" command...: non-zero exit, message on stderr
expect_error() {
    local want=$1; shift
    if "$@" > out.txt 2> err.txt; then fail "succeeded but should not: $*"; fi
    grep -qF -- "$want" err.txt || { cat err.txt >&2; fail "message lacks '$want': $*"; }
}
# pgm W H SEED > file: an 8-bit binary PGM with deterministic pixels
pgm() { printf 'P5\n%d %d\n255\n' "$1" "$2"; head -c $(( $1 * $2 )) < <(yes "$3" | tr -d '\n' | tr '0-9a-z' '\000-\377'); }

mkdir good
for i in 0 1 2 3 4 5; do pgm 8 8 "abc$i" > good/img$i.pgm; done
"$P" dataset create_from_images ds good > out.txt
grep -q "6 images, 1 channel(s), 8x8" out.txt || fail "create_from_images: $(cat out.txt)"
"$P" dataset info ds | grep -q "images      6" || fail "info"
"$P" dataset info ds | grep -q "levels      8 4" || fail "info levels"
[ -f ds/level-8.npy ] && [ -f ds/level-4.npy ] && [ -f ds/manifest.json ] || fail "dataset files"
expect_error "already exists" "$P" dataset create_from_images ds good

# the same inputs and seed give the same dataset; another seed another order
"$P" dataset create_from_images ds_again good > /dev/null
"$P" dataset compare ds ds_again | grep -q identical || fail "compare identical"
"$P" dataset create_from_images ds_seed good --seed 7 > /dev/null
if "$P" dataset compare ds ds_seed > cmp.txt; then fail "compare should report differences"; fi
grep -q different cmp.txt || fail "compare output"

"$P" dataset display ds --out grid.png --num 4 > /dev/null && [ -s grid.png ] || fail "display"
"$P" dataset extract ds pngs > /dev/null && [ "$(ls pngs/*.png | wc -l)" -eq 6 ] || fail "extract"
"$P" dataset create_from_images ds_png pngs > /dev/null || fail "PNG round trip"

# a list file picks inputs
printf 'img0.pgm\nimg3.pgm\n' > list.txt
"$P" dataset create_from_images ds_list good --list list.txt | grep -q "2 images" || fail "--list"

# bad inputs: each names the file and leaves nothing behind
bad() { rm -rf in && mkdir in && pgm 8 8 x > in/a.pgm && pgm 8 8 y > in/b.pgm; }
bad; pgm 8 4 z > in/c.pgm
expect_error "in/c.pgm: image is 8x4, not square" "$P" dataset create_from_images out in
bad; pgm 12 12 z > in/c.pgm
expect_error "in/c.pgm: size 12 is not a power of two" "$P" dataset create_from_images out in
bad; : > in/c.pgm
expect_error "in/c.pgm: not a readable image" "$P" dataset create_from_images out in
bad; pgm 8 8 z | head -c 20 > in/c.pgm
expect_error "in/c.pgm: truncated image" "$P" dataset create_from_images out in
bad; head -c 60 pngs/img00000000.png > in/c.png
expect_error "in/c.png: corrupt or truncated image" "$P" dataset create_from_images out in
bad; pgm 16 16 z > in/c.pgm
expect_error "in/c.pgm: 16x16 with 1 channel(s), but in/a.pgm is 8x8" "$P" dataset create_from_images out in
bad; { printf 'P6\n8 8\n255\n'; head -c 192 /dev/zero; } > in/c.ppm
expect_error "in/c.ppm: 8x8 with 3 channel(s)" "$P" dataset create_from_images out in
[ ! -e out ] || fail "a failed run left an output folder"
ls -a | grep -q "out.tmp" && fail "a failed run left a temporary folder"
rm -rf empty && mkdir empty
expect_error "no input files" "$P" dataset create_from_images out empty

# --skip-bad leaves them out and lists them; --channels converts; --resize resamples
"$P" dataset create_from_images out in --skip-bad > out.txt
grep -q "2 images" out.txt && grep -q "skipped 1 bad file" out.txt && grep -q "in/c.ppm" out.txt || fail "--skip-bad: $(cat out.txt)"
"$P" dataset create_from_images out3 in --channels 3 | grep -q "3 images, 3 channel(s)" || fail "--channels 3"
bad; pgm 12 12 z > in/c.pgm; pgm 8 4 w > in/d.pgm
"$P" dataset create_from_images out8 in --resize 8 | grep -q "4 images, 1 channel(s), 8x8" || fail "--resize"

# Fashion-MNIST, padded to 32x32, labels kept
if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    "$P" dataset create_fashion_mnist fm --limit 100 > /dev/null
    "$P" dataset info fm | grep -q "resolution  32x32" || fail "fashion resolution"
    "$P" dataset info fm | grep -q "labels      0:" || fail "fashion labels"
fi

# split from a plain CSV: the same number of training images per class
{ echo "file,label"; for i in $(seq 1 10); do echo "n$i.png,normal"; done; for i in $(seq 1 6); do echo "a$i.png,abnormal"; done; } > labels.csv
"$P" split lists --csv labels.csv --train-fraction 0.5 --seed 3 > /dev/null
[ "$(wc -l < lists/train/normal.txt)" -eq 3 ] && [ "$(wc -l < lists/train/abnormal.txt)" -eq 3 ] || fail "split counts"
[ "$(wc -l < lists/test/normal.txt)" -eq 7 ] && [ "$(wc -l < lists/test/abnormal.txt)" -eq 3 ] || fail "split test counts"
"$P" split lists2 --csv labels.csv --train-fraction 0.5 --seed 3 > /dev/null
diff -r lists lists2 > /dev/null || fail "split is not reproducible"
"$P" split lists3 --csv labels.csv --train-fraction 0.5 --seed 4 > /dev/null
diff -q lists/train/normal.txt lists3/train/normal.txt > /dev/null && fail "another seed gave the same split"

# split from RSNA's files: repeated patient ids (several boxes) count once; Target is cross-checked
{ echo "patientId,class"; echo "p1,Normal"; echo "p2,Lung Opacity"; echo "p2,Lung Opacity"; echo "p3,No Lung Opacity / Not Normal"; echo "p4,Normal"; echo "p5,Lung Opacity"; } > classes.csv
{ echo "patientId,x,y,width,height,Target"; echo "p1,,,,,0"; echo "p2,1,2,3,4,1"; echo "p2,5,6,7,8,1"; echo "p3,,,,,0"; echo "p4,,,,,0"; echo "p5,1,1,1,1,1"; } > boxes.csv
"$P" split rsna --rsna-classes classes.csv --rsna-labels boxes.csv --class-map "Normal=normal" --class-map "Lung Opacity=abnormal" --train-per-class 1 > out.txt
grep -q "normal .* 2 images" out.txt && grep -q "abnormal .* 2 images" out.txt || fail "rsna split: $(cat out.txt)"
grep -q "p2.dcm" rsna/train/abnormal.txt rsna/test/abnormal.txt || fail "rsna file names"
echo "p4,1,1,1,1,1" >> boxes.csv
expect_error "boxes.csv:8: patient p4 has Target 1 but class 'Normal'" "$P" split bad1 --rsna-classes classes.csv --rsna-labels boxes.csv
printf 'patientId,label\np1,Normal\n' > nocol.csv
expect_error "nocol.csv: missing column 'class'" "$P" split bad2 --rsna-classes nocol.csv
expect_error "smallest class has" "$P" split bad3 --csv labels.csv --train-per-class 7
# DICOM: 8-bit, MONOCHROME1, 12-bit windowed, JPEG baseline; a file without pixels is named
if [ -n "$TESTS" ]; then
    mkdir dicom
    PGG_DICOM_OUT="$PWD/dicom" "$TESTS" "[.write-dicoms]" > /dev/null
    expect_error "nopixels.dcm: DICOM file without pixel data" "$P" dataset create_from_dicom dcm dicom
    "$P" dataset create_from_dicom dcm dicom --skip-bad | grep -q "4 images, 1 channel(s), 8x8" || fail "create_from_dicom"
    "$P" dataset create_from_dicom dcm16 dicom --skip-bad --resize 16 --channels 3 | grep -q "4 images, 3 channel(s), 16x16" ||
        fail "create_from_dicom --resize --channels"
fi
echo "dataset tool: all checks passed"
