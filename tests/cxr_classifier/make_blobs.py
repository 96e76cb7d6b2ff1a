"""Writes a labelled toy task for the classifier's end-to-end test: gray PGM images of smooth random
texture, the abnormal ones with a faint bright blob (an 'opacity') somewhere in the middle, and a
labels CSV (file,label; 0 normal, 1 abnormal). Learnable in a few epochs, but not by the mean
brightness alone (the texture's level varies more than the blob adds).

Usage: make_blobs.py OUT_DIR COUNT_PER_CLASS SIDE SEED
"""
import os
import sys

import numpy as np

out, count, side, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(seed)
os.makedirs(out, exist_ok=True)
yy, xx = np.mgrid[0:side, 0:side].astype(np.float64)
rows = ["file,label"]
for i in range(2 * count):
    label = i % 2
    coarse = rng.normal(size=(side // 8 + 2, side // 8 + 2))
    texture = np.kron(coarse, np.ones((8, 8)))[:side, :side]
    img = 0.45 + 0.15 * rng.normal() + 0.06 * texture + 0.03 * rng.normal(size=(side, side))
    if label:
        cy, cx = rng.uniform(0.3, 0.7, size=2) * side
        r = rng.uniform(0.08, 0.14) * side
        img += 0.25 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    pixels = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    name = f"img{i:04d}.pgm"
    with open(os.path.join(out, name), "wb") as f:
        f.write(b"P5 %d %d 255\n" % (side, side) + pixels.tobytes())
    rows.append(f"{name},{label}")
with open(os.path.join(out, "labels.csv"), "w") as f:
    f.write("\n".join(rows) + "\n")
