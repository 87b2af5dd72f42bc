#!/usr/bin/env python3
"""Regenerate the sample models bundled with qtop (everything under samples/).

Usage:
    pip install paddlepaddle==3.3.1 numpy
    python samples/generate.py [--out DIR] [--only shapes,mobile,legacy,ops]

Writes, for every model NAME, NAME.pdmodel (legacy ProgramDesc protobuf) +
NAME.pdiparams, a fixed input NAME.input.npy and Paddle's own output(s)
NAME.output.npy (or NAME.output0.npy, NAME.output1.npy, ... when the model has
several fetch targets), plus manifest.json. Reference outputs are computed by
loading the *saved* files back with paddle.static.load_inference_model and
running them with a CPU paddle.static.Executor, so the int8 references are
Paddle's own quantize/dequantize-in-float execution.

Everything is seeded. The files are reproducible on the same Paddle version
and CPU; tiny float differences across machines are possible because the
shapes classifier is trained with multithreaded CPU kernels.
"""

import os

# Must be set before paddle is imported: makes paddle.jit.save and
# paddle.static.save_inference_model write the legacy .pdmodel ProgramDesc
# instead of a PIR .json program. An importer that has already chosen (generate_families.py's PIR
# worker asks for PIR) keeps its choice.
if __name__ == "__main__":
    os.environ["FLAGS_enable_pir_api"] = "0"
else:
    os.environ.setdefault("FLAGS_enable_pir_api", "0")
os.environ.setdefault("GLOG_minloglevel", "2")

import argparse
import contextlib
import io
import json
import logging
import time
import warnings

warnings.filterwarnings("ignore")

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

QUANT_OP_TYPES = ["conv2d", "depthwise_conv2d", "mul", "matmul", "matmul_v2"]

# --------------------------------------------------------------------------
# Generic helpers (also used by scripts/export_vision_models.py)
# --------------------------------------------------------------------------


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def prepare_output(outdir, threads):
    """Paddle on the CPU with `threads` math threads (where Paddle lets them be set), and `outdir` created: the
    start every sample and export script shares. Returns the absolute output directory."""
    paddle.set_device("cpu")
    try:
        paddle.set_num_threads(threads)
    except Exception:
        pass
    out = os.path.abspath(outdir)
    os.makedirs(out, exist_ok=True)
    return out


def manifest_models(mpath):
    """The models already listed in the manifest at `mpath`, by name (none when there is no manifest yet)."""
    if not os.path.exists(mpath):
        return {}
    with open(mpath) as f:
        return {m["name"]: m for m in json.load(f).get("models", [])}


def seed_all(seed):
    np.random.seed(seed)
    paddle.seed(seed)


@contextlib.contextmanager
def quiet():
    """Silence Paddle's tqdm progress bars and INFO logging."""
    buf = io.StringIO()
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.WARNING)
    for name in list(logging.root.manager.loggerDict):
        if "quant" in name.lower():
            logging.getLogger(name).setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stderr(buf):
            yield
    finally:
        root.setLevel(old)


def finish_saved(prefix):
    """Post-process a freshly saved model so regeneration is byte-for-byte
    reproducible and free of machine paths:
    - drop the optional .pdiparams.info;
    - strip `op_callstack` attributes (Python stack traces with absolute paths
      that Paddle records on some ops, e.g. feed/fetch);
    - canonicalise what Paddle's PTQ passes leave in hash order: the order of
      independent quantize/dequantize pairs inserted before one consumer, and
      the numbering of legacy `channel_scale_N` variables (renamed in order of
      first use; .pdiparams is rewritten, as it is sorted by name)."""
    info = prefix + ".pdiparams.info"
    if os.path.exists(info):
        os.remove(info)
    path = prefix + ".pdmodel"
    prog = read_program(path)
    for block in prog.blocks:
        for op in block.ops:
            keep = [a for a in op.attrs if a.name != "op_callstack"]
            if len(keep) != len(op.attrs):
                del op.attrs[:]
                op.attrs.extend(keep)
    _sort_qdq_pairs(prog.blocks[0])
    renames = _canonical_channel_scales(prog.blocks[0])
    if renames:
        _rename_params(prefix + ".pdiparams", prog, renames)
    with open(path, "wb") as f:
        f.write(prog.SerializeToString())


def _args(op, slot, outputs=False):
    for v in (op.outputs if outputs else op.inputs):
        if v.parameter == slot:
            return list(v.arguments)
    return []


