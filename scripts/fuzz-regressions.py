#!/usr/bin/env python3
"""Writes the hand-made fuzz regression inputs: one small program per crash class of issue 10 that no fuzzer
finding covers on its own, in the format its fuzz target reads (Sources/QtopFuzzTargets/FuzzTarget.swift).

    /work/pyenv/bin/python scripts/fuzz-regressions.py      (needs Paddle's protobuf module; writes the files
                                                             under Tests/QtopFuzzTests/Regressions/, committed)

pipeline inputs are containers: u32 LE program length, the ProgramDesc, and no params half (the target then makes
zero parameters from the declarations). QtopFuzzTests replays every file; a trap fails the test run.
"""
import os
import struct
import sys

from paddle.base.proto import framework_pb2 as fp

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "QtopFuzzTests", "Regressions")
FP32, INT64, UINT8 = 5, 3, 20
INT32_MAX = 2**31 - 1


class Program:
    def __init__(self):
        self.p = fp.ProgramDesc()
        b = self.p.blocks.add()
        b.idx, b.parent_idx = 0, -1
        self.block = b
        self.holder("feed", 9)   # FEED_MINIBATCH
        self.holder("fetch", 10)  # FETCH_LIST

    def holder(self, name, kind):
        v = self.block.vars.add()
        v.name, v.persistable = name, True
        v.type.type = kind

    def var(self, name, dims, dtype=FP32, persistable=False):
        v = self.block.vars.add()
        v.name, v.persistable = name, persistable
        v.type.type = 7  # DENSE_TENSOR (lod_tensor in qtop's proto)
        v.type.dense_tensor.tensor.data_type = dtype
        v.type.dense_tensor.tensor.dims.extend(dims)

    def op(self, kind, inputs, outputs, **attrs):
        o = self.block.ops.add()
        o.type = kind
        for slot, args in sorted(inputs.items()):
            s = o.inputs.add()
            s.parameter = slot
            s.arguments.extend(args)
        for slot, args in sorted(outputs.items()):
            s = o.outputs.add()
            s.parameter = slot
            s.arguments.extend(args)
        for name, value in sorted(attrs.items()):
            a = o.attrs.add()
            a.name = name
            if isinstance(value, bool):
                a.type, a.b = 6, value
            elif isinstance(value, int):
                a.type, a.i = 0, value
            elif isinstance(value, float):
                a.type, a.f = 1, value
            elif isinstance(value, str):
                a.type, a.s = 2, value
            elif isinstance(value, tuple):  # ("longs", [...]): 64-bit integer list
                a.type = 11
                a.longs.extend(value[1])
            else:
                a.type = 3
                a.ints.extend(value)

    def feed(self, name, dims, dtype=FP32, col=0):
        self.var(name, dims, dtype)
        self.op("feed", {"X": ["feed"]}, {"Out": [name]}, col=col)

    def fetch(self, name, col=0):
        self.op("fetch", {"X": [name]}, {"Out": ["fetch"]}, col=col)

    def container(self):
        program = self.p.SerializeToString()
        return struct.pack("<I", len(program)) + program


def write(target, name, data):
    path = os.path.join(ROOT, target, name)
    with open(path, "wb") as f:
        f.write(data)
    print(f"{target}/{name}: {len(data)} bytes")


def reshape_attr_overflow():
    """reshape2's `shape` attribute whose product overflows Int64."""
    m = Program()
    m.feed("x", [1, 4])
    m.var("y", [-1])
    m.var("xs", [-1])
    m.op("reshape2", {"X": ["x"]}, {"Out": ["y"], "XShape": ["xs"]}, shape=[INT32_MAX, INT32_MAX, INT32_MAX, -1])
    m.fetch("y")
    return m.container()


def reshape_shape_tensor_overflow():
    """reshape2's Shape tensor (an assign_value constant, folded) with dims whose product overflows."""
    m = Program()
    m.feed("x", [1, 4])
    m.var("s", [3], INT64)
    m.var("y", [-1, -1, -1])
    m.var("xs", [-1])
    m.op("assign_value", {}, {"Out": ["s"]}, shape=[3], dtype=INT64, int64_values=("longs", [2**40, 2**40, 2**40]))
    m.op("reshape2", {"X": ["x"], "Shape": ["s"]}, {"Out": ["y"], "XShape": ["xs"]}, shape=[])
    m.fetch("y")
    return m.container()


def reshape_shape_tensor_list_overflow():
    """reshape2's ShapeTensor list (fill_constant int64 scalars via str_value) with 2^62 · 2^62 · 4 elements."""
    m = Program()
    m.feed("x", [1, 4])
    m.var("a", [1], INT64)
    m.var("b", [1], INT64)
    m.var("y", [-1, -1, -1])
    m.var("xs", [-1])
    m.op("fill_constant", {}, {"Out": ["a"]}, shape=[1], dtype=INT64, str_value=str(2**62), value=0.0)
    m.op("fill_constant", {}, {"Out": ["b"]}, shape=[1], dtype=INT64, value=4.0)
    m.op("reshape2", {"X": ["x"], "ShapeTensor": ["a", "a", "b"]}, {"Out": ["y"], "XShape": ["xs"]}, shape=[])
    m.fetch("y")
    return m.container()


