#!/usr/bin/env python3
"""Regenerate the Paddle 3 PIR samples (pir_fp32, pir_int8) under samples/.

Usage:
    pip install paddlepaddle==3.3.1 numpy
    python samples/generate_pir.py [--out DIR]

Unlike generate.py this script keeps Paddle 3's default program format: paddle.jit.save
writes NAME.json (a PIR program) + NAME.pdiparams. It writes

  pir_fp32  a small CNN (conv+BN+ReLU, max pool, residual blocks, strided conv, adaptive
            avg pool, flatten, fc, softmax) built from named sub-layers, so every op carries a
            `struct_name` layer path;
  pir_int8  the same network after Paddle 3's own post-training quantization
            (paddle.quantization.PTQ + QuantConfig(AbsmaxObserver), quantize, calibrate,
            convert(remain_weight=True), jit.save): `quantize_linear` / `dequantize_linear`
            with five operands, float weights behind their own quantize + dequantize pair;

plus NAME.input.npy (batch 2) and NAME.output.npy computed by loading the saved files back
with paddle.static.load_inference_model and running paddle.static.Executor on the CPU
(Paddle's inference predictor fails on its own PTQ export in 3.3.1). manifest.json gets
(or updates) one entry per model; the legacy entries are left as they are.

Everything is seeded; two runs on the same machine give byte-identical files.
"""

import argparse
import json
import os

os.environ.setdefault("GLOG_minloglevel", "2")

import warnings

warnings.filterwarnings("ignore")

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 2
IMG = 32
CLASSES = 8


