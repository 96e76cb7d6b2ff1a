"""Exit 0 when two cxr_pggan snapshots hold bit-identical tensors (networks and optimiser state).

Usage: same_weights.py A.safetensors B.safetensors
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
differ = [k for k in a if a[k].shape != b[k].shape or not np.array_equal(a[k], b[k])]
print(f"{len(a)} tensors, {len(differ)} differ")
for k in differ[:10]:
    print(f"  {k}: max |a - b| = {np.max(np.abs(a[k].astype(np.float64) - b[k])):.3g}")
sys.exit(1 if differ else 0)
