#!/usr/bin/env python3
"""The short table that scripts/gpu-check.sh prints last, from the files it wrote in one folder:
bench_cuda.json (Google Benchmark), torch_fp32.txt / torch_tf32.txt / torch_generate.txt
(torch_pggan_step.py) and tests.txt. Also extrapolates the rsna-512 schedule (15,000 kimg: 600 kimg at
4x4, 1,200 at each of 8..256 (fade-in plus stable), the rest at 512) from the measured steps (a fading
step is counted at the stable step's speed)."""
import json
import re
import sys
from pathlib import Path

SCHEDULE_KIMG = {4: 600, 8: 1200, 16: 1200, 32: 1200, 64: 1200, 128: 1200, 256: 1200}
SCHEDULE_KIMG[512] = 15000 - sum(SCHEDULE_KIMG.values())


def torch_rates(path):
    rates = {}
    if path.exists():
        for line in path.read_text().splitlines():
            m = re.match(r"res\s+(\d+)\s+(?:minibatch|batch)\s+(\d+)\s+[\d.]+ ms(?:/step)?\s+([\d.]+) images/s", line)
            if m:
                rates[(int(m.group(1)), int(m.group(2)))] = float(m.group(3))
    return rates


def torch_unet_rates(out):
    rates = {}
    for base in (16, 32):
        path = out / f"torch_unet_{base}.txt"
        if path.exists():
            m = re.search(r"train step ([\d.]+) images/s", path.read_text())
            if m:
                rates[base] = float(m.group(1))
    return rates


def main():
    out = Path(sys.argv[1])
    pgg = {}
    context = {}
    bench = out / "bench_cuda.json"
    if bench.exists():
        data = json.loads(bench.read_text())
        context = data.get("context", {})
        for b in data["benchmarks"]:
            # "BM_x/res:4/tf32:0/min_time:1.000/real_time" -> "BM_x/res:4/tf32:0"
            parts = [p for p in b["name"].split("/") if not p.startswith("min_time") and p != "real_time"]
            pgg["/".join(parts)] = b
    tests = (out / "tests.txt").read_text().strip().splitlines()[-1:] if (out / "tests.txt").exists() else ["(no tests.txt)"]
    print(f"GPU: {context.get('gpu', '?')}; cuBLAS SGEMM peak {float(context.get('sgemm_peak_gflops', 0)):.0f} GFLOP/s")
    print(f"GPU tests: {tests[0]}")
    t32, ttf = torch_rates(out / "torch_fp32.txt"), torch_rates(out / "torch_tf32.txt")
    print("\nPG-GAN training step (Official width, 1 channel, rsna-512 minibatch), images/s")
    print(f"{'res':>4} {'batch':>5} | {'pgg fp32':>9} {'torch fp32':>10} {'ratio':>6} | {'pgg tf32':>9} {'torch tf32':>10} {'ratio':>6}")
    days = {0: 0.0, 1: 0.0}
    missing = {0: False, 1: False}
    for r in [4, 8, 16, 32, 64, 128, 256, 512]:
        cells = []
        batch = None
        for tf32, peer in ((0, t32), (1, ttf)):
            b = pgg.get(f"BM_cuda_pggan_step/res:{r}/tf32:{tf32}")
            rate = b["images/s"] if b else None
            batch = int(b["minibatch"]) if b else batch
            theirs = next((v for (res, n), v in peer.items() if res == r), None)
            ratio = f"{rate / theirs:6.2f}" if rate and theirs else f"{'-':>6}"
            cells.append(f"{rate or 0:9.1f} {theirs or 0:10.1f} {ratio}")
            if rate:
                days[tf32] += SCHEDULE_KIMG[r] * 1000 / rate / 86400
            else:
                missing[tf32] = True
        print(f"{r:4d} {batch or 0:5d} | {cells[0]} | {cells[1]}")
    text = {k: "incomplete" if missing[k] else f"{days[k]:.2f} days" for k in (0, 1)}
    print(f"\nrsna-512 schedule (15,000 kimg) extrapolated: {text[0]} in fp32, {text[1]} in tf32")
    gen = torch_rates(out / "torch_generate.txt")
    for n in (1, 8, 32):
        b = pgg.get(f"BM_cuda_generate_512/batch:{n}")
        theirs = gen.get((512, n))
        if b:
            print(f"generate 512x512 batch {n:2d}: pgg {b['images/s']:8.1f} images/s" + (f", torch {theirs:8.1f}" if theirs else ""))
    unet = torch_unet_rates(out)
    for base in (16, 32):
        b = pgg.get(f"BM_cuda_unet_step/base:{base}")
        if b:
            theirs = unet.get(base)
            print(f"UNet train step 256x256 batch 8 base {base}: pgg {b['images/s']:8.1f} images/s" +
                  (f", torch {theirs:8.1f} ({b['images/s'] / theirs:.2f}x)" if theirs else ""))
    worst = sorted((b["of_peak"], name) for name, b in pgg.items() if name.startswith("BM_cuda_conv") and "tf32:0" in name)
    if worst:
        print(f"cuDNN 3x3 passes (fp32): {worst[0][0]:.2f} to {worst[-1][0]:.2f} of the SGEMM peak")


if __name__ == "__main__":
    main()
