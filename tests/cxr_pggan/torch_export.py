#!/usr/bin/env python3
"""python/pggan_torch.py against `cxr_pggan generate --latents`: the same 8-bit images from the same latents.

    torch_export.py latents SNAPSHOT Z.npy N     writes N standard-normal float32 latents for the snapshot's G
    torch_export.py compare SNAPSHOT Z.npy DIR   PyTorch's images against DIR/fake%06d.png (one image per PNG)

compare fails unless every pixel is within one gray level (float32 rounding may cross a boundary) and at
least 99% are equal, and unless the images are not flat (so that a blank generator cannot pass).
"""
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import pggan_torch  # noqa: E402


def main():
    what, snapshot, latents = sys.argv[1:4]
    g = pggan_torch.load_generator(snapshot)
    if what == "latents":
        n = int(sys.argv[4])
        np.save(latents, np.random.default_rng(7).standard_normal((n, g.latent_size)).astype(np.float32))
        return
    z = np.load(latents)
    with torch.no_grad():
        ours = pggan_torch.to_uint8(g(torch.from_numpy(z))).numpy()
    pngs = np.stack([np.asarray(Image.open(os.path.join(sys.argv[4], f"fake{i:06d}.png")))[None] for i in range(len(z))])
    if pngs.shape != ours.shape:
        sys.exit(f"FAIL: {snapshot}: generate wrote {pngs.shape}, PyTorch made {ours.shape}")
    diff = np.abs(pngs.astype(int) - ours.astype(int))
    equal = float(np.mean(diff == 0))
    print(f"{os.path.basename(snapshot)}: {g.resolution}x{g.resolution}, fade weight {g.alpha:.3f}: "
          f"{equal:.4%} of pixels equal, max difference {diff.max()}, gray levels {ours.min()}..{ours.max()}")
    if diff.max() > 1 or equal < 0.99:
        sys.exit(f"FAIL: {snapshot}: PyTorch's images differ from generate's")
    if int(ours.max()) - int(ours.min()) < 16:
        sys.exit(f"FAIL: {snapshot}: flat images ({ours.min()}..{ours.max()}); the comparison would prove nothing")


if __name__ == "__main__":
    main()
