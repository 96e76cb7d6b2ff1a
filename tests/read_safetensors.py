#!/usr/bin/env python3
"""Reads a pgg checkpoint with numpy alone (no safetensors package) and a pgg .npy file with
numpy.load(mmap_mode='r'), and checks their contents: the layouts are the standard ones.
Usage: read_safetensors.py FILE.safetensors FILE.npy"""
import json
import struct
import sys
import zlib

import numpy as np

path = sys.argv[1]
with open(path, "rb") as f:
    raw = f.read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
crc = header["__metadata__"].pop("pgg.crc32")
assert header["__metadata__"] == {"format": "pgg"}, header["__metadata__"]
# the checksum as docs/io.md defines it: CRC-32 of the file with its own 8 digits read as zeros
zeroed = raw.replace(b'"pgg.crc32":"' + crc.encode(), b'"pgg.crc32":"00000000', 1)
assert zlib.crc32(zeroed) == int(crc, 16), (crc, hex(zlib.crc32(zeroed)))
expected = {"conv.weight": [4, 1, 3, 3], "conv.bias": [4], "fc.weight": [3, 64], "fc.bias": [3]}
assert set(header) - {"__metadata__"} == set(expected), sorted(header)
k = 0
for name in ["conv.weight", "conv.bias", "fc.weight", "fc.bias"]:  # written in parameter order
    e = header[name]
    assert e["dtype"] == "F32" and e["shape"] == expected[name], (name, e)
    begin, end = e["data_offsets"]
    a = np.frombuffer(data[begin:end], dtype="<f4").reshape(e["shape"])
    want = (np.arange(k, k + a.size, dtype=np.float32) * 0.5).reshape(e["shape"])
    assert np.array_equal(a, want), name
    k += a.size
print(f"numpy read {len(expected)} tensors from {path}: ok")

levels = np.load(sys.argv[2], mmap_mode="r")
assert levels.dtype == np.uint8 and levels.shape == (3, 1, 4, 4), (levels.dtype, levels.shape)
assert np.array_equal(np.asarray(levels).ravel(), np.arange(48, dtype=np.uint8))
print(f"numpy mapped {sys.argv[2]}: ok")