class ConvBNReLU(nn.Layer):
    def __init__(self, cin, cout, stride=1, bias=False):
        super().__init__()
        self.conv = nn.Conv2D(cin, cout, 3, stride=stride, padding=1, bias_attr=None if bias else False)
        self.bn = nn.BatchNorm2D(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Residual(nn.Layer):
    def __init__(self, c):
        super().__init__()
        self.body = ConvBNReLU(c, c)
        self.conv = nn.Conv2D(c, c, 3, padding=1, bias_attr=False)
        self.bn = nn.BatchNorm2D(c)

    def forward(self, x):
        return F.relu(self.bn(self.conv(self.body(x))) + x)


class PirNet(nn.Layer):
    def __init__(self):
        super().__init__()
        self.stem = ConvBNReLU(3, 16, bias=True)
        self.pool = nn.MaxPool2D(2, 2)
        self.stage1 = Residual(16)
        self.down = ConvBNReLU(16, 32, stride=2)
        self.stage2 = Residual(32)
        self.gap = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = self.stage2(self.down(self.stage1(self.pool(self.stem(x)))))
        return F.softmax(self.fc(paddle.flatten(self.gap(x), 1)))


def images(rng, n):
    """Smooth random images in [0, 1]: low-frequency patterns plus a little noise."""
    yy, xx = np.mgrid[0:IMG, 0:IMG].astype(np.float32) / IMG
    out = np.empty((n, 3, IMG, IMG), np.float32)
    for i in range(n):
        for c in range(3):
            fx, fy, ph = rng.uniform(0.5, 4, 2).tolist() + [rng.uniform(0, 6.3)]
            out[i, c] = 0.5 + 0.4 * np.sin(6.283 * (fx * xx + fy * yy) + ph)
        out[i] += rng.normal(0, 0.05, (3, IMG, IMG)).astype(np.float32)
    return np.clip(out, 0, 1)


def bn_calibrate(net, batches):
    """Running statistics = the exact mean of the batch statistics (random nets otherwise drift)."""
    bns = [m for m in net.sublayers() if isinstance(m, nn.BatchNorm2D)]
    net.train()
    with paddle.no_grad():
        for k, b in enumerate(batches):
            for m in bns:
                m._momentum = k / (k + 1.0)
            net(paddle.to_tensor(b))
    for m in bns:
        m._momentum = 0.9
    net.eval()


def build_net(rng):
    net = PirNet()
    # Larger fc weights make the softmax confident, so a wrong layer shows in the output.
    with paddle.no_grad():
        net.fc.weight.set_value(paddle.to_tensor(rng.normal(0, 1.5, net.fc.weight.shape).astype(np.float32)))
    bn_calibrate(net, [images(rng, 16) for _ in range(4)])
    return net


def save(layer, prefix, shape):
    paddle.jit.save(layer, prefix, input_spec=[paddle.static.InputSpec(shape, "float32", "x")])
    info = prefix + ".pdiparams.info"
    if os.path.exists(info):
        os.remove(info)


def run_saved(prefix, x):
    paddle.enable_static()
    try:
        exe = paddle.static.Executor(paddle.CPUPlace())
        scope = paddle.static.Scope()
        with paddle.static.scope_guard(scope):
            prog, feeds, fetches = paddle.static.load_inference_model(prefix, exe)
            out = exe.run(prog, feed={feeds[0]: x}, fetch_list=fetches, return_numpy=True)
        return list(feeds), np.asarray(out[0])
    finally:
        paddle.disable_static()


def op_counts(json_path):
    with open(json_path) as f:
        prog = json.load(f)["program"]
    counts = {}
    names = {"0": "builtin", "1": "pd_op", "2": "cf", "3": "custom_op", "4": "dist"}
    for op in prog["regions"][0]["blocks"][0]["ops"]:
        tag = op["#"]
        name = "builtin.parameter" if tag == "p" else names[tag.split(".", 1)[0]] + "." + tag.split(".", 1)[1]
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def entry(out_dir, name, x, shape, quantized, description, reference=None):
    """Saves the input and Paddle's output; `reference` replaces the static executor's output (see main)."""
    prefix = os.path.join(out_dir, name)
    feeds, y = run_saved(prefix, x)
    extra = {}
    if reference is not None:
        cos = float((y * reference).sum() / np.sqrt((y * y).sum() * (reference * reference).sum()))
        extra = {"reference": "dygraph", "static_executor_cosine": round(cos, 6)}
        y = reference
    np.save(prefix + ".input.npy", x)
    np.save(prefix + ".output.npy", y)
    return {"name": name, "description": description, "model": name + ".json", "params": name + ".pdiparams",
            "quantized": quantized, "format": "pir",
            "inputs": [{"name": feeds[0], "shape": shape, "dtype": "float32", "file": name + ".input.npy",
                        "file_shape": list(x.shape)}],
            "outputs": [{"name": "fetch_name_0", "file": name + ".output.npy", "shape": list(y.shape),
                         "dtype": str(y.dtype)}],
            "op_types": op_counts(prefix + ".json"), **extra}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    paddle.set_device("cpu")
    paddle.seed(2024)
    rng = np.random.RandomState(2024)

    net = build_net(rng)
    x = images(rng, BATCH)
    save(net, os.path.join(out, "pir_fp32"), [-1, 3, IMG, IMG])
    models = [entry(out, "pir_fp32", x, [-1, 3, IMG, IMG], False,
                    "Paddle 3 PIR program (inference.json layout): small CNN with layer paths")]

    from paddle.quantization import PTQ, QuantConfig
    from paddle.quantization.observers import AbsmaxObserver
    ptq = PTQ(QuantConfig(activation=AbsmaxObserver(quant_bits=8), weight=AbsmaxObserver(quant_bits=8)))
    qnet = ptq.quantize(net, inplace=False)
    with paddle.no_grad():
        for _ in range(8):
            qnet(paddle.to_tensor(images(rng, 8)))
    qnet = ptq.convert(qnet, inplace=True, remain_weight=True)
    qnet.eval()
    with paddle.no_grad():
        y_dygraph = qnet(paddle.to_tensor(x)).numpy()
    # Paddle 3.3.1's PIR quantize_linear allocates a persistable buffer of the input's shape, so the
    # quantized program needs a fixed batch.
    save(qnet, os.path.join(out, "pir_int8"), [BATCH, 3, IMG, IMG])
    # Paddle 3.3.1's static executor runs the saved program's pd_op.dequantize_linear as a second quantize
    # (dequantize_linear(13., scale 1) gives 127.), so its output for this file is saturated. The reference is
    # the same converted network run in dygraph mode, where Paddle's QDQ kernels compute what the file states.
    models.append(entry(out, "pir_int8", x, [BATCH, 3, IMG, IMG], True,
                        "pir_fp32 after Paddle 3 PTQ (paddle.quantization.PTQ, AbsmaxObserver, remain_weight=True)",
                        reference=y_dygraph))

    mpath = os.path.join(out, "manifest.json")
    doc = {"default": "shapes_int8", "models": []}
    if os.path.exists(mpath):
        with open(mpath) as f:
            doc = json.load(f)
    keep = [m for m in doc["models"] if m["name"] not in {m2["name"] for m2 in models}]
    doc["models"] = keep + models
    with open(mpath, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    for m in models:
        size = sum(os.path.getsize(os.path.join(out, m["name"] + s))
                   for s in (".json", ".pdiparams", ".input.npy", ".output.npy"))
        print(f"{m['name']}: {size / 1e3:.0f} kB, output {np.load(os.path.join(out, m['name'] + '.output.npy'))[0].round(3)}")


if __name__ == "__main__":
    main()
