"""Pickles laid out as the official PG-GAN code writes network-*.pkl, without TensorFlow: the (G, D, Gs)
tuple of tfutil.Network objects (a stand-in class here, registered as module tfutil), whose state is what
the official Network.__getstate__ returns (version 2, name, static_kwargs, build_module_src,
build_func_name, variables as (name, numpy array) pairs, the scalar lod as TensorFlow returns it: a numpy
scalar). Variable names and shapes follow G_paper and D_paper of the official networks.py; the values are
random. Used by tests/cxr_pggan/official_import.py and fuzz/make_corpus.py; numpy only.
"""
import math
import pickle
import sys
import types

import numpy as np

SQRT2 = math.sqrt(2.0)

tfutil = types.ModuleType("tfutil")


class Network:
    def __init__(self, name, func, kwargs, variables):
        self.name, self.func, self.kwargs, self.variables = name, func, kwargs, variables

    def __getstate__(self):  # the official tfutil.Network.__getstate__'s layout
        return {"version": 2, "name": self.name, "static_kwargs": self.kwargs,
                "build_module_src": "# networks.py of the official code", "build_func_name": self.func,
                "variables": list(self.variables.items())}

    def __setstate__(self, state):
        self.name, self.func, self.kwargs = state["name"], state["build_func_name"], state["static_kwargs"]
        self.variables = dict(state["variables"])


Network.__module__ = "tfutil"
tfutil.Network = Network
sys.modules["tfutil"] = tfutil


def nf(kw, stage):
    return min(int(kw["fmap_base"] / (2.0 ** stage)), kw["fmap_max"])


def g_variables(kw, rng):
    """G_paper's variables (names and shapes as the official code creates them), random normal values."""
    L, C, fused = int(math.log2(kw["resolution"])), kw["num_channels"], kw.get("fused_scale", True)
    shapes = {"4x4/Dense/weight": (kw["latent_size"], nf(kw, 1) * 16), "4x4/Dense/bias": (nf(kw, 1),),
              "4x4/Conv/weight": (3, 3, nf(kw, 1), nf(kw, 1)), "4x4/Conv/bias": (nf(kw, 1),)}
    for res in range(3, L + 1):
        s = f"{2 ** res}x{2 ** res}"
        if fused:
            shapes[f"{s}/Conv0_up/weight"] = (3, 3, nf(kw, res - 1), nf(kw, res - 2))
        else:
            shapes[f"{s}/Conv0/weight"] = (3, 3, nf(kw, res - 2), nf(kw, res - 1))
        shapes[f"{s}/{'Conv0_up' if fused else 'Conv0'}/bias"] = (nf(kw, res - 1),)
        shapes[f"{s}/Conv1/weight"] = (3, 3, nf(kw, res - 1), nf(kw, res - 1))
        shapes[f"{s}/Conv1/bias"] = (nf(kw, res - 1),)
    for res in range(2, L + 1):
        shapes[f"ToRGB_lod{L - res}/weight"] = (1, 1, nf(kw, res - 1), C)
        shapes[f"ToRGB_lod{L - res}/bias"] = (C,)
    return _values(shapes, kw, rng)


def d_variables(kw, rng):
    L, C = int(math.log2(kw["resolution"])), kw["num_channels"]
    shapes = {"4x4/Conv/weight": (3, 3, nf(kw, 1) + 1, nf(kw, 1)), "4x4/Conv/bias": (nf(kw, 1),),
              "4x4/Dense0/weight": (nf(kw, 1) * 16, nf(kw, 0)), "4x4/Dense0/bias": (nf(kw, 0),),
              "4x4/Dense1/weight": (nf(kw, 0), 1), "4x4/Dense1/bias": (1,)}
    for res in range(3, L + 1):
        s = f"{2 ** res}x{2 ** res}"
        shapes[f"{s}/Conv0/weight"] = (3, 3, nf(kw, res - 1), nf(kw, res - 1))
        shapes[f"{s}/Conv0/bias"] = (nf(kw, res - 1),)
        shapes[f"{s}/Conv1_down/weight"] = (3, 3, nf(kw, res - 1), nf(kw, res - 2))
        shapes[f"{s}/Conv1_down/bias"] = (nf(kw, res - 2),)
    for res in range(2, L + 1):
        shapes[f"FromRGB_lod{L - res}/weight"] = (1, 1, C, nf(kw, res - 1))
        shapes[f"FromRGB_lod{L - res}/bias"] = (nf(kw, res - 1),)
    return _values(shapes, kw, rng)


def _values(shapes, kw, rng):
    out = {}
    for name, shape in shapes.items():
        v = rng.standard_normal(shape).astype(np.float32)
        if name.endswith("/bias"):
            v *= 0.2
        elif not kw.get("use_wscale", True):  # then the variables hold the run-time weights: N(0, gain^2 / fan_in)
            fan_in = np.prod(shape[:-1]) if "Conv0_up" not in name else shape[0] * shape[1] * shape[3]
            gain = 1.0 if "ToRGB" in name or "Dense1" in name else SQRT2 / 4 if "4x4/Dense/" in name else SQRT2
            v *= np.float32(gain / np.sqrt(fan_in))
        out[name] = v
    return out


def official_pickle(kw, lod=0.0, seed=1, protocol=4, d_fused=True, huge=None):
    """The bytes of a (G, D, Gs) pickle for G_paper keyword arguments `kw` (num_channels, resolution,
    fmap_base, fmap_max, latent_size, ...); D gets the same ones but latent_size, and fused_scale=d_fused.
    huge: a variable of Gs stored as float64 with one value past float32's range (1e300)."""
    rng = np.random.default_rng(seed)
    gvars = g_variables(kw, rng)
    gsvars = {k: v + np.float32(0.1) * rng.standard_normal(v.shape).astype(np.float32) for k, v in gvars.items()}
    if huge:
        gsvars[huge] = gsvars[huge].astype(np.float64)
        gsvars[huge].flat[0] = 1e300
    dkw = {**{k: v for k, v in kw.items() if k != "latent_size"}, "fused_scale": d_fused}
    lod = np.float32(lod)
    nets = (Network("G", "G_paper", kw, {**gvars, "lod": lod}),
            Network("D", "D_paper", dkw, {**d_variables(dkw, rng), "lod": lod}),
            Network("Gs", "G_paper", kw, {**gsvars, "lod": lod}))
    return pickle.dumps(nets, protocol=protocol)
