#!/usr/bin/env bash
# `cxr_pggan import-official` on pickles laid out as the official PG-GAN code writes them (made at test
# time by official_import.py with a stand-in tfutil.Network): the imported G, Gs and D compute what the
# official networks compute (forward passes after the official networks.py, in PyTorch), with the fused
# and the separate upscaling, with and without use_wscale, stable and while fading, pickle protocols
# 3-5; generate, evaluate and the embedded generator take the imported snapshot; networks pgg cannot
# represent and broken files are refused with an error naming the file, and nothing is written.
# Usage: import_official.sh CXR_PGGAN EMBED_GENERATOR WORK_DIR
set -euo pipefail
P=$1
EMBED=$2
W=$3
T="$(cd "$(dirname "$0")" && pwd)/official_import.py"
PY=/usr/bin/python3
rm -rf "$W" && mkdir -p "$W" && cd "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }

$PY "$T" latents z.npy 8
check() { # NAME, then official_import.py write's options
    local name=$1
    shift
    $PY "$T" write "$name.pkl" "$@"
    "$P" import-official "$name.pkl" "$name.safetensors" || fail "import-official $name.pkl ($*)"
    "$P" generate --snapshot "$name.safetensors" --latents z.npy --out "gen-$name" > /dev/null 2>&1 || fail "generate from $name"
    $PY "$T" compare "$name.pkl" "$name.safetensors" z.npy "gen-$name" || fail "$name ($*)"
}
check fused16 --resolution 16 --protocol 4
check separate32 --resolution 32 --lod 1.5 --no-fused --no-wscale --protocol 5
check fading16 --resolution 16 --lod 0.25 --protocol 3
check lod8 --resolution 8 --lod 1 --protocol 4 --seed 2
check fading8 --resolution 8 --lod 0.75 --protocol 4 --seed 3

# the embedded generator writes the PNGs generate writes, from the imported networks
"$P" generate --snapshot fused16.safetensors --num 3 --out seeded > /dev/null 2>&1
"$EMBED" fused16.safetensors emb- 1000 3
for i in 0 1 2; do cmp -s "emb-00000$i.png" "seeded/fake00000$i.png" || fail "embedded generator image $i differs"; done
# evaluate scores the imported generator against an image folder
"$P" generate --snapshot separate32.safetensors --num 64 --out reals > /dev/null 2>&1
"$P" evaluate --snapshot fused16.safetensors --reals reals --num 64 > eval.txt 2>&1 || fail "evaluate: $(tail -3 eval.txt)"
grep -q "fused16.safetensors .* 16 .* 64 " eval.txt || fail "evaluate's table: $(cat eval.txt)"

refused() { # FILE, EXPECTED MESSAGE PART
    if "$P" import-official "$1" out.safetensors 2> err.txt; then fail "import-official accepted $1"; fi
    grep -q -- "$1" err.txt && grep -q -- "$2" err.txt || fail "$1: unclear error: $(cat err.txt)"
    ! ls out.safetensors* > /dev/null 2>&1 || fail "$1: a refused import left a file"
}
$PY "$T" write labels.pkl --set label_size=2
refused labels.pkl "conditioned on labels"
$PY "$T" write decay.pkl --set fmap_decay=0.5
refused decay.pkl "fmap_decay"
$PY "$T" write unfused-d.pkl --d-unfused
refused unfused-d.pkl "fused_scale=False in D"
$PY "$T" write half.pkl --set "dtype='float16'"
refused half.pkl "dtype float16"
$PY "$T" write lod.pkl --resolution 16 --lod 2.5
refused lod.pkl "lod 2.5"
$PY "$T" write huge.pkl --huge 8x8/Conv1/weight # finite in float64, infinite in float32 (found by fuzz_pickle)
refused huge.pkl "not a finite float32"
head -c 3000 fused16.pkl > truncated.pkl
refused truncated.pkl "truncated"
cp gen-fused16/fake000000.png png.pkl
refused png.pkl "not a pickle"
$PY -c "
import os, pickle
class Shell:
    def __reduce__(self):
        return (os.system, ('touch pwned',))
pickle.dump((Shell(), Shell(), Shell()), open('code.pkl', 'wb'), protocol=4)"
refused code.pkl "not an official PG-GAN network"
[ ! -e pwned ] || fail "a pickle ran code"
echo "import-official: 5 networks as the official code computes them, 9 bad files refused"
