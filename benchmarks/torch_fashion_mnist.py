#!/usr/bin/env python3
"""The peer of bench_fashion_mnist: the same CNN's training step in PyTorch (Debian's python3-torch).

Run: /usr/bin/python3 benchmarks/torch_fashion_mnist.py [--threads 2] [--batch 64]
Prints images per second of forward + backward + Adam at the given batch size.
"""
import argparse
import time

import torch
from torch import nn


class Model(nn.Module):
    # same layers and parameter names as examples/fashion_mnist/model.hpp
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as pgg's benchmarks and programs (pgg/backend/cpu/denormal.hpp)
    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(args.batch, 1, 28, 28)
    y = torch.randint(0, 10, (args.batch,))

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(5):
        step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < args.seconds:
        step()
        n += 1
    dt = time.perf_counter() - t0
    print(f"torch {torch.__version__} {torch.get_num_threads()} threads batch {args.batch}: "
          f"{n * args.batch / dt:.0f} images/s ({dt / n * 1e3:.2f} ms/step)")


if __name__ == "__main__":
    main()
