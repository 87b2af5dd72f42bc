#!/usr/bin/env python3
"""Checks `qtop graph --json` against what Paddle's own load_inference_model sees.

For each model: same ops in the same order (type, input and output slots), and every variable an op writes has
the shape and dtype Paddle declares (persistable tensors: the stored shape and dtype, which win).

Paddle 3 PIR programs (MODEL.json): Paddle's ops in order (constants that qtop folds into attributes —
full, full_int_array, assign_value — and the builtin parameter / combine / split ops left out) against qtop's
nodes, whose names carry the PIR op name (`pd_op.conv2d_3`); every result's shape and dtype against qtop's value.

usage: scripts/check_graph.py [--qtop PATH] [--python VENV_PYTHON] MODEL.pdmodel|MODEL.json ...
Exit status 0 when every model matches, 1 otherwise.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def qtop_graph(qtop, model):
    out = subprocess.run([qtop, "graph", model, "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"qtop graph failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def paddle_graph(python, model):
    out = subprocess.run([python, os.path.join(HERE, "paddle_graph_dump.py"), model], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"paddle dump failed: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout)


PIR_DUMP = r"""
import json, os, sys
os.environ.setdefault("GLOG_minloglevel", "3")
import warnings; warnings.filterwarnings("ignore")
import paddle
paddle.enable_static()
exe = paddle.static.Executor(paddle.CPUPlace())
prefix = sys.argv[1][:-len(".json")]
prog, feeds, fetches = paddle.static.load_inference_model(prefix, exe)
ops = []
for op in prog.global_block().ops:
    results = []
    for i in range(op.num_results()):
        r = op.result(i)
        try:
            results.append({"shape": list(r.shape), "dtype": str(r.dtype).replace("paddle.", "")})
        except Exception:
            results.append(None)
    ops.append({"name": op.name(), "results": results})
print(json.dumps({"ops": ops, "feeds": list(feeds)}))
"""

SKIPPED_PIR = {"builtin.parameter", "builtin.combine", "builtin.split", "pd_op.full", "pd_op.full_int_array",
               "pd_op.assign_value", "pd_op.assign_value_"}


def check_pir(qtop, python, model):
    q = qtop_graph(qtop, model)
    out = subprocess.run([python, "-c", PIR_DUMP, model], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"paddle dump failed: {out.stderr.strip()[-500:]}")
    p = json.loads(out.stdout)
    pops = [o for o in p["ops"] if o["name"] not in SKIPPED_PIR]
    problems = []
    if len(q["ops"]) != len(pops):
        problems.append(f"op count: qtop {len(q['ops'])}, paddle {len(pops)} (without folded constants)")
    values = q.get("values") or {}
    checked = 0
    for i, (qo, po) in enumerate(zip(q["ops"], pops)):
        name = po["name"]
        if name in ("pd_op.data", "pd_op.feed"):
            ok, value = qo["type"] == "feed", qo["outputs"].get("Out", [None])[0]
        elif name in ("pd_op.fetch", "builtin.shadow_output"):
            ok, value = qo["type"] == "fetch", None
        else:
            ok, value = qo["name"].rsplit("_", 1)[0] == name, qo["name"]
        if not ok:
            problems.append(f"op {i}: qtop {qo['type']} '{qo['name']}' vs paddle {name}")
            continue
        r = po["results"][0] if po["results"] else None
        if value is None or r is None or value not in values:
            continue
        checked += 1
        if values[value]["shape"] != r["shape"] or values[value]["dtype"] != r["dtype"]:
            problems.append(f"{value}: {values[value]['shape']} {values[value]['dtype']} vs paddle {r['shape']} {r['dtype']}")
    counts = {}
    for o in q["ops"]:
        counts[o["type"]] = counts.get(o["type"], 0) + 1
    return problems, counts, checked


def check(qtop, python, model):
    if model.endswith(".json"):
        return check_pir(qtop, python, model)
    q = qtop_graph(qtop, model)
    p = paddle_graph(python, model)
    problems = []
    if len(q["ops"]) != len(p["ops"]):
        problems.append(f"op count: qtop {len(q['ops'])}, paddle {len(p['ops'])}")
    qvars = {}
    for i, (qo, po) in enumerate(zip(q["ops"], p["ops"])):
        if qo["type"] != po["type"]:
            problems.append(f"op {i}: type {qo['type']} vs paddle {po['type']}")
            continue
        for key in ("inputs", "outputs"):
            qa = {k: v for k, v in qo[key].items() if v}
            pa = {k: v for k, v in po[key].items() if v}
            if qa != pa:
                problems.append(f"op {i} {qo['type']}: {key} {qa} vs paddle {pa}")
    # Shapes: qtop reports them through the inputs/outputs listing of `graph --json` only for model I/O, so ask
    # the text-free source: every op output's shape appears in the qtop listing of values.
    shapes = q.get("values") or {}
    for name, pv in p["vars"].items():
        if pv.get("type") != "dense_tensor" or name not in shapes:
            continue
        qv = shapes[name]
        want_shape = pv.get("stored_shape", pv["shape"]) if pv.get("persistable") else pv["shape"]
        want_dtype = pv.get("stored_dtype", pv["dtype"]) if pv.get("persistable") else pv["dtype"]
        if qv["shape"] != want_shape:
            problems.append(f"var {name}: shape {qv['shape']} vs paddle {want_shape}")
        if qv["dtype"] != want_dtype:
            problems.append(f"var {name}: dtype {qv['dtype']} vs paddle {want_dtype}")
    counts = {}
    for o in q["ops"]:
        counts[o["type"]] = counts.get(o["type"], 0) + 1
    return problems, counts, len(shapes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qtop", default=os.path.join(HERE, "..", ".build", "release", "qtop"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()
    bad = 0
    for m in args.models:
        try:
            problems, counts, nvals = check(args.qtop, args.python, m)
        except Exception as e:  # noqa: BLE001 - report and continue with the next model
            problems, counts, nvals = [str(e)], {}, 0
        status = "OK " if not problems else "BAD"
        print(f"{status} {m}: {sum(counts.values())} ops, {nvals} values checked")
        for pr in problems[:20]:
            print("    " + pr)
        bad += bool(problems)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
