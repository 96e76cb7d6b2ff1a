#!/usr/bin/env python3
"""The peer of bench_classifier: the same ResNet (examples/cxr_classifier/network.hpp) in PyTorch
(Debian's python3-torch).

Run: /usr/bin/python3 benchmarks/torch_classifier.py [--threads 2] [--batch 32] [--sizes 64 128 256]
Prints images per second of one training step (forward, BCE-with-logits, backward, Adam) and of
inference (forward, no gradients) per input side.
--underflow instead trains on the benchmark's one repeated minibatch with IEEE gradual underflow and
prints, every 20 steps, the loss, the logits' range and the fraction of subnormal parameter gradients:
why the benchmarks flush subnormals (docs/performance.md, "Subnormal floats").
"""
import argparse
import time

import torch
from torch import nn

STEM, MAX_WIDTH = 16, 128


class Block(nn.Module):
    """ReLU(x + conv3x3(ReLU(conv3x3 x)))."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return torch.relu(x + self.conv2(torch.relu(self.conv1(x))))


def resnet(side):
    layers = [nn.Conv2d(1, STEM, 3, stride=2, padding=1), nn.ReLU()]
    s, c = side // 2, STEM
    while s > 4:
        out = min(2 * c, MAX_WIDTH)
        layers += [nn.Conv2d(c, out, 3, stride=2, padding=1), nn.ReLU(), Block(out)]
        s, c = s // 2, out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 1)]
    return nn.Sequential(*layers)


def rate(fn, batch, seconds):
    for _ in range(2):
        fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or n < 3:
        fn()
        n += 1
    dt = time.perf_counter() - t0
    return n * batch / dt, dt / n * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--underflow", action="store_true", help="show the repeated minibatch's gradients underflow")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(not args.underflow)  # as pgg's benchmarks and programs (pgg/backend/cpu/denormal.hpp)
    torch.manual_seed(1)
    for side in args.sizes:
        model = resnet(side)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.rand(args.batch, 1, side, side) * 2 - 1
        t = (torch.arange(args.batch) % 2).float().unsqueeze(1)

        def train_step():
            model.train()
            opt.zero_grad()
            z = model(x)
            loss = nn.functional.binary_cross_entropy_with_logits(z, t)
            loss.backward()
            opt.step()
            return z, loss

        if args.underflow:
            for step in range(1, 121):
                z, loss = train_step()
                if step % 20 == 0:
                    g = torch.cat([p.grad.flatten() for p in model.parameters()])
                    subnormal = ((g != 0) & (g.abs() < torch.finfo(torch.float32).tiny)).float().mean().item()
                    print(f"ResNet {side}x{side} step {step}: loss {loss.item():.3g}, logits {z.min().item():.1f} to "
                          f"{z.max().item():.1f}, subnormal gradients {subnormal:.2%}", flush=True)
            continue

        def infer():
            model.eval()
            with torch.no_grad():
                model(x)

        head = f"torch {torch.__version__} {torch.get_num_threads()} threads ResNet {side}x{side} batch {args.batch}"
        ips, ms = rate(train_step, args.batch, args.seconds)
        print(f"{head}: train step {ips:.1f} images/s ({ms:.1f} ms/step)")
        ips, ms = rate(infer, args.batch, args.seconds)
        print(f"{head}: predict {ips:.1f} images/s ({ms:.1f} ms/batch)")


if __name__ == "__main__":
    main()