def _sort_qdq_pairs(block):
    """Sort runs of adjacent (quantize_linear X->Y, dequantize_linear Y->Z)
    pairs by X. The pairs of a run are independent, so any order is valid."""
    ops = list(block.ops)
    i, out = 0, []
    while i < len(ops):
        pairs = []
        j = i
        while (j + 1 < len(ops) and ops[j].type == "quantize_linear"
               and ops[j + 1].type == "dequantize_linear"
               and _args(ops[j], "Y", True) == _args(ops[j + 1], "X")):
            pairs.append((ops[j], ops[j + 1]))
            j += 2
        produced = {a for q, d in pairs for a in _args(q, "Y", True) + _args(d, "Y", True)}
        if len(pairs) > 1 and not any(a in produced for q, _ in pairs for a in _args(q, "X")):
            pairs.sort(key=lambda p: _args(p[0], "X"))
            for q, d in pairs:
                out += [q, d]
            i = j
        else:
            out.append(ops[i])
            i += 1
    copies = []
    for op in out:
        c = type(op)()
        c.CopyFrom(op)
        copies.append(c)
    del block.ops[:]
    block.ops.extend(copies)


def _canonical_channel_scales(block):
    order = []
    for op in block.ops:
        for v in op.inputs:
            for a in v.arguments:
                if a.startswith("channel_scale_") and a not in order:
                    order.append(a)
    renames = {old: f"channel_scale_{k}" for k, old in enumerate(order)}
    renames = {a: b for a, b in renames.items() if a != b}
    for op in block.ops:
        for v in list(op.inputs) + list(op.outputs):
            args = [renames.get(a, a) for a in v.arguments]
            del v.arguments[:]
            v.arguments.extend(args)
    for var in block.vars:
        if var.name in renames:
            var.name = renames[var.name]
    # the VarDesc list is in hash order too: sort the channel_scale_* entries
    # among the slots they occupy
    slots = [k for k, v in enumerate(block.vars) if v.name.startswith("channel_scale_")]
    saved = []
    for k in slots:
        d = type(block.vars[k])()
        d.CopyFrom(block.vars[k])
        saved.append(d)
    saved.sort(key=lambda d: int(d.name.rsplit("_", 1)[1]))
    for k, d in zip(slots, saved):
        block.vars[k].CopyFrom(d)
    return renames


def _param_names(prog):
    # persistable vars except feed/fetch/raw (VarType 9, 10, 17), sorted by name
    return sorted(v.name for v in prog.blocks[0].vars
                  if v.persistable and v.type.type not in (9, 10, 17))


def _rename_params(params_path, new_prog, renames):
    """Rewrite a .pdiparams after renaming variables (the file has no names;
    tensors are stored in sorted-name order)."""
    import struct
    from paddle.base.proto import framework_pb2
    inverse = {b: a for a, b in renames.items()}
    new_names = _param_names(new_prog)
    old_names = sorted(inverse.get(n, n) for n in new_names)
    with open(params_path, "rb") as f:
        buf = f.read()
    sizes = {4: 2, 5: 4, 6: 8, 2: 4, 3: 8, 0: 1, 1: 2, 20: 1, 21: 1, 22: 2}
    chunks, off = {}, 0
    for name in old_names:
        start = off
        off += 4
        (lod,) = struct.unpack_from("<Q", buf, off)
        off += 8
        for _ in range(lod):
            (n,) = struct.unpack_from("<Q", buf, off)
            off += 8 + n
        off += 4
        (dsz,) = struct.unpack_from("<i", buf, off)
        off += 4
        desc = framework_pb2.VarType.TensorDesc.FromString(buf[off:off + dsz])
        off += dsz
        numel = int(np.prod(desc.dims)) if len(desc.dims) else 1
        off += numel * sizes[desc.data_type]
        chunks[renames.get(name, name)] = buf[start:off]
    assert off == len(buf), "unexpected .pdiparams layout"
    with open(params_path, "wb") as f:
        for name in new_names:
            f.write(chunks[name])


def save_dygraph_model(layer, prefix, input_shape, input_name="x"):
    """Export an eval-mode dygraph Layer as legacy .pdmodel/.pdiparams."""
    paddle.disable_static()
    layer.eval()
    spec = [paddle.static.InputSpec(input_shape, "float32", input_name)]
    paddle.jit.save(layer, prefix, input_spec=spec)
    finish_saved(prefix)


