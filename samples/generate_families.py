#!/usr/bin/env python3
"""Regenerate the model-family samples under samples/families/.

Usage:
    pip install paddlepaddle==3.3.1 numpy
    python samples/generate_families.py [--out DIR] [--only dbnet,svtr,...] [--no-pir]

One small model per family that users bring to qtop, each re-declared in
paddle.nn after the family's real architecture (same block structure, same op
types and attributes as the exported originals, tiny channel counts), with
seeded random weights and BatchNorm statistics set from seeded images:

    dbnet     PP-OCRv3/v4 DBNet text detector      x [-1,3,-1,-1]
    svtr      PP-OCRv4 SVTR text recognizer (CTC)   x [-1,3,48,-1]
    lcnet     PP-LCNet classifier                   x [-1,3,-1,-1]
    ppyoloe   PP-YOLOE-s detector + multiclass_nms3 image [-1,3,64,64], scale_factor [-1,2]
    liteseg   PP-LiteSeg segmenter (arg_max output) x [-1,3,-1,-1]
    ernie     ERNIE 3.0 / BERT encoder              input_ids int64 [-1,-1]
    yolov5    YOLOv5 as converted by X2Paddle       x [-1,3,64,64]

For each family F it writes F_fp32.{pdmodel,pdiparams} (legacy ProgramDesc),
its Paddle post-training-quantized twin F_int8.* (onnx_format: quantize_linear
/ dequantize_linear, per-channel int8 weights), a fixed input F_*.input.npy and
Paddle's outputs F_*.output*.npy, computed by loading the saved files back and
running them on paddle.static.Executor(CPUPlace). The DBNet detector is also
exported as a Paddle 3 PIR program (dbnet_pir.json + .pdiparams) by a second
Python process (the PIR switch must be decided before paddle is imported).
manifest.json lists everything (same layout as samples/manifest.json plus
`family` and `quantized_ops`).

Two runs give byte-identical files (same Paddle version and CPU).
"""

import os
import sys

PIR_WORKER = "--pir-worker" in sys.argv
if PIR_WORKER:
    # Paddle 3's default, said explicitly so that generate.py (imported below) keeps it:
    # paddle.jit.save writes a PIR .json program
    os.environ["FLAGS_enable_pir_api"] = "1"
else:
    # legacy .pdmodel ProgramDesc (must be set before paddle is imported)
    os.environ["FLAGS_enable_pir_api"] = "0"
os.environ.setdefault("GLOG_minloglevel", "2")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep samples/ free of __pycache__

import argparse
import json
import subprocess
import time
import warnings

warnings.filterwarnings("ignore")

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from paddle.utils import unique_name

sys.path.insert(0, HERE)
import generate as G  # noqa: E402  (shared helpers and blocks; keeps the flag chosen above)

OUT_DEFAULT = os.path.join(HERE, "families")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------
# Ops that Paddle 3.3's generated Python functions refuse to emit into a
# legacy static program ("must be Value, but got Variable"): append the
# legacy op directly there, call the normal API in dygraph and under PIR.
# --------------------------------------------------------------------------


def _legacy_static():
    from paddle.base.framework import in_pir_mode
    return not paddle.in_dynamic_mode() and not in_pir_mode()


def _append(op_type, inputs, attrs, outputs=("Out",), dtypes=None):
    from paddle.base.layer_helper import LayerHelper
    helper = LayerHelper(op_type)
    dtypes = dtypes or ["float32"] * len(outputs)
    outs = {s: helper.create_variable_for_type_inference(dtype=d) for s, d in zip(outputs, dtypes)}
    helper.append_op(type=op_type, inputs=inputs, outputs={s: [v] for s, v in outs.items()},
                     attrs=attrs)
    return [outs[s] for s in outputs]


def sigmoid(x):
    return _append("sigmoid", {"X": [x]}, {})[0] if _legacy_static() else F.sigmoid(x)


def tanh(x):
    return _append("tanh", {"X": [x]}, {})[0] if _legacy_static() else paddle.tanh(x)


def gelu(x, approximate=False):
    if _legacy_static():
        return _append("gelu", {"X": [x]}, {"approximate": approximate})[0]
    return F.gelu(x, approximate=approximate)


def matmul(x, y, trans_x=False, trans_y=False):
    if _legacy_static():
        return _append("matmul_v2", {"X": [x], "Y": [y]},
                       {"trans_x": trans_x, "trans_y": trans_y})[0]
    return paddle.matmul(x, y, transpose_x=trans_x, transpose_y=trans_y)


def argmax_i32(x, axis):
    """paddle.argmax(x, axis, keepdim=True, dtype='int32') as PaddleSeg exports it."""
    if _legacy_static():
        return _append("arg_max", {"X": [x]}, {"axis": axis, "keepdims": True, "flatten": False,
                                               "dtype": 2}, dtypes=["int32"])[0]
    return paddle.argmax(x, axis=axis, keepdim=True, dtype="int32")


def multiclass_nms3(bboxes, scores, score_threshold, nms_top_k, keep_top_k, nms_threshold,
                    normalized=True, nms_eta=1.0, background_label=-1):
    """PaddleDetection's ops.multiclass_nms as exported: Out [M,6] (label, score,
    x1, y1, x2, y2), Index [M,1], NmsRoisNum [N] (boxes per image)."""
    attrs = {"background_label": background_label, "score_threshold": score_threshold,
             "nms_top_k": nms_top_k, "nms_threshold": nms_threshold, "nms_eta": nms_eta,
             "keep_top_k": keep_top_k, "normalized": normalized}
    if _legacy_static():
        out, index, num = _append("multiclass_nms3", {"BBoxes": [bboxes], "Scores": [scores]},
                                  attrs, outputs=("Out", "Index", "NmsRoisNum"),
                                  dtypes=["float32", "int32", "int32"])
        for v in (out, index, num):
            v.stop_gradient = True
        return out, num
    out, _, num = paddle._C_ops.multiclass_nms3(bboxes, scores, None, score_threshold, nms_top_k,
                                                keep_top_k, nms_threshold, normalized, nms_eta,
                                                background_label)
    return out, num


# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------


class ConvBNAct(G.ConvBN):
    """generate.ConvBN with no activation by default, plus X2Paddle's sigmoid(x) * x (ONNX Sigmoid + Mul)."""

    ACTIVATIONS = {**G.ConvBN.ACTIVATIONS, "silu_sigmoid": lambda x: x * sigmoid(x)}

    def __init__(self, cin, cout, k, stride=1, groups=1, act=None, padding=None):
        super().__init__(cin, cout, k, stride=stride, groups=groups, act=act, padding=padding)


