#!/usr/bin/env python3
"""Runs small single-op programs through paddlepaddle 3.3.1 and saves inputs, attributes and Paddle's outputs as
fixtures for qtop's reference kernels (Tests/Fixtures/ops/math: cases.json + tiny .npy files).

Each case is one legacy OpDesc appended to a static Program exactly as an exported model carries it (op type,
input / output slots, attributes), run by paddle.static.Executor on the CPU. Tests/QtopRuntimeTests/
PaddleOpCaseTests.swift replays every case on qtop's reference kernel.

    /work/pyenv/bin/python scripts/op_cases_math.py
"""
import json
import os
import shutil
import sys

os.environ["FLAGS_enable_pir_api"] = "0"
import numpy as np  # noqa: E402
import paddle  # noqa: E402

paddle.enable_static()
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "ops", "math")
rng = np.random.default_rng(13)
cases = []


def f32(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


FLOAT_LISTS = {"scale"}  # attributes declared as float lists (an empty one must stay floats)


def attr_json(v, name=""):
    if isinstance(v, list) and not v and name in FLOAT_LISTS:
        return ["floats", []]
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, int):
        return ["int", v]
    if isinstance(v, float):
        return ["float", v]
    if isinstance(v, str):
        return ["string", v]
    if isinstance(v, list):
        if all(isinstance(e, bool) for e in v) and v:
            return ["bools", v]
        if all(isinstance(e, int) for e in v):
            return ["ints", v]
        return ["floats", [float(e) for e in v]]
    raise TypeError(v)


def case(name, op, inputs, outputs, attrs=None):
    """inputs: slot -> [array]; outputs: slot -> [dtype]. Runs the op in Paddle and records the case."""
    attrs = attrs or {}
    main, start = paddle.static.Program(), paddle.static.Program()
    feed = {}
    with paddle.static.program_guard(main, start):
        block = main.global_block()
        ins = {}
        for slot, arrs in inputs.items():
            vs = []
            for i, a in enumerate(arrs):
                vname = f"{slot}_{i}"
                vs.append(block.create_var(name=vname, shape=a.shape, dtype=str(a.dtype)))
                feed[vname] = a
            ins[slot] = vs
        outs, fetch = {}, []
        for slot, dts in outputs.items():
            vs = [block.create_var(name=f"{slot}_out{i}", dtype=dt) for i, dt in enumerate(dts)]
            outs[slot] = vs
            fetch += vs
        block.append_op(type=op, inputs=ins, outputs=outs, attrs=dict(attrs))
    res = paddle.static.Executor(paddle.CPUPlace()).run(main, feed=feed, fetch_list=fetch)
    rec = {"name": name, "op": op, "attrs": {k: attr_json(v, k) for k, v in attrs.items()}, "inputs": {}, "outputs": {}}
    k = 0
    for slot, arrs in inputs.items():
        rec["inputs"][slot] = []
        for i, a in enumerate(arrs):
            fn = f"{name}.{slot}{i}.npy"
            np.save(os.path.join(OUT, fn), a)
            rec["inputs"][slot].append(fn)
    for slot, dts in outputs.items():
        rec["outputs"][slot] = []
        for i in range(len(dts)):
            fn = f"{name}.out.{slot}{i}.npy"
            np.save(os.path.join(OUT, fn), np.asarray(res[k]))
            rec["outputs"][slot].append(fn)
            k += 1
    cases.append(rec)


