#!/usr/bin/env python3
"""Runs a model in Paddle on INPUT.npy and writes every non-persistable variable an op produces to OUTDIR/NAME.npy
(names sanitized like `qtop run --dump-values`), to compare with qtop layer by layer.

usage: paddle_dump_values.py MODEL.pdmodel INPUT.npy OUTDIR
"""
import os
import re
import sys

os.environ.setdefault("FLAGS_enable_pir_api", "0")
import numpy as np  # noqa: E402
import paddle  # noqa: E402


def main():
    model, inp, out = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out, exist_ok=True)
    paddle.enable_static()
    exe = paddle.static.Executor(paddle.CPUPlace())
    prog, feeds, fetches = paddle.static.load_inference_model(model[: -len(".pdmodel")], exe)
    block = prog.global_block()
    names = []
    for op in block.ops:
        if op.type in ("feed", "fetch"):
            continue
        for n in op.output_arg_names:
            v = block.var(n)
            if not v.persistable and n not in names and "XShape" not in n:
                names.append(n)
    vals = exe.run(prog, feed={feeds[0]: np.load(inp)}, fetch_list=names)
    for n, v in zip(names, vals):
        np.save(os.path.join(out, re.sub(r"[^A-Za-z0-9._-]", "_", n) + ".npy"), np.asarray(v))
    print(f"wrote {len(names)} values to {out}")


if __name__ == "__main__":
    main()
