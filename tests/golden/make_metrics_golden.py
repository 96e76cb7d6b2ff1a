#!/usr/bin/env python3
"""Writes tests/golden/metrics/*.npy: SWD's pieces, MS-SSIM and the diagnostic scores (Youden threshold,
confusion scores, bootstrap AUC interval, DeLong's paired test) computed independently in numpy (float64).

Run with Debian's interpreter (python3-numpy): /usr/bin/python3 tests/golden/make_metrics_golden.py
The inputs are integer formulas that tests/test_metrics.cpp evaluates identically (32-bit hash noise).
SWD follows the PG-GAN code (metrics/sliced_wasserstein.py): scipy's 'mirror' border (numpy's 'reflect'
padding), pyr_down = blur then [::2, ::2], pyr_up = zeros between samples then the blur x4,
finalize_descriptors, sorted projections. MS-SSIM follows its ms_ssim.py with a direct 2-D 'valid'
convolution instead of FFTs.
"""
import math
import os
from statistics import NormalDist

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics")
U32 = np.uint32


def noise(salt, i):
    """A 32-bit integer hash of index i (lowbias32), salted: identical in C++."""
    v = (np.asarray(i, dtype=np.uint64) + np.uint64(salt) * np.uint64(0x9E3779B9)).astype(U32)
    with np.errstate(over="ignore"):  # wrapping multiplication, as in C++
        v ^= v >> U32(16)
        v *= U32(0x7FEB352D)
        v ^= v >> U32(15)
        v *= U32(0x846CA68B)
        v ^= v >> U32(16)
    return v.astype(np.int64)


def grid(shape):
    """Flat index and the n, c, y, x coordinates of every element of an NCHW array."""
    n, c, y, x = np.indices(shape)
    return np.arange(np.prod(shape)).reshape(shape), n, c, y, x


# ---- SWD ---------------------------------------------------------------------------------------------

BINOMIAL = np.array([1, 4, 6, 4, 1], dtype=np.float64) / 16
KERNEL = np.outer(BINOMIAL, BINOMIAL)


def convolve_mirror(img, kernel):
    """2-D convolution of the last two axes, same size, mirror border (scipy.ndimage mode='mirror')."""
    k = kernel.shape[0] // 2
    pad = np.pad(img, [(0, 0)] * (img.ndim - 2) + [(k, k), (k, k)], mode="reflect")
    h, w = img.shape[-2:]
    out = np.zeros_like(img)
    for dy in range(kernel.shape[0]):
        for dx in range(kernel.shape[1]):
            out += kernel[dy, dx] * pad[..., dy:dy + h, dx:dx + w]
    return out


def pyr_down(x):
    return convolve_mirror(x, KERNEL)[..., ::2, ::2]


def pyr_up(x):
    up = np.zeros(x.shape[:-2] + (2 * x.shape[-2], 2 * x.shape[-1]))
    up[..., ::2, ::2] = x
    return convolve_mirror(up, 4 * KERNEL)


def laplacian_pyramid(images, levels):
    pyramid = [images.astype(np.float64)]
    for _ in range(1, levels):
        pyramid.append(pyr_down(pyramid[-1]))
        pyramid[-2] = pyramid[-2] - pyr_up(pyramid[-1])
    return pyramid


def swd_images():
    shape = (2, 3, 32, 32)
    i, n, c, y, x = grid(shape)
    return ((x * 5 + y * 3 + c * 40 + n * 70) % 160 + noise(1, i) % 64).astype(np.uint8)


def swd_centres(level, size, images=2, patches=6, levels=3):
    """(y, x) of each patch, image by image, in [3, size - 3)."""
    out = []
    for n in range(images):
        for p in range(patches):
            k = (n * levels + level) * patches + p
            out.append((3 + noise(2, 2 * k) % (size - 6), 3 + noise(2, 2 * k + 1) % (size - 6)))
    return out


