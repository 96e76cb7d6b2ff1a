#!/usr/bin/env bash
# Faults, as they happen to long runs: kill -9 in the middle of writing a dataset and a snapshot (an
# LD_PRELOAD shim kills the process after a given number of bytes), a full disk while a snapshot is
# written, and truncated or bit-flipped snapshots given to train --resume, generate and the embedded
# generator. Each must leave no partial output, keep what was written before intact, and name the file.
# Usage: faults.sh CXR_PGGAN WORK_DIR CXR_DIR KILL_SHIM EMBED_GENERATOR
set -euo pipefail
P=$1
W=$2
CXR=$3
SHIM=$4
EMBED=$5
rm -rf "$W" && mkdir -p "$W" && cd "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }
# exit status of a command that is expected to fail ("|| true" would hide it under set -e)
status() { local rc=0; "$@" > /dev/null 2>> err.txt || rc=$?; echo "$rc"; }
killed_at() { env PGG_FAULT_PATH="$1" PGG_FAULT_NTH="$2" PGG_FAULT_AFTER="$3" LD_PRELOAD="$SHIM" "${@:4}"; }

mkdir imgs
images=("$CXR"/images/*)
cp "${images[@]:0:64}" imgs/

# 1. dataset creation killed half-way through its level files: no dataset; the next run makes it whole
rc=$(status killed_at cxr16.tmp- 1 3000 "$P" dataset create_from_images cxr16 imgs --resize 16)
[ "$rc" = 137 ] || fail "the shim did not kill dataset creation (status $rc)"
[ ! -e cxr16 ] || fail "a killed dataset creation left cxr16"
"$P" dataset create_from_images cxr16 imgs --resize 16 > /dev/null
"$P" dataset create_from_images clean imgs --resize 16 > /dev/null
"$P" dataset compare cxr16 clean > /dev/null || fail "the dataset made after a kill differs from a clean one"

# 2. training killed while writing its second snapshot: the first stays whole, the run resumes from it
S=(--data cxr16 --results runs --threads 2 --set lod_training_kimg=0.5 --set lod_transition_kimg=0.5
   --set tick_kimg_base=0.5 --set minibatch_base=16 --set network_snapshot_ticks=1 --set image_snapshot_ticks=100)
rc=$(status killed_at network-snapshot 2 20000 "$P" train "${S[@]}" --total-kimg 2 --desc killed)
[ "$rc" = 137 ] || fail "the shim did not kill training (status $rc)"
R=runs/000-killed
snaps=("$R"/network-snapshot-*.safetensors)
[ "${#snaps[@]}" -eq 1 ] || fail "expected one whole snapshot, found: ${snaps[*]}"
ls "$R" | grep -q '\.tmp-' || fail "no temporary file of the killed write (did the kill hit the snapshot?)"
"$P" generate --snapshot "${snaps[0]}" --num 2 --out gen1 > /dev/null || fail "the snapshot written before the kill is unreadable"
"$P" train --resume "$R" --total-kimg 1.5 > resumed.txt || fail "resume after kill -9"
grep -q "removed network-snapshot-.*tmp-.*left by a write that did not finish" "$R/log.txt" || fail "resume kept the leftover"
! ls "$R" | grep -q '\.tmp-' || fail "a temporary file is still there after the resume"
[ -s "$R/network-final.safetensors" ] || fail "the resumed run did not finish"

# 3. a full disk while a snapshot is written: a clear error, the earlier snapshots intact, no partial file
cp -r "$R" run-copy
snap_bytes=$(stat -c %s "$R/network-final.safetensors")
mkdir small
if mount -t tmpfs -o size=$(( $(du -sb "$R" | cut -f1) + snap_bytes / 2 + 65536 )) tmpfs small 2> /dev/null; then
    trap 'umount "$W/small" 2> /dev/null || true' EXIT
    cp -r "$R" small/run
    full=(env)
    what="a full tmpfs"
else # no mount (not root): a file-size limit below one snapshot fails the write the same way
    cp -r "$R" small/run
    full=(prlimit --fsize=$(( snap_bytes / 2 )))
    what="prlimit --fsize"
fi
before=$(cd small/run && md5sum network-*.safetensors)
: > err.txt
rc=$(status "${full[@]}" "$P" train --resume small/run --total-kimg 3)
[ "$rc" = 1 ] || fail "training on $what exited with status $rc, not 1"
grep -q "small/run/.*\(write failed\|No space left\|File too large\)" err.txt || fail "unclear error on $what: $(cat err.txt)"
! ls small/run | grep -q '\.tmp-' || fail "a partial snapshot was left on $what"
[ "$(cd small/run && md5sum $(echo "$before" | awk '{print $2}'))" = "$before" ] || fail "earlier snapshots changed on $what"
echo "full disk ($what): $(tail -1 err.txt)"

# 4. damaged snapshots: refused by every reader, naming the file; no output
good="$R/network-final.safetensors"
size=$(stat -c %s "$good")
head -c $(( size - 100 )) "$good" > truncated.safetensors
cp "$good" flipped.safetensors
printf '\x55' | dd of=flipped.safetensors bs=1 seek=$(( size - 1000 )) conv=notrunc status=none
cmp -s "$good" flipped.safetensors && fail "the bit flip did not change the file"
for bad in truncated flipped; do
    : > err.txt
    rc=$(status "$P" generate --snapshot $bad.safetensors --num 2 --out gen-$bad)
    [ "$rc" = 1 ] && grep -q "$bad.safetensors: .*\(truncated\|corrupt\)" err.txt || fail "generate took $bad: $(cat err.txt)"
    [ ! -e gen-$bad ] || fail "generate left output for $bad"
    rc=$(status "$EMBED" $bad.safetensors emb-$bad- 1 1)
    [ "$rc" != 0 ] && grep -q "$bad.safetensors: .*\(truncated\|corrupt\)" err.txt || fail "the embedded generator took $bad: $(cat err.txt)"
    ! ls emb-$bad-* > /dev/null 2>&1 || fail "the embedded generator wrote images from $bad"
    cp -r run-copy resume-$bad
    cp $bad.safetensors resume-$bad/network-final.safetensors
    touch resume-$bad/network-final.safetensors # the newest: the one --resume takes
    rc=$(status "$P" train --resume resume-$bad --total-kimg 3)
    [ "$rc" = 1 ] && grep -q "network-final.safetensors: .*\(truncated\|corrupt\)" err.txt || fail "--resume took $bad: $(cat err.txt)"
done
echo "faults: all checks passed"
