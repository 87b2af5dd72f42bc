#!/usr/bin/env python3
"""Print, as JSON, what Paddle itself sees in block 0 of a legacy inference model.

Usage:
    python scripts/paddle_graph_dump.py MODEL.pdmodel [--attrs] [--no-params] [--indent N]

The model is loaded with paddle.static.load_inference_model (MODEL.pdiparams
must sit next to MODEL.pdmodel). Output:

    {"model": ..., "feeds": [...], "fetches": [...],
     "ops":  [{"type", "inputs": {slot: [var]}, "outputs": {slot: [var]}, ["attrs": {...}]}],
     "vars": {name: {"shape": [...], "dtype": "float32", "type": "dense_tensor",
                     "persistable": bool,
                     # persistable vars only, unless --no-params: what the
                     # .pdiparams file actually holds (PTQ stores int8 weights
                     # and 0-d / [1, C] scales under float32 [C] declarations)
                     "stored_dtype": "int8", "stored_shape": [...]}}}

Used to check `qtop graph --json` op lists and shapes against Paddle's.
"""

import os

os.environ["FLAGS_enable_pir_api"] = "0"
os.environ.setdefault("GLOG_minloglevel", "2")

import argparse
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import numpy as np
import paddle

# Attributes that are bookkeeping only (stack traces, device hints).
_SKIP_ATTRS = {"op_callstack", "op_namescope", "op_role", "op_role_var", "op_device",
               "with_quant_attr", "name"}


def _dtype_name(dt):
    s = str(dt)
    for prefix in ("paddle.", "VarType.", "DataType."):
        if s.startswith(prefix):
            s = s[len(prefix):]
    return {"FP32": "float32", "FP64": "float64", "FP16": "float16", "BF16": "bfloat16",
            "INT8": "int8", "UINT8": "uint8", "INT16": "int16", "INT32": "int32",
            "INT64": "int64", "BOOL": "bool"}.get(s.upper(), s.lower())


def _jsonable(v):
    if isinstance(v, (bool, int, str)) or v is None:
        return v
    if isinstance(v, float):
        return v if np.isfinite(v) else str(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, np.generic):
        return _jsonable(v.item())
    if hasattr(v, "idx"):  # sub-block
        return {"block": v.idx}
    if hasattr(v, "name") and callable(getattr(v, "name")):
        return v.name()
    return str(v)


def dump(pdmodel, with_attrs=False, with_params=True):
    prefix = pdmodel[:-len(".pdmodel")] if pdmodel.endswith(".pdmodel") else pdmodel
    paddle.enable_static()
    exe = paddle.static.Executor(paddle.CPUPlace())
    scope = paddle.static.Scope()
    with paddle.static.scope_guard(scope):
        prog, feeds, fetches = paddle.static.load_inference_model(prefix, exe)
        block = prog.global_block()
        ops = []
        for op in block.ops:
            rec = {"type": op.type,
                   "inputs": {slot: list(op.input(slot)) for slot in op.input_names},
                   "outputs": {slot: list(op.output(slot)) for slot in op.output_names}}
            if with_attrs:
                attrs = {}
                for a in sorted(op.attr_names):
                    if a in _SKIP_ATTRS:
                        continue
                    try:
                        attrs[a] = _jsonable(op.attr(a))
                    except Exception as exc:  # pragma: no cover - exotic attr types
                        attrs[a] = f"<{type(exc).__name__}>"
                rec["attrs"] = attrs
            ops.append(rec)
        vars_ = {}
        for name in sorted(block.vars):
            v = block.vars[name]
            rec = {"type": _dtype_name(v.type).replace("lod_tensor", "dense_tensor"),
                   "persistable": bool(v.persistable)}
            try:
                rec["shape"] = [int(d) for d in v.shape]
                rec["dtype"] = _dtype_name(v.dtype)
            except Exception:
                pass
            if with_params and v.persistable:
                sv = scope.find_var(name)
                if sv is not None:
                    try:
                        t = sv.get_tensor()
                        arr = np.array(t)
                        rec["stored_dtype"] = str(arr.dtype)
                        rec["stored_shape"] = list(arr.shape)
                    except Exception:
                        pass
            vars_[name] = rec
    return {"model": os.path.abspath(prefix + ".pdmodel"),
            "feeds": list(feeds), "fetches": [f.name for f in fetches],
            "ops": ops, "vars": vars_}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="path to NAME.pdmodel (NAME.pdiparams next to it)")
    ap.add_argument("--attrs", action="store_true", help="include op attributes")
    ap.add_argument("--no-params", action="store_true",
                    help="do not report stored dtype/shape of persistable tensors")
    ap.add_argument("--indent", type=int, default=1)
    args = ap.parse_args()
    doc = dump(args.model, args.attrs, not args.no_params)
    json.dump(doc, sys.stdout, indent=args.indent if args.indent > 0 else None)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