def bn_calibrate(layer, batches):
    """Set BatchNorm running statistics to the exact average of the batch
    statistics over `batches` (randomly initialised nets otherwise have
    mean 0 / var 1 everywhere, which makes activations drift with depth)."""
    bns = [m for m in layer.sublayers() if isinstance(m, nn.layer.norm._BatchNormBase)]
    saved = [m._momentum for m in bns]
    layer.train()
    with paddle.no_grad():
        for k, b in enumerate(batches):
            for m in bns:
                # running = m * running + (1 - m) * batch  -> cumulative mean
                m._momentum = k / (k + 1.0)
            layer(paddle.to_tensor(b))
    for m, mom in zip(bns, saved):
        m._momentum = mom
    layer.eval()


def ptq(src_dir, src_name, dst_dir, dst_name, calib_batches, onnx_format=True,
        algo="KL", quantizable_op_type=None, weight_quantize_type="channel_wise_abs_max",
        activation_quantize_type="range_abs_max", is_full_quantize=False):
    """Post-training quantize src_dir/src_name.pdmodel into dst_dir/dst_name.*"""
    paddle.enable_static()
    exe = paddle.static.Executor(paddle.CPUPlace())
    scope = paddle.static.Scope()
    batches = list(calib_batches)

    with paddle.static.scope_guard(scope):
        prog, feeds, _ = paddle.static.load_inference_model(
            os.path.join(src_dir, src_name), exe)
        feed_name = feeds[0]

        def loader():
            for b in batches:
                yield {feed_name: b}

        from paddle.static.quantization import PostTrainingQuantization
        with quiet():
            q = PostTrainingQuantization(
                executor=exe,
                model_dir=src_dir,
                model_filename=src_name + ".pdmodel",
                params_filename=src_name + ".pdiparams",
                scope=scope,
                data_loader=loader,
                batch_nums=len(batches),
                algo=algo,
                quantizable_op_type=list(quantizable_op_type or QUANT_OP_TYPES),
                is_full_quantize=is_full_quantize,
                weight_quantize_type=weight_quantize_type,
                activation_quantize_type=activation_quantize_type,
                onnx_format=onnx_format,
            )
            q.quantize()
            q.save_quantized_model(dst_dir, model_filename=dst_name + ".pdmodel",
                                   params_filename=dst_name + ".pdiparams")
    finish_saved(os.path.join(dst_dir, dst_name))


def run_saved(prefix, inputs):
    """Load a saved inference model and run it on the CPU Executor.

    inputs: list of numpy arrays in feed order. Returns (feed_names,
    fetch_names, [outputs])."""
    paddle.enable_static()
    exe = paddle.static.Executor(paddle.CPUPlace())
    scope = paddle.static.Scope()
    with paddle.static.scope_guard(scope):
        prog, feeds, fetches = paddle.static.load_inference_model(prefix, exe)
        outs = exe.run(prog, feed=dict(zip(feeds, inputs)), fetch_list=fetches,
                       return_numpy=True)
    return list(feeds), [v.name for v in fetches], [np.asarray(o) for o in outs]


def read_program(pdmodel_path):
    from paddle.base.proto import framework_pb2
    with open(pdmodel_path, "rb") as f:
        return framework_pb2.ProgramDesc.FromString(f.read())


_DTYPE_NAMES = {0: "bool", 1: "int16", 2: "int32", 3: "int64", 4: "float16", 5: "float32",
                6: "float64", 20: "uint8", 21: "int8", 22: "bfloat16"}


def op_type_counts(pdmodel_path):
    """Count op types in block 0, straight from the protobuf file."""
    counts = {}
    for op in read_program(pdmodel_path).blocks[0].ops:
        counts[op.type] = counts.get(op.type, 0) + 1
    return dict(sorted(counts.items()))


def var_info(pdmodel_path, name):
    for v in read_program(pdmodel_path).blocks[0].vars:
        if v.name == name:
            vt = v.type
            t = (vt.dense_tensor if hasattr(vt, "dense_tensor") else vt.lod_tensor).tensor
            return list(t.dims), _DTYPE_NAMES.get(t.data_type, str(t.data_type))
    return None, None