def descriptors(level, centres):
    per_image = len(centres) // level.shape[0]
    return np.stack([level[i // per_image, :, y - 3:y + 4, x - 3:x + 4].reshape(-1) for i, (y, x) in enumerate(centres)])


def swd_sets(m=150, channels=3, dirs=20):
    """Two descriptor sets with different per-channel statistics, and directions (not unit: used as given)."""
    dim = channels * 49
    i = np.arange(m * dim).reshape(m, dim)
    ch = np.arange(dim) // 49
    a = (noise(3, i) % 2001 - 1000).astype(np.float32) / np.float32(500)
    b = (noise(4, i) % 2001 - 1000).astype(np.float32) / np.float32(250) + ch.astype(np.float32)
    j = np.arange(dirs * dim).reshape(dirs, dim)
    d = (noise(5, j) % 2001 - 1000).astype(np.float32) / np.float32(1000)
    return a, b, d


def finalize(desc, channels):
    d = desc.astype(np.float64).reshape(desc.shape[0], channels, -1)
    d = (d - d.mean(axis=(0, 2), keepdims=True)) / d.std(axis=(0, 2), keepdims=True)
    return d.reshape(desc.shape[0], -1)


def sliced_wasserstein(a, b, dirs, channels):
    pa = np.sort(finalize(a, channels) @ dirs.astype(np.float64).T, axis=0)
    pb = np.sort(finalize(b, channels) @ dirs.astype(np.float64).T, axis=0)
    return np.mean(np.abs(pa - pb))


# ---- MS-SSIM -----------------------------------------------------------------------------------------

def gauss_window(size, sigma):
    x = np.arange(size) - (size - 1) / 2.0
    xx, yy = np.meshgrid(x, x)
    g = np.exp(-(xx ** 2 + yy ** 2) / (2.0 * sigma ** 2))
    return g / g.sum()


def convolve_valid(img, window):
    s = window.shape[0]
    h, w = img.shape[-2:]
    out = np.zeros(img.shape[:-2] + (h - s + 1, w - s + 1))
    for dy in range(s):
        for dx in range(s):
            out += window[dy, dx] * img[..., dy:dy + h - s + 1, dx:dx + w - s + 1]
    return out


def ssim_scale(a, b, max_val=255.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03):
    size = min(filter_size, a.shape[-2], a.shape[-1])
    window = gauss_window(size, size * filter_sigma / filter_size)
    mu1, mu2 = convolve_valid(a, window), convolve_valid(b, window)
    s11 = convolve_valid(a * a, window) - mu1 * mu1
    s22 = convolve_valid(b * b, window) - mu2 * mu2
    s12 = convolve_valid(a * b, window) - mu1 * mu2
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    v1, v2 = 2.0 * s12 + c2, s11 + s22 + c2
    ssim = np.mean(((2.0 * mu1 * mu2 + c1) * v1) / ((mu1 * mu1 + mu2 * mu2 + c1) * v2))
    return ssim, np.mean(v1 / v2)


def ms_ssim(a, b, weights=(0.0448, 0.2856, 0.3001, 0.2363, 0.1333)):
    """One pair of (C, H, W) images."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    ssims, css = [], []
    for level in range(len(weights)):
        if level:
            a, b = [(x[:, 0::2, 0::2] + x[:, 1::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 1::2]) * 0.25 for x in (a, b)]
        s, c = ssim_scale(a, b)
        ssims.append(s)
        css.append(c)
    ssims, css = np.clip(ssims, 0, None), np.clip(css, 0, None)
    return np.prod(css[:-1] ** np.array(weights[:-1])) * ssims[-1] ** weights[-1]


def ms_ssim_rgb_pairs():
    """Pairs (a[n], b[n]): identical, noisy copy, inverted, unrelated."""
    shape = (4, 3, 64, 64)
    i, n, c, y, x = grid(shape)
    a = ((x * (n + 2) + y * (c + 3)) * 7 // 5) % 200 + noise(6, i) % 40
    b = np.stack([a[0], np.clip(a[1] + noise(7, i[1]) % 61 - 30, 0, 255), 255 - a[2], noise(8, i[3]) % 256])
    return a.astype(np.uint8), b.astype(np.uint8)


def ms_ssim_gray_pairs():
    """Float gray pairs (2, 1, 48, 80) with values in [0, 255]."""
    shape = (2, 1, 48, 80)
    i, n, c, y, x = grid(shape)
    a = ((x * 3 + y * (2 + n)) % 200) * 100 + noise(9, i) % 5500
    b = np.clip(a + noise(10, i) % 2001 - 1000, 0, 25500)
    return a.astype(np.float32) / np.float32(100), b.astype(np.float32) / np.float32(100)


# ---- diagnostic scores -------------------------------------------------------------------------------

def diagnostic_cases(n=157):
    """Labels (about a third positive) and two classifiers' scores, the second with many ties."""
    i = np.arange(n)
    label = (noise(21, i) % 3 == 0).astype(np.int64)
    a = (noise(22, i) % 1000) / 1000.0 + 0.3 * label
    b = (noise(23, i) % 50) / 50.0 + 0.15 * label
    return label, a, b


def psi(pos, neg):
    """Mann-Whitney kernel for every (positive, negative) pair: 1 if the positive scores higher, 1/2 on a tie."""
    return (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])


def youden(score, label):
    """The first (highest) distinct score maximising TPR - FPR, then midway to the next lower score."""
    t = np.unique(score)[::-1]
    j = np.array([np.mean(score[label == 1] >= v) - np.mean(score[label == 0] >= v) for v in t])
    k = int(np.argmax(j))
    return (t[k] + t[k + 1]) / 2 if k + 1 < len(t) else t[k]


def confusion_scores(score, label, threshold):
    pred = score >= threshold
    tp, fp = np.sum(pred & (label == 1)), np.sum(pred & (label == 0))
    fn, tn = np.sum(~pred & (label == 1)), np.sum(~pred & (label == 0))
    sens, spec = tp / (tp + fn), tn / (tn + fp)
    prec = tp / (tp + fp) if tp + fp else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return [tp, fp, fn, tn, (tp + tn) / len(label), (sens + spec) / 2, sens, spec, prec, f1]


def philox4x32(counter, stream, seed):
    """Philox4x32-10 (Salmon et al.) of 64-bit counters under (seed, stream): an (N, 4) array of words."""
    m = np.uint64(0xFFFFFFFF)
    c = [counter & m, counter >> np.uint64(32), np.full_like(counter, stream & 0xFFFFFFFF),
         np.full_like(counter, stream >> 32)]
    k0, k1 = np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)
    for _ in range(10):
        p0, p1 = np.uint64(0xD2511F53) * c[0], np.uint64(0xCD9E8D57) * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ k0, p1 & m, (p0 >> np.uint64(32)) ^ c[3] ^ k1, p0 & m]
        k0, k1 = (k0 + np.uint64(0x9E3779B9)) & m, (k1 + np.uint64(0xBB67AE85)) & m
    return np.stack(c, axis=1)


