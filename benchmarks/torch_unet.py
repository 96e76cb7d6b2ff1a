#!/usr/bin/env python3
"""The peer of bench_unet: the same UNet (examples/cxr_unet/unet.hpp) in PyTorch (Debian's python3-torch).

Run: /usr/bin/python3 benchmarks/torch_unet.py [--threads 2] [--batch 8] [--size 256] [--base 16] [--depth 4]
Prints images per second of one training step (forward, BCE-with-logits + soft Dice, backward, Adam) and
of segmentation inference (forward + sigmoid, dropout off) at the given batch.
"""
import argparse
import time

import torch
from torch import nn


class GaussianDropout(nn.Module):
    """x * N(1, p / (1 - p)) in training, the identity in evaluation."""

    def __init__(self, p):
        super().__init__()
        self.std = (p / (1 - p)) ** 0.5

    def forward(self, x):
        if not self.training or self.std == 0:
            return x
        return x * (1 + self.std * torch.randn_like(x))


def conv_pair(cin, c, p):
    return nn.Sequential(nn.Conv2d(cin, c, 3, padding=1), nn.ReLU(), GaussianDropout(p),
                         nn.Conv2d(c, c, 3, padding=1), nn.ReLU(), GaussianDropout(p))


class Level(nn.Module):
    def __init__(self, cin, c, depth, p):
        super().__init__()
        self.enc = conv_pair(cin, c, p)
        self.depth = depth
        if depth > 0:
            self.down = Level(c, 2 * c, depth - 1, p)
            self.up = nn.ConvTranspose2d(2 * c, c, 2, stride=2)
            self.dec = conv_pair(2 * c, c, p)

    def forward(self, x):
        x = self.enc(x)
        if self.depth == 0:
            return x
        h = self.up(self.down(torch.max_pool2d(x, 2)))
        return self.dec(torch.cat([x, h], 1))


class UNet(nn.Module):
    def __init__(self, base, depth, p):
        super().__init__()
        self.body = Level(1, base, depth, p)
        self.head = nn.Conv2d(base, 1, 1)

    def forward(self, x):
        return self.head(self.body(x))


def soft_dice(p, t, eps=1.0):
    inter = (p * t).flatten(1).sum(1)
    denom = (p + t).flatten(1).sum(1)
    return (1 - (2 * inter + eps) / (denom + eps)).mean()


def rate(fn, batch, seconds, sync=lambda: None):
    for _ in range(2):
        fn()
    sync()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or n < 3:
        fn()
        sync()
        n += 1
    dt = time.perf_counter() - t0
    return n * batch / dt, dt / n * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--base", type=int, default=16)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--dropout", type=float, default=0.05)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as pgg's benchmarks and programs (pgg/backend/cpu/denormal.hpp)
    dev = torch.device(args.device)
    torch.backends.cudnn.allow_tf32 = False  # float32, as pgg's default
    torch.backends.cudnn.benchmark = True

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    torch.manual_seed(1)
    model = UNet(args.base, args.depth, args.dropout).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(args.batch, 1, args.size, args.size, device=dev)
    t = (torch.rand(args.batch, 1, args.size, args.size, device=dev) > 0.5).float()

    def train_step():
        model.train()
        opt.zero_grad()
        logits = model(x)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, t) + soft_dice(torch.sigmoid(logits), t)
        loss.backward()
        opt.step()

    def infer():
        model.eval()
        with torch.no_grad():
            torch.sigmoid(model(x))

    head = f"torch {torch.__version__} {torch.get_num_threads()} threads UNet base {args.base} depth {args.depth} " \
           f"{args.size}x{args.size} batch {args.batch}"
    head += f" on {args.device}"
    ips, ms = rate(train_step, args.batch, args.seconds, sync)
    print(f"{head}: train step {ips:.2f} images/s ({ms:.1f} ms/step)")
    ips, ms = rate(infer, args.batch, args.seconds, sync)
    print(f"{head}: segment (forward) {ips:.2f} images/s ({ms:.1f} ms/batch)")


if __name__ == "__main__":
    main()
