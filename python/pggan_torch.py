#!/usr/bin/env python3
"""pgg's PG-GAN generator in PyTorch: builds the averaged generator Gs of a `cxr_pggan` snapshot
(network-*.safetensors) as a torch.nn.Module and makes the same 8-bit images as `cxr_pggan generate`.

    import pggan_torch
    g = pggan_torch.load_generator("run/network-final.safetensors")   # Gs, in eval mode
    images = g(torch.randn(8, g.latent_size))                          # (8, C, R, R) in about [-1, 1]
    pixels = pggan_torch.to_uint8(images)                              # what generate writes to PNGs

or, from a shell, the images of given latents (float32 .npy, (N, latent_size)) as a uint8 .npy:

    /usr/bin/python3 python/pggan_torch.py network-final.safetensors --latents z.npy --out images.npy

The networks are those of examples/cxr_pggan/networks.hpp (docs/cxr_pggan.md), with the weight
scaling of the equalized learning rate applied at run time as pgg does, and the fade-in between two
resolutions when the snapshot was saved during one. Only numpy and torch are needed: the safetensors
file is read here.
"""
import argparse
import json
import math
import struct

import numpy as np
import torch
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)
_DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8}


def read_safetensors(path):
    """(tensors by name as numpy arrays, metadata dict) of a .safetensors file."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: truncated (no header length)")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"{path}: truncated header ({n} bytes announced, {len(blob) - 8} present)")
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = memoryview(blob)[8 + n:]
    tensors = {}
    for name, t in header.items():
        if t["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {t['dtype']}")
        b, e = t["data_offsets"]
        if not 0 <= b <= e <= len(data):
            raise ValueError(f"{path}: tensor {name}: data [{b}, {e}) outside the file's {len(data)} data bytes")
        a = np.frombuffer(data[b:e], dtype=_DTYPES[t["dtype"]])
        tensors[name] = a.reshape(t["shape"]).copy()
    return tensors, meta


class _EqualizedConv(torch.nn.Module):
    """A k x k convolution (padding k // 2) whose weight is scaled by gain / sqrt(fan_in) at run time."""

    def __init__(self, cin, cout, k, gain=SQRT2):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(cout, cin, k, k))
        self.bias = torch.nn.Parameter(torch.zeros(cout))
        self.scale, self.pad = gain / math.sqrt(cin * k * k), k // 2

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.pad)


def _pixel_norm(x):
    return x / torch.sqrt(torch.mean(x * x, dim=1, keepdim=True) + 1e-8)


def _lrelu(x):
    return F.leaky_relu(x, 0.2)


class _Block4(torch.nn.Module):
    """b4: the latent through a dense layer (gain sqrt(2)/4, one bias per map), then a 3x3 conv."""

    def __init__(self, latent, nf):
        super().__init__()
        self.nf = nf
        self.dense_weight = torch.nn.Parameter(torch.zeros(nf * 16, latent))
        self.dense_bias = torch.nn.Parameter(torch.zeros(nf))
        self.dense_scale = SQRT2 / 4 / math.sqrt(latent)
        self.conv = _EqualizedConv(nf, nf, 3)

    def forward(self, z):
        x = (z @ (self.dense_weight * self.dense_scale).t()).view(-1, self.nf, 4, 4)
        x = _pixel_norm(_lrelu(x + self.dense_bias.view(1, -1, 1, 1)))
        return _pixel_norm(_lrelu(self.conv(x)))