def write_reference(out_dir, name, inputs, quantized, extra=None):
    """Save NAME.input.npy + Paddle outputs; return the manifest entry."""
    prefix = os.path.join(out_dir, name)
    feeds, fetches, outs = run_saved(prefix, inputs)
    entry = {"name": name, "model": name + ".pdmodel", "params": name + ".pdiparams",
             "quantized": quantized, "inputs": [], "outputs": []}
    for i, (fname, arr) in enumerate(zip(feeds, inputs)):
        fn = f"{name}.input.npy" if len(inputs) == 1 else f"{name}.input{i}.npy"
        np.save(os.path.join(out_dir, fn), arr)
        shape, dtype = var_info(prefix + ".pdmodel", fname)
        entry["inputs"].append({"name": fname, "shape": shape, "dtype": dtype, "file": fn,
                                "file_shape": list(arr.shape)})
    for i, (oname, arr) in enumerate(zip(fetches, outs)):
        fn = f"{name}.output.npy" if len(outs) == 1 else f"{name}.output{i}.npy"
        np.save(os.path.join(out_dir, fn), arr)
        entry["outputs"].append({"name": oname, "file": fn, "shape": list(arr.shape),
                                 "dtype": str(arr.dtype)})
    entry["op_types"] = op_type_counts(prefix + ".pdmodel")
    if extra:
        entry.update(extra)
    return entry


def top1(prefix, x, y, batch=64):
    correct = 0
    for i in range(0, len(x), batch):
        _, _, outs = run_saved(prefix, [x[i:i + batch]])
        correct += int((outs[0].argmax(-1) == y[i:i + batch]).sum())
    return correct / float(len(x))


# --------------------------------------------------------------------------
# Procedural "shapes" data set (no downloads)
# --------------------------------------------------------------------------

SHAPE_CLASSES = ["circle", "square", "triangle", "cross",
                 "h_stripes", "v_stripes", "checker", "gradient"]
IMG = 32


def _colours(rng):
    """Foreground/background colours with a guaranteed contrast."""
    while True:
        bg = rng.uniform(0, 1, 3)
        fg = rng.uniform(0, 1, 3)
        if np.abs(fg - bg).sum() > 0.6:
            return fg, bg


def make_shape_image(rng, cls):
    yy, xx = np.mgrid[0:IMG, 0:IMG].astype(np.float32)
    cx, cy = rng.uniform(9, 23, 2)
    name = SHAPE_CLASSES[cls]
    if name == "circle":
        r = rng.uniform(4, 10)
        m = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    elif name == "square":
        s = rng.uniform(3.5, 9)
        m = (np.abs(xx - cx) <= s) & (np.abs(yy - cy) <= s)
    elif name == "triangle":
        h = rng.uniform(4, 10)
        d = (yy - (cy - h)) if rng.uniform() < 0.5 else ((cy + h) - yy)
        m = (d >= 0) & (d <= 2 * h) & (np.abs(xx - cx) <= d * 0.6)
    elif name == "cross":
        a = rng.uniform(5, 11)
        t = rng.uniform(1.2, 2.8)
        m = ((np.abs(xx - cx) <= t) & (np.abs(yy - cy) <= a)) | \
            ((np.abs(yy - cy) <= t) & (np.abs(xx - cx) <= a))
    elif name in ("h_stripes", "v_stripes"):
        p = rng.uniform(3, 8)
        c = yy if name == "h_stripes" else xx
        m = np.floor((c + rng.uniform(0, 2 * p)) / p) % 2 == 0
    elif name == "checker":
        p = rng.uniform(3, 8)
        m = (np.floor((xx + rng.uniform(0, 2 * p)) / p) +
             np.floor((yy + rng.uniform(0, 2 * p)) / p)) % 2 == 0
    else:  # gradient
        ang = rng.uniform(0, 2 * np.pi)
        t = ((xx - 15.5) * np.cos(ang) + (yy - 15.5) * np.sin(ang)) / 22.0 + 0.5
        m = np.clip(t, 0, 1)
    fg, bg = _colours(rng)
    m = m.astype(np.float32)[None]
    img = m * fg[:, None, None] + (1 - m) * bg[:, None, None]
    img = img + rng.normal(0, rng.uniform(0.02, 0.12), img.shape)
    return np.clip(img, 0, 1).astype(np.float32)


def make_shapes_dataset(n, seed):
    rng = np.random.RandomState(seed)
    y = np.arange(n) % len(SHAPE_CLASSES)
    rng.shuffle(y)
    x = np.stack([make_shape_image(rng, int(c)) for c in y])
    return x, y.astype(np.int64)


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


