#!/usr/bin/env python3
"""Writes tests/golden/optim.txt: PyTorch's Adam and SGD on a fixed problem, step by step.

Run with Debian's interpreter (python3-torch): /usr/bin/python3 tests/golden/make_optim_golden.py
Each line: optimiser name, step, then the parameter values after that step.
"""
import os

import torch

torch.set_default_dtype(torch.float64)
W0 = [1.0, -2.0, 0.5, 3.0, -0.25]


def grads(step):
    # a deterministic gradient sequence with mixed signs and scales
    return torch.tensor([0.1 * (step + 1), -0.2, 0.05 * (-1) ** step, 1.5 / (step + 1), -0.01 * step])


def run(name, make, steps=5):
    w = torch.nn.Parameter(torch.tensor(W0))
    opt = make([w])
    lines = []
    for s in range(steps):
        opt.zero_grad()
        w.grad = grads(s)
        opt.step()
        lines.append(f"{name} {s + 1} " + " ".join(f"{v:.17g}" for v in w.detach().tolist()))
    return lines


out = []
out += run("adam_pggan", lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.0, 0.99), eps=1e-8))
out += run("adam_default", lambda p: torch.optim.Adam(p, lr=0.01))
out += run("sgd_momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01))
out += run("sgd_nesterov", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True))
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim.txt"), "w") as f:
    f.write("\n".join(out) + "\n")