class _Block(torch.nn.Module):
    """bR: nearest 2x upsampling, two 3x3 convs, each with leaky ReLU and pixel norm."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv0 = _EqualizedConv(cin, cout, 3)
        self.conv1 = _EqualizedConv(cout, cout, 3)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = _pixel_norm(_lrelu(self.conv0(x)))
        return _pixel_norm(_lrelu(self.conv1(x)))


class Generator(torch.nn.Module):
    """The generator at `resolution`; with 0 < alpha, R fading in over R/2 (alpha 1: only the old path)."""

    def __init__(self, resolution, channels, fmap_base, fmap_max, latent_size, alpha=0.0):
        super().__init__()
        if resolution < 4 or resolution & (resolution - 1):
            raise ValueError(f"resolution {resolution}: a power of two from 4 is expected")
        if not 0.0 <= alpha < 1.0 or (alpha > 0 and resolution == 4):
            raise ValueError(f"fade weight {alpha} at {resolution}x{resolution}")
        self.resolution, self.channels, self.latent_size, self.alpha = resolution, channels, latent_size, alpha

        def nf(r):
            return max(1, min(2 * fmap_base // r, fmap_max))

        self.blocks = torch.nn.ModuleDict({"b4": _Block4(latent_size, nf(4))})
        r = 8
        while r <= resolution:
            self.blocks[f"b{r}"] = _Block(nf(r // 2), nf(r))
            r *= 2
        self.torgb = torch.nn.ModuleDict({f"torgb{r}": _EqualizedConv(nf(r), channels, 1, gain=1.0)
                                          for r in ([resolution] if resolution == 4 else [resolution, resolution // 2])})

    def forward(self, z):
        x = _pixel_norm(z)
        R = self.resolution
        for r, block in self.blocks.items():
            if int(r[1:]) < R:
                x = block(x)
        new = self.torgb[f"torgb{R}"](self.blocks[f"b{R}"](x) if R > 4 else self.blocks["b4"](x))
        if R == 4:
            return new
        old = F.interpolate(self.torgb[f"torgb{R // 2}"](x), scale_factor=2, mode="nearest")
        return new + self.alpha * (old - new)

    def pgg_names(self):
        """pgg's parameter name (as in the snapshot, without "Gs.") of every parameter of this module."""
        names = {}
        for name, _ in self.named_parameters():
            part = name.split(".")
            if part[0] == "blocks" and part[2] == "dense_weight":
                names[name] = f"{part[1]}.dense.weight"
            elif part[0] == "blocks" and part[2] == "dense_bias":
                names[name] = f"{part[1]}.dense.bias"
            else:
                names[name] = ".".join(part[1:])
        return names


def load_generator(snapshot, network="Gs"):
    """The network ("Gs", the averaged generator that `generate` uses, or "G") of a cxr_pggan snapshot."""
    tensors, meta = read_safetensors(snapshot)
    if meta.get("format") != "pgg-pggan-snapshot":
        raise ValueError(f"{snapshot}: not a cxr_pggan snapshot (no 'format: pgg-pggan-snapshot' in its metadata)")
    config, run = json.loads(meta["config"]), json.loads(meta["run"])
    lod = float(run["lod"])
    g = Generator(int(run["stage_resolution"]), int(run["channels"]), int(config["fmap_base"]), int(config["fmap_max"]),
                  int(config["latent_size"]), alpha=lod - math.floor(lod))
    names = g.pgg_names()
    # a snapshot also keeps the image layers of earlier resolutions (torgb4, ...), which pgg ignores too
    missing = sorted(f"{network}.{n}" for n in names.values() if f"{network}.{n}" not in tensors)
    if missing:
        raise ValueError(f"{snapshot}: not a {g.resolution}x{g.resolution} generator of this width: no {', '.join(missing)}")
    with torch.no_grad():
        for name, p in g.named_parameters():
            value = tensors[f"{network}.{names[name]}"]
            if tuple(value.shape) != tuple(p.shape):
                raise ValueError(f"{snapshot}: {network}.{names[name]} has shape {value.shape}, expected {tuple(p.shape)}")
            p.copy_(torch.from_numpy(value.astype(np.float32)))
    return g.eval()


def to_uint8(images):
    """[-1, 1] to 8 bits as pgg writes PNGs: round(x * 127.5 + 127.5), clipped to [0, 255]."""
    x = images.detach().to(torch.float32) * 127.5 + 128.0
    return torch.clamp(x, 0.0, 255.999).to(torch.uint8)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("snapshot", help="network-*.safetensors of a cxr_pggan run")
    ap.add_argument("--latents", required=True, help="float32 .npy of shape (N, latent_size)")
    ap.add_argument("--out", required=True, help="uint8 .npy of shape (N, C, R, R) to write")
    ap.add_argument("--network", choices=["Gs", "G"], default="Gs")
    args = ap.parse_args()
    g = load_generator(args.snapshot, args.network)
    z = np.load(args.latents)
    if z.dtype != np.float32 or z.ndim != 2 or z.shape[1] != g.latent_size:
        raise SystemExit(f"{args.latents}: float32 latents of shape (N, {g.latent_size}) expected, got {z.dtype} {z.shape}")
    with torch.no_grad():
        pixels = to_uint8(g(torch.from_numpy(z))).numpy()
    np.save(args.out, pixels)
    print(f"{args.out}: {pixels.shape[0]} images of {g.channels}x{g.resolution}x{g.resolution} from {args.snapshot}")


if __name__ == "__main__":
    main()
