#!/usr/bin/env python3
"""The peer of bench_conv: the same 3x3 convolution passes in PyTorch (Debian's python3-torch, CPU).

Run with Debian's interpreter: /usr/bin/python3 benchmarks/torch_conv.py [--threads 2] [--narrow | --classifier]
Prints GFLOP/s per (channels, resolution, batch, pass), as bench_conv does; --classifier: per (input
channels, output channels, input side, stride, pass) at the abnormality classifier's shapes, batch 32.
"""
import argparse
import time

import torch

SHAPES = [(512, 4, 128), (512, 8, 128), (512, 16, 128), (512, 32, 64),
          (256, 64, 32), (128, 128, 16), (64, 256, 8), (32, 512, 4),
          (64, 8, 128), (64, 16, 128), (32, 32, 64), (16, 64, 32)]  # the Narrow width
PASSES = ["forward", "backward_data", "backward_weights"]
# (Cin, Cout, input side, stride), as bench_conv's classifier_shapes.
CLASSIFIER = [(1, 16, 256, 2), (1, 16, 128, 2), (16, 32, 128, 2), (16, 32, 64, 2), (32, 32, 64, 1),
              (32, 32, 32, 1), (32, 64, 64, 2), (32, 64, 32, 2), (64, 64, 32, 1), (64, 64, 16, 1),
              (64, 128, 32, 2), (64, 128, 16, 2), (128, 128, 16, 1), (128, 128, 16, 2), (128, 128, 8, 1),
              (128, 128, 8, 2), (128, 128, 4, 1)]


def best_time(fn, min_time=1.0, min_reps=3):
    fn()  # warm-up
    times, total = [], 0.0
    while total < min_time or len(times) < min_reps:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    return sorted(times)[len(times) // 2]  # median


def passes(x, w, dy, stride):
    s = [stride, stride]
    return {
        "forward": lambda: torch.nn.functional.conv2d(x, w, stride=stride, padding=1),
        "backward_data": lambda: torch.ops.aten.convolution_backward(
            dy, x, w, None, s, [1, 1], [1, 1], False, [0, 0], 1, [True, False, False]),
        "backward_weights": lambda: torch.ops.aten.convolution_backward(
            dy, x, w, None, s, [1, 1], [1, 1], False, [0, 0], 1, [False, True, False]),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--narrow", action="store_true", help="only the Narrow width's shapes")
    ap.add_argument("--classifier", action="store_true", help="the abnormality classifier's shapes instead")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as pgg's benchmarks and programs (pgg/backend/cpu/denormal.hpp)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, mkldnn {torch.backends.mkldnn.is_available()}")
    with torch.no_grad():
        if args.classifier:
            for cin, cout, r, stride in CLASSIFIER:
                ro = (r - 1) // stride + 1
                x, w, dy = torch.randn(32, cin, r, r), torch.randn(cout, cin, 3, 3), torch.randn(32, cout, ro, ro)
                flops = 2.0 * 32 * cin * cout * 9 * ro * ro
                ops = passes(x, w, dy, stride)
                for p in PASSES:
                    if cin == 1 and p == "backward_data":
                        continue
                    t = best_time(ops[p])
                    print(f"Cin {cin:3d} Cout {cout:3d} R {r:3d} s {stride} {p:17s} {t * 1e3:9.2f} ms "
                          f"{flops / t / 1e9:7.1f} GFLOP/s", flush=True)
            return
        for c, r, n in SHAPES[8:] if args.narrow else SHAPES:
            x = torch.randn(n, c, r, r)
            w = torch.randn(c, c, 3, 3)
            dy = torch.randn(n, c, r, r)
            flops = 2.0 * n * c * c * 9 * r * r
            ops = passes(x, w, dy, 1)
            for p in PASSES:
                t = best_time(ops[p])
                print(f"C {c:3d} R {r:3d} N {n:3d} {p:17s} {t * 1e3:9.1f} ms {flops / t / 1e9:7.1f} GFLOP/s", flush=True)


if __name__ == "__main__":
    main()
