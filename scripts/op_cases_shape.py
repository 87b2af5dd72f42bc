"""Paddle-checked fixtures for qtop's shape ops and multiclass_nms3 (ops-shape).

Runs paddlepaddle 3.3.1 in dygraph and writes tiny .npy files under
Tests/QtopRuntimeTests/Fixtures/ops_shape/: CASE.x.npy (input), CASE.out.npy (Paddle's output), plus
CASE.json with the attributes, read by Tests/QtopRuntimeTests/ShapeOpFixtureTests.swift.
Usage: /work/pyenv/bin/python scripts/op_cases_shape.py
"""
import json, os, sys
os.environ.setdefault("FLAGS_enable_pir_api", "0")  # the infer_flags cases build legacy static programs
import numpy as np
import paddle
from paddle.base.layer_helper import LayerHelper

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "QtopRuntimeTests", "Fixtures", "ops_shape")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(7)
cases = []


def save(name, op, attrs, inputs, outputs):
    def typed(v):
        if isinstance(v, bool): return ["b", v]
        if isinstance(v, int): return ["i", v]
        if isinstance(v, float): return ["f", v]
        if isinstance(v, str): return ["s", v]
        return ["is", [int(x) for x in v]]
    meta = {"name": name, "op": op, "attrs": {k: typed(v) for k, v in attrs.items()}, "inputs": {}, "outputs": {}}
    for slot, arr in inputs.items():
        f = f"{name}.{slot}.npy"
        np.save(os.path.join(OUT, f), arr)
        meta["inputs"][slot] = f
    for slot, arr in outputs.items():
        f = f"{name}.{slot}.out.npy"
        np.save(os.path.join(OUT, f), arr)
        meta["outputs"][slot] = f
    cases.append(meta)


x4 = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)

# slice: negative, out-of-range, empty, decrease_axis
for i, (axes, starts, ends, dec) in enumerate([
        ([1, 3], [-2, 1], [2147483647, -1], []),
        ([0, 2], [-100, 1], [100, 3], []),
        ([3], [4], [2], []),            # end < start
        ([1], [1], [2], [1]),            # decrease
        ([0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 1, 2, 3]),  # all decreased: 0-D
        ([2], [-1], [10000], [2])]):
    out = paddle._C_ops.slice(paddle.to_tensor(x4), axes, starts, ends, [1] * len(axes), dec)
    save(f"slice{i}", "slice", {"axes": axes, "starts": starts, "ends": ends, "decrease_axis": dec,
                                "infer_flags": [1] * len(axes)}, {"Input": x4}, {"Out": out.numpy()})

# strided_slice: positive and negative strides, clamping, the -1 "to the beginning" end
for i, (axes, starts, ends, strides) in enumerate([
        ([2, 3], [0, 1], [4, 5], [2, 2]),
        ([3], [-1], [-6], [-1]),
        ([3], [4], [-1], [-2]),          # end -1 with negative stride: to the beginning
        ([2, 3], [10, 100], [-10, 0], [-1, -3]),
        ([1], [0], [2147483647], [2]),
        ([3], [1], [4], [-1]),           # empty (start < end with negative stride)
        ([0, 3], [-1, 3], [-3, -100], [-1, -2])]):
    out = paddle.strided_slice(paddle.to_tensor(x4), axes, starts, ends, strides)
    save(f"strided_slice{i}", "strided_slice", {"axes": axes, "starts": starts, "ends": ends, "strides": strides,
                                                "infer_flags": [1] * len(axes), "decrease_axis": []},
         {"Input": x4}, {"Out": out.numpy()})

# split: num, sections with -1, negative axis
for i, (num, sections, axis) in enumerate([(3, [], 1), (0, [1, -1, 2], -1), (0, [2, 2], 2)]):
    outs = paddle.split(paddle.to_tensor(x4), sections if sections else num, axis=axis)
    save(f"split{i}", "split", {"num": num, "sections": sections, "axis": axis}, {"X": x4},
         {f"Out{j}": o.numpy() for j, o in enumerate(outs)})

# stack
for i, axis in enumerate([0, -1, 2]):
    a, b = x4[0], x4[1] * 2
    out = paddle.stack([paddle.to_tensor(a), paddle.to_tensor(b)], axis=axis)
    save(f"stack{i}", "stack", {"axis": axis}, {"X0": a, "X1": b}, {"Y": out.numpy()})

# matmul_v2: batch broadcasting, transposes, 1-D operands
mm = [((2, 1, 3, 4), (5, 4, 6), False, False), ((3, 4), (2, 5, 3), True, True), ((4,), (2, 4, 3), False, False),
      ((2, 3, 4), (4,), False, False), ((2, 4, 3), (2, 5, 4), True, True), ((4,), (4,), False, False)]