def interp_cases():
    x = f32(1, 2, 3, 4)
    base = {"out_d": -1, "out_h": -1, "out_w": -1, "scale": [], "data_layout": "NCHW"}

    def nearest(name, extra, inputs=None, xx=x):
        a = dict(base, interp_method="nearest", align_corners=False, align_mode=1)
        a.update(extra)
        case(name, "nearest_interp_v2", dict({"X": [xx]}, **(inputs or {})), {"Out": ["float32"]}, a)

    def bilinear(name, extra, inputs=None, xx=x):
        a = dict(base, interp_method="bilinear", align_corners=False, align_mode=0)
        a.update(extra)
        case(name, "bilinear_interp_v2", dict({"X": [xx]}, **(inputs or {})), {"Out": ["float32"]}, a)

    nearest("nearest_scale2", {"scale": [2.0, 2.0]})
    nearest("nearest_size_5x7", {"out_h": 5, "out_w": 7})
    nearest("nearest_size_5x7_corners", {"out_h": 5, "out_w": 7, "align_corners": True})
    nearest("nearest_down_2x3", {"out_h": 2, "out_w": 3})
    nearest("nearest_scale_1_5x2_5", {"scale": [1.5, 2.5]})
    nearest("nearest_nhwc_scale2", {"scale": [2.0, 2.0], "data_layout": "NHWC"}, xx=f32(1, 3, 4, 2))
    nearest("nearest_outsize_over_scale", {"scale": [2.0, 2.0]}, {"OutSize": [np.array([6, 5], np.int32)]})
    nearest("nearest_sizetensor_over_outsize", {"scale": [2.0, 2.0]},
            {"OutSize": [np.array([6, 5], np.int32)], "SizeTensor": [np.array([4], np.int32), np.array([9], np.int32)]})
    nearest("nearest_scale_tensor", {"out_h": 5, "out_w": 5}, {"Scale": [np.array([3.0], np.float32)]})
    nearest("nearest_scale_over_outhw", {"out_h": 5, "out_w": 5, "scale": [2.0, 2.0]})
    bilinear("bilinear_half_pixel_7x9", {"out_h": 7, "out_w": 9})
    bilinear("bilinear_mode1_7x9", {"out_h": 7, "out_w": 9, "align_mode": 1})
    bilinear("bilinear_corners_7x9", {"out_h": 7, "out_w": 9, "align_corners": True})
    bilinear("bilinear_scale_half", {"scale": [0.5, 0.5]}, xx=f32(1, 2, 8, 6))
    bilinear("bilinear_scale_3", {"scale": [3.0, 3.0]})
    bilinear("bilinear_nhwc_5x6", {"out_h": 5, "out_w": 6, "data_layout": "NHWC"}, xx=f32(2, 3, 4, 3))
    bilinear("bilinear_outsize", {}, {"OutSize": [np.array([5, 11], np.int32)]})
    bilinear("bilinear_sizetensor_i64", {}, {"SizeTensor": [np.array(6, np.int64), np.array(2, np.int64)]})
    bilinear("bilinear_same_size", {"out_h": 3, "out_w": 4})
    bilinear("bilinear_to_1x1", {"out_h": 1, "out_w": 1})


def conv_transpose_cases():
    def ct(name, x, w, attrs, op="conv2d_transpose"):
        a = {"strides": [1, 1], "paddings": [0, 0], "dilations": [1, 1], "groups": 1, "output_padding": [],
             "output_size": [], "padding_algorithm": "EXPLICIT", "data_format": "NCHW"}
        a.update(attrs)
        case(name, op, {"Input": [x], "Filter": [w]}, {"Output": ["float32"]}, a)

    ct("convt_s2_p1_k4", f32(1, 4, 5, 5), f32(4, 3, 4, 4), {"strides": [2, 2], "paddings": [1, 1]})
    ct("convt_groups2_dil2_outpad", f32(2, 4, 4, 3), f32(4, 2, 3, 3),
       {"strides": [2, 2], "paddings": [1, 1], "dilations": [2, 2], "groups": 2, "output_padding": [1, 1]})
    ct("convt_output_size", f32(1, 3, 4, 4), f32(3, 2, 3, 3), {"strides": [2, 2], "paddings": [1, 1], "output_size": [8, 8]})
    ct("convt_same_s2", f32(1, 3, 5, 4), f32(3, 2, 3, 3), {"strides": [2, 2], "padding_algorithm": "SAME", "dilations": [2, 2]})
    ct("convt_valid_s3", f32(1, 2, 3, 3), f32(2, 2, 2, 3), {"strides": [3, 2], "paddings": [2, 2], "padding_algorithm": "VALID"})
    ct("convt_asym_pads", f32(1, 2, 4, 5), f32(2, 3, 3, 3), {"strides": [2, 1], "paddings": [1, 0, 2, 1]})
    ct("convt_nhwc", f32(1, 4, 5, 3), f32(3, 2, 2, 2), {"strides": [2, 2], "data_format": "NHWC"})
    ct("convt_depthwise", f32(1, 3, 4, 4), f32(3, 1, 3, 3), {"strides": [2, 2], "paddings": [1, 1], "groups": 3},
       op="depthwise_conv2d_transpose")


