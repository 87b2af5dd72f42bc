#!/usr/bin/env python3
"""Measures qtop against OpenVINO benchmark_app, interleaved in one run, and writes bench/RESULTS.md.

Rows: per ISA level the machine has (qtop `--isa L` against OpenVINO with ONEDNN_MAX_CPU_ISA=L; the convolution exec
types of `benchmark_app -pc` are recorded to show the cap took), per model, fp32 and PTQ int8, batch 1, latency and
throughput hints, same thread count. Ratios are computed from medians measured back to back (this machine is shared
and noisy; absolute numbers drift, ratios less so).
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
# Input shape per model (benchmark_app's -shape form; qtop gets the same as --shape NAME=[...]); the family
# models (scripts/export_family_models.py) have dynamic dims, the vision models 224x224.
SHAPES = {"ocr_det": ("x", [1, 3, 640, 640]), "ocr_rec": ("x", [1, 3, 48, 320])}
DEFAULT_SHAPE = ("x", [1, 3, 224, 224])


def ov_shape(model):
    name, dims = SHAPES.get(model_name(model), DEFAULT_SHAPE)
    return f"{name}[{','.join(map(str, dims))}]"


def qtop_shape(model):
    """--shape for qtop, only for models that need one (the vision rows keep their command line)."""
    if model_name(model) not in SHAPES:
        return []
    name, dims = SHAPES[model_name(model)]
    return ["--shape", f"{name}=[{','.join(map(str, dims))}]"]


def model_name(path):
    base = os.path.basename(path)
    for suffix in ("_fp32.pdmodel", "_int8.pdmodel"):
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


def find_model(dirs, name, prec):
    """The first of the --models-dir directories that has NAME_PREC.pdmodel."""
    for d in dirs:
        path = os.path.join(d, f"{name}_{prec}.pdmodel")
        if os.path.exists(path):
            return path
    raise SystemExit(f"{name}_{prec}.pdmodel is in none of {', '.join(dirs)}")


def cpu_flags():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_model():
    """Model name plus the vector extensions that decide the rows: VMs often report only "AMD EPYC", and the same name
    covers Zen 3 (AVX2 only) and Zen 4 (AVX-512 VNNI)."""
    name = platform.processor() or "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = cpu_flags()
    wanted = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx_vnni",
              "avx_vnni_int8", "amx_int8"]
    have = [f for f in wanted if f in flags]
    lacks = [f for f in ("avx512_vnni", "avx_vnni") if f not in flags]
    return f"{name}; has {', '.join(have) or 'no AVX2'}" + (f"; no {', '.join(lacks)}" if lacks else "")


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}\n{p.stdout[-2000:]}")
    return p.stdout + p.stderr


# qtop ISA level → oneDNN's ONEDNN_MAX_CPU_ISA value
OV_ISA = {"sse41": "SSE41", "avx2": "AVX2", "avx2_vnni": "AVX2_VNNI", "avx512_core": "AVX512_CORE",
          "avx512_vnni": "AVX512_CORE_VNNI"}


def machine_isas():
    """x86 levels this CPU has that qtop has kernels for (sse41 has none yet)."""
    flags = cpu_flags()
    out = []
    if {"avx2", "fma"} <= flags:
        out.append("avx2")
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        out.append("avx512_core")
        if "avx512_vnni" in flags:
            out.append("avx512_vnni")
    return out


def ov_env(isa):
    return dict(os.environ, ONEDNN_MAX_CPU_ISA=OV_ISA[isa])


def ov_measure(app, model, seconds, isa, hint, streams=None):
    """(median ms for latency / FPS for throughput, min ms or None, inference threads, streams) of one benchmark_app
    run."""
    # OpenVINO runs "fp32" models in bf16 on CPUs with avx512_bf16 unless told otherwise; compare f32 with f32.
    cmd = [app, "-m", model, "-d", "CPU", "-hint", hint, "-t", str(seconds), "-shape", ov_shape(model),
           "-infer_precision", "f32"]
    if streams:
        cmd += ["-nstreams", str(streams)]
    out = run(cmd, env=ov_env(isa))
    threads = re.search(r"INFERENCE_NUM_THREADS: (\d+)", out)
    nstreams = re.search(r"NUM_STREAMS: (\d+)", out)
    threads = int(threads.group(1)) if threads else None
    nstreams = int(nstreams.group(1)) if nstreams else None
    if hint == "throughput":
        fps = re.search(r"Throughput:\s+([\d.]+) FPS", out)
        if not fps:
            raise RuntimeError("benchmark_app printed no throughput:\n" + out[-2000:])
        return float(fps.group(1)), None, threads, nstreams
    med = re.search(r"Median:\s+([\d.]+) ms", out)
    low = re.search(r"Min:\s+([\d.]+) ms", out)
    if not med:
        raise RuntimeError("benchmark_app printed no median:\n" + out[-2000:])
    return float(med.group(1)), float(low.group(1)) if low else None, threads, nstreams


def ov_conv_exec_types(app, model, isa):
    """The exec types OpenVINO picked for convolutions under the ISA cap (e.g. jit_avx2_I8, brgconv_avx512_I8)."""
    out = run([app, "-m", model, "-d", "CPU", "-hint", "latency", "-niter", "2", "-shape", ov_shape(model),
               "-infer_precision", "f32", "-pc"], env=ov_env(isa))
    types = {}
    for line in out.splitlines():
        m = re.search(r"layerType:\s+Convolution\s+execType:\s+(\S+)", line)
        if m:
            types[m.group(1)] = types.get(m.group(1), 0) + 1
    return ", ".join(f"{k} ×{v}" for k, v in sorted(types.items(), key=lambda kv: -kv[1])) or "?"


def qtop_measure(qtop, model, mode, seconds, threads, isa, hint, streams=None):
    """(median ms for latency / FPS over all streams for throughput, min ms or None, ISA, streams) of one `qtop bench`
    run."""
    cmd = [qtop, "bench", model, "--mode", mode, "-t", str(seconds), "--threads", str(threads), "--isa", isa,
           "--hint", hint, "--json"] + qtop_shape(model)
    if streams:
        cmd += ["--streams", str(streams)]
    out = run(cmd)
    d = json.loads(out[out.index("{"):])
    if hint == "throughput":
        return d["throughput_fps"], None, d["isa"], d.get("streams", 1)
    return d["latency_ms"]["median"], d["latency_ms"]["min"], d["isa"], d.get("streams", 1)


def peak_rss_mb(cmd):
    out = run(["/usr/bin/time", "-v"] + cmd)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out)
    return int(m.group(1)) / 1024 if m else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models-dir", required=True, help="directory of NAME_{fp32,int8}.pdmodel; several joined by ':'")
    ap.add_argument("--qtop", required=True)
    ap.add_argument("--benchmark-app", required=True)
    ap.add_argument("--ov-python", required=True)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--models", default="resnet50,mobilenet_v2,mobilenet_v3_large,shufflenet_v2_x1_0")
    ap.add_argument("--isas", default=",".join(machine_isas()), help="qtop ISA levels to compare (default: the machine's)")
    ap.add_argument("--hints", default="latency,throughput")
    ap.add_argument("--rounds", type=int, default=2, help="alternate qtop/OpenVINO this many times per row")
    ap.add_argument("--streams", type=int, default=None,
                    help="throughput rows: streams for both (qtop --streams, benchmark_app -nstreams); default: each "
                         "tool's own choice for the hint (qtop: one per thread)")
    ap.add_argument("--append", metavar="LABEL", help="append the table to bench/RESULTS.md as a dated section "
                    "titled LABEL instead of rewriting the file")
    args = ap.parse_args()

    pb_dir = os.path.join(HERE, "out", "pb")
    fixed_dir = os.path.join(HERE, "out", "ov-models")
    os.makedirs(fixed_dir, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=pb_dir)

    rows = []
    isas = [i for i in args.isas.split(",") if i]
    hints = [h for h in args.hints.split(",") if h]
    model_dirs = [d for d in args.models_dir.split(":") if d]
    for name in args.models.split(","):
        for prec in ("fp32", "int8"):
            model = find_model(model_dirs, name, prec)
            ov_model = model
            if prec == "int8":
                prefix = os.path.join(fixed_dir, f"{name}_{prec}")
                run([args.ov_python, os.path.join(HERE, "ov_fix_model.py"), model, prefix], env=env)
                ov_model = prefix + ".pdmodel"
            for isa_cap in isas:
                try:
                    exec_types = ov_conv_exec_types(args.benchmark_app, ov_model, isa_cap)
                except RuntimeError as e:
                    # OpenVINO failing on a model is a result too (e.g. a crash under an ISA cap): say so, go on
                    why = str(e).splitlines()[0][-200:]
                    print(f"{isa_cap:12s} {name:18s} {prec:5s} OpenVINO failed: {why}", flush=True)
                    for h in hints:   # qtop's own figure still goes in the table
                        runs = [qtop_measure(args.qtop, model, prec, args.seconds, args.threads, isa_cap, h,
                                             args.streams if h == "throughput" else None) for _ in range(args.rounds)]
                        q = sorted(r[0] for r in runs)[len(runs) // 2]
                        rows.append(dict(model=name, precision=prec, cap=isa_cap, hint=h, qtop=q, ov=float("nan"),
                                         ratio=float("nan"), q_min=None, ov_min=None, isa=runs[0][2],
                                         ov_threads=None, q_streams=runs[0][3],
                                         ov_streams="-", ov_exec="OpenVINO failed (benchmark_app exited abnormally; "
                                         "see the section's notes)"))
                    continue
                for hint in hints:
                    q_vals, o_vals, isa, ov_threads, q_streams, ov_streams = [], [], "?", None, 1, None
                    q_mins, o_mins = [], []
                    streams = args.streams if hint == "throughput" else None
                    for _ in range(args.rounds):
                        q, q_min, isa, q_streams = qtop_measure(args.qtop, model, prec, args.seconds, args.threads,
                                                                isa_cap, hint, streams)
                        o, o_min, ov_threads, ov_streams = ov_measure(args.benchmark_app, ov_model, args.seconds,
                                                                      isa_cap, hint, streams)
                        q_vals.append(q)
                        o_vals.append(o)
                        q_mins += [q_min] if q_min is not None else []
                        o_mins += [o_min] if o_min is not None else []
                    q, o = sorted(q_vals)[len(q_vals) // 2], sorted(o_vals)[len(o_vals) // 2]
                    # ratio < 1 = qtop faster: time ratio for latency, inverse FPS ratio for throughput
                    ratio = q / o if hint == "latency" else o / q
                    rows.append(dict(model=name, precision=prec, cap=isa_cap, hint=hint, qtop=q, ov=o, ratio=ratio,
                                     q_min=min(q_mins) if q_mins else None, ov_min=min(o_mins) if o_mins else None,
                                     isa=isa, ov_threads=ov_threads, ov_exec=exec_types, q_streams=q_streams,
                                     ov_streams=ov_streams))
                    unit = "ms" if hint == "latency" else "FPS"
                    print(f"{isa_cap:12s} {name:18s} {prec:5s} {hint:10s} qtop {q:8.2f} {unit}   OpenVINO {o:8.2f} {unit}"
                          f"   ratio {ratio:5.2f}   streams {q_streams}/{ov_streams or '?'}   (qtop {isa}; OV {exec_types})",
                          flush=True)

    mem_rows = []
    r50 = os.path.join(model_dirs[0], "resnet50_int8.pdmodel")
    if "resnet50" in args.models.split(",") and os.path.exists(r50):
        qm = peak_rss_mb([args.qtop, "bench", r50, "--mode", "int8", "-n", "20", "--threads", str(args.threads), "--json"])
        om = peak_rss_mb([args.ov_python, os.path.join(HERE, "ov_memory.py"), os.path.join(fixed_dir, "resnet50_int8.pdmodel"), "20"])
        mem_rows.append(("resnet50 int8, 20 inferences", qm, om))
        print(f"peak RSS resnet50 int8: qtop {qm:.0f} MB, OpenVINO (Python API) {om:.0f} MB")

    ov_version = run([args.ov_python, "-c", "import openvino; print(openvino.__version__)"]).strip()
    qtop_version = subprocess.run(["git", "-C", os.path.join(HERE, ".."), "rev-parse", "--short", "HEAD"],
                                  capture_output=True, text=True).stdout.strip()

    top = isas[-1] if isas else None

    def speedup(model, impl):
        sel = [r for r in rows if r["model"] == model and r["cap"] == top and r["hint"] == "latency"]
        f = next((r for r in sel if r["precision"] == "fp32"), None)
        i = next((r for r in sel if r["precision"] == "int8"), None)
        return f[impl] / i[impl] if f and i else float("nan")

    lines = [
        "# qtop vs OpenVINO — side-by-side results",
        "",
        f"- Date: {datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M UTC')}",
        f"- CPU: {cpu_model()} ({os.cpu_count()} logical cores)",
        f"- qtop: git {qtop_version}, release build; OpenVINO: {ov_version} (benchmark_app, "
        f"{rows[0]['ov_threads'] if rows else '?'} inference threads in latency mode)",
        f"- Batch 1, input {'1×3×224×224' if not any(m in SHAPES for m in args.models.split(',')) else 'shapes as listed'}, {args.threads} qtop threads, {args.seconds} s per measurement, "
        f"{args.rounds} alternating rounds per row (median of rounds). Per ISA level L: `qtop --isa L` against "
        "OpenVINO with `ONEDNN_MAX_CPU_ISA` set to L; the last column lists the convolution exec types "
        "`benchmark_app -pc` reported under that cap.",
        "- Models: paddle.vision (pretrained=False) exported by scripts/export_vision_models.py, OCR det / rec (full-size "
        "PP-OCRv4-style DBNet / SVTR, seeded weights) by scripts/export_family_models.py; int8 = Paddle PTQ "
        "(quantize_linear/dequantize_linear, per-channel weights). OpenVINO reads them rewritten by bench/ov_fix_model.py.",
        "- Targets (issue 11): latency int8 ≤ 1.0× and fp32 ≤ 1.1× OpenVINO; throughput ≥ OpenVINO (ratio = OpenVINO "
        "FPS / qtop FPS ≤ 1.0). Throughput rows: FPS over all streams, each tool with the streams its throughput hint "
        "chose (the streams column; `--streams N` sets both).",
        "- The target is judged on medians. The min column (latency rows: each tool's fastest inference over all its "
        "rounds, qtop / OpenVINO = ratio) is a second reading that a host taking one vCPU for a while cannot inflate.",
        "",
        "| ISA cap | model | precision | hint | streams qtop / OV | qtop | OpenVINO | ratio | target | min qtop / OV (ratio) | qtop ISA | OpenVINO conv exec types |",
        "|---|---|---|---|---|---:|---:|---:|---|---|---|---|",
    ]
    for r in rows:
        bound = 1.0 if r["precision"] == "int8" or r["hint"] == "throughput" else 1.1
        target = f"≤ {bound} — {'met' if r['ratio'] <= bound else 'missed'}" if r["ratio"] == r["ratio"] else "no comparison"
        unit = "ms" if r["hint"] == "latency" else "FPS"
        mins = (f"{r['q_min']:.2f} / {r['ov_min']:.2f} ({r['q_min'] / r['ov_min']:.2f})"
                if r["q_min"] and r["ov_min"] else "-")
        lines.append(f"| {r['cap']} | {r['model']} | {r['precision']} | {r['hint']} | "
                     f"{r['q_streams']} / {r['ov_streams'] or '?'} | {r['qtop']:.2f} {unit} | "
                     f"{r['ov']:.2f} {unit} | {r['ratio']:.2f} | {target} | {mins} | {r['isa']} | {r['ov_exec']} |")
    lines += ["", f"| model ({top}, latency) | qtop int8 speed-up over fp32 | OpenVINO int8 speed-up over fp32 |",
              "|---|---:|---:|"]
    for name in args.models.split(","):
        lines.append(f"| {name} | {speedup(name, 'qtop'):.2f}× | {speedup(name, 'ov'):.2f}× |")
    if mem_rows:
        lines += ["", "| peak resident memory | qtop (MB) | OpenVINO Python API (MB) | target |", "|---|---:|---:|---|"]
        for label, qm, om in mem_rows:
            lines.append(f"| {label} | {qm:.0f} | {om:.0f} | qtop ≤ 150 — {'met' if qm <= 150 else 'missed'} |")
    lines += ["", "Regenerate with `bench/run.sh` (see its header)."]
    if args.append:
        # A section of its own under what is there: the header lines become a bullet list under a dated title.
        lines[0] = f"\n## {args.append} — {datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M UTC')}"
        shapes = ", ".join(f"{m} {ov_shape(m + '_fp32.pdmodel')}" for m in args.models.split(","))
        lines.insert(2, f"- Input shapes: {shapes}")
        with open(os.path.join(HERE, "RESULTS.md"), "a") as f:
            f.write("\n".join(lines) + "\n")
        print(f"appended '{args.append}' to bench/RESULTS.md")
        return
    with open(os.path.join(HERE, "RESULTS.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote bench/RESULTS.md")


if __name__ == "__main__":
    sys.exit(main())