class SEModule(nn.Layer):
    """pool2d (adaptive avg 1) -> conv -> relu -> conv -> hard_sigmoid -> elementwise_mul.
    PP-OCR uses hard_sigmoid(slope=0.2, offset=0.5); PaddleClas nn.Hardsigmoid (1/6, 0.5)."""

    def __init__(self, c, reduction=4, slope=0.2, offset=0.5):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.conv1 = nn.Conv2D(c, max(c // reduction, 4), 1)
        self.conv2 = nn.Conv2D(max(c // reduction, 4), c, 1)
        self.slope, self.offset = slope, offset

    def forward(self, x):
        s = F.relu(self.conv1(self.pool(x)))
        s = F.hardsigmoid(self.conv2(s), slope=self.slope, offset=self.offset)
        return x * s


# --------------------------------------------------------------------------
# DBNet (PP-OCRv3 det: MobileNetV3 backbone, RSEFPN neck, DB head)
# --------------------------------------------------------------------------


class MV3Block(nn.Layer):
    def __init__(self, cin, mid, cout, k, stride, se, act):
        super().__init__()
        self.expand = ConvBNAct(cin, mid, 1, act=act)
        self.dw = ConvBNAct(mid, mid, k, stride=stride, groups=mid, act=act)
        self.se = SEModule(mid) if se else None
        self.linear = ConvBNAct(mid, cout, 1)
        self.res = stride == 1 and cin == cout

    def forward(self, x):
        y = self.dw(self.expand(x))
        if self.se is not None:
            y = self.se(y)
        y = self.linear(y)
        return x + y if self.res else y


class RSELayer(nn.Layer):
    """RSEFPN's conv + SE with shortcut (PP-OCRv3)."""

    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv2D(cin, cout, k, padding=k // 2, bias_attr=False)
        self.se = SEModule(cout)

    def forward(self, x):
        x = self.conv(x)
        return x + self.se(x)


# Block tables: (cin, mid, cout, kernel, stride, se, act) per MV3Block, one list per stage.
DBNET_TINY = dict(stem=8, stages=[
    [(8, 16, 8, 3, 2, False, "relu")],                                              # /4  C2
    [(8, 24, 12, 5, 2, True, "relu")],                                              # /8  C3
    [(12, 32, 16, 3, 2, False, "hardswish"), (16, 32, 16, 3, 1, True, "hardswish")],  # /16 C4
    [(16, 48, 24, 5, 2, True, "hardswish")],                                        # /32 C5
], last_conv=None, neck=16)
# PP-OCRv3/v4 mobile det at full width: MobileNetV3-large x0.5 (channels rounded to multiples
# of 8 as PaddleOCR's make_divisible does), a 1x1 hard_swish conv to 480 ending the last stage,
# RSEFPN with 96 channels, DB head 96 -> 24.
DBNET_FULL = dict(stem=8, stages=[
    [(8, 8, 8, 3, 1, False, "relu"), (8, 32, 16, 3, 2, False, "relu"),
     (16, 40, 16, 3, 1, False, "relu")],
    [(16, 40, 24, 5, 2, True, "relu"), (24, 64, 24, 5, 1, True, "relu"),
     (24, 64, 24, 5, 1, True, "relu")],
    [(24, 120, 40, 3, 2, False, "hardswish"), (40, 104, 40, 3, 1, False, "hardswish"),
     (40, 96, 40, 3, 1, False, "hardswish"), (40, 96, 40, 3, 1, False, "hardswish"),
     (40, 240, 56, 3, 1, True, "hardswish"), (56, 336, 56, 3, 1, True, "hardswish")],
    [(56, 336, 80, 5, 2, True, "hardswish"), (80, 480, 80, 5, 1, True, "hardswish"),
     (80, 480, 80, 5, 1, True, "hardswish")],
], last_conv=480, neck=96)


class DBNet(nn.Layer):
    def __init__(self, cfg=DBNET_TINY):
        super().__init__()
        self.stem = ConvBNAct(3, cfg["stem"], 3, stride=2, act="hardswish")        # /2
        stages = [[MV3Block(*b) for b in blocks] for blocks in cfg["stages"]]
        outs = [blocks[-1][2] for blocks in cfg["stages"]]
        if cfg["last_conv"]:
            stages[-1].append(ConvBNAct(outs[-1], cfg["last_conv"], 1, act="hardswish"))
            outs[-1] = cfg["last_conv"]
        self.stage1, self.stage2, self.stage3, self.stage4 = [nn.Sequential(*b) for b in stages]
        oc = cfg["neck"]
        self.ins = nn.LayerList([RSELayer(c, oc, 1) for c in outs])
        self.inp = nn.LayerList([RSELayer(oc, oc // 4, 3) for _ in range(4)])
        # DB head (binarize branch; eval exports only the shrink map)
        self.h_conv = ConvBNAct(oc, oc // 4, 3, act="relu")
        self.h_up1 = nn.Conv2DTranspose(oc // 4, oc // 4, 2, stride=2)
        self.h_bn = nn.BatchNorm2D(oc // 4)
        self.h_up2 = nn.Conv2DTranspose(oc // 4, 1, 2, stride=2)

    def forward(self, x):
        c2 = self.stage1(self.stem(x))
        c3 = self.stage2(c2)
        c4 = self.stage3(c3)
        c5 = self.stage4(c4)
        in2, in3, in4, in5 = [m(c) for m, c in zip(self.ins, (c2, c3, c4, c5))]
        out4 = in4 + F.upsample(in5, scale_factor=2, mode="nearest", align_mode=1)
        out3 = in3 + F.upsample(out4, scale_factor=2, mode="nearest", align_mode=1)
        out2 = in2 + F.upsample(out3, scale_factor=2, mode="nearest", align_mode=1)
        p5 = F.upsample(self.inp[3](in5), scale_factor=8, mode="nearest", align_mode=1)
        p4 = F.upsample(self.inp[2](out4), scale_factor=4, mode="nearest", align_mode=1)
        p3 = F.upsample(self.inp[1](out3), scale_factor=2, mode="nearest", align_mode=1)
        p2 = self.inp[0](out2)
        fuse = paddle.concat([p5, p4, p3, p2], axis=1)
        y = self.h_conv(fuse)
        y = F.relu(self.h_bn(self.h_up1(y)))
        return sigmoid(self.h_up2(y))


# --------------------------------------------------------------------------
# SVTR recognizer (PP-OCRv4 rec: LCNet-style backbone, SVTR neck, CTC head)
# --------------------------------------------------------------------------


class SVTRAttention(nn.Layer):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.hd = heads, dim // heads
        self.scale = self.hd ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.attn_drop = nn.Dropout(0.1)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(0.1)

    def forward(self, x):
        # PaddleOCR: reshape((0, -1, 3, heads, C // heads)).transpose((2, 0, 3, 1, 4))
        qkv = self.qkv(x).reshape((0, -1, 3, self.heads, self.hd)).transpose((2, 0, 3, 1, 4))
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = matmul(q, k.transpose((0, 1, 3, 2)))
        attn = self.attn_drop(F.softmax(attn, axis=-1))
        x = matmul(attn, v).transpose((0, 2, 1, 3)).reshape((0, -1, self.heads * self.hd))
        return self.proj_drop(self.proj(x))


class SVTRBlock(nn.Layer):
    def __init__(self, dim, heads, mlp_ratio=2.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, epsilon=1e-5)
        self.mixer = SVTRAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, epsilon=1e-5)
        self.fc1 = nn.Linear(dim, int(dim * mlp_ratio))
        self.fc2 = nn.Linear(int(dim * mlp_ratio), dim)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        x = x + self.mixer(self.norm1(x))
        y = self.drop(F.swish(self.fc1(self.norm2(x))))
        return x + self.drop(self.fc2(y))


# Backbone blocks (kernel, cin, cout, stride, se): depthwise conv, [SE], pointwise conv, all hard_swish.
# mid / hidden / dims: the SVTR neck's reduced conv width, attention width and output width.
SVTR_TINY = dict(stem=8, blocks=[(3, 8, 16, (2, 1), False), (3, 16, 24, 2, False),
                                 (5, 24, 32, (2, 1), True)],
                 neck_k=3, mid=8, hidden=32, dims=32, heads=2, depth=2, classes=24)
# PP-OCRv4 mobile rec at full width: PPLCNetV3 x0.95 (rec strides: 48x320 -> 3x80 before the
# pool), EncoderWithSVTR (1x3 convs to in/8, 2 blocks of width 120 with 8 heads), CTC head over
# PP-OCR's 6625-symbol dictionary.
SVTR_FULL = dict(stem=16, blocks=[
    (3, 16, 32, 1, False),
    (3, 32, 64, 1, False), (3, 64, 64, 1, False),
    (3, 64, 120, (2, 1), False), (3, 120, 120, 1, False),
    (3, 120, 240, (1, 2), False)] + [(5, 240, 240, 1, False)] * 4 + [
    (5, 240, 488, (2, 1), True), (5, 488, 488, 1, True), (5, 488, 488, (2, 1), False),
    (5, 488, 488, 1, False)],
    neck_k=(1, 3), mid=61, hidden=120, dims=120, heads=8, depth=2, classes=6625)


class SVTRRec(nn.Layer):
    def __init__(self, n_classes=None, cfg=SVTR_TINY):
        super().__init__()
        self.stem = ConvBNAct(3, cfg["stem"], 3, stride=2, act="hardswish")
        self.backbone = []
        for i, (k, cin, cout, stride, se) in enumerate(cfg["blocks"]):
            parts = [ConvBNAct(cin, cin, k, stride=stride, groups=cin, act="hardswish")]
            if se:
                parts.append(SEModule(cin))
            parts.append(ConvBNAct(cin, cout, 1, act="hardswish"))
            setattr(self, f"b{i + 1}", nn.Sequential(*parts))
            self.backbone.append(getattr(self, f"b{i + 1}"))
        c, mid, hidden, dims = cfg["blocks"][-1][2], cfg["mid"], cfg["hidden"], cfg["dims"]
        k = cfg["neck_k"]
        pad = (k - 1) // 2 if isinstance(k, int) else tuple((d - 1) // 2 for d in k)
        # EncoderWithSVTR
        self.conv1 = ConvBNAct(c, mid, k, act="swish", padding=pad)
        self.conv2 = ConvBNAct(mid, hidden, 1, act="swish")
        self.blocks = nn.LayerList([SVTRBlock(hidden, cfg["heads"]) for _ in range(cfg["depth"])])
        self.norm = nn.LayerNorm(hidden, epsilon=1e-6)
        self.conv3 = ConvBNAct(hidden, c, 1, act="swish")
        self.conv4 = ConvBNAct(2 * c, mid, k, act="swish", padding=pad)
        self.conv1x1 = ConvBNAct(mid, dims, 1, act="swish")
        self.fc = nn.Linear(dims, n_classes or cfg["classes"])

    def forward(self, x):
        x = self.stem(x)
        for blk in self.backbone:
            x = blk(x)
        x = F.avg_pool2d(x, [3, 2])                       # PPLCNetV3 rec, eval: H 3 -> 1
        z = x.clone()                                     # use_guide: clone -> assign
        z.stop_gradient = True
        h = z
        z = self.conv2(self.conv1(z))
        B, C, H, W = z.shape                              # shape + slice
        z = z.flatten(2).transpose([0, 2, 1])
        for blk in self.blocks:
            z = blk(z)
        z = self.norm(z)
        z = z.reshape([-1, H, W, C]).transpose([0, 3, 1, 2])   # reshape2 with ShapeTensor list
        z = self.conv3(z)
        z = paddle.concat((h, z), axis=1)
        z = self.conv1x1(self.conv4(z))
        z = z.squeeze(axis=2).transpose([0, 2, 1])        # Im2Seq: squeeze2, transpose2
        return F.softmax(self.fc(z), axis=2)              # CTC head, eval


# --------------------------------------------------------------------------
# PP-LCNet classifier (PaddleClas)
# --------------------------------------------------------------------------


class DepthwiseSeparable(nn.Layer):
    def __init__(self, cin, cout, k, stride, se):
        super().__init__()
        self.dw = ConvBNAct(cin, cin, k, stride=stride, groups=cin, act="hardswish")
        self.se = SEModule(cin, slope=1.0 / 6, offset=0.5) if se else None
        self.pw = ConvBNAct(cin, cout, 1, act="hardswish")

    def forward(self, x):
        x = self.dw(x)
        if self.se is not None:
            x = self.se(x)
        return self.pw(x)


class PPLCNet(nn.Layer):
    def __init__(self, n_classes=10):
        super().__init__()
        self.stem = ConvBNAct(3, 8, 3, stride=2, act="hardswish")
        cfg = [(8, 16, 3, 1, False), (16, 16, 3, 2, False), (16, 24, 3, 1, False),
               (24, 24, 3, 2, False), (24, 32, 5, 2, False), (32, 32, 5, 1, False),
               (32, 48, 5, 2, True), (48, 48, 5, 1, True)]
        self.blocks = nn.Sequential(*[DepthwiseSeparable(*c) for c in cfg])
        self.gap = nn.AdaptiveAvgPool2D(1)
        self.last_conv = nn.Conv2D(48, 64, 1, bias_attr=False)
        self.dropout = nn.Dropout(0.2, mode="downscale_in_infer")
        self.fc = nn.Linear(64, n_classes)

    def forward(self, x):
        x = self.gap(self.blocks(self.stem(x)))
        x = self.dropout(F.hardswish(self.last_conv(x)))
        x = paddle.flatten(x, start_axis=1, stop_axis=-1)
        return F.softmax(self.fc(x), axis=-1)


# --------------------------------------------------------------------------
# PP-YOLOE-s (CSPRepResNet backbone, CustomCSPPAN neck with SPP, ET head,
# DFL, multiclass_nms3). Fixed eval size 64x64 (anchors are constants, as
# PaddleDetection exports with eval_size).
# --------------------------------------------------------------------------


class ESE(nn.Layer):
    def __init__(self, c):
        super().__init__()
        self.fc = nn.Conv2D(c, c, 1)

    def forward(self, x):
        return x * sigmoid(self.fc(F.adaptive_avg_pool2d(x, (1, 1))))


class CSPResStage(nn.Layer):
    def __init__(self, cin, cout, stride):
        super().__init__()
        mid = cout // 2
        self.down = ConvBNAct(cin, cout, 3, stride=stride, act="swish")
        self.conv1 = ConvBNAct(cout, mid, 1, act="swish")
        self.conv2 = ConvBNAct(cout, mid, 1, act="swish")
        self.b1 = ConvBNAct(mid, mid, 3, act="swish")   # RepVGG block after re-parameterization
        self.b2 = ConvBNAct(mid, mid, 3, act="swish")
        self.attn = ESE(cout)
        self.conv3 = ConvBNAct(cout, cout, 1, act="swish")

    def forward(self, x):
        x = self.down(x)
        y1 = self.conv1(x)
        y2 = self.conv2(x)
        y2 = y2 + self.b2(self.b1(y2))
        return self.conv3(self.attn(paddle.concat([y1, y2], axis=1)))


class SPP(nn.Layer):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = ConvBNAct(cin * 4, cout, 1, act="swish")

    def forward(self, x):
        outs = [x] + [F.max_pool2d(x, k, 1, k // 2, ceil_mode=False) for k in (5, 9, 13)]
        return self.conv(paddle.concat(outs, axis=1))


class CSPStage(nn.Layer):
    def __init__(self, cin, cout, spp=False):
        super().__init__()
        mid = cout // 2
        self.conv1 = ConvBNAct(cin, mid, 1, act="swish")
        self.conv2 = ConvBNAct(cin, mid, 1, act="swish")
        self.b = ConvBNAct(mid, mid, 3, act="swish")
        self.spp = SPP(mid, mid) if spp else None
        self.conv3 = ConvBNAct(mid * 2, cout, 1, act="swish")

    def forward(self, x):
        y1 = self.conv1(x)
        y2 = self.b(self.conv2(x))
        if self.spp is not None:
            y2 = self.spp(y2)
        return self.conv3(paddle.concat([y1, y2], axis=1))


class ESEAttn(nn.Layer):
    def __init__(self, c):
        super().__init__()
        self.fc = nn.Conv2D(c, c, 1)
        self.conv = ConvBNAct(c, c, 1, act="swish")

    def forward(self, feat, avg_feat):
        return self.conv(feat * sigmoid(self.fc(avg_feat)))


class PPYOLOE(nn.Layer):
    SIZE = 64
    STRIDES = (8, 16, 32)

    def __init__(self, n_classes=4, reg_max=8):
        super().__init__()
        self.nc, self.reg_max = n_classes, reg_max
        self.stem = nn.Sequential(ConvBNAct(3, 8, 3, stride=2, act="swish"),
                                  ConvBNAct(8, 8, 3, act="swish"))          # /2
        self.s1 = CSPResStage(8, 16, 2)                                     # /4
        self.s2 = CSPResStage(16, 16, 2)                                    # /8
        self.s3 = CSPResStage(16, 24, 2)                                    # /16
        self.s4 = CSPResStage(24, 24, 2)                                    # /32
        # CustomCSPPAN (top-down with SPP at the top, then bottom-up)
        self.fpn5 = CSPStage(24, 16, spp=True)
        self.route5 = ConvBNAct(16, 8, 1, act="swish")
        self.fpn4 = CSPStage(24 + 8, 16)
        self.route4 = ConvBNAct(16, 8, 1, act="swish")
        self.fpn3 = CSPStage(16 + 8, 16)
        self.down3 = ConvBNAct(16, 16, 3, stride=2, act="swish")
        self.pan4 = CSPStage(16 + 16, 16)
        self.down4 = ConvBNAct(16, 16, 3, stride=2, act="swish")
        self.pan5 = CSPStage(16 + 16, 16)
        chans = (16, 16, 16)
        self.stem_cls = nn.LayerList([ESEAttn(c) for c in chans])
        self.stem_reg = nn.LayerList([ESEAttn(c) for c in chans])
        bias_cls = float(-np.log((1 - 0.01) / 0.01))  # bias_init_with_prob(0.01)
        self.pred_cls = nn.LayerList([
            nn.Conv2D(c, n_classes, 3, padding=1,
                      bias_attr=paddle.ParamAttr(initializer=nn.initializer.Constant(bias_cls)))
            for c in chans])
        self.pred_reg = nn.LayerList([nn.Conv2D(c, 4 * (reg_max + 1), 3, padding=1) for c in chans])
        # DFL projection as a fixed 1x1 conv (PP-YOLOE's proj_conv)
        self.proj_conv = nn.Conv2D(reg_max + 1, 1, 1, bias_attr=False)
        self.proj_conv.weight.set_value(
            paddle.to_tensor(np.arange(reg_max + 1, dtype=np.float32).reshape(1, reg_max + 1, 1, 1)))
        self.proj_conv.weight.stop_gradient = True
        pts, strides = [], []
        for s in self.STRIDES:
            n = self.SIZE // s
            yy, xx = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
            pts.append(np.stack([xx, yy], -1).reshape(-1, 2).astype(np.float32) + 0.5)
            strides.append(np.full((n * n, 1), s, np.float32))
        self.register_buffer("anchor_points", paddle.to_tensor(np.concatenate(pts)))
        self.register_buffer("stride_tensor", paddle.to_tensor(np.concatenate(strides)))

    def forward(self, image, scale_factor):
        c2 = self.s1(self.stem(image))
        c3 = self.s2(c2)
        c4 = self.s3(c3)
        c5 = self.s4(c4)
        f5 = self.fpn5(c5)
        f4 = self.fpn4(paddle.concat([F.interpolate(self.route5(f5), scale_factor=2.0,
                                                    mode="nearest"), c4], axis=1))
        f3 = self.fpn3(paddle.concat([F.interpolate(self.route4(f4), scale_factor=2.0,
                                                    mode="nearest"), c3], axis=1))
        p4 = self.pan4(paddle.concat([self.down3(f3), f4], axis=1))
        p5 = self.pan5(paddle.concat([self.down4(p4), f5], axis=1))
        cls_list, reg_list = [], []
        for i, feat in enumerate((f3, p4, p5)):
            _, _, h, w = feat.shape
            l = h * w
            avg_feat = F.adaptive_avg_pool2d(feat, (1, 1))
            cls_logit = self.pred_cls[i](self.stem_cls[i](feat, avg_feat) + feat)
            reg_dist = self.pred_reg[i](self.stem_reg[i](feat, avg_feat))
            reg_dist = reg_dist.reshape([-1, 4, self.reg_max + 1, l]).transpose([0, 2, 3, 1])
            reg_dist = self.proj_conv(F.softmax(reg_dist, axis=1))
            cls_list.append(sigmoid(cls_logit).reshape([-1, self.nc, l]))
            reg_list.append(reg_dist.reshape([-1, 4, l]))
        scores = paddle.concat(cls_list, axis=-1)                       # [N, C, L]
        dist = paddle.concat(reg_list, axis=-1).transpose([0, 2, 1])    # [N, L, 4]
        lt, rb = paddle.split(dist, 2, -1)
        bboxes = paddle.concat([-lt + self.anchor_points, rb + self.anchor_points], -1)
        bboxes = bboxes * self.stride_tensor
        scale_y, scale_x = paddle.split(scale_factor, 2, axis=-1)
        sf = paddle.concat([scale_x, scale_y, scale_x, scale_y], axis=-1).reshape([-1, 1, 4])
        bboxes = bboxes / sf
        # PP-YOLOE ships score_threshold 0.01, keep_top_k 300; raised / lowered here so the
        # random-weight sample keeps a few dozen boxes and the fp32 file truncates at keep_top_k
        return multiclass_nms3(bboxes, scores, score_threshold=0.1, nms_top_k=1000,
                               keep_top_k=40, nms_threshold=0.7)


# --------------------------------------------------------------------------
# PP-LiteSeg (STDC backbone, SPPM, UAFM with spatial attention, seg head)
# --------------------------------------------------------------------------


class CatBottleneck(nn.Layer):
    """STDC module: 1x1 then a cascade of 3x3 convs, all concatenated; the
    stride-2 version has a depthwise stride-2 conv and an avg-pooled skip."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.c1 = ConvBNAct(cin, cout // 2, 1, act="relu")
        if stride == 2:
            self.avd = nn.Sequential(nn.Conv2D(cout // 2, cout // 2, 3, stride=2, padding=1,
                                               groups=cout // 2, bias_attr=False),
                                     nn.BatchNorm2D(cout // 2))
            self.skip = nn.AvgPool2D(3, 2, 1)
        self.c2 = ConvBNAct(cout // 2, cout // 4, 3, act="relu")
        self.c3 = ConvBNAct(cout // 4, cout // 4, 3, act="relu")

    def forward(self, x):
        o1 = self.c1(x)
        y = self.avd(o1) if self.stride == 2 else o1
        o2 = self.c2(y)
        o3 = self.c3(o2)
        first = self.skip(o1) if self.stride == 2 else o1
        return paddle.concat([first, o2, o3], axis=1)


class UAFM(nn.Layer):
    """UAFM_SpAtten: upsample the high-level feature to the low one's size,
    spatial attention from mean / max over channels, out = x*a + y*(1-a)."""

    def __init__(self, low_c, high_c, out_c):
        super().__init__()
        self.conv_x = ConvBNAct(low_c, high_c, 3, act="relu")
        self.atten1 = ConvBNAct(4, 2, 3, act="relu")
        self.atten2 = ConvBNAct(2, 1, 3)
        self.conv_out = ConvBNAct(high_c, out_c, 3, act="relu")

    def forward(self, x, y):
        x = self.conv_x(x)
        y = F.interpolate(y, x.shape[2:], mode="bilinear")          # SizeTensor list
        feats = [paddle.mean(x, axis=1, keepdim=True), paddle.max(x, axis=1, keepdim=True),
                 paddle.mean(y, axis=1, keepdim=True), paddle.max(y, axis=1, keepdim=True)]
        atten = sigmoid(self.atten2(self.atten1(paddle.concat(feats, axis=1))))
        return self.conv_out(x * atten + y * (1 - atten))


class PPLiteSeg(nn.Layer):
    def __init__(self, n_classes=5):
        super().__init__()
        self.stem = nn.Sequential(ConvBNAct(3, 8, 3, stride=2, act="relu"),
                                  ConvBNAct(8, 16, 3, stride=2, act="relu"))  # /4
        self.s3 = nn.Sequential(CatBottleneck(16, 16, 2), CatBottleneck(16, 16, 1))  # /8
        self.s4 = nn.Sequential(CatBottleneck(16, 32, 2), CatBottleneck(32, 32, 1))  # /16
        self.s5 = nn.Sequential(CatBottleneck(32, 32, 2))                            # /32
        # SPPM
        self.sppm_stages = nn.LayerList([nn.Sequential(nn.AdaptiveAvgPool2D(s),
                                                       ConvBNAct(32, 16, 1, act="relu"))
                                         for s in (1, 2, 4)])
        self.sppm_out = ConvBNAct(16, 16, 3, act="relu")
        self.uafm5 = UAFM(32, 16, 16)
        self.uafm4 = UAFM(16, 16, 8)
        self.head = nn.Sequential(ConvBNAct(8, 8, 3, act="relu"), nn.Conv2D(8, n_classes, 1))

    def forward(self, x):
        x_hw = paddle.shape(x)[2:]
        f3 = self.s3(self.stem(x))
        f4 = self.s4(f3)
        f5 = self.s5(f4)
        out = None
        for stage in self.sppm_stages:
            y = F.interpolate(stage(f5), paddle.shape(f5)[2:], mode="bilinear",
                              align_corners=False)                  # OutSize tensor
            out = y if out is None else out + y
        high = self.sppm_out(out)
        high = self.uafm5(f4, high)
        high = self.uafm4(f3, high)
        logit = F.interpolate(self.head(high), x_hw, mode="bilinear", align_corners=False)
        return argmax_i32(logit, 1)


# --------------------------------------------------------------------------
# ERNIE 3.0 / BERT encoder (PaddleNLP ErnieModel, eval)
# --------------------------------------------------------------------------


class MultiHeadAttention(nn.Layer):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.hd = heads, d // heads
        self.q_proj = nn.Linear(d, d)
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)
        self.dropout = nn.Dropout(0.1)

    def _split(self, x):
        return paddle.transpose(paddle.reshape(x, [0, 0, self.heads, self.hd]), [0, 2, 1, 3])

    def forward(self, x, mask):
        q, k, v = self._split(self.q_proj(x)), self._split(self.k_proj(x)), self._split(self.v_proj(x))
        q = paddle.scale(q, scale=self.hd ** -0.5)
        w = F.softmax(matmul(q, k, trans_y=True) + mask)
        w = self.dropout(w)
        o = paddle.transpose(matmul(w, v), [0, 2, 1, 3])
        return self.out_proj(paddle.reshape(o, [0, 0, self.heads * self.hd]))


class EncoderLayer(nn.Layer):
    """nn.TransformerEncoderLayer, post-norm, gelu (what ERNIE uses)."""

    def __init__(self, d, heads, ffn):
        super().__init__()
        self.self_attn = MultiHeadAttention(d, heads)
        self.linear1 = nn.Linear(d, ffn)
        self.linear2 = nn.Linear(ffn, d)
        self.norm1 = nn.LayerNorm(d, epsilon=1e-12)
        self.norm2 = nn.LayerNorm(d, epsilon=1e-12)
        self.dropout = nn.Dropout(0.1)
        self.dropout1 = nn.Dropout(0.1)
        self.dropout2 = nn.Dropout(0.1)

    def forward(self, x, mask):
        x = self.norm1(x + self.dropout1(self.self_attn(x, mask)))
        y = self.linear2(self.dropout(gelu(self.linear1(x))))
        return self.norm2(x + self.dropout2(y))


class Ernie(nn.Layer):
    def __init__(self, vocab=96, d=32, heads=2, ffn=64, layers=2, max_pos=64, type_vocab=4,
                 pad_token_id=0):
        super().__init__()
        self.pad = pad_token_id
        self.word_embeddings = nn.Embedding(vocab, d, padding_idx=pad_token_id)
        self.position_embeddings = nn.Embedding(max_pos, d)
        self.token_type_embeddings = nn.Embedding(type_vocab, d)
        self.ln = nn.LayerNorm(d, epsilon=1e-12)
        self.drop = nn.Dropout(0.1)
        self.layers = nn.LayerList([EncoderLayer(d, heads, ffn) for _ in range(layers)])
        self.pooler = nn.Linear(d, d)

    def forward(self, input_ids):
        mask = paddle.unsqueeze(
            (input_ids == self.pad).astype("float32") * -1e4, axis=[1, 2])
        ones = paddle.ones_like(input_ids, dtype="int64")
        seq_length = paddle.cumsum(ones, axis=-1)
        position_ids = seq_length - ones
        token_type_ids = paddle.zeros_like(input_ids, dtype="int64")
        x = (self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
             + self.token_type_embeddings(token_type_ids))
        x = self.drop(self.ln(x))
        for layer in self.layers:
            x = layer(x, mask)
        pooled = tanh(self.pooler(x[:, 0]))
        return x, pooled


# --------------------------------------------------------------------------
# YOLOv5 as X2Paddle converts it from ONNX
# --------------------------------------------------------------------------


class Bottleneck(nn.Layer):
    def __init__(self, c, shortcut=True):
        super().__init__()
        self.cv1 = ConvBNAct(c, c, 1, act="silu_sigmoid")
        self.cv2 = ConvBNAct(c, c, 3, act="silu_sigmoid")
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3(nn.Layer):
    def __init__(self, cin, cout, n=1, shortcut=True):
        super().__init__()
        mid = cout // 2
        self.cv1 = ConvBNAct(cin, mid, 1, act="silu_sigmoid")
        self.cv2 = ConvBNAct(cin, mid, 1, act="silu_sigmoid")
        self.m = nn.Sequential(*[Bottleneck(mid, shortcut) for _ in range(n)])
        self.cv3 = ConvBNAct(2 * mid, cout, 1, act="silu_sigmoid")

    def forward(self, x):
        return self.cv3(paddle.concat([self.m(self.cv1(x)), self.cv2(x)], axis=1))


class SPPF(nn.Layer):
    def __init__(self, cin, cout):
        super().__init__()
        self.cv1 = ConvBNAct(cin, cin // 2, 1, act="silu_sigmoid")
        self.cv2 = ConvBNAct(cin * 2, cout, 1, act="silu_sigmoid")

    def forward(self, x):
        x = self.cv1(x)
        y1 = F.max_pool2d(x, 5, 1, 2)
        y2 = F.max_pool2d(y1, 5, 1, 2)
        y3 = F.max_pool2d(y2, 5, 1, 2)
        return self.cv2(paddle.concat([x, y1, y2, y3], axis=1))


class YOLOv5(nn.Layer):
    SIZE = 64
    STRIDES = (8, 16, 32)
    ANCHORS = ((10, 13, 16, 30, 33, 23), (30, 61, 62, 45, 59, 119), (116, 90, 156, 198, 373, 326))

    def __init__(self, n_classes=3):
        super().__init__()
        self.no = n_classes + 5
        self.na = 3
        self.b0 = ConvBNAct(12, 8, 3, act="silu_sigmoid")                       # Focus, /2
        self.b1 = ConvBNAct(8, 16, 3, stride=2, act="silu_sigmoid")             # /4
        self.b2 = C3(16, 16)
        self.b3 = ConvBNAct(16, 16, 3, stride=2, act="silu_sigmoid")            # /8
        self.b4 = C3(16, 16)
        self.b5 = ConvBNAct(16, 24, 3, stride=2, act="silu_sigmoid")            # /16
        self.b6 = C3(24, 24)
        self.b7 = ConvBNAct(24, 32, 3, stride=2, act="silu_sigmoid")            # /32
        self.b8 = C3(32, 32)
        self.b9 = SPPF(32, 32)
        self.h10 = ConvBNAct(32, 16, 1, act="silu_sigmoid")
        self.h13 = C3(16 + 24, 24, shortcut=False)
        self.h14 = ConvBNAct(24, 16, 1, act="silu_sigmoid")
        self.h17 = C3(16 + 16, 16, shortcut=False)
        self.h18 = ConvBNAct(16, 16, 3, stride=2, act="silu_sigmoid")
        self.h20 = C3(16 + 16, 24, shortcut=False)
        self.h21 = ConvBNAct(24, 24, 3, stride=2, act="silu_sigmoid")
        self.h23 = C3(24 + 16, 32, shortcut=False)
        self.m = nn.LayerList([nn.Conv2D(c, self.na * self.no, 1) for c in (16, 24, 32)])
        for i, s in enumerate(self.STRIDES):
            n = self.SIZE // s
            yy, xx = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
            grid = np.stack([xx, yy], -1).reshape(1, 1, n, n, 2).astype(np.float32)
            anchor = np.array(self.ANCHORS[i], np.float32).reshape(1, self.na, 1, 1, 2)
            self.register_buffer(f"grid{i}", paddle.to_tensor(grid))
            self.register_buffer(f"anchor_grid{i}", paddle.to_tensor(
                np.broadcast_to(anchor, (1, self.na, n, n, 2)).copy()))

    def forward(self, x):
        # Focus (YOLOv5 <= v5.0, as in the converted zoo models): space-to-depth by
        # four stride-2 slices (ONNX Slice with steps -> strided_slice)
        x = paddle.concat([paddle.strided_slice(x, [2, 3], [i, j], [self.SIZE, self.SIZE], [2, 2])
                           for i, j in ((0, 0), (1, 0), (0, 1), (1, 1))], axis=1)
        x = self.b2(self.b1(self.b0(x)))
        p3 = self.b4(self.b3(x))
        p4 = self.b6(self.b5(p3))
        x = self.b9(self.b8(self.b7(p4)))
        x10 = self.h10(x)
        x = self.h13(paddle.concat([F.interpolate(x10, scale_factor=2.0, mode="nearest"), p4], 1))
        x14 = self.h14(x)
        o3 = self.h17(paddle.concat([F.interpolate(x14, scale_factor=2.0, mode="nearest"), p3], 1))
        o4 = self.h20(paddle.concat([self.h18(o3), x14], 1))
        o5 = self.h23(paddle.concat([self.h21(o4), x10], 1))
        z = []
        for i, f in enumerate((o3, o4, o5)):
            n = self.SIZE // self.STRIDES[i]
            y = self.m[i](f).reshape([-1, self.na, self.no, n, n]).transpose([0, 1, 3, 4, 2])
            y = sigmoid(y)
            xy = paddle.strided_slice(y, axes=[4], starts=[0], ends=[2], strides=[1])
            wh = paddle.strided_slice(y, axes=[4], starts=[2], ends=[4], strides=[1])
            rest = y[:, :, :, :, 4:]
            xy = (xy * 2 - 0.5 + getattr(self, f"grid{i}")) * float(self.STRIDES[i])
            wh = (wh * 2) ** 2 * getattr(self, f"anchor_grid{i}")
            z.append(paddle.concat([xy, wh, rest], -1).reshape([-1, self.na * n * n, self.no]))
        return paddle.concat(z, 1)


# --------------------------------------------------------------------------
# Data, BatchNorm statistics, export, PTQ
# --------------------------------------------------------------------------


def images(seed, n, h, w):
    """Seeded smooth colour images (blocky low-frequency noise, a few bright
    strokes, pixel noise), normalised like PaddleOCR / PaddleDetection input
    ((x - 0.5) / 0.25: values in about [-2, 2])."""
    rng = np.random.RandomState(seed)
    out = np.empty((n, 3, h, w), np.float32)
    for i in range(n):
        cell = int(rng.choice([4, 8, 16]))
        lo = rng.uniform(0, 1, (3, h // cell + 1, w // cell + 1))
        img = np.kron(lo, np.ones((cell, cell)))[:, :h, :w]
        for _ in range(rng.randint(1, 4)):  # text-like strokes
            y0, x0 = rng.randint(0, h), rng.randint(0, w)
            img[:, y0:y0 + rng.randint(2, 6), x0:x0 + rng.randint(4, w // 2 + 5)] = rng.uniform(0, 1, (3, 1, 1))
        img = img + rng.normal(0, 0.05, img.shape)
        out[i] = ((np.clip(img, 0, 1) - 0.5) / 0.25).astype(np.float32)
    return out


def tokens(seed, n, length, vocab=96):
    """Seeded token ids in [1, vocab) with trailing padding (id 0)."""
    rng = np.random.RandomState(seed)
    ids = rng.randint(1, vocab, (n, length)).astype(np.int64)
    for i in range(n):
        ids[i, length - rng.randint(0, length // 3 + 1):] = 0
    ids[:, 0] = 1  # [CLS]
    return ids


def init_norms(layer, rng):
    """Non-trivial BatchNorm / LayerNorm affine parameters (random init leaves
    scale 1 and bias 0 everywhere)."""
    for m in layer.sublayers():
        if isinstance(m, (nn.layer.norm._BatchNormBase, nn.LayerNorm)):
            c = m.weight.shape[0]
            m.weight.set_value(rng.uniform(0.6, 1.4, c).astype(np.float32))
            m.bias.set_value(rng.uniform(-0.2, 0.2, c).astype(np.float32))


def bn_calibrate(layer, batches):
    """Running statistics = exact mean of the batch statistics over `batches`
    (like generate.bn_calibrate, for layers with several inputs)."""
    bns = [m for m in layer.sublayers() if isinstance(m, nn.layer.norm._BatchNormBase)]
    saved = [m._momentum for m in bns]
    layer.train()
    with paddle.no_grad():
        for k, b in enumerate(batches):
            for m in bns:
                m._momentum = k / (k + 1.0)
            layer(*[paddle.to_tensor(a) for a in b])
    for m, mom in zip(bns, saved):
        m._momentum = mom
    layer.eval()


def export(layer, prefix, specs):
    paddle.disable_static()
    layer.eval()
    paddle.jit.save(layer, prefix, input_spec=specs)
    info = prefix + ".pdiparams.info"
    if os.path.exists(info):
        os.remove(info)


def ptq(out, src, dst, batches, quant_types, algo="KL"):
    """Paddle PostTrainingQuantization, onnx_format (quantize_linear /
    dequantize_linear), channel-wise int8 weights; batches: list of tuples in
    feed order."""
    paddle.enable_static()
    exe = paddle.static.Executor(paddle.CPUPlace())
    scope = paddle.static.Scope()
    with paddle.static.scope_guard(scope):
        _, feeds, _ = paddle.static.load_inference_model(os.path.join(out, src), exe)

        def loader():
            for b in batches:
                yield dict(zip(feeds, b))

        from paddle.static.quantization import PostTrainingQuantization
        with G.quiet():
            q = PostTrainingQuantization(
                executor=exe, model_dir=out, model_filename=src + ".pdmodel",
                params_filename=src + ".pdiparams", scope=scope, data_loader=loader,
                batch_nums=len(batches), algo=algo, quantizable_op_type=list(quant_types),
                weight_quantize_type="channel_wise_abs_max",
                activation_quantize_type="range_abs_max", onnx_format=True)
            q.quantize()
            q.save_quantized_model(out, model_filename=dst + ".pdmodel",
                                   params_filename=dst + ".pdiparams")
    finish_quantized(os.path.join(out, dst))


QDQ_TYPES = ("quantize_linear", "dequantize_linear")


def sort_quant_runs(block):
    """Put into a fixed order what Paddle's PTQ leaves in hash order: in a run
    of quantize / dequantize ops in front of a consumer, the order of the
    independent units (a quantize -> dequantize pair, or a lone weight
    dequantize). generate.finish_saved only orders runs made of pairs; here a
    weight dequantize can sit among them (conv2d / matmul_v2 inputs). Units
    are sorted by the name of the tensor they read."""
    ops = list(block.ops)
    out, i = [], 0
    while i < len(ops):
        if ops[i].type not in QDQ_TYPES:
            out.append(ops[i])
            i += 1
            continue
        units, j = [], i
        while j < len(ops) and ops[j].type in QDQ_TYPES:
            if (ops[j].type == "quantize_linear" and j + 1 < len(ops)
                    and ops[j + 1].type == "dequantize_linear"
                    and G._args(ops[j], "Y", True) == G._args(ops[j + 1], "X")):
                units.append([ops[j], ops[j + 1]])
                j += 2
            else:
                units.append([ops[j]])
                j += 1
        produced = {a for u in units for op in u for a in G._args(op, "Y", True)}
        if len(units) > 1 and not any(a in produced for u in units for a in G._args(u[0], "X")):
            units.sort(key=lambda u: (G._args(u[0], "X"), u[0].type))
        out += [op for u in units for op in u]
        i = j
    copies = []
    for op in out:
        c = type(op)()
        c.CopyFrom(op)
        copies.append(c)
    del block.ops[:]
    block.ops.extend(copies)


def finish_quantized(prefix):
    """generate.finish_saved, then the fuller QDQ-run ordering above."""
    G.finish_saved(prefix)
    path = prefix + ".pdmodel"
    prog = G.read_program(path)
    sort_quant_runs(prog.blocks[0])
    with open(path, "wb") as f:
        f.write(prog.SerializeToString())


def _attr(op, name):
    for a in op.attrs:
        if a.name == name:
            return a
    return None


def quantized_ops(pdmodel):
    """Which ops of an int8 model Paddle quantized: per op type, how many read
    at least one input through a (non-observer) dequantize_linear, how many
    of those have an int8 weight, and how many have QDQ on two activations."""
    block = G.read_program(pdmodel).blocks[0]
    persist = {v.name for v in block.vars if v.persistable}
    producer = {}
    for op in block.ops:
        for v in op.outputs:
            for a in v.arguments:
                producer[a] = op
    stats = {}
    observers = 0
    for op in block.ops:
        if op.type == "quantize_linear":
            a = _attr(op, "only_observer")
            observers += int(bool(a is not None and a.b))
        if op.type in ("quantize_linear", "dequantize_linear", "feed", "fetch"):
            continue
        weights = acts = 0
        for v in op.inputs:
            for a in v.arguments:
                p = producer.get(a)
                if p is None or p.type != "dequantize_linear":
                    continue
                obs = _attr(p, "only_observer")
                if obs is not None and obs.b:
                    continue
                x = G._args(p, "X")[0]
                if x in persist:
                    weights += 1
                else:
                    acts += 1
        s = stats.setdefault(op.type, {"total": 0, "quantized": 0, "int8_weight": 0,
                                       "act_x_act": 0})
        s["total"] += 1
        if weights or acts:
            s["quantized"] += 1
            s["int8_weight"] += int(weights > 0)
            s["act_x_act"] += int(acts >= 2)
    q = {k: v for k, v in sorted(stats.items()) if v["quantized"]}
    return {"ops": q, "observer_pairs": observers}


# --------------------------------------------------------------------------
# Families
# --------------------------------------------------------------------------


def F32(shape, name):
    return paddle.static.InputSpec(shape, "float32", name)


def make_dbnet():
    return DBNet()


FAMILIES = {
    # key: (constructor, input specs, calibration batches, fixed inputs,
    #       quantizable op types, description)
    "dbnet": dict(
        make=make_dbnet, seed=101,
        specs=lambda: [F32([-1, 3, -1, -1], "x")],
        bn=lambda: [(images(1000 + i, 4, 64, 64),) for i in range(4)],
        calib=lambda: [(images(1100 + i, 2, 64 + 32 * (i % 2), 64),) for i in range(4)],
        fixed=lambda: [images(1200, 1, 64, 64)],
        quant=["conv2d", "depthwise_conv2d", "conv2d_transpose"],
        desc="DBNet text detector after PP-OCRv3/v4 det: MobileNetV3 backbone (hard_swish, "
             "depthwise convs, SE with hard_sigmoid slope 0.2 offset 0.5), RSEFPN neck "
             "(nearest_interp_v2 x2/x4/x8, concat), DB head (conv2d_transpose x2, sigmoid). "
             "Dynamic H, W (multiples of 32)."),
    "svtr": dict(
        make=lambda: SVTRRec(), seed=102,
        specs=lambda: [F32([-1, 3, 48, -1], "x")],
        bn=lambda: [(images(2000 + i, 4, 48, 80),) for i in range(4)],
        calib=lambda: [(images(2100 + i, 2, 48, 80 + 32 * (i % 2)),) for i in range(4)],
        fixed=lambda: [images(2200, 1, 48, 80)],
        quant=["conv2d", "depthwise_conv2d", "matmul_v2"],
        desc="SVTR text recognizer after PP-OCRv4 rec: PPLCNet-style conv backbone "
             "(hard_swish, SE), avg pool to H=1, EncoderWithSVTR neck (clone -> assign, swish "
             "convs, shape/slice, flatten, 2 SVTR blocks: layer_norm, fc qkv, reshape2 / "
             "transpose2, scale, matmul_v2 attention, softmax, dropout is_test, swish MLP; "
             "reshape2 back with a ShapeTensor list, concat shortcut), Im2Seq (squeeze2, "
             "transpose2), CTC head fc + softmax. Dynamic W."),
    "lcnet": dict(
        make=lambda: PPLCNet(), seed=103,
        specs=lambda: [F32([-1, 3, -1, -1], "x")],
        bn=lambda: [(images(3000 + i, 4, 64, 64),) for i in range(4)],
        calib=lambda: [(images(3100 + i, 2, 64, 64),) for i in range(4)],
        fixed=lambda: [images(3200, 2, 64, 64)],
        quant=["conv2d", "depthwise_conv2d", "matmul_v2"],
        desc="PP-LCNet classifier (PaddleClas): depthwise separable convs with hard_swish, SE "
             "(adaptive avg pool, conv, relu, conv, hard_sigmoid 1/6, mul) in the last blocks, "
             "global pool, 1x1 last conv + hard_swish, dropout downscale_in_infer, flatten, fc, "
             "softmax. Dynamic H, W."),
    "ppyoloe": dict(
        make=lambda: PPYOLOE(), seed=104,
        specs=lambda: [F32([-1, 3, 64, 64], "image"), F32([-1, 2], "scale_factor")],
        bn=lambda: [(images(4000 + i, 4, 64, 64), np.ones((4, 2), np.float32)) for i in range(4)],
        calib=lambda: [(images(4100 + i, 2, 64, 64), np.ones((2, 2), np.float32)) for i in range(4)],
        fixed=lambda: [images(4200, 1, 64, 64), np.array([[0.5, 0.8]], np.float32)],
        quant=["conv2d", "depthwise_conv2d"],
        desc="PP-YOLOE-s style detector (PaddleDetection export, eval_size 64x64): "
             "CSPRepResNet backbone (swish, ESE: adaptive pool + conv + sigmoid), CustomCSPPAN "
             "neck with SPP (max pools 5/9/13), nearest_interp_v2, ET head (shape/slice, "
             "reshape2, transpose2, DFL softmax + fixed 1x1 proj conv, sigmoid), box decode "
             "(split, concat, scale_factor), multiclass_nms3. Outputs: boxes [M,6] "
             "(label, score, x1, y1, x2, y2) and boxes per image [N]."),
    "liteseg": dict(
        make=lambda: PPLiteSeg(), seed=105,
        specs=lambda: [F32([-1, 3, -1, -1], "x")],
        bn=lambda: [(images(5000 + i, 4, 64, 64),) for i in range(4)],
        calib=lambda: [(images(5100 + i, 2, 64, 64 + 32 * (i % 2)),) for i in range(4)],
        fixed=lambda: [images(5200, 1, 64, 96)],
        quant=["conv2d", "depthwise_conv2d"],
        desc="PP-LiteSeg segmenter (PaddleSeg export with --output_op argmax): STDC backbone "
             "(cat bottlenecks, depthwise stride-2, avg-pool skip), SPPM (adaptive avg pools 1/2/4, "
             "bilinear_interp_v2 to an OutSize tensor from shape + slice), UAFM spatial attention "
             "(bilinear_interp_v2 with a SizeTensor list, reduce_mean / reduce_max over channels, "
             "sigmoid, x*a + y*(1-a)), seg head, bilinear to the input size, arg_max int32. "
             "Dynamic H, W."),
    "ernie": dict(
        make=lambda: Ernie(), seed=106,
        specs=lambda: [paddle.static.InputSpec([-1, -1], "int64", "input_ids")],
        bn=None,
        calib=lambda: [(tokens(6100 + i, 4, 16),) for i in range(4)],
        fixed=lambda: [tokens(6200, 1, 16)],
        quant=["matmul_v2"],
        desc="ERNIE 3.0 / BERT encoder (PaddleNLP ErnieModel, eval): lookup_table_v2 word / "
             "position / token-type embeddings, position ids by fill_any_like + cumsum - 1, "
             "attention mask from equal(pad) + cast + scale + unsqueeze2, 2 post-norm layers "
             "(fc q/k/v, reshape2 / transpose2, scale, matmul_v2 activation x activation, softmax, "
             "dropout is_test, gelu FFN, layer_norm), tanh pooler on token 0 (slice). Outputs: "
             "sequence output [N,L,32] and pooled [N,32]. Dynamic batch and length."),
    "yolov5": dict(
        make=lambda: YOLOv5(), seed=107,
        specs=lambda: [F32([-1, 3, 64, 64], "x")],
        bn=lambda: [(images(7000 + i, 4, 64, 64),) for i in range(4)],
        calib=lambda: [(images(7100 + i, 2, 64, 64),) for i in range(4)],
        fixed=lambda: [images(7200, 1, 64, 64)],
        quant=["conv2d", "depthwise_conv2d"],
        desc="YOLOv5 as X2Paddle converts it (fixed 64x64): Focus (four strided_slice with "
             "strides 2 + concat), conv + BN + SiLU as sigmoid * x, "
             "C3 blocks, SPPF (three max pools 5), nearest_interp_v2 upsampling, concat, PAN, "
             "Detect head (reshape2 / transpose2, sigmoid, strided_slice / slice, grid and "
             "anchor decode, pow), output [N, 3*(8*8+4*4+2*2), 8]."),
}

ORDER = ["dbnet", "svtr", "lcnet", "ppyoloe", "liteseg", "ernie", "yolov5"]


def build_layer(key):
    """Construct a family's layer with seeded weights, non-trivial norms and
    BatchNorm statistics from seeded images."""
    fam = FAMILIES[key]
    G.seed_all(fam["seed"])
    paddle.disable_static()
    layer = fam["make"]()
    init_norms(layer, np.random.RandomState(fam["seed"] + 1))
    if fam["bn"] is not None:
        bn_calibrate(layer, fam["bn"]())
    layer.eval()
    return layer


def build_family(key, out):
    fam = FAMILIES[key]
    entries = []
    with unique_name.guard():
        layer = build_layer(key)
        export(layer, os.path.join(out, key + "_fp32"), fam["specs"]())
    G.finish_saved(os.path.join(out, key + "_fp32"))
    with unique_name.guard():
        ptq(out, key + "_fp32", key + "_int8", fam["calib"](), fam["quant"])
    fixed = fam["fixed"]()
    for suffix, q in (("fp32", False), ("int8", True)):
        name = f"{key}_{suffix}"
        extra = {"family": key}
        if q:
            extra["source"] = f"{key}_fp32 after Paddle PTQ (onnx_format, KL, " \
                              f"quantizable_op_type {fam['quant']})"
            extra["quantized_ops"] = quantized_ops(os.path.join(out, name + ".pdmodel"))
        e = G.write_reference(out, name, fixed, q, extra)
        e = dict({"name": name, "description": fam["desc"] if not q else
                  f"{key}_fp32 after Paddle PTQ: onnx_format quantize_linear / dequantize_linear, "
                  f"per-channel int8 weights, KL-calibrated per-tensor activations."}, **e)
        entries.append(e)
    return entries


# --------------------------------------------------------------------------
# PIR export of the DBNet detector (runs in its own process)
# --------------------------------------------------------------------------


def pir_worker(out):
    """Export dbnet (same seed, same weights as dbnet_fp32) as a Paddle 3 PIR
    program and record Paddle's output for the fixed input."""
    name = "dbnet_pir"
    prefix = os.path.join(out, name)
    with unique_name.guard():
        layer = build_layer("dbnet")
        export(layer, prefix, FAMILIES["dbnet"]["specs"]())
    x = FAMILIES["dbnet"]["fixed"]()[0]
    paddle.enable_static()
    exe = paddle.static.Executor(paddle.CPUPlace())
    scope = paddle.static.Scope()
    with paddle.static.scope_guard(scope):
        prog, feeds, fetches = paddle.static.load_inference_model(prefix, exe)
        outs = exe.run(prog, feed={feeds[0]: x}, fetch_list=fetches, return_numpy=True)
    np.save(prefix + ".input.npy", x)
    np.save(prefix + ".output.npy", np.asarray(outs[0]))
    print(json.dumps({"feeds": list(feeds), "output_shape": list(np.asarray(outs[0]).shape)}))


def run_pir_worker(out):
    env = dict(os.environ)
    env.pop("FLAGS_enable_pir_api", None)
    res = subprocess.run([sys.executable, os.path.abspath(__file__), "--pir-worker", "--out", out],
                         env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("PIR export failed:\n" + res.stderr[-3000:])
    info = json.loads(res.stdout.strip().splitlines()[-1])
    x = np.load(os.path.join(out, "dbnet_pir.input.npy"))
    y = np.load(os.path.join(out, "dbnet_pir.output.npy"))
    y_legacy = np.load(os.path.join(out, "dbnet_fp32.output.npy"))
    with open(os.path.join(out, "dbnet_pir.json")) as f:
        ops = json.load(f)["program"]["regions"][0]["blocks"][0]["ops"]
    fetch_names = [a["AT"]["D"] for o in ops if o["#"] == "1.fetch" for a in o["A"]
                   if a["N"] == "name"]
    return {"name": "dbnet_pir", "family": "dbnet",
            "description": "dbnet_fp32 (same weights) exported with Paddle 3's default "
                           "paddle.jit.save: a PIR program (.json) + .pdiparams.",
            "model": "dbnet_pir.json", "params": "dbnet_pir.pdiparams", "format": "pir_json",
            "quantized": False,
            "inputs": [{"name": info["feeds"][0], "shape": [-1, 3, -1, -1], "dtype": "float32",
                        "file": "dbnet_pir.input.npy", "file_shape": list(x.shape)}],
            "outputs": [{"name": fetch_names[0], "file": "dbnet_pir.output.npy",
                         "shape": list(y.shape), "dtype": str(y.dtype)}],
            "max_abs_diff_vs_dbnet_fp32": float(np.abs(y - y_legacy).max())}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=OUT_DEFAULT, help="output directory (default: samples/families/)")
    ap.add_argument("--only", default="", help="comma list of: " + ",".join(ORDER) + ",pir")
    ap.add_argument("--no-pir", action="store_true", help="skip the PIR export of dbnet")
    ap.add_argument("--pir-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    out = G.prepare_output(args.out, args.threads)
    if args.pir_worker:
        pir_worker(out)
        return
    only = set(filter(None, args.only.split(",")))
    mpath = os.path.join(out, "manifest.json")
    old = G.manifest_models(mpath) if only else {}
    t0 = time.time()
    for key in ORDER:
        if only and key not in only:
            continue
        log(f"building {key} ...")
        for e in build_family(key, out):
            old[e["name"]] = e
    if (not only or "pir" in only) and not args.no_pir:
        log("exporting dbnet as a PIR program (separate process) ...")
        old["dbnet_pir"] = run_pir_worker(out)
    names = [f"{k}_{s}" for k in ORDER for s in ("fp32", "int8")] + ["dbnet_pir"]
    models = sorted(old.values(), key=lambda m: names.index(m["name"]) if m["name"] in names else 99)
    doc = {"generator": "samples/generate_families.py", "paddle_version": paddle.__version__,
           "models": models}
    with open(mpath, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    log(f"done in {time.time() - t0:.0f}s; files total {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