for i, (sx, sy, tx, ty) in enumerate(mm):
    a = rng.standard_normal(sx).astype(np.float32)
    b = rng.standard_normal(sy).astype(np.float32)
    out = paddle.matmul(paddle.to_tensor(a), paddle.to_tensor(b), transpose_x=tx, transpose_y=ty)
    save(f"matmul_v2_{i}", "matmul_v2", {"trans_x": tx, "trans_y": ty}, {"X": a, "Y": b}, {"Out": out.numpy()})

# multiclass_nms3: [N, M, 4] boxes, [N, C, M] scores; ties, overlaps, background, empty, keep_top_k cut
def nms_case(name, boxes, scores, **kw):
    attrs = dict(score_threshold=0.05, nms_top_k=-1, keep_top_k=-1, nms_threshold=0.5, normalized=True,
                 nms_eta=1.0, background_label=-1)
    attrs.update(kw)
    out, index, num = paddle._C_ops.multiclass_nms3(
        paddle.to_tensor(boxes), paddle.to_tensor(scores), None, attrs["score_threshold"], attrs["nms_top_k"],
        attrs["keep_top_k"], attrs["nms_threshold"], attrs["normalized"], attrs["nms_eta"], attrs["background_label"])
    save(name, "multiclass_nms3", attrs, {"BBoxes": boxes, "Scores": scores},
         {"Out": out.numpy(), "Index": index.numpy(), "NmsRoisNum": num.numpy()})

def rand_boxes(n, m, scale=1.0):
    xy = rng.uniform(0, 0.7, (n, m, 2)) * scale
    wh = rng.uniform(0.05, 0.4, (n, m, 2)) * scale
    return np.concatenate([xy, xy + wh], -1).astype(np.float32)

b = rand_boxes(2, 30)
s = rng.uniform(0, 1, (2, 4, 30)).astype(np.float32)
nms_case("nms0", b, s)
nms_case("nms1", b, s, keep_top_k=17, nms_top_k=12, background_label=0, score_threshold=0.3)
# ties: equal scores on overlapping and distinct boxes, duplicated boxes
bt = np.tile(np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0.1, 0.1, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3], [0, 0, 0.5, 0.5]],
                      np.float32), (1, 1, 1))
