"""Exit 0 when two cxr_pggan snapshots hold bit-identical tensors (networks and optimiser state), or
with --rtol X, tensors whose relative error norm |a - b| / |a| is at most X over each group of tensors
named alike up to the first dot (G, Gs, D, adam_G, adam_D; a classifier's net and opt) (for runs that
differ only in the order of floating-point sums).

Usage: same_weights.py A.safetensors B.safetensors [--rtol X]
Reads safetensors with numpy only (Debian's python3-numpy): 8-byte header length, JSON header, data.
"""
import json
import struct
import sys

import numpy as np


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    dtypes = {"F32": np.float32, "F64": np.float64, "I32": np.int32}
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtypes[v["dtype"]]).reshape(v["shape"])
            for k, v in header.items()}


a, b = read(sys.argv[1]), read(sys.argv[2])
if a.keys() != b.keys():
    print("different tensor names:", sorted(set(a) ^ set(b)))
    sys.exit(1)
if len(sys.argv) > 3 and sys.argv[3] == "--rtol":
    rtol, worst = float(sys.argv[4]), 0.0
    for prefix in sorted({k.split(".")[0] + "." for k in a}):
        keys = [k for k in a if k.startswith(prefix)]
        if any(a[k].shape != b[k].shape for k in keys):
            print(f"{prefix}: shapes differ")
            sys.exit(1)
        num = sum(float(np.sum((a[k].astype(np.float64) - b[k]) ** 2)) for k in keys)
        den = sum(float(np.sum(a[k].astype(np.float64) ** 2)) for k in keys)
        err = np.sqrt(num / den) if den > 0 else np.sqrt(num)
        print(f"{prefix:8s} {len(keys):3d} tensors, relative error norm {err:.2e}")
        if not err <= rtol:  # NaN fails too
            worst = max(worst, err) if np.isfinite(err) else np.inf
    sys.exit(1 if worst > 0 else 0)
differ = [k for k in a if a[k].shape != b[k].shape or not np.array_equal(a[k], b[k])]
print(f"{len(a)} tensors, {len(differ)} differ")
for k in differ[:10]:
    print(f"  {k}: max |a - b| = {np.max(np.abs(a[k].astype(np.float64) - b[k])):.3g}")
sys.exit(1 if differ else 0)