class ConvBN(nn.Layer):
    """conv2d (no bias) + batch_norm + activation, the unit of every vision model here and in
    generate_families.py (which adds its own activations through ACTIVATIONS)."""

    ACTIVATIONS = {"relu": F.relu, "relu6": F.relu6, "hardswish": F.hardswish, "swish": F.swish}

    def __init__(self, cin, cout, k, stride=1, groups=1, act="relu", dilation=1, padding=None):
        super().__init__()
        pad = (k - 1) // 2 * dilation if padding is None else padding
        self.conv = nn.Conv2D(cin, cout, k, stride=stride, padding=pad, groups=groups,
                              dilation=dilation, bias_attr=False)
        self.bn = nn.BatchNorm2D(cout)
        self.act = act

    def forward(self, x):
        x = self.bn(self.conv(x))
        return self.ACTIVATIONS[self.act](x) if self.act else x


class ShapesNet(nn.Layer):
    """Small CNN classifier for the procedural shapes data set."""

    def __init__(self, num_classes=len(SHAPE_CLASSES)):
        super().__init__()
        self.stem = ConvBN(3, 16, 3)                   # 16x32x32
        self.pool1 = nn.MaxPool2D(2, 2)                # 16x16x16
        self.conv2 = ConvBN(16, 32, 3)                 # 32x16x16
        self.dw = ConvBN(32, 32, 3, groups=32)         # depthwise
        self.pw = ConvBN(32, 32, 1, act=None)          # pointwise, residual add follows
        self.conv3 = ConvBN(32, 64, 3, stride=2)       # 64x8x8
        self.pool2 = nn.AvgPool2D(2, 2)                # 64x4x4
        self.gap = nn.AdaptiveAvgPool2D(1)             # 64x1x1
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, num_classes)

    def logits(self, x):
        x = self.pool1(self.stem(x))
        x = self.conv2(x)
        x = F.relu(x + self.pw(self.dw(x)))
        x = self.conv3(x)
        x = self.gap(self.pool2(x))
        x = paddle.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))

    def forward(self, x):
        return F.softmax(self.logits(x), axis=-1)


