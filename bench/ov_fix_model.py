#!/usr/bin/env python3
"""Rewrites a Paddle PTQ model so OpenVINO's Paddle frontend accepts it (qtop reads the original as is).

Paddle PTQ stores int8 weights under an FP32 declaration and scale tensors as 0-d or [1, C] where the program
declares [1] or [C]. OpenVINO 2026.4 rejects both. This tool, for every stored parameter:
  - gives the stored tensor the program's declared dims when the element counts agree;
  - declares int8 (or any other) stored dtypes in the program as what is stored.
The arithmetic is unchanged. Needs `framework_pb2` generated from qtop's own schema
(Sources/QtopFormat/Proto/framework.proto) with protoc, and the protobuf Python package.

usage: ov_fix_model.py IN.pdmodel OUT_PREFIX   (writes OUT_PREFIX.pdmodel and OUT_PREFIX.pdiparams)
"""
import struct
import sys

import framework_pb2 as fp

SIZES = {0: 1, 1: 2, 2: 4, 3: 8, 4: 2, 5: 4, 6: 8, 20: 1, 21: 1, 22: 2}


def read_tensors(buf, count):
    off = 0
    out = []
    for _ in range(count):
        (version,) = struct.unpack_from("<I", buf, off); off += 4
        (lod_level,) = struct.unpack_from("<Q", buf, off); off += 8
        lod = []
        for _ in range(lod_level):
            (n,) = struct.unpack_from("<Q", buf, off); off += 8
            lod.append(buf[off:off + n]); off += n
        (tversion,) = struct.unpack_from("<I", buf, off); off += 4
        (dsize,) = struct.unpack_from("<i", buf, off); off += 4
        desc = fp.VarType.TensorDesc(); desc.ParseFromString(buf[off:off + dsize]); off += dsize
        numel = 1
        for d in desc.dims:
            numel *= d
        nbytes = numel * SIZES[desc.data_type]
        data = buf[off:off + nbytes]; off += nbytes
        out.append((version, lod, tversion, desc, data))
    if off != len(buf):
        raise SystemExit(f"params: {len(buf) - off} trailing bytes")
    return out


def write_tensor(f, version, lod, tversion, desc, data):
    f.write(struct.pack("<IQ", version, len(lod)))
    for level in lod:
        f.write(struct.pack("<Q", len(level))); f.write(level)
    raw = desc.SerializeToString()
    f.write(struct.pack("<Ii", tversion, len(raw))); f.write(raw); f.write(data)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    prog = fp.ProgramDesc(); prog.ParseFromString(open(src, "rb").read())
    block = prog.blocks[0]
    params = sorted((v for v in block.vars if v.persistable and v.type.type == fp.VarType.LOD_TENSOR
                     and v.name not in ("feed", "fetch")), key=lambda v: v.name.encode())
    tensors = read_tensors(open(src[: -len(".pdmodel")] + ".pdiparams", "rb").read(), len(params))
    fixed_dims = fixed_types = 0
    with open(dst + ".pdiparams", "wb") as f:
        for var, (version, lod, tversion, desc, data) in zip(params, tensors):
            declared = var.type.lod_tensor.tensor
            numel = 1
            for d in desc.dims:
                numel *= d
            want = list(declared.dims)
            want_numel = 1
            for d in want:
                want_numel *= d
            if list(desc.dims) != want and want_numel == numel and all(d >= 0 for d in want):
                del desc.dims[:]; desc.dims.extend(want); fixed_dims += 1
            if declared.data_type != desc.data_type:
                declared.data_type = desc.data_type; fixed_types += 1
            write_tensor(f, version, lod, tversion, desc, data)
    open(dst + ".pdmodel", "wb").write(prog.SerializeToString())
    print(f"{dst}: reshaped {fixed_dims} tensors, re-declared {fixed_types} dtypes")


if __name__ == "__main__":
    main()