def unary_cases():
    x = f32(2, 3, 4, lo=-4, hi=4)
    x[0, 0, :3] = [0.0, -3.0, 3.0]
    pos = f32(2, 3, 4, lo=0.01, hi=5)
    for name, op, attrs, xx in [
        ("hard_sigmoid_0_2", "hard_sigmoid", {"slope": 0.2, "offset": 0.5}, x),
        ("hard_sigmoid_sixth", "hard_sigmoid", {"slope": 0.1666667, "offset": 0.5}, x),
        ("sigmoid", "sigmoid", {}, x),
        ("swish_beta1", "swish", {"beta": 1.0}, x),
        ("silu", "silu", {}, x),
        ("gelu_exact", "gelu", {"approximate": False}, x),
        ("gelu_tanh", "gelu", {"approximate": True}, x),
        ("tanh", "tanh", {}, x),
        ("exp", "exp", {}, x),
        ("sqrt", "sqrt", {}, pos),
        ("pow_3", "pow", {"factor": 3.0}, x),
        ("pow_half", "pow", {"factor": 0.5}, pos),
        ("relu", "relu", {}, x),
        ("relu6", "relu6", {"threshold": 6.0}, x * 2),
        ("leaky_relu", "leaky_relu", {"alpha": 0.1}, x),
        ("hard_swish", "hard_swish", {"threshold": 6.0, "scale": 6.0, "offset": 3.0}, x),
        ("abs", "abs", {}, x),
        ("elu", "elu", {"alpha": 0.7}, x),
        ("softplus", "softplus", {"beta": 2.0, "threshold": 3.0}, x),
        ("mish", "mish", {"threshold": 20.0}, x),
        ("softmax_axis1", "softmax", {"axis": 1}, x),
        ("log_softmax_last", "log_softmax", {"axis": -1}, x),
    ]:
        case(name, op, {"X": [xx]}, {"Out": ["float32"]}, attrs)
    case("pow_factor_tensor", "pow", {"X": [pos], "FactorTensor": [np.array([2.5], np.float32)]}, {"Out": ["float32"]},
         {"factor": 1.0})
    case("clip_attrs", "clip", {"X": [x]}, {"Out": ["float32"]}, {"min": -1.5, "max": 0.5})
    case("clip_tensors", "clip", {"X": [x], "Min": [np.array([-0.5], np.float32)], "Max": [np.array([2.0], np.float32)]},
         {"Out": ["float32"]}, {"min": -1.5, "max": 0.5})


def layer_norm_cases():
    x = f32(2, 3, 8)
    case("layer_norm_axis2", "layer_norm", {"X": [x], "Scale": [f32(8)], "Bias": [f32(8)]},
         {"Y": ["float32"], "Mean": ["float32"], "Variance": ["float32"]}, {"begin_norm_axis": 2, "epsilon": 1e-5})
    x4 = f32(2, 2, 3, 4, lo=-1, hi=3)
    case("layer_norm_axis1_noaffine", "layer_norm", {"X": [x4]},
         {"Y": ["float32"], "Mean": ["float32"], "Variance": ["float32"]}, {"begin_norm_axis": 1, "epsilon": 1e-3})
    case("layer_norm_scale_only", "layer_norm", {"X": [x4], "Scale": [f32(12)]},
         {"Y": ["float32"], "Mean": ["float32"], "Variance": ["float32"]}, {"begin_norm_axis": 2, "epsilon": 1e-5})


