#!/usr/bin/env python3
"""Writes samples/deconv/: a tiny conv2d_transpose zoo and its Paddle-PTQ int8 twin, with Paddle's outputs.

DBNet's head covers only the exact-cover deconv (kernel 2 == stride 2, groups 1). This network covers the rest of
what qconv2d_transpose must get right, each deconv with int8 weights quantized per output channel along axis 1:

    x [N,3,16,16] -> conv 3x3 + BN + relu                         [8,16,16]
      -> conv2d_transpose k3 s2 p1 output_padding 1 groups 2
         + BN + relu (overlapping taps, output_padding, groups)   [8,32,32]
      -> conv2d_transpose k2 s2 + hard_swish (exact cover)        [4,64,64]
      -> conv2d_transpose k3 s1 p2 dilation 2 (f32 output)        [2,64,64]

Usage: /work/pyenv/bin/python samples/generate_deconv.py [--out samples/deconv] (about 20 s on 2 cores).
Reuses generate.py (saving, references) and generate_families.py (BN statistics, PTQ, run ordering).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as G  # noqa: E402
import generate_families as GF  # noqa: E402
import numpy as np  # noqa: E402
import paddle  # noqa: E402
import paddle.nn as nn  # noqa: E402
from paddle.base import unique_name  # noqa: E402

SEED = 1313


class DeconvZoo(nn.Layer):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2D(3, 8, 3, padding=1, bias_attr=False)
        self.bn0 = nn.BatchNorm2D(8)
        self.up1 = nn.Conv2DTranspose(8, 8, 3, stride=2, padding=1, output_padding=1, groups=2)
        self.bn1 = nn.BatchNorm2D(8)
        self.up2 = nn.Conv2DTranspose(8, 4, 2, stride=2)
        self.act2 = nn.Hardswish()
        self.up3 = nn.Conv2DTranspose(4, 2, 3, stride=1, padding=2, dilation=2)

    def forward(self, x):
        y = nn.functional.relu(self.bn0(self.stem(x)))
        y = nn.functional.relu(self.bn1(self.up1(y)))
        y = self.act2(self.up2(y))
        return self.up3(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "deconv"))
    args = ap.parse_args()
    paddle.set_device("cpu")
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    calib = [(GF.images(SEED + i, 2, 16, 16),) for i in range(4)]
    fixed = [GF.images(SEED + 99, 1, 16, 16)]
    with unique_name.guard():
        GF.seed_all(SEED)
        paddle.disable_static()
        layer = DeconvZoo()
        GF.init_norms(layer, np.random.RandomState(SEED + 1))
        GF.bn_calibrate(layer, calib)
        GF.export(layer, os.path.join(out, "deconv_fp32"), [paddle.static.InputSpec([-1, 3, 16, 16], "float32", "x")])
    G.finish_saved(os.path.join(out, "deconv_fp32"))
    with unique_name.guard():
        GF.ptq(out, "deconv_fp32", "deconv_int8", calib, ["conv2d", "conv2d_transpose"])
    models = []
    for name, q in (("deconv_fp32", False), ("deconv_int8", True)):
        e = G.write_reference(out, name, fixed, q)
        if q:
            e["quantized_ops"] = GF.quantized_ops(os.path.join(out, name + ".pdmodel"))
        models.append(e)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"generator": "samples/generate_deconv.py", "paddle_version": paddle.__version__,
                   "models": models}, f, indent=2)


if __name__ == "__main__":
    main()
