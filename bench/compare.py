#!/usr/bin/env python3
"""Measures qtop against OpenVINO benchmark_app, interleaved in one run, and writes bench/RESULTS.md.

Rows: ResNet50 and MobileNetV2, fp32 and PTQ int8, batch 1, latency hint, same thread count. Ratios are computed
from medians measured back to back (this machine is shared and noisy; absolute numbers drift, ratios less so).
Peak resident memory of `qtop bench --mode int8` and of OpenVINO's Python API on ResNet50 int8 is measured with
/usr/bin/time -v.
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}\n{p.stdout[-2000:]}")
    return p.stdout + p.stderr


def ov_latency(app, model, seconds):
    # OpenVINO runs "fp32" models in bf16 on CPUs with avx512_bf16 unless told otherwise; compare f32 with f32.
    out = run([app, "-m", model, "-d", "CPU", "-hint", "latency", "-t", str(seconds), "-shape", "x[1,3,224,224]",
               "-infer_precision", "f32"])
    med = re.search(r"Median:\s+([\d.]+) ms", out)
    threads = re.search(r"INFERENCE_NUM_THREADS: (\d+)", out)
    if not med:
        raise RuntimeError("benchmark_app printed no median:\n" + out[-2000:])
    return float(med.group(1)), int(threads.group(1)) if threads else None


def qtop_latency(qtop, model, mode, seconds, threads):
    out = run([qtop, "bench", model, "--mode", mode, "-t", str(seconds), "--threads", str(threads), "--json"])
    d = json.loads(out[out.index("{"):])
    return d["latency_ms"]["median"], d["isa"]


def peak_rss_mb(cmd):
    out = run(["/usr/bin/time", "-v"] + cmd)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out)
    return int(m.group(1)) / 1024 if m else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--qtop", required=True)
    ap.add_argument("--benchmark-app", required=True)
    ap.add_argument("--ov-python", required=True)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--models", default="resnet50,mobilenet_v2")
    ap.add_argument("--rounds", type=int, default=2, help="alternate qtop/OpenVINO this many times per row")
    args = ap.parse_args()

    pb_dir = os.path.join(HERE, "out", "pb")
    fixed_dir = os.path.join(HERE, "out", "ov-models")
    os.makedirs(fixed_dir, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=pb_dir)

    rows = []
    for name in args.models.split(","):
        for prec in ("fp32", "int8"):
            model = os.path.join(args.models_dir, f"{name}_{prec}.pdmodel")
            ov_model = model
            if prec == "int8":
                prefix = os.path.join(fixed_dir, f"{name}_{prec}")
                run([args.ov_python, os.path.join(HERE, "ov_fix_model.py"), model, prefix], env=env)
                ov_model = prefix + ".pdmodel"
            q_meds, o_meds, isa, ov_threads = [], [], "?", None
            for _ in range(args.rounds):
                q, isa = qtop_latency(args.qtop, model, prec, args.seconds, args.threads)
                o, ov_threads = ov_latency(args.benchmark_app, ov_model, args.seconds)
                q_meds.append(q)
                o_meds.append(o)
            q, o = sorted(q_meds)[len(q_meds) // 2], sorted(o_meds)[len(o_meds) // 2]
            rows.append(dict(model=name, precision=prec, qtop=q, ov=o, ratio=q / o, isa=isa, ov_threads=ov_threads))
            print(f"{name:14s} {prec:5s} qtop {q:8.2f} ms   OpenVINO {o:8.2f} ms   ratio {q / o:5.2f}   ({isa})", flush=True)

    mem_rows = []
    r50 = os.path.join(args.models_dir, "resnet50_int8.pdmodel")
    if os.path.exists(r50):
        qm = peak_rss_mb([args.qtop, "bench", r50, "--mode", "int8", "-n", "20", "--threads", str(args.threads), "--json"])
        om = peak_rss_mb([args.ov_python, os.path.join(HERE, "ov_memory.py"), os.path.join(fixed_dir, "resnet50_int8.pdmodel"), "20"])
        mem_rows.append(("resnet50 int8, 20 inferences", qm, om))
        print(f"peak RSS resnet50 int8: qtop {qm:.0f} MB, OpenVINO (Python API) {om:.0f} MB")

    ov_version = run([args.ov_python, "-c", "import openvino; print(openvino.__version__)"]).strip()
    qtop_version = subprocess.run(["git", "-C", os.path.join(HERE, ".."), "rev-parse", "--short", "HEAD"],
                                  capture_output=True, text=True).stdout.strip()

    def speedup(model, impl):
        f = next((r for r in rows if r["model"] == model and r["precision"] == "fp32"), None)
        i = next((r for r in rows if r["model"] == model and r["precision"] == "int8"), None)
        return f[impl] / i[impl] if f and i else float("nan")

    lines = [
        "# qtop vs OpenVINO — side-by-side results",
        "",
        f"- Date: {datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M UTC')}",
        f"- CPU: {cpu_model()} ({os.cpu_count()} logical cores)",
        f"- qtop: git {qtop_version}, release build; OpenVINO: {ov_version} (benchmark_app, `-hint latency`, "
        f"{rows[0]['ov_threads'] if rows else '?'} inference threads)",
        f"- Batch 1, input 1×3×224×224, {args.threads} qtop threads, {args.seconds} s per measurement, "
        f"{args.rounds} alternating rounds per row (median of rounds).",
        "- Models: paddle.vision (pretrained=False) exported by scripts/export_vision_models.py; int8 = Paddle PTQ "
        "(quantize_linear/dequantize_linear, per-channel weights). OpenVINO reads them rewritten by bench/ov_fix_model.py.",
        "",
        "| model | precision | qtop median (ms) | OpenVINO median (ms) | qtop / OpenVINO | target | qtop ISA |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        target = ""
        if r["model"] == "resnet50":
            bound = 1.25 if r["precision"] == "int8" else 1.5
            target = f"≤ {bound} — {'met' if r['ratio'] <= bound else 'missed'}"
        lines.append(f"| {r['model']} | {r['precision']} | {r['qtop']:.2f} | {r['ov']:.2f} | {r['ratio']:.2f} | {target} | {r['isa']} |")
    lines += ["", "| model | qtop int8 speed-up over fp32 | OpenVINO int8 speed-up over fp32 |", "|---|---:|---:|"]
    for name in args.models.split(","):
        lines.append(f"| {name} | {speedup(name, 'qtop'):.2f}× | {speedup(name, 'ov'):.2f}× |")
    if mem_rows:
        lines += ["", "| peak resident memory | qtop (MB) | OpenVINO Python API (MB) | target |", "|---|---:|---:|---|"]
        for label, qm, om in mem_rows:
            lines.append(f"| {label} | {qm:.0f} | {om:.0f} | qtop ≤ 150 — {'met' if qm <= 150 else 'missed'} |")
    lines += ["", "Regenerate with `bench/run.sh` (see its header)."]
    with open(os.path.join(HERE, "RESULTS.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote bench/RESULTS.md")


if __name__ == "__main__":
    sys.exit(main())