st = np.array([[[0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [0.9, 0.3, 0.9, 0.3, 0.9, 0.3], [0.2, 0.2, 0.2, 0.2, 0.2, 0.2]]],
              np.float32)
nms_case("nms2", bt, st, keep_top_k=5)
nms_case("nms3", bt, st, keep_top_k=-1, normalized=False, nms_threshold=0.3)
nms_case("nms4", b, s * 0.01)  # empty
bp = rand_boxes(1, 40, 100.0)
sp = rng.uniform(0, 1, (1, 3, 40)).astype(np.float32)
nms_case("nms5", bp, sp, normalized=False, nms_eta=0.7, nms_threshold=0.6, score_threshold=0.2, keep_top_k=25)

# dropout at inference, both implementations
for i, (p, mode, impl) in enumerate([(0.3, "downscale_in_infer", "downgrade_in_infer"), (0.3, "upscale_in_train", "upscale_in_train")]):
    out = paddle.nn.functional.dropout(paddle.to_tensor(x4), p=p, training=False, mode=mode)
    save(f"dropout{i}", "dropout", {"dropout_prob": p, "is_test": True, "dropout_implementation": impl}, {"X": x4},
         {"Out": out.numpy()})

# scale: bias before and after
for i, (sc, bias, after) in enumerate([(2.5, 0.5, False), (-1.0, 1.0, True)]):
    out = paddle.scale(paddle.to_tensor(x4), scale=sc, bias=bias, bias_after_scale=after)
    save(f"scale{i}", "scale", {"scale": sc, "bias": bias, "bias_after_scale": after}, {"X": x4}, {"Out": out.numpy()})

# fill_constant (int64 from str_value, float), fill_any_like (dtype kept / changed)
out = paddle.full([2, 3], 7, dtype="int64")
save("fill_constant0", "fill_constant", {"shape": [2, 3], "dtype": 3, "value": 7.0, "str_value": "7"}, {}, {"Out": out.numpy()})
out = paddle.full([4], -1.5, dtype="float32")
save("fill_constant1", "fill_constant", {"shape": [4], "dtype": 5, "value": -1.5, "str_value": ""}, {}, {"Out": out.numpy()})
out = paddle.full_like(paddle.to_tensor(x4), 3.5)
save("fill_any_like0", "fill_any_like", {"value": 3.5, "dtype": -1}, {"X": x4}, {"Out": out.numpy()})
out = paddle.full_like(paddle.to_tensor(x4), 3.7, dtype="int32")
save("fill_any_like1", "fill_any_like", {"value": 3.7, "dtype": 2}, {"X": x4}, {"Out": out.numpy()})

# reshape2 with 0 and -1, squeeze2 / unsqueeze2 with negative axes, transpose2, concat on a negative axis
save("reshape2_0", "reshape2", {"shape": [0, -1, 5]}, {"X": x4}, {"Out": paddle.reshape(paddle.to_tensor(x4), [0, -1, 5]).numpy()})
x1 = rng.standard_normal((2, 1, 4, 1)).astype(np.float32)
save("squeeze2_0", "squeeze2", {"axes": [1, -1]}, {"X": x1}, {"Out": paddle.squeeze(paddle.to_tensor(x1), [1, -1]).numpy()})
save("squeeze2_1", "squeeze2", {"axes": []}, {"X": x1}, {"Out": paddle.squeeze(paddle.to_tensor(x1)).numpy()})
save("unsqueeze2_0", "unsqueeze2", {"axes": [0, -1]}, {"X": x1},
     {"Out": paddle.unsqueeze(paddle.to_tensor(x1), [0, -1]).numpy()})
save("transpose2_0", "transpose2", {"axis": [0, 2, 3, 1]}, {"X": x4},
     {"Out": paddle.transpose(paddle.to_tensor(x4), [0, 2, 3, 1]).numpy()})
y4 = rng.standard_normal((2, 3, 2, 5)).astype(np.float32)
save("concat0", "concat", {"axis": -2}, {"X0": x4, "X1": y4},
     {"Out": paddle.concat([paddle.to_tensor(x4), paddle.to_tensor(y4)], axis=-2).numpy()})

# infer_flags -1 with start -1, end 0 on a decreased axis (how Paddle writes x[-1] on an unknown extent): only a
# legacy static program carries the attribute, so these run through the static executor
def static_op(op, attrs, x):
    paddle.enable_static()
    main, startup = paddle.static.Program(), paddle.static.Program()
    with paddle.static.program_guard(main, startup):
        xv = paddle.static.data("x", list(x.shape), "float32")
        helper = LayerHelper(op)
        o = helper.create_variable_for_type_inference("float32")
        helper.append_op(type=op, inputs={"Input": [xv]}, outputs={"Out": [o]}, attrs=dict(attrs))
    out = paddle.static.Executor(paddle.CPUPlace()).run(main, feed={"x": x}, fetch_list=[o])[0]
    paddle.disable_static()
    return out

for i, (axes, starts, ends, strides, flags, dec) in enumerate([
        ([3], [-1], [0], [1], [-1], [3]),                  # positive stride: Paddle takes the first element
        ([3], [-1], [0], [-2], [-1], [3]),                 # negative stride: the last
        ([1, 3], [-1, 1], [0, 3], [2, 1], [-1, -1], [1]),
        ([3], [-1], [0], [-1], [-1], []),                  # not decreased: the ordinary bounds
        ([2], [1], [3], [1], [-1], [])]):
    attrs = {"axes": axes, "starts": starts, "ends": ends, "strides": strides, "infer_flags": flags,
             "decrease_axis": dec}
    save(f"strided_slice_if{i}", "strided_slice", attrs, {"Input": x4}, {"Out": static_op("strided_slice", attrs, x4)})
attrs = {"axes": [2], "starts": [-1], "ends": [0], "infer_flags": [-1], "decrease_axis": [2]}
save("slice_if0", "slice", attrs, {"Input": x4}, {"Out": static_op("slice", attrs, x4)})

# multiclass_nms3, LoD form: per-class boxes [M, C, 4], scores [M, C], RoisNum [N] rows per image (an empty image
# included); Index numbers (row, class) pairs of Scores
def nms_lod_case(name, boxes, scores, rois, **kw):
    attrs = dict(score_threshold=0.3, nms_top_k=-1, keep_top_k=-1, nms_threshold=0.5, normalized=True,
                 nms_eta=1.0, background_label=-1)
    attrs.update(kw)
    out, index, num = paddle._C_ops.multiclass_nms3(
        paddle.to_tensor(boxes), paddle.to_tensor(scores), paddle.to_tensor(rois), attrs["score_threshold"],
        attrs["nms_top_k"], attrs["keep_top_k"], attrs["nms_threshold"], attrs["normalized"], attrs["nms_eta"],
        attrs["background_label"])
    save(name, "multiclass_nms3", attrs, {"BBoxes": boxes, "Scores": scores, "RoisNum": rois},
         {"Out": out.numpy(), "Index": index.numpy(), "NmsRoisNum": num.numpy()})

bl = rand_boxes(9, 3)
sl = rng.uniform(0, 1, (9, 3)).astype(np.float32)
nms_lod_case("nms_lod0", bl, sl, np.array([4, 0, 5], np.int32))
nms_lod_case("nms_lod1", bl, sl, np.array([6, 3], np.int32), background_label=0, keep_top_k=3, nms_top_k=2,
             score_threshold=0.1)

with open(os.path.join(OUT, "cases.json"), "w") as f:
    json.dump(cases, f, indent=1)
print(len(cases), "cases")
