#!/usr/bin/env python3
"""`cxr_pggan import-official` against the official PG-GAN code's networks, without TensorFlow.

    official_import.py write NET.pkl [--resolution R] [--lod L] [--no-fused] [--no-wscale] [--d-unfused] [--protocol P]
                                     [--set KEY=VALUE] [--huge VARIABLE]
        a pickle laid out as the official code writes network-*.pkl (official_pickle.py), random weights,
        widths of pgg's Narrow networks (fmap_base 512, fmap_max 64, latent 64)
    official_import.py latents Z.npy N
    official_import.py compare NET.pkl SNAPSHOT Z.npy DIR
        the official G_paper and D_paper forward passes, written here in PyTorch after the official
        networks.py (fused upscale2d_conv2d and conv2d_downscale2d, the lod blend of the linear structure),
        on the pickle's weights, against the imported snapshot: G and Gs through python/pggan_torch.py
        (float, tight), `cxr_pggan generate --latents`'s PNGs in DIR (8-bit, within one gray level), and
        D through pgg's D written out below from examples/cxr_pggan/networks.hpp.
"""
import argparse
import json
import math
import os
import pickle
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pggan_torch  # noqa: E402
from official_pickle import SQRT2, nf, official_pickle  # noqa: E402  (unpickling needs its tfutil)


def write(args):
    kw = {"num_channels": 1, "resolution": args.resolution, "label_size": 0, "fmap_base": 512, "fmap_max": 64,
          "latent_size": 64, "fused_scale": not args.no_fused, "use_wscale": not args.no_wscale}
    for item in args.set:
        key, value = item.split("=", 1)
        kw[key] = eval(value)  # a test's own literal: 2, 0.5, False, 'float16'
    with open(args.out, "wb") as f:
        f.write(official_pickle(kw, args.lod, args.seed, args.protocol, d_fused=not args.d_unfused, huge=args.huge))


# --- the official forward passes (networks.py), in PyTorch ---------------------------------------

def _w(v, gain, wscale, fan_in):
    return v * (gain / math.sqrt(fan_in)) if wscale else v


def _lrelu(x):
    return torch.maximum(x * 0.2, x)


def _pixel_norm(x):
    return x * torch.rsqrt(torch.mean(x * x, dim=1, keepdim=True) + 1e-8)


def _dense(x, w, gain, ws):
    x = x.reshape(x.shape[0], -1)
    return x @ _w(w, gain, ws, w.shape[0])


