#!/usr/bin/env python3
"""Export paddle.vision classification models (random, seeded weights) as legacy
fp32 .pdmodel/.pdiparams plus their post-training-quantized int8 twins, with a
fixed input and Paddle's own outputs for both. For verification and benchmarks;
nothing written here is committed.

Usage:
    python scripts/export_vision_models.py OUTDIR [--models resnet50,mobilenet_v2]
        [--size 224] [--algo avg] [--calib-batches 4] [--batch 2] [--seed 0]

Writes, per model NAME:
    OUTDIR/NAME_fp32.pdmodel  NAME_fp32.pdiparams  NAME_fp32.input.npy  NAME_fp32.output.npy
    OUTDIR/NAME_int8.pdmodel  NAME_int8.pdiparams  NAME_int8.input.npy  NAME_int8.output.npy
and OUTDIR/manifest.json (same layout as samples/manifest.json).

The int8 twin is PostTrainingQuantization(onnx_format=True,
weight_quantize_type='channel_wise_abs_max') calibrated on a few procedural
images (no downloads). BatchNorm running statistics of the randomly
initialised nets are first set from a few procedural batches so activations
keep a sane range through deep nets. Outputs are computed by loading the
saved files back with paddle.static.load_inference_model and a CPU Executor.
Needs: pip install paddlepaddle==3.3.1 numpy
"""

import os
import sys

os.environ["FLAGS_enable_pir_api"] = "0"  # legacy .pdmodel, before importing paddle
os.environ.setdefault("GLOG_minloglevel", "2")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "samples"))
sys.dont_write_bytecode = True  # keep samples/ free of __pycache__

import argparse
import json
import time
import traceback

import numpy as np
import paddle
import paddle.nn.functional as F

import generate as G  # samples/generate.py: PTQ / reference-run helpers

DEFAULT_MODELS = ("resnet18,resnet50,mobilenet_v2,mobilenet_v3_small,"
                  "shufflenet_v2_x0_25,squeezenet1_0")
MEAN = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
STD = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]


def procedural_images(n, size, seed):
    """Procedural shapes images (samples/generate.py) resized to size x size
    and ImageNet-normalised, float32 [n,3,size,size]."""
    x, _ = G.make_shapes_dataset(n, seed)
    paddle.disable_static()
    if size != G.IMG:
        x = F.interpolate(paddle.to_tensor(x), size=[size, size], mode="bilinear",
                          align_corners=False).numpy()
    rng = np.random.RandomState(seed + 17)
    x = x + rng.normal(0, 0.02, x.shape).astype(np.float32)
    return ((x - MEAN) / STD).astype(np.float32)


def export_one(name, out, size, algo, calib_batches, batch, seed, bn_batches):
    import paddle.vision.models as M
    if not hasattr(M, name):
        raise SystemExit(f"unknown paddle.vision model: {name}")
    t0 = time.time()
    G.seed_all(seed)
    paddle.disable_static()
    model = getattr(M, name)(pretrained=False)
    data = procedural_images(bn_batches * batch, size, seed + 1)
    G.bn_calibrate(model, [data[i:i + batch] for i in range(0, len(data), batch)])
    fp32, int8 = f"{name}_fp32", f"{name}_int8"
    G.save_dygraph_model(model, os.path.join(out, fp32), [-1, 3, size, size])
    del model
    G.log(f"{fp32}: exported ({time.time() - t0:.0f}s)")

    calib = procedural_images(calib_batches * batch, size, seed + 2)
    G.ptq(out, fp32, out, int8, [calib[i:i + batch] for i in range(0, len(calib), batch)],
          onnx_format=True, algo=algo)
    G.log(f"{int8}: quantized ({time.time() - t0:.0f}s)")

    x_in = procedural_images(1, size, seed + 3)
    entries = []
    for n, q in ((fp32, False), (int8, True)):
        e = G.write_reference(out, n, [x_in], q, {"source": f"paddle.vision.models.{name}"
                                                  f"(pretrained=False), seed {seed}"})
        o = np.load(os.path.join(out, e["outputs"][0]["file"]))
        e["top1_of_input"] = int(o.reshape(o.shape[0], -1).argmax(-1)[0])
        entries.append(e)
    a = np.load(os.path.join(out, fp32 + ".output.npy"))
    b = np.load(os.path.join(out, int8 + ".output.npy"))
    cos = float((a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
    entries[1]["cosine_vs_fp32"] = cos
    G.log(f"{name}: done in {time.time() - t0:.0f}s; int8 vs fp32 output cosine {cos:.5f}, "
          f"max |diff| {float(np.abs(a - b).max()):.4g}")
    return entries


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--models", default=DEFAULT_MODELS,
                    help=f"comma list of paddle.vision.models names (default: {DEFAULT_MODELS})")
    ap.add_argument("--size", type=int, default=224, help="input height/width (default 224)")
    ap.add_argument("--algo", default="avg",
                    help="PTQ activation algo: avg, abs_max, KL, hist, mse (default avg)")
    ap.add_argument("--calib-batches", type=int, default=4)
    ap.add_argument("--batch", type=int, default=2, help="calibration batch size")
    ap.add_argument("--bn-batches", type=int, default=4,
                    help="procedural batches used to set BatchNorm statistics")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    out = G.prepare_output(args.outdir, args.threads)
    mpath = os.path.join(out, "manifest.json")
    models = G.manifest_models(mpath)
    failed = []
    for name in filter(None, (m.strip() for m in args.models.split(","))):
        G.log(f"exporting {name} at {args.size}x{args.size} ...")
        try:
            for e in export_one(name, out, args.size, args.algo, args.calib_batches,
                                args.batch, args.seed, args.bn_batches):
                e["size"] = args.size
                models[e["name"]] = e
        except Exception:
            traceback.print_exc()
            failed.append(name)
        with open(mpath, "w") as f:
            json.dump({"generator": "scripts/export_vision_models.py",
                       "paddle_version": paddle.__version__,
                       "models": sorted(models.values(), key=lambda m: m["name"])}, f, indent=2)
            f.write("\n")
    if failed:
        G.log(f"FAILED: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
