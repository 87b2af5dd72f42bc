#!/usr/bin/env python3
"""Writes a large Paddle 3 PIR program to time qtop's reader: OUTDIR/inference.json + inference.pdiparams.

Exports a small conv+BN+ReLU stack with paddle.jit.save, then repeats its ops (ids renumbered, one set of
parameters per block, stored sorted by name as Paddle does) until the program has BLOCKS blocks; 6000 blocks
give a 17.5 MB program of 48k ops. Time it with e.g. `time .build/release/qtop graph OUTDIR > /dev/null`.

usage: scripts/make_big_pir.py OUTDIR [BLOCKS]
"""
import copy
import json
import os
import struct
import sys
import tempfile

import numpy as np
import paddle
import paddle.nn as nn
from paddle.base.proto import framework_pb2


def main():
    out = sys.argv[1]
    blocks = int(sys.argv[2]) if len(sys.argv) > 2 else 6000
    net = nn.Sequential(nn.Conv2D(4, 4, 3, padding=1, bias_attr=False), nn.BatchNorm2D(4), nn.ReLU())
    net.eval()
    with tempfile.TemporaryDirectory() as tmp:
        paddle.jit.save(net, tmp + "/m", input_spec=[paddle.static.InputSpec([-1, 4, 8, 8], "float32", "x")])
        src = json.load(open(tmp + "/m.json"))
    ops = src["program"]["regions"][0]["blocks"][0]["ops"]
    tmpl = {op["#"]: op for op in reversed(ops)}
    nid = [0]

    def new():
        nid[0] += 1
        return nid[0]

    def tensor(dims):
        return {"#": "0.t_dtensor", "D": [{"#": "0.t_f32"}, dims, "NCHW", [], 0]}

    params, body, chain = [], [], []

    def param(name, dims):
        p = copy.deepcopy(tmpl["p"])
        p["A"][-1] = name
        p["O"] = {"%": new(), "TT": tensor(dims)}
        params.append((name, dims))
        body.append(p)
        return p["O"]["%"]

    data = copy.deepcopy(tmpl["1.data"])
    x = new()
    data["O"][0]["%"] = x
    chain.append(data)
    for i in range(blocks):
        w = param(f"conv2d_{i}.w_0", [4, 4, 3, 3])
        scale, bias = param(f"batch_norm2d_{i}.w_0", [4]), param(f"batch_norm2d_{i}.b_0", [4])
        mean, var = param(f"batch_norm2d_{i}.w_1", [4]), param(f"batch_norm2d_{i}.w_2", [4])
        conv = copy.deepcopy(tmpl["1.conv2d"])
        conv["I"] = [{"%": x}, {"%": w}]
        conv["O"][0]["%"] = new()
        bn = copy.deepcopy(tmpl["1.batch_norm_"])
        bn["I"] = [{"%": conv["O"][0]["%"]}, {"%": mean}, {"%": var}, {"%": scale}, {"%": bias}]
        for o in bn["O"]:
            o["%"] = new()
        relu = copy.deepcopy(tmpl["1.relu"])
        relu["I"] = [{"%": bn["O"][0]["%"]}]
        x = new()
        relu["O"][0]["%"] = x
        chain += [conv, bn, relu]
    fetch = copy.deepcopy(tmpl["1.fetch"])
    fetch["I"] = [{"%": x}]
    fetch["O"][0]["%"] = new()
    chain.append(fetch)
    src["program"]["regions"][0]["blocks"][0]["ops"] = body + chain
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "inference.json"), "w") as f:
        json.dump(src, f, separators=(",", ":"))
    rng = np.random.RandomState(0)
    with open(os.path.join(out, "inference.pdiparams"), "wb") as f:
        for name, dims in sorted(params):
            a = rng.rand(*dims).astype(np.float32) * 0.2 + (0.9 if name.endswith("w_2") else 0.0)
            desc = framework_pb2.VarType.TensorDesc(data_type=5, dims=dims).SerializeToString()
            f.write(struct.pack("<IQIi", 0, 0, 0, len(desc)) + desc + a.tobytes())
    size = os.path.getsize(os.path.join(out, "inference.json"))
    print(f"{out}/inference.json: {size / 1e6:.1f} MB, {len(body) + len(chain)} ops")


if __name__ == "__main__":
    main()
