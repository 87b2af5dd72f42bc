#!/usr/bin/env python3
"""Export full-size OCR family models (seeded random weights) as legacy fp32
.pdmodel/.pdiparams plus their Paddle-PTQ int8 twins, with a fixed input and
Paddle's own outputs for both. For benchmarks (bench/run.sh --models
ocr_det,ocr_rec); nothing written here is committed.

The architectures are the ones samples/generate_families.py declares for the
committed samples, built here at full width (DBNET_FULL, SVTR_FULL there):

    ocr_det  PP-OCRv3/v4 mobile DBNet: MobileNetV3-large x0.5, RSEFPN 96, DB head
             input x [1,3,640,640]
    ocr_rec  PP-OCRv4 mobile rec: PPLCNetV3 x0.95, SVTR neck (120 wide, 8 heads),
             CTC head over 6625 symbols; input x [1,3,48,320]

Usage:
    python scripts/export_family_models.py OUTDIR [--models ocr_det,ocr_rec] [--algo avg]
        [--calib-batches 2] [--keep-fp32]

Writes, per model NAME: OUTDIR/NAME_{fp32,int8}.{pdmodel,pdiparams,input.npy,output.npy}
and OUTDIR/manifest.json (same layout as samples/manifest.json, plus "shape":
the input shape the benchmark passes to qtop --shape and benchmark_app -shape).
The int8 twin is PostTrainingQuantization (onnx_format, channel-wise int8
weights, `--algo` activations: avg by default, as export_vision_models.py;
the committed samples use KL) over the family's quantizable op types,
calibrated on a few seeded images at the benchmark shape. --keep-fp32 reuses
an fp32 export already in OUTDIR (the export is deterministic).
Needs: pip install paddlepaddle==3.3.1 numpy
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "samples"))
sys.dont_write_bytecode = True  # keep samples/ free of __pycache__

import generate_families as GF  # sets FLAGS_enable_pir_api=0 before paddle is imported

import argparse
import json
import time

import numpy as np
import paddle
from paddle.utils import unique_name

G = GF.G  # samples/generate.py helpers

# name: (family key in generate_families, layer constructor, input shape, quantizable op types)
MODELS = {
    "ocr_det": dict(family="dbnet", shape=[1, 3, 640, 640], seed=201,
                    make=lambda: GF.DBNet(GF.DBNET_FULL), spec=[-1, 3, -1, -1]),
    "ocr_rec": dict(family="svtr", shape=[1, 3, 48, 320], seed=202,
                    make=lambda: GF.SVTRRec(cfg=GF.SVTR_FULL), spec=[-1, 3, 48, -1]),
}


def build(name):
    m = MODELS[name]
    GF.seed_all(m["seed"])
    paddle.disable_static()
    layer = m["make"]()
    GF.init_norms(layer, np.random.RandomState(m["seed"] + 1))
    _, c, h, w = m["shape"]
    GF.bn_calibrate(layer, [(GF.images(m["seed"] * 10 + i, 2, h, w),) for i in range(3)])
    layer.eval()
    return layer


def export_one(name, out, calib_batches, algo, keep_fp32):
    m = MODELS[name]
    t0 = time.time()
    fp32, int8 = f"{name}_fp32", f"{name}_int8"
    if keep_fp32 and os.path.exists(os.path.join(out, fp32 + ".pdiparams")):
        GF.log(f"{fp32}: kept")
    else:
        with unique_name.guard():
            layer = build(name)
            GF.export(layer, os.path.join(out, fp32), [GF.F32(m["spec"], "x")])
        del layer
        G.finish_saved(os.path.join(out, fp32))
        GF.log(f"{fp32}: exported ({time.time() - t0:.0f}s)")
    _, c, h, w = m["shape"]
    calib = [(GF.images(m["seed"] * 100 + i, 1, h, w),) for i in range(calib_batches)]
    with unique_name.guard():
        GF.ptq(out, fp32, int8, calib, GF.FAMILIES[m["family"]]["quant"], algo=algo)
    GF.log(f"{int8}: quantized ({time.time() - t0:.0f}s)")
    x = GF.images(m["seed"] * 1000, 1, h, w)
    entries = []
    for n, q in ((fp32, False), (int8, True)):
        e = G.write_reference(out, n, [x], q, {"family": m["family"], "shape": m["shape"],
                                               "source": f"scripts/export_family_models.py, seed {m['seed']}"
                                                         + (f", PTQ {algo}" if q else "")})
        entries.append(e)
    a = np.load(os.path.join(out, fp32 + ".output.npy")).ravel()
    b = np.load(os.path.join(out, int8 + ".output.npy")).ravel()
    cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
    entries[1]["cosine_vs_fp32"] = cos
    GF.log(f"{name}: done in {time.time() - t0:.0f}s; int8 vs fp32 output cosine {cos:.5f}")
    return entries


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--calib-batches", type=int, default=2)
    ap.add_argument("--algo", default="avg", help="PTQ activation algo: avg, abs_max, KL, hist, mse (default avg)")
    ap.add_argument("--keep-fp32", action="store_true", help="reuse NAME_fp32 files already in OUTDIR")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    out = G.prepare_output(args.outdir, args.threads)
    mpath = os.path.join(out, "manifest.json")
    models = G.manifest_models(mpath)
    for name in filter(None, (s.strip() for s in args.models.split(","))):
        if name not in MODELS:
            raise SystemExit(f"unknown family model {name!r}; known: {', '.join(MODELS)}")
        for e in export_one(name, out, args.calib_batches, args.algo, args.keep_fp32):
            models[e["name"]] = e
        with open(mpath, "w") as f:
            json.dump({"generator": "scripts/export_family_models.py",
                       "paddle_version": paddle.__version__,
                       "models": sorted(models.values(), key=lambda m: m["name"])}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