def auc(score, label):
    return psi(score[label == 1], score[label == 0]).mean()


def bootstrap_auc(score, label, seed, resamples, level=0.95):
    """Stratified percentile bootstrap: positives then negatives, word k of blocks b * ceil(n / 4) on."""
    pos, neg = score[label == 1], score[label == 0]
    n = len(score)
    blocks = (n + 3) // 4
    lab = np.r_[np.ones(len(pos), np.int64), np.zeros(len(neg), np.int64)]
    aucs = []
    for b in range(resamples):
        words = philox4x32(np.arange(b * blocks, (b + 1) * blocks, dtype=np.uint64), 0, seed).reshape(-1)[:n]
        sizes = np.r_[np.full(len(pos), len(pos)), np.full(len(neg), len(neg))].astype(np.uint64)
        idx = ((words * sizes) >> np.uint64(32)).astype(np.int64)
        aucs.append(auc(np.r_[pos[idx[:len(pos)]], neg[idx[len(pos):]]], lab))
    return [auc(score, label), np.quantile(aucs, (1 - level) / 2), np.quantile(aucs, (1 + level) / 2)]


def delong(a, b, label, level=0.95):
    """DeLong's paired test from the pairwise kernel directly (no midranks)."""
    va, vb = psi(a[label == 1], a[label == 0]), psi(b[label == 1], b[label == 0])
    v10 = np.stack([va.mean(axis=1), vb.mean(axis=1)])
    v01 = np.stack([va.mean(axis=0), vb.mean(axis=0)])
    s10, s01 = np.cov(v10), np.cov(v01)
    w = np.array([1.0, -1.0])
    var = w @ s10 @ w / v10.shape[1] + w @ s01 @ w / v01.shape[1]
    d = va.mean() - vb.mean()
    se = np.sqrt(var)
    z = d / se
    q = NormalDist().inv_cdf((1 + level) / 2)
    return [va.mean(), vb.mean(), d, se, z, math.erfc(abs(z) / math.sqrt(2)), d - q * se, d + q * se]


def main():
    os.makedirs(OUT, exist_ok=True)
    save = lambda name, v: np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(v, dtype=np.float64))
    pyramid = laplacian_pyramid(swd_images(), 3)
    for level, p in enumerate(pyramid):
        save(f"swd_pyramid_{level}", p)
        save(f"swd_descriptors_{level}", descriptors(p, swd_centres(level, p.shape[-1])))
    a, b, d = swd_sets()
    save("swd_distance", [sliced_wasserstein(a, b, d, 3)])
    a, b = ms_ssim_rgb_pairs()
    save("ms_ssim_rgb", [ms_ssim(a[k], b[k]) for k in range(a.shape[0])])
    a, b = ms_ssim_gray_pairs()
    save("ms_ssim_gray", [ms_ssim(a[k], b[k]) for k in range(a.shape[0])])
    label, a, b = diagnostic_cases()
    save("diag_auc", [auc(a, label), auc(b, label)])
    t = youden(a, label)
    save("diag_youden", [t, youden(b, label)])
    save("diag_scores", confusion_scores(a, label, t))
    save("diag_bootstrap", bootstrap_auc(a, label, seed=7, resamples=500))
    save("diag_delong", delong(a, b, label))


if __name__ == "__main__":
    main()