def elementwise_cases():
    x = f32(2, 3, 4, 5)
    for op in ["add", "sub", "mul", "div", "max", "min", "pow", "floordiv", "mod"]:
        xx, yy = x, f32(5)
        if op in ("pow",):
            xx = np.abs(x) + 0.1
        if op in ("div", "floordiv", "mod"):
            yy = np.where(np.abs(yy) < 0.3, 0.7, yy).astype(np.float32)
        case(f"ew_{op}_trailing", f"elementwise_{op}", {"X": [xx], "Y": [yy]}, {"Out": ["float32"]}, {"axis": -1})
    case("ew_add_axis1", "elementwise_add", {"X": [x], "Y": [f32(3, 4)]}, {"Out": ["float32"]}, {"axis": 1})
    case("ew_mul_axis1_trailing1", "elementwise_mul", {"X": [x], "Y": [f32(3, 1)]}, {"Out": ["float32"]}, {"axis": 1})
    case("ew_sub_axis0", "elementwise_sub", {"X": [x], "Y": [f32(2)]}, {"Out": ["float32"]}, {"axis": 0})
    case("ew_div_bcast_both", "elementwise_div", {"X": [f32(2, 1, 4)], "Y": [f32(3, 1) + 3]}, {"Out": ["float32"]}, {"axis": -1})
    case("ew_add_y_bigger", "elementwise_add", {"X": [f32(4, 5)], "Y": [x]}, {"Out": ["float32"]}, {"axis": -1})
    case("ew_add_scalar0d", "elementwise_add", {"X": [x], "Y": [np.array(1.5, np.float32)]}, {"Out": ["float32"]}, {"axis": -1})
    a = rng.integers(-20, 20, size=(3, 4)).astype(np.int64)
    b = rng.integers(1, 6, size=(4,)).astype(np.int64) * np.array([1, -1, 1, -1], np.int64)
    for op in ["add", "sub", "mul", "div", "floordiv", "mod", "max", "min"]:
        case(f"ew_{op}_i64", f"elementwise_{op}", {"X": [a], "Y": [b]}, {"Out": ["int64"]}, {"axis": -1})
    ai = rng.integers(-20, 20, size=(3, 4)).astype(np.int32)
    case("ew_mod_i32", "elementwise_mod", {"X": [ai], "Y": [b.astype(np.int32)]}, {"Out": ["int32"]}, {"axis": -1})
    case("sum_three", "sum", {"X": [f32(2, 3), f32(2, 3), f32(2, 3)]}, {"Out": ["float32"]})


def compare_cases():
    ids = rng.integers(0, 4, size=(2, 6)).astype(np.int64)
    case("equal_i64_0d", "equal", {"X": [ids], "Y": [np.array(0, np.int64)]}, {"Out": ["bool"]}, {"axis": -1})
    x, y = f32(2, 3, 4), f32(3, 4)
    y[0, 0] = x[0, 0, 0]
    for op in ["equal", "not_equal", "less_than", "less_equal", "greater_than", "greater_equal"]:
        case(f"cmp_{op}", op, {"X": [x], "Y": [y]}, {"Out": ["bool"]}, {"axis": -1})
    # compare ops: shape inference broadcasts NumPy-style, the kernel aligns Y at `axis` (X [3,3], Y [3], axis 0)
    case("cmp_less_axis0", "less_than", {"X": [f32(3, 3)], "Y": [f32(3)]}, {"Out": ["bool"]}, {"axis": 0})
    p = rng.integers(0, 2, size=(2, 3)).astype(bool)
    q = rng.integers(0, 2, size=(3,)).astype(bool)
    for op in ["logical_and", "logical_or", "logical_xor"]:
        case(op, op, {"X": [p], "Y": [q]}, {"Out": ["bool"]})
    case("logical_not", "logical_not", {"X": [p]}, {"Out": ["bool"]})
    c = rng.integers(0, 2, size=(2, 3, 4)).astype(bool)
    case("where_same", "where", {"Condition": [c], "X": [x], "Y": [f32(2, 3, 4)]}, {"Out": ["float32"]})


