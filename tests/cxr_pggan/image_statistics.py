"""Distance between the image statistics of two pgg datasets at their full resolution.

Usage: image_statistics.py REAL_DATASET FAKE_DATASET
Prints the distance: RMS over pixels of the difference of per-pixel means, plus the same for per-pixel
standard deviations, plus the difference of the mean image-gradient magnitude (all in 8-bit units).
A stand-in for the sliced Wasserstein distance until the metrics land; numpy only.
"""
import json
import sys

import numpy as np


def load(folder):
    with open(f"{folder}/manifest.json") as f:
        m = json.load(f)
    r = m["resolution"]
    return np.load(f"{folder}/{m['files'][str(r)]}").astype(np.float64)


def stats(x):
    gy = np.abs(np.diff(x, axis=2)).mean()
    gx = np.abs(np.diff(x, axis=3)).mean()
    return x.mean(axis=0), x.std(axis=0), gx + gy


real, fake = load(sys.argv[1]), load(sys.argv[2])
(mr, sr, gr), (mf, sf, gf) = stats(real), stats(fake)
d_mean = np.sqrt(np.mean((mr - mf) ** 2))
d_std = np.sqrt(np.mean((sr - sf) ** 2))
d_grad = abs(gr - gf)
print(f"{d_mean + d_std + d_grad:.3f} (mean {d_mean:.3f}, std {d_std:.3f}, gradient {d_grad:.3f})")