def input_dim_2p31():
    """A model input declared with a dim of 2^31 (one past what the kernels' 32-bit descriptors hold)."""
    m = Program()
    m.feed("x", [1, 2**31], UINT8)
    m.var("y", [1, 2**31], UINT8)
    m.op("relu", {"X": ["x"]}, {"Out": ["y"]})
    m.fetch("y")
    return m.container()


def extent_2p31_through_reshape():
    """A computed extent of 2^31: an empty constant reshaped by a Shape tensor to [0, 1, 2^31, 1], then pooled.
    The tensor is empty, so only the extent (not the memory figure) can refuse it."""
    m = Program()
    m.feed("x", [1, 4])
    m.var("z", [0])
    m.var("s", [4], INT64)
    m.var("r", [0, 1, -1, 1])
    m.var("rs", [-1])
    m.var("p", [0, 1, -1, 1])
    m.op("fill_constant", {}, {"Out": ["z"]}, shape=[0], dtype=FP32, value=0.0)
    m.op("assign_value", {}, {"Out": ["s"]}, shape=[4], dtype=INT64, int64_values=("longs", [0, 1, 2**31, 1]))
    m.op("reshape2", {"X": ["z"], "Shape": ["s"]}, {"Out": ["r"], "XShape": ["rs"]}, shape=[])
    m.op("pool2d", {"X": ["r"]}, {"Out": ["p"]}, pooling_type="max", ksize=[1, 1], strides=[1, 1], paddings=[0, 0])
    m.fetch("p", col=0)
    m.fetch("x", col=1)
    return m.container()


def input_dim_1e9_pool():
    """An input dim of 10^9 into pool2d: refused by the memory plan's figure, before any window table is built."""
    m = Program()
    m.feed("x", [1, 1, 10**9, 2])
    m.var("p", [1, 1, -1, 1])
    m.op("pool2d", {"X": ["x"]}, {"Out": ["p"]}, pooling_type="avg", ksize=[2, 2], strides=[1, 1], paddings=[0, 0])
    m.fetch("p")
    return m.container()


def pool(name, doc, **attrs):
    def build():
        m = Program()
        m.feed("x", [1, 2, 8, 8])
        m.var("p", [1, 2, -1, -1])
        base = dict(pooling_type="max", ksize=[2, 2], strides=[2, 2], paddings=[0, 0])
        base.update(attrs)
        m.op("pool2d", {"X": ["x"]}, {"Out": ["p"]}, **base)
        m.fetch("p")
        return m.container()
    build.__doc__ = doc
    build.__name__ = name
    return build


def fake_quant_bits_64():
    """fake_channel_wise_dequantize_max_abs with quant_bits 64 (1 << 63 overflowed in the reference fake-quant)."""
    m = Program()
    m.feed("x", [1, 2])
    m.var("scale", [2], FP32, persistable=True)
    m.var("y", [1, 2])
    m.op("fake_channel_wise_dequantize_max_abs", {"X": ["x"], "Scales": ["scale"]}, {"Out": ["y"]},
         quant_bits=[64], quant_axis=1, x_num_col_dims=1)
    m.fetch("y")
    return m.container()


def quantize_bit_length_64():
    """quantize_linear / dequantize_linear with bit_length 64."""
    m = Program()
    m.feed("x", [1, 2])
    m.var("scale", [1], FP32, persistable=True)
    m.var("zp", [1], FP32, persistable=True)
    m.var("q", [1, 2])
    m.var("y", [1, 2])
    m.op("quantize_linear", {"X": ["x"], "Scale": ["scale"], "ZeroPoint": ["zp"]}, {"Y": ["q"]},
         bit_length=64, quant_axis=-1, round_type=0)
    m.op("dequantize_linear", {"X": ["q"], "Scale": ["scale"], "ZeroPoint": ["zp"]}, {"Y": ["y"]},
         bit_length=64, quant_axis=-1, round_type=0)
    m.fetch("y")
    return m.container()


def npy_fortran_true():
    """An .npy header with fortran_order true (lower case): must be refused, not read as C order."""
    header = "{'descr': '<f4', 'fortran_order': true, 'shape': (2, 2), }"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + bytes(16)


PIPELINE = [
    ("reshape-attr-product-overflow.bin", reshape_attr_overflow),
    ("reshape-shape-tensor-overflow.bin", reshape_shape_tensor_overflow),
    ("reshape-shape-tensor-list-overflow.bin", reshape_shape_tensor_list_overflow),
    ("input-dim-2p31.bin", input_dim_2p31),
    ("extent-2p31-through-reshape.bin", extent_2p31_through_reshape),
    ("input-dim-1e9-pool.bin", input_dim_1e9_pool),
    ("pool-zero-stride.bin", pool("pool_zero_stride", "pool2d strides [0, 0]", strides=[0, 0])),
    ("pool-empty-strides.bin", pool("pool_empty_strides", "pool2d with an empty strides list", strides=[])),
    ("adaptive-pool-empty-ksize.bin", pool("adaptive_empty_ksize", "adaptive pool2d with an empty ksize", adaptive=True, ksize=[])),
    ("fake-quant-bits-64.bin", fake_quant_bits_64),
    ("quantize-bit-length-64.bin", quantize_bit_length_64),
]


def main():
    for name, build in PIPELINE:
        write("pipeline", name, build())
    write("npy", "fortran-order-true.npy", npy_fortran_true())
    # The 2^31 input dim alone through the .pdmodel reader.
    write("pdmodel", "input-dim-2p31.pdmodel", input_dim_2p31()[4:])


if __name__ == "__main__":
    sys.exit(main())