def reduce_cases():
    x = f32(2, 3, 4)
    for kind in ["mean", "sum", "max", "min", "prod"]:
        case(f"reduce_{kind}_dim1", f"reduce_{kind}", {"X": [x]}, {"Out": ["float32"]},
             {"dim": [1], "keep_dim": False, "reduce_all": False})
        case(f"reduce_{kind}_neg_keep", f"reduce_{kind}", {"X": [x]}, {"Out": ["float32"]},
             {"dim": [-1, 0], "keep_dim": True, "reduce_all": False})
    case("reduce_sum_all", "reduce_sum", {"X": [x]}, {"Out": ["float32"]}, {"dim": [0], "keep_dim": False, "reduce_all": True})
    xi = rng.integers(-5, 9, size=(3, 4)).astype(np.int32)
    case("reduce_sum_i32_to_i64", "reduce_sum", {"X": [xi]}, {"Out": ["int64"]},
         {"dim": [1], "keep_dim": False, "reduce_all": False, "out_dtype": 3, "in_dtype": 2})
    case("reduce_max_i64", "reduce_max", {"X": [xi.astype(np.int64)]}, {"Out": ["int64"]},
         {"dim": [0], "keep_dim": False, "reduce_all": False})
    t = f32(2, 3, 4)
    t[0, 1, :] = t[0, 0, :]  # ties along axis 1: the first index wins
    case("arg_max_axis1_keep_i32", "arg_max", {"X": [t]}, {"Out": ["int32"]},
         {"axis": 1, "keepdims": True, "flatten": False, "dtype": 2})
    case("arg_max_last_i64", "arg_max", {"X": [t]}, {"Out": ["int64"]},
         {"axis": -1, "keepdims": False, "flatten": False, "dtype": 3})
    case("arg_min_axis0", "arg_min", {"X": [t]}, {"Out": ["int64"]},
         {"axis": 0, "keepdims": False, "flatten": False, "dtype": 3})
    case("arg_max_flatten", "arg_max", {"X": [t]}, {"Out": ["int64"]},
         {"axis": 0, "keepdims": False, "flatten": True, "dtype": 3})