class SqueezeExcite(nn.Layer):
    def __init__(self, c, r=4):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2D(1)
        self.fc1 = nn.Conv2D(c, c // r, 1)
        self.fc2 = nn.Conv2D(c // r, c, 1)

    def forward(self, x):
        s = F.relu(self.fc1(self.pool(x)))
        s = F.hardsigmoid(self.fc2(s))
        return x * s


def channel_shuffle(x, groups):
    _, c, h, w = x.shape
    x = paddle.reshape(x, [-1, groups, c // groups, h, w])
    x = paddle.transpose(x, [0, 2, 1, 3, 4])
    return paddle.reshape(x, [-1, c, h, w])


class InvertedResidual(nn.Layer):
    def __init__(self, c, expand, act):
        super().__init__()
        self.expand = ConvBN(c, expand, 1, act=act)
        self.dw = ConvBN(expand, expand, 3, groups=expand, act=act)
        self.se = SqueezeExcite(expand)
        self.project = ConvBN(expand, c, 1, act=None)

    def forward(self, x):
        return x + self.project(self.se(self.dw(self.expand(x))))


class ShuffleUnit(nn.Layer):
    def __init__(self, c):
        super().__init__()
        h = c // 2
        self.pw1 = ConvBN(h, h, 1)
        self.dw = ConvBN(h, h, 3, groups=h, act=None)
        self.pw2 = ConvBN(h, h, 1)

    def forward(self, x):
        a, b = paddle.split(x, 2, axis=1)
        b = self.pw2(self.dw(self.pw1(b)))
        return channel_shuffle(paddle.concat([a, b], axis=1), 2)


class MobileNet(nn.Layer):
    """Tiny MobileNetV3 / ShuffleNet hybrid (random init)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = ConvBN(3, 16, 3, stride=2, act="hardswish")        # 16x16x16
        self.block1 = InvertedResidual(16, 48, "relu6")
        self.down = ConvBN(16, 16, 3, stride=2, groups=16, act="relu6")  # dw s2 -> 8x8
        self.widen = ConvBN(16, 32, 1, act="hardswish")
        self.shuffle = ShuffleUnit(32)
        self.block2 = InvertedResidual(32, 64, "hardswish")
        self.head = ConvBN(32, 96, 1, act="hardswish")
        self.gap = nn.AdaptiveAvgPool2D(1)
        self.fc = nn.Linear(96, num_classes)

    def forward(self, x):
        x = self.block1(self.stem(x))
        x = self.widen(self.down(x))
        x = self.block2(self.shuffle(x))
        x = self.gap(self.head(x))
        return self.fc(paddle.flatten(x, 1))


# --------------------------------------------------------------------------
# Sample builders
# --------------------------------------------------------------------------


def train_shapes(seed=1234, n_train=8000, epochs=5, batch=64):
    # Fixed epoch count (no wall-clock early stop) so results do not depend on
    # machine speed. About 50-100 s on 2 CPU cores.
    seed_all(seed)
    paddle.disable_static()
    x, y = make_shapes_dataset(n_train, seed)
    xv, yv = make_shapes_dataset(512, seed + 1)
    model = ShapesNet()
    steps = epochs * (n_train // batch)
    sched = paddle.optimizer.lr.OneCycleLR(max_learning_rate=0.01, total_steps=steps)
    opt = paddle.optimizer.Adam(learning_rate=sched, parameters=model.parameters(),
                                weight_decay=1e-4)
    rng = np.random.RandomState(seed)
    t0 = time.time()
    step = 0
    for ep in range(epochs):
        model.train()
        perm = rng.permutation(n_train)
        for i in range(0, n_train - batch + 1, batch):
            idx = perm[i:i + batch]
            xb = paddle.to_tensor(x[idx])
            yb = paddle.to_tensor(y[idx])
            loss = F.cross_entropy(model.logits(xb), yb)
            loss.backward()
            opt.step()
            opt.clear_grad()
            sched.step()
            step += 1
        model.eval()
        with paddle.no_grad():
            pv = model.logits(paddle.to_tensor(xv)).numpy().argmax(-1)
        acc = float((pv == yv).mean())
        log(f"shapes epoch {ep + 1}/{epochs}: loss {float(loss):.3f} val acc {acc:.3f} "
            f"({time.time() - t0:.0f}s)")
    return model


def build_shapes(out, manifest):
    model = train_shapes()
    save_dygraph_model(model, os.path.join(out, "shapes_fp32"), [-1, 3, IMG, IMG])

    xt, yt = make_shapes_dataset(256, 777)
    np.save(os.path.join(out, "shapes_testset.x.npy"), xt)
    np.save(os.path.join(out, "shapes_testset.y.npy"), yt)

    calib, _ = make_shapes_dataset(256, 4242)
    ptq(out, "shapes_fp32", out, "shapes_int8",
        [calib[i:i + 32] for i in range(0, len(calib), 32)], onnx_format=True, algo="KL")

    x_in = xt[:2].copy()  # fixed input: the first two test images
    for name, q in (("shapes_fp32", False), ("shapes_int8", True)):
        acc = top1(os.path.join(out, name), xt, yt)
        log(f"{name}: paddle top-1 on shapes_testset = {acc:.4f}")
        manifest.append(write_reference(out, name, [x_in], q, {
            "accuracy": {"paddle_top1": acc, "testset_x": "shapes_testset.x.npy",
                         "testset_y": "shapes_testset.y.npy",
                         "classes": SHAPE_CLASSES}}))
    return manifest


def build_legacy(out, manifest):
    """Legacy-format (fake_quantize_* / fake_*dequantize*) PTQ of the shapes net."""
    calib, _ = make_shapes_dataset(128, 4343)
    ptq(out, "shapes_fp32", out, "legacy_int8",
        [calib[i:i + 32] for i in range(0, len(calib), 32)], onnx_format=False, algo="KL")
    xt = np.load(os.path.join(out, "shapes_testset.x.npy"))
    yt = np.load(os.path.join(out, "shapes_testset.y.npy"))
    acc = top1(os.path.join(out, "legacy_int8"), xt, yt)
    log(f"legacy_int8: paddle top-1 on shapes_testset = {acc:.4f}")
    manifest.append(write_reference(out, "legacy_int8", [xt[:2].copy()], True, {
        "accuracy": {"paddle_top1": acc, "testset_x": "shapes_testset.x.npy",
                     "testset_y": "shapes_testset.y.npy", "classes": SHAPE_CLASSES},
        "source": "shapes_fp32 quantized with onnx_format=False"}))
    return manifest


def build_mobile(out, manifest):
    seed_all(2024)
    paddle.disable_static()
    model = MobileNet()
    data, _ = make_shapes_dataset(256, 99)
    bn_calibrate(model, [data[i:i + 32] for i in range(0, 256, 32)])
    save_dygraph_model(model, os.path.join(out, "mobile_fp32"), [-1, 3, IMG, IMG])
    calib, _ = make_shapes_dataset(128, 100)
    ptq(out, "mobile_fp32", out, "mobile_int8",
        [calib[i:i + 32] for i in range(0, len(calib), 32)], onnx_format=True, algo="KL")
    rng = np.random.RandomState(5)
    x_in = np.concatenate([make_shapes_dataset(1, 101)[0],
                           rng.uniform(0, 1, (1, 3, IMG, IMG)).astype(np.float32)])
    manifest.append(write_reference(out, "mobile_fp32", [x_in], False))
    manifest.append(write_reference(out, "mobile_int8", [x_in], True))
    return manifest


def _raw_op(op_type, x, attrs=None, y=None, out_dtype="float32"):
    """Append a raw legacy op. Needed for attributes the 2.x API no longer
    sets (elementwise `axis` broadcasting) and because in Paddle 3.3 a few
    generated functions (sigmoid, tanh, abs, ...) reject legacy static
    Variables ("must be Value, but got Variable")."""
    from paddle.base.layer_helper import LayerHelper
    helper = LayerHelper(op_type)
    out = helper.create_variable_for_type_inference(dtype=out_dtype)
    inputs = {"X": [x]}
    if y is not None:
        inputs["Y"] = [y]
    helper.append_op(type=op_type, inputs=inputs, outputs={"Out": [out]}, attrs=attrs or {})
    return out


def _matmul(x, y, trans_x=False, trans_y=False):
    return _raw_op("matmul_v2", x, {"trans_x": trans_x, "trans_y": trans_y}, y=y)


def build_ops(out, manifest):
    """Tiny static-graph model exercising a wide range of op types."""
    seed_all(7)
    paddle.enable_static()
    main, startup = paddle.static.Program(), paddle.static.Program()
    main.random_seed = startup.random_seed = 7
    H = 15
    with paddle.static.program_guard(main, startup):
        x = paddle.static.data("x", [-1, 3, H, H], "float32")
        # dilated conv + grouped conv
        a = paddle.static.nn.conv2d(x, 8, 3, padding=2, dilation=2, name="dil")
        a = _raw_op("sigmoid", a) * 2.0 - 0.5              # sigmoid, scale
        b = paddle.static.nn.conv2d(a, 8, 3, padding=1, groups=4, name="grp")
        b = F.silu(b)
        c = F.leaky_relu(b, 0.1)
        c = paddle.clip(c, -0.75, 1.5)
        c = F.swish(c) if hasattr(F, "swish") else c
        # per-channel statistics broadcast back with elementwise axis=1 ([N,C,H,W] op [C])
        chan_bias = paddle.create_parameter([8], "float32", name="chan_bias",
                                            default_initializer=nn.initializer.Uniform(-0.5, 0.5))
        chan_gain = paddle.create_parameter([8], "float32", name="chan_gain",
                                            default_initializer=nn.initializer.Uniform(0.5, 1.5))
        d = _raw_op("elementwise_sub", c, {"axis": 1}, y=chan_bias)
        d = _raw_op("elementwise_div", d, {"axis": 1}, y=chan_gain)
        # numpy-style broadcast sub / div (axis=-1) against a keepdim mean
        m = paddle.mean(d, axis=[2, 3], keepdim=True)     # reduce_mean
        e = paddle.divide(paddle.subtract(d, m), paddle.max(_raw_op("abs", d)) + 1.0)
        # pooling: ceil_mode + padding, exclusive average and max
        p1 = F.avg_pool2d(e, 3, stride=2, padding=1, ceil_mode=True, exclusive=True)  # 8x8
        p2 = F.max_pool2d(e, 3, stride=2, padding=1, ceil_mode=True)                   # 8x8
        f = paddle.concat([p1, p2], axis=1)               # [N,16,8,8]
        s1, s2 = paddle.split(f, [6, 10], axis=1)
        s1 = _raw_op("reduce_sum", s1, {"dim": [1], "keep_dim": True, "reduce_all": False})  # [N,1,8,8]
        g = paddle.concat([s1, s2], axis=1)               # [N,11,8,8]
        # matmul_v2 with transpose flags: tokens [N,64,11]
        t = paddle.transpose(paddle.reshape(g, [-1, 11, 64]), [0, 2, 1])
        w = paddle.create_parameter([8, 11], "float32", name="proj_w",
                                    default_initializer=nn.initializer.Normal(0, 0.3))
        q = _matmul(t, w, trans_y=True)                   # [N,64,8]
        att = _matmul(q, q, trans_y=True) * 0.125         # [N,64,64]
        att = F.softmax(att, axis=-1)
        v = _matmul(att, q)                               # [N,64,8]
        u = _matmul(v, q, trans_x=True)                   # [N,8,8]
        u = paddle.unsqueeze(u, axis=1)                    # [N,1,8,8]
        u = paddle.squeeze(paddle.mean(u, axis=[2], keepdim=True), axis=[1, 2])  # [N,8]
        out1 = F.softmax(u, axis=-1)
        out2 = paddle.mean(g, axis=[1, 2, 3])              # reduce over all but batch
        out2 = _raw_op("tanh", out2)
    exe = paddle.static.Executor(paddle.CPUPlace())
    scope = paddle.static.Scope()
    with paddle.static.scope_guard(scope):
        exe.run(startup)
        paddle.static.save_inference_model(os.path.join(out, "ops_fp32"), [x], [out1, out2],
                                           exe, program=main)
    finish_saved(os.path.join(out, "ops_fp32"))
    rng = np.random.RandomState(11)
    x_in = rng.normal(0, 1, (2, 3, H, H)).astype(np.float32)
    manifest.append(write_reference(out, "ops_fp32", [x_in], False))
    return manifest


DESCRIPTIONS = {
    "shapes_fp32": "Small CNN (conv+BN+ReLU, depthwise conv, residual add, max/avg/adaptive "
                   "pool, flatten, 2x fc, softmax) trained on 8 procedural shape/texture classes.",
    "shapes_int8": "shapes_fp32 after Paddle PTQ, onnx_format (quantize_linear/dequantize_linear), "
                   "per-channel int8 weights, KL-calibrated activations. The default sample.",
    "mobile_fp32": "Tiny MobileNetV3/ShuffleNet hybrid, random init (BN stats calibrated): "
                   "hard_swish, relu6, hard_sigmoid squeeze-excite, residual adds, split, concat, "
                   "channel shuffle (reshape2/transpose2/reshape2), global pool, fc.",
    "mobile_int8": "mobile_fp32 after Paddle PTQ, onnx_format, per-channel int8 weights.",
    "legacy_int8": "shapes_fp32 after Paddle PTQ in the legacy format (onnx_format=False): "
                   "fake_quantize_range_abs_max + fake_channel_wise_dequantize_max_abs, weights "
                   "stored as integer-valued float32.",
    "ops_fp32": "Tiny static-graph op zoo: dilated/grouped conv, sigmoid, silu, swish, leaky_relu, "
                "clip, scale, abs, tanh, elementwise sub/div with axis=1 and numpy broadcasting, "
                "reduce_mean/sum/max, matmul_v2 with trans_x/trans_y, softmax, ceil_mode + padded "
                "exclusive avg/max pool, concat, split, reshape2/transpose2, squeeze2/unsqueeze2. "
                "Two fetch targets.",
}

BUILDERS = [("shapes", build_shapes), ("legacy", build_legacy),
            ("mobile", build_mobile), ("ops", build_ops)]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=HERE, help="output directory (default: samples/)")
    ap.add_argument("--only", default="", help="comma list of: shapes,legacy,mobile,ops "
                    "(legacy needs shapes_fp32 already in --out)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    out = prepare_output(args.out, args.threads)
    only = set(filter(None, args.only.split(",")))
    mpath = os.path.join(out, "manifest.json")
    old = {}
    if only and os.path.exists(mpath):
        with open(mpath) as f:
            old = {m["name"]: m for m in json.load(f)["models"]}
    manifest = []
    t0 = time.time()
    for key, fn in BUILDERS:
        if only and key not in only:
            continue
        log(f"building {key} ...")
        fn(out, manifest)
    new = {m["name"]: dict({"name": m["name"], "description": DESCRIPTIONS.get(m["name"], "")}, **m)
           for m in manifest}
    old.update(new)
    order = ["shapes_int8", "shapes_fp32", "mobile_int8", "mobile_fp32", "legacy_int8", "ops_fp32"]
    models = sorted(old.values(), key=lambda m: order.index(m["name"]) if m["name"] in order else 99)
    doc = {"default": "shapes_int8",
           "generator": "samples/generate.py",
           "paddle_version": paddle.__version__,
           "models": models}
    with open(mpath, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out)
                if n.endswith((".pdmodel", ".pdiparams", ".npy", ".json")))
    log(f"done in {time.time() - t0:.0f}s; sample files total {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