def _conv(x, w, gain, ws):  # w: [k, k, in, out], SAME padding
    w = _w(w, gain, ws, w.shape[0] * w.shape[1] * w.shape[2])
    return F.conv2d(x, w.permute(3, 2, 0, 1), padding=w.shape[0] // 2)


def _bias(x, b):
    return x + (b if x.dim() == 2 else b.view(1, -1, 1, 1))


def _upscale_conv(x, w, gain, ws):  # upscale2d_conv2d: w [k, k, out, in], conv2d_transpose of the 2x2-summed kernel
    w = _w(w, gain, ws, w.shape[0] * w.shape[1] * x.shape[1])
    w = F.pad(w.permute(2, 3, 0, 1), (1, 1, 1, 1))
    w = w[:, :, 1:, 1:] + w[:, :, :-1, 1:] + w[:, :, 1:, :-1] + w[:, :, :-1, :-1]
    return F.conv_transpose2d(x, w.permute(1, 0, 2, 3), stride=2, padding=1)


def _conv_downscale(x, w, gain, ws):  # conv2d_downscale2d: w [k, k, in, out]
    w = _w(w, gain, ws, w.shape[0] * w.shape[1] * w.shape[2])
    w = F.pad(w.permute(3, 2, 0, 1), (1, 1, 1, 1))
    w = (w[:, :, 1:, 1:] + w[:, :, :-1, 1:] + w[:, :, 1:, :-1] + w[:, :, :-1, :-1]) * 0.25
    return F.conv2d(x, w, stride=2, padding=1)


def _up(x, f=2):
    return x.repeat_interleave(f, dim=2).repeat_interleave(f, dim=3)


def _down(x):
    return F.avg_pool2d(x, 2)


def _lerp_clip(a, b, t):
    return a + (b - a) * float(np.clip(t, 0.0, 1.0))


def _mbstd(x, group=4):
    g = min(group, x.shape[0])
    s = x.shape
    y = x.reshape(g, -1, s[1], s[2], s[3])
    y = y - y.mean(dim=0, keepdim=True)
    y = torch.sqrt((y * y).mean(dim=0) + 1e-8).mean(dim=(1, 2, 3), keepdim=True)
    return torch.cat([x, y.repeat(g, 1, s[2], s[3])], dim=1)


def official_g(net, z):
    kw, v = net.kwargs, {k: torch.from_numpy(np.asarray(a)) for k, a in net.variables.items()}
    ws, L, lod = kw.get("use_wscale", True), int(math.log2(kw["resolution"])), float(v["lod"])

    def block(x, res):
        s = f"{2 ** res}x{2 ** res}"
        if res == 2:
            x = _pixel_norm(x)
            x = _dense(x, v[f"{s}/Dense/weight"], SQRT2 / 4, ws).reshape(-1, nf(kw, 1), 4, 4)
            x = _pixel_norm(_lrelu(_bias(x, v[f"{s}/Dense/bias"])))
            return _pixel_norm(_lrelu(_bias(_conv(x, v[f"{s}/Conv/weight"], SQRT2, ws), v[f"{s}/Conv/bias"])))
        if kw.get("fused_scale", True):
            x = _pixel_norm(_lrelu(_bias(_upscale_conv(x, v[f"{s}/Conv0_up/weight"], SQRT2, ws), v[f"{s}/Conv0_up/bias"])))
        else:
            x = _pixel_norm(_lrelu(_bias(_conv(_up(x), v[f"{s}/Conv0/weight"], SQRT2, ws), v[f"{s}/Conv0/bias"])))
        return _pixel_norm(_lrelu(_bias(_conv(x, v[f"{s}/Conv1/weight"], SQRT2, ws), v[f"{s}/Conv1/bias"])))

    def torgb(x, res):
        return _bias(_conv(x, v[f"ToRGB_lod{L - res}/weight"], 1.0, ws), v[f"ToRGB_lod{L - res}/bias"])

    x = block(z, 2)
    images = torgb(x, 2)
    for res in range(3, L + 1):
        x = block(x, res)
        images = _lerp_clip(torgb(x, res), _up(images), lod - (L - res))
    return images


def official_d(net, images):
    kw, v = net.kwargs, {k: torch.from_numpy(np.asarray(a)) for k, a in net.variables.items()}
    ws, L, lod = kw.get("use_wscale", True), int(math.log2(kw["resolution"])), float(v["lod"])

    def fromrgb(x, res):
        return _lrelu(_bias(_conv(x, v[f"FromRGB_lod{L - res}/weight"], SQRT2, ws), v[f"FromRGB_lod{L - res}/bias"]))

    def block(x, res):
        s = f"{2 ** res}x{2 ** res}"
        if res >= 3:
            x = _lrelu(_bias(_conv(x, v[f"{s}/Conv0/weight"], SQRT2, ws), v[f"{s}/Conv0/bias"]))
            return _lrelu(_bias(_conv_downscale(x, v[f"{s}/Conv1_down/weight"], SQRT2, ws), v[f"{s}/Conv1_down/bias"]))
        x = _mbstd(x)
        x = _lrelu(_bias(_conv(x, v[f"{s}/Conv/weight"], SQRT2, ws), v[f"{s}/Conv/bias"]))
        x = _lrelu(_bias(_dense(x, v[f"{s}/Dense0/weight"], SQRT2, ws), v[f"{s}/Dense0/bias"]))
        return _bias(_dense(x, v[f"{s}/Dense1/weight"], 1.0, ws), v[f"{s}/Dense1/bias"])

    img = images
    x = fromrgb(img, L)
    for res in range(L, 2, -1):
        x = block(x, res)
        img = _down(img)
        x = _lerp_clip(x, fromrgb(img, res - 1), lod - (L - res))
    return block(x, 2)


# --- pgg's discriminator (examples/cxr_pggan/networks.hpp) on the snapshot's D.* tensors ---------

def pgg_d(t, images, resolution, alpha):
    def p(name):
        return torch.from_numpy(t[f"D.{name}"])

    def conv(x, name, bias=True):
        w = p(f"{name}.weight")
        x = F.conv2d(x, w * (SQRT2 / math.sqrt(w[0].numel())), padding=w.shape[-1] // 2)
        return _bias(x, p(f"{name}.bias")) if bias else x

    def fromrgb(x, r):
        return _lrelu(conv(x, f"fromrgb{r}.0"))

    def block(x, r):
        x = _lrelu(conv(x, f"b{r}.conv0"))
        return _lrelu(_bias(_down(conv(x, f"b{r}.conv1", bias=False)), p(f"b{r}.conv1.bias")))

    def block4(x):
        x = _lrelu(conv(_mbstd(x), "b4.conv")).reshape(x.shape[0], -1)
        w0, w1 = p("b4.dense0.weight"), p("b4.dense1.weight")
        x = _lrelu(x @ (w0 * (SQRT2 / math.sqrt(w0.shape[1]))).t() + p("b4.dense0.bias"))
        return x @ (w1 / math.sqrt(w1.shape[1])).t() + p("b4.dense1.bias")

    R = resolution
    x = block(fromrgb(images, R), R) if R > 4 else fromrgb(images, 4)
    if R > 4 and alpha > 0:
        x = x + alpha * (fromrgb(_down(images), R // 2) - x)
    r = R // 2
    while r > 4:
        x = block(x, r)
        r //= 2
    return block4(x)


def compare(args):
    with open(args.pkl, "rb") as f:
        G, D, Gs = pickle.load(f)
    tensors, meta = pggan_torch.read_safetensors(args.snapshot)
    z = torch.from_numpy(np.load(args.latents))
    failures = []
    with torch.no_grad():
        for name, net in (("G", G), ("Gs", Gs)):
            theirs = official_g(net, z)
            ours_g = pggan_torch.load_generator(args.snapshot, name)
            ours = ours_g(z)
            f = theirs.shape[-1] // ours.shape[-1]  # while lod > 0 the official G upsamples to the full resolution
            if not torch.allclose(theirs, _up(theirs[:, :, ::f, ::f], f), rtol=0, atol=1e-5):  # a + (b - a) * 1: rounding
                failures.append(f"{name}: the official output is not an upsampled {ours.shape[-1]}x{ours.shape[-1]} image")
            theirs = theirs[:, :, ::f, ::f]
            err = float((theirs - ours).abs().max())
            scale = float(theirs.abs().max())
            print(f"{name}: official G_paper against the imported snapshot in pggan_torch, {tuple(ours.shape)}, "
                  f"fade weight {ours_g.alpha:.3f}: max |difference| {err:.2e} (outputs up to {scale:.2f})")
            if not err <= 1e-5 * max(1.0, scale):
                failures.append(f"{name}: imported weights give different outputs (max difference {err})")
            if name == "Gs":
                pixels = pggan_torch.to_uint8(theirs).numpy()
                pngs = np.stack([np.asarray(Image.open(os.path.join(args.dir, f"fake{i:06d}.png")))[None] for i in range(len(z))])
                diff = np.abs(pngs.astype(int) - pixels.astype(int))
                print(f"Gs: cxr_pggan generate --latents against the official G: {np.mean(diff == 0):.4%} of pixels equal, "
                      f"max difference {diff.max()}, gray levels {pixels.min()}..{pixels.max()}")
                if diff.max() > 1 or np.mean(diff == 0) < 0.99:
                    failures.append("generate's images differ from the official G's")
                if int(pixels.max()) - int(pixels.min()) < 16:
                    failures.append("flat images: the comparison would prove nothing")
        run = json.loads(meta["run"])
        R, lod = int(run["stage_resolution"]), float(run["lod"])
        images = torch.from_numpy(np.random.default_rng(3).standard_normal((4, 1, R, R)).astype(np.float32))
        full = _up(images, D.kwargs["resolution"] // R)
        theirs, ours = official_d(D, full), pgg_d(tensors, images, R, lod - math.floor(lod))
        err = float((theirs - ours).abs().max())
        print(f"D: official D_paper against pgg's D on the imported weights: scores {theirs.flatten().tolist()}, max |difference| {err:.2e}")
        if not err <= 1e-4 * max(1.0, float(theirs.abs().max())):
            failures.append(f"D: imported weights give different scores (max difference {err})")
    if failures:
        sys.exit("FAIL: " + "; ".join(failures))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    w = sub.add_parser("write")
    w.add_argument("out")
    w.add_argument("--resolution", type=int, default=16)
    w.add_argument("--lod", type=float, default=0.0)
    w.add_argument("--no-fused", action="store_true")
    w.add_argument("--no-wscale", action="store_true")
    w.add_argument("--d-unfused", action="store_true")
    w.add_argument("--huge", help="a Gs variable stored as float64 holding 1e300")
    w.add_argument("--protocol", type=int, default=4)
    w.add_argument("--seed", type=int, default=1)
    w.add_argument("--set", action="append", default=[])
    lt = sub.add_parser("latents")
    lt.add_argument("out")
    lt.add_argument("n", type=int)
    c = sub.add_parser("compare")
    for a in ("pkl", "snapshot", "latents", "dir"):
        c.add_argument(a)
    args = ap.parse_args()
    if args.what == "write":
        write(args)
    elif args.what == "latents":
        np.save(args.out, np.random.default_rng(7).standard_normal((args.n, 64)).astype(np.float32))
    else:
        compare(args)


if __name__ == "__main__":
    main()