def misc_cases():
    x = np.array([[-2.7, -2.5, -0.4, 0.0], [0.6, 2.5, 3.99, 100.2]], np.float32)
    case("cast_f32_i32", "cast", {"X": [x]}, {"Out": ["int32"]}, {"in_dtype": 5, "out_dtype": 2})
    case("cast_f32_i64", "cast", {"X": [x]}, {"Out": ["int64"]}, {"in_dtype": 5, "out_dtype": 3})
    case("cast_f32_bool", "cast", {"X": [x]}, {"Out": ["bool"]}, {"in_dtype": 5, "out_dtype": 0})
    case("cast_bool_f32", "cast", {"X": [x > 0]}, {"Out": ["float32"]}, {"in_dtype": 0, "out_dtype": 5})
    case("cast_bool_i64", "cast", {"X": [x > 0]}, {"Out": ["int64"]}, {"in_dtype": 0, "out_dtype": 3})
    case("cast_i64_f32", "cast", {"X": [np.array([[-3, 0, 7, 123456789]], np.int64)]}, {"Out": ["float32"]},
         {"in_dtype": 3, "out_dtype": 5})
    case("cast_i32_i32", "cast", {"X": [np.array([3, -4], np.int32)]}, {"Out": ["int32"]}, {"in_dtype": 2, "out_dtype": 2})
    y = f32(2, 3, 4)
    for name, attrs in [("cumsum_axis1", {"axis": 1}), ("cumsum_flatten", {"flatten": True}),
                        ("cumsum_exclusive", {"axis": -1, "exclusive": True}), ("cumsum_reverse", {"axis": 0, "reverse": True}),
                        ("cumsum_excl_rev", {"axis": 2, "exclusive": True, "reverse": True})]:
        a = {"axis": -1, "flatten": False, "exclusive": False, "reverse": False}
        a.update(attrs)
        case(name, "cumsum", {"X": [y]}, {"Out": ["float32"]}, a)
    case("cumsum_i64", "cumsum", {"X": [np.ones((1, 7), np.int64)]}, {"Out": ["int64"]},
         {"axis": 1, "flatten": False, "exclusive": False, "reverse": False})
    w = f32(10, 4)
    ids = np.array([[0, 3, 9], [0, 1, 5]], np.int64)
    case("lookup_pad0", "lookup_table_v2", {"Ids": [ids], "W": [w]}, {"Out": ["float32"]}, {"padding_idx": 0})
    case("lookup_nopad_1d", "lookup_table_v2", {"Ids": [np.array([4, 4, 2], np.int64)], "W": [w]}, {"Out": ["float32"]},
         {"padding_idx": -1})
    px = f32(2, 3, 2, 2, lo=-3, hi=3)
    case("prelu_all", "prelu", {"X": [px], "Alpha": [np.array([0.25], np.float32)]}, {"Out": ["float32"]},
         {"mode": "all", "data_format": "NCHW"})
    case("prelu_channel", "prelu", {"X": [px], "Alpha": [f32(3)]}, {"Out": ["float32"]}, {"mode": "channel", "data_format": "NCHW"})
    case("prelu_channel_nhwc", "prelu", {"X": [f32(2, 2, 2, 3)], "Alpha": [f32(3)]}, {"Out": ["float32"]},
         {"mode": "channel", "data_format": "NHWC"})
    case("prelu_element", "prelu", {"X": [px], "Alpha": [f32(1, 3, 2, 2)]}, {"Out": ["float32"]},
         {"mode": "element", "data_format": "NCHW"})
    v = f32(1, 2, 2, 3, 4)
    for mode in ["constant", "reflect", "replicate", "circular"]:
        case(f"pad3d_{mode}", "pad3d", {"X": [v]}, {"Out": ["float32"]},
             {"paddings": [1, 2, 0, 1, 1, 0], "mode": mode, "value": 0.5, "data_format": "NCDHW"})
    case("pad3d_ndhwc_reflect", "pad3d", {"X": [f32(1, 2, 3, 4, 2)]}, {"Out": ["float32"]},
         {"paddings": [2, 1, 1, 1, 0, 1], "mode": "reflect", "value": 0.0, "data_format": "NDHWC"})
    case("pad3d_tensor", "pad3d", {"X": [v], "Paddings": [np.array([0, 1, 1, 0, 0, 1], np.int32)]}, {"Out": ["float32"]},
         {"paddings": [0, 0, 0, 0, 0, 0], "mode": "constant", "value": -1.0, "data_format": "NCDHW"})
    case("pixel_shuffle_nchw", "pixel_shuffle", {"X": [f32(1, 8, 2, 3)]}, {"Out": ["float32"]},
         {"upscale_factor": 2, "data_format": "NCHW"})
    case("pixel_shuffle_nhwc", "pixel_shuffle", {"X": [f32(1, 2, 3, 8)]}, {"Out": ["float32"]},
         {"upscale_factor": 2, "data_format": "NHWC"})


def main():
    only = sys.argv[1:]
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    groups = [interp_cases, conv_transpose_cases, unary_cases, layer_norm_cases, elementwise_cases, compare_cases,
              reduce_cases, misc_cases]
    for g in groups:
        if not only or g.__name__ in only:
            g()
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"paddle": paddle.__version__, "cases": cases}, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"{len(cases)} cases, {total / 1024:.0f} KB in {OUT}")


if __name__ == "__main__":
    main()
