#!/usr/bin/env python3
"""The peer of bench_pggan_step: one PG-GAN training step (a WGAN-GP D step with its double-backward
penalty, then a G step, Adam on both, Gs averaging) in PyTorch (Debian's python3-torch), with the same
networks as examples/cxr_pggan/networks.hpp: equalized learning rate, pixel norm, minibatch stddev
(strided groups of 4), leaky ReLU 0.2, nearest upsampling, average pooling (before D's bias and
activation), 1 image channel, stable networks at each resolution.

Run: /usr/bin/python3 benchmarks/torch_pggan_step.py [--threads 2] [--res 4 8 16] [--width official|narrow]
     [--device cpu|cuda] [--tf32]
Prints images per second at the source study's (rsna-512) minibatch sizes. On cuda, float32 convolutions unless --tf32
(PyTorch lets cuDNN use TF32 by default; pgg does only when asked), and the timing synchronises. With --generate, the peer of bench_generate
instead: G's forward pass and the conversion to 8-bit pixels at batch 8 and batch 1.
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F

MINIBATCH = {4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8, 512: 4}
WIDTHS = {"official": (8192, 512, 512), "narrow": (512, 64, 64)}


class EqConv(torch.nn.Module):
    def __init__(self, cin, cout, k, gain=math.sqrt(2), bias=True):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(cout, cin, k, k))
        self.b = torch.nn.Parameter(torch.zeros(cout)) if bias else None
        self.scale, self.pad = gain / math.sqrt(cin * k * k), (k - 1) // 2

    def forward(self, x):
        return F.conv2d(x, self.w * self.scale, self.b, padding=self.pad)


class EqDense(torch.nn.Module):
    def __init__(self, fin, fout, gain=math.sqrt(2), bias=True):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(fout, fin))
        self.b = torch.nn.Parameter(torch.zeros(fout)) if bias else None
        self.scale = gain / math.sqrt(fin)

    def forward(self, x):
        return F.linear(x, self.w * self.scale, self.b)


def pixel_norm(x):
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


def lrelu(x):
    return F.leaky_relu(x, 0.2)


def stddev(x, group=4):
    n, c, h, w = x.shape
    g = min(group, n)
    y = x.reshape(g, n // g, c, h, w)  # sample i in group i mod (n / g): strided
    y = (y - y.mean(0)).pow(2).mean(0).add(1e-8).sqrt().mean(dim=(1, 2, 3))  # one value per group
    y = y.reshape(1, n // g, 1, 1, 1).expand(g, n // g, 1, h, w).reshape(n, 1, h, w)
    return torch.cat([x, y], 1)


class G(torch.nn.Module):
    def __init__(self, res, nf, latent):
        super().__init__()
        self.dense = EqDense(latent, nf(4) * 16, gain=math.sqrt(2) / 4, bias=False)
        self.dense_bias = torch.nn.Parameter(torch.zeros(nf(4)))
        self.conv4 = EqConv(nf(4), nf(4), 3)
        self.blocks = torch.nn.ModuleList()
        r = 8
        while r <= res:
            self.blocks.append(torch.nn.ModuleList([EqConv(nf(r // 2), nf(r), 3), EqConv(nf(r), nf(r), 3)]))
            r *= 2
        self.torgb = EqConv(nf(res), 1, 1, gain=1)
        self.nf4 = nf(4)

    def forward(self, z):
        x = self.dense(pixel_norm(z.reshape(*z.shape, 1, 1)).flatten(1)).reshape(-1, self.nf4, 4, 4)
        x = pixel_norm(lrelu(x + self.dense_bias.reshape(1, -1, 1, 1)))
        x = pixel_norm(lrelu(self.conv4(x)))
        for c0, c1 in self.blocks:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = pixel_norm(lrelu(c0(x)))
            x = pixel_norm(lrelu(c1(x)))
        return self.torgb(x)


class D(torch.nn.Module):
    def __init__(self, res, nf):
        super().__init__()
        self.fromrgb = EqConv(1, nf(res), 1)
        self.blocks = torch.nn.ModuleList()
        r = res
        while r >= 8:
            c1 = EqConv(nf(r), nf(r // 2), 3, bias=False)
            self.blocks.append(torch.nn.ModuleList([EqConv(nf(r), nf(r), 3), c1]))
            c1.post_bias = torch.nn.Parameter(torch.zeros(nf(r // 2)))
            r //= 2
        self.conv4 = EqConv(nf(4) + 1, nf(4), 3)
        self.dense0 = EqDense(nf(4) * 16, nf(4))
        self.dense1 = EqDense(nf(4), 1, gain=1)

    def forward(self, img):
        x = lrelu(self.fromrgb(img))
        for c0, c1 in self.blocks:
            x = lrelu(c0(x))
            x = F.avg_pool2d(c1(x), 2)
            x = lrelu(x + c1.post_bias.reshape(1, -1, 1, 1))
        x = lrelu(self.conv4(stddev(x)))
        return self.dense1(lrelu(self.dense0(x.flatten(1))))


def step(g, gs, d, opt_g, opt_d, reals, latent, norm_scale=1.0):
    n = reals.shape[0]
    # D step: WGAN-GP with drift; the penalty's gradient through create_graph (double backward)
    with torch.no_grad():
        fake = g(torch.randn(n, latent, device=reals.device))
    u = torch.rand(n, 1, 1, 1, device=reals.device)
    mixed = (reals + (fake - reals) * u).requires_grad_(True)
    grad, = torch.autograd.grad(d(mixed).sum(), mixed, create_graph=True)
    norm = grad.flatten(1).norm(dim=1) / norm_scale
    s_real, s_fake = d(reals), d(fake)
    loss_d = s_fake.mean() - s_real.mean() + 10 * (norm - 1).pow(2).mean() + 1e-3 * s_real.pow(2).mean()
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    # G step
    loss_g = -d(g(torch.randn(n, latent, device=reals.device))).mean()
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    with torch.no_grad():
        for p, q in zip(g.parameters(), gs.parameters()):
            q.lerp_(p, 1 - 0.999)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--res", type=int, nargs="*", default=list(MINIBATCH))
    ap.add_argument("--width", choices=list(WIDTHS), default="official")
    ap.add_argument("--min-time", type=float, default=2.0, help="seconds to measure per resolution (after one warm-up step)")
    ap.add_argument("--generate", action="store_true", help="time generation (G forward + 8-bit pixels) instead")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--tf32", action="store_true", help="on cuda: let cuDNN and cuBLAS use TF32")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as pgg's benchmarks and programs (pgg/backend/cpu/denormal.hpp)
    dev = torch.device(args.device)
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True  # per-shape algorithm search, as pgg does

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()
    base, fmax, latent = WIDTHS[args.width]

    def nf(r):
        return max(1, min(2 * base // r, fmax))

    print(f"torch {torch.__version__}, {args.threads} threads, width {args.width}, device {args.device}")
    if args.generate:
        for res in args.res:
            for n in (8, 1):
                torch.manual_seed(1)
                g = G(res, nf, latent).to(dev).eval()
                z = torch.randn(n, latent, device=dev)

                def gen():
                    with torch.no_grad():
                        return (g(z) * 127.5 + 127.5).round().clamp(0, 255).to(torch.uint8)

                gen()  # warm-up
                sync()
                steps, t0 = 0, time.perf_counter()
                while True:
                    gen().cpu()  # the pixels reach the host, as pgg's generate returns host images
                    steps += 1
                    t = time.perf_counter() - t0
                    if t >= args.min_time:
                        break
                print(f"res {res:4d}  batch {n}  {t / steps * 1000:10.1f} ms  {n * steps / t:8.2f} images/s")
        return
    for res in args.res:
        torch.manual_seed(1)
        g, gs, d = G(res, nf, latent).to(dev), G(res, nf, latent).to(dev), D(res, nf).to(dev)
        gs.load_state_dict(g.state_dict())
        opt_g = torch.optim.Adam(g.parameters(), lr=1e-3, betas=(0.0, 0.99), eps=1e-8)
        opt_d = torch.optim.Adam(d.parameters(), lr=1e-3, betas=(0.0, 0.99), eps=1e-8)
        n = MINIBATCH[res]
        reals = torch.rand(n, 1, res, res, device=dev) * 2 - 1
        step(g, gs, d, opt_g, opt_d, reals, latent)  # warm-up
        sync()
        steps, t0 = 0, time.perf_counter()
        while True:
            step(g, gs, d, opt_g, opt_d, reals, latent)
            sync()
            steps += 1
            t = time.perf_counter() - t0
            if t >= args.min_time:
                break
        print(f"res {res:4d}  minibatch {n:4d}  {t / steps * 1000:10.1f} ms/step  {n * steps / t:8.2f} images/s")


if __name__ == "__main__":
    main()
