import CQtopKernels
import QtopFormat
import QtopGraph

// Native fp32 elementwise ops of the model families (C: f32_ops.c, ISA through the isa_config row): broadcasting
// binaries, relu / sigmoid / swish / silu / hard_sigmoid / hard_swish, layer_norm, last-axis softmax, inference
// batch_norm (NCHW; the one after a conv2d_transpose does not fold) and scale_residual (x + x·s). The
// broadcast layout is worked out here once per plan (rows of a contiguous or broadcast run, with each row's X / Y
// offsets); the C side only walks rows. Every ISA row gives the same bits (int8 graphs ending in these ops stay
// bit-identical across ISAs). Binaries, relu, hard_sigmoid and hard_swish also give the Swift reference's bits
// ("eltwise"); the exp-based ops and the lane-summed rows are within a few ulp of it ("eltwise_exp", "lnorm8",
// "softmax8").

private func knownShape(_ s: [Int]) -> Bool { !s.isEmpty && s.allSatisfy { $0 > 0 } }

/// Broadcasting laid out as rows: out is `rows` × `inner`; row r reads X from `xoff[r]` (then every element when
/// `xstep` is 1, the same one when 0) and Y likewise.
struct BroadcastRows: Equatable {
    let rows: Int, inner: Int
    let xstep: Int, ystep: Int
    let xoff: [Int64], yoff: [Int64]

    /// nil when the layout would need more than `maxRows` rows (the reference kernel then runs instead).
    init?(out: [Int], x: [Int], y: [Int], maxRows: Int = 1 << 22) {
        let r = out.count
        guard x.count == r, y.count == r else { return nil }
        // per dimension: does X (Y) run along it (1) or stay (0)? Extent-1 output dimensions do not matter.
        func kind(_ i: Int) -> (Int, Int)? { out[i] == 1 ? nil : (x[i] == 1 ? 0 : 1, y[i] == 1 ? 0 : 1) }
        var split = r, pattern: (Int, Int)? = nil
        while split > 0 {
            guard let k = kind(split - 1) else { split -= 1; continue }
            if let p = pattern, p != k { break }
            pattern = k
            split -= 1
        }
        let (xs, ys) = pattern ?? (1, 1)
        inner = out[split...].reduce(1, *)
        rows = out[..<split].reduce(1, *)
        guard rows <= maxRows else { return nil }
        xstep = xs; ystep = ys
        func strides(_ d: [Int]) -> [Int] {
            var s = [Int](repeating: 0, count: r), acc = 1
            for i in stride(from: r - 1, through: 0, by: -1) { s[i] = d[i] == 1 ? 0 : acc; acc *= d[i] }
            return s
        }
        let sx = strides(x), sy = strides(y)
        var xo = [Int64](repeating: 0, count: rows), yo = [Int64](repeating: 0, count: rows)
        var idx = [Int](repeating: 0, count: split)
        var a = 0, b = 0
        for row in 0..<rows {
            xo[row] = Int64(a); yo[row] = Int64(b)
            var d = split - 1
            while d >= 0 {
                idx[d] += 1; a += sx[d]; b += sy[d]
                if idx[d] < out[d] { break }
                a -= sx[d] * idx[d]; b -= sy[d] * idx[d]; idx[d] = 0
                d -= 1
            }
        }
        xoff = xo; yoff = yo
    }
}

final class NativeBinaryKernel: Kernel {
    let op: Int32, isa: Int32
    let layout: BroadcastRows
    let xCount: Int, yCount: Int

    init(op: Int32, isa: Int32, layout: BroadcastRows, xCount: Int, yCount: Int) {
        self.op = op; self.isa = isa; self.layout = layout; self.xCount = xCount; self.yCount = yCount
    }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X"), y = try io.input("Y"), out = try io.output("Out")
        let l = layout
        guard x.count == xCount, y.count == yCount, out.count == l.rows * l.inner, x.dtype == .f32, y.dtype == .f32 else {
            throw KernelError("elementwise planned for \(xCount) and \(yCount) values, got \(x.shape) and \(y.shape)")
        }
        let ok = l.xoff.withUnsafeBufferPointer { xo in
            l.yoff.withUnsafeBufferPointer { yo in
                qtop_f32_binary_rows(isa, op, x.f32, y.f32, out.f32, Int64(l.rows), Int64(l.inner), xo.baseAddress, yo.baseAddress,
                                     Int32(l.xstep), Int32(l.ystep), nativePoolHandle(io.threads))
            }
        }
        guard ok == 1 else { throw KernelError("elementwise: no native kernel at this ISA") }
    }
}

let nativeBinaryOps: [String: qtop_binop] = [
    "elementwise_add": QTOP_BIN_ADD, "elementwise_sub": QTOP_BIN_SUB, "elementwise_mul": QTOP_BIN_MUL,
    "elementwise_div": QTOP_BIN_DIV, "elementwise_max": QTOP_BIN_MAX, "elementwise_min": QTOP_BIN_MIN,
]

/// The one gate of these entries: the ISA (the generic row is the scalar reference, available everywhere).
private func opsGate(_ isa: ISALevel, _ ctx: KernelBuildContext) -> String? {
    if isa != .generic, let why = nativeISAGate(isa, ctx) { return why }
    if isa > ctx.isaCap { return "\(isa.rawValue): capped by --isa \(ctx.isaCap.rawValue)" }
    return qtop_f32_ops_available(isa.cValue) == 1 ? nil : "\(isa.rawValue): no fp32 op kernels"
}

func makeNativeBinary(_ ctx: KernelBuildContext, _ isa: ISALevel) throws -> KernelBuild {
    if let why = opsGate(isa, ctx) { return .rejected(why) }
    guard let op = nativeBinaryOps[ctx.node.type] else { return .rejected("no native kernel for \(ctx.node.type)") }
    let xs = ctx.inputShape("X"), ys = ctx.inputShape("Y"), os = ctx.outputShape("Out")
    guard ctx.inputDType("X") == .f32, ctx.inputDType("Y") == .f32 else { return .rejected("X and Y must be f32") }
    guard knownShape(xs) || xs.isEmpty, knownShape(ys) || ys.isEmpty, knownShape(os) || os.isEmpty,
          xs.allSatisfy({ $0 > 0 }), ys.allSatisfy({ $0 > 0 }), os.allSatisfy({ $0 > 0 }) else {
        return .rejected("X, Y and Out need known shapes")
    }
    let axis = try ctx.spec(BinarySpec.self).axis
    let aligned: (x: [Int], y: [Int])
    do { aligned = try alignForBroadcast(xs, ys, axis: axis) } catch { return .rejected("\(error)") }
    guard aligned.x.count == os.count else { return .rejected("Out \(os) does not match the broadcast rank") }
    for i in os.indices where (aligned.x[i] != os[i] && aligned.x[i] != 1) || (aligned.y[i] != os[i] && aligned.y[i] != 1) {
        return .rejected("\(xs) and \(ys) do not broadcast to \(os)")
    }
    guard let layout = BroadcastRows(out: os, x: aligned.x, y: aligned.y) else { return .rejected("too many broadcast rows") }
    return .ready(NativeBinaryKernel(op: Int32(op.rawValue), isa: isa.cValue, layout: layout,
                                     xCount: xs.reduce(1, *), yCount: ys.reduce(1, *)))
}

/// The C descriptor of a unary activation (nil: not one of the native ones).
func nativeUnaryDesc(_ ctx: KernelBuildContext) throws -> qtop_unary_desc? {
    let spec = try ctx.spec(UnarySpec.self)
    var d = qtop_unary_desc()
    switch ctx.node.type {
    case "relu": d.op = Int32(QTOP_UN_RELU.rawValue)
    case "sigmoid": d.op = Int32(QTOP_UN_SIGMOID.rawValue)
    case "silu": d.op = Int32(QTOP_UN_SWISH.rawValue); d.a = 1
    case "swish": d.op = Int32(QTOP_UN_SWISH.rawValue); d.a = spec.param("beta")
    case "hard_sigmoid": d.op = Int32(QTOP_UN_HARD_SIGMOID.rawValue); d.a = spec.param("slope"); d.b = spec.param("offset")
    case "hard_swish":
        d.op = Int32(QTOP_UN_HARD_SWISH.rawValue)
        d.a = spec.param("threshold"); d.b = spec.param("scale"); d.c = spec.param("offset")
    default: return nil
    }
    return d
}

func makeNativeUnary(_ ctx: KernelBuildContext, _ isa: ISALevel) throws -> KernelBuild {
    if let why = opsGate(isa, ctx) { return .rejected(why) }
    guard ctx.inputDType("X") == .f32 else { return .rejected("X must be f32") }
    guard let desc = try nativeUnaryDesc(ctx) else { return .rejected("no native kernel for \(ctx.node.type)") }
    let c = isa.cValue
    return .ready(SwiftFastKernel { io in
        let x = try io.input("X"), y = try io.output("Out")
        try requireF32(x, ctx.node.type)
        try requireSameCount(x, y, ctx.node.type)
        var d = desc
        guard qtop_f32_unary(c, &d, x.f32, y.f32, Int64(x.count), nativePoolHandle(io.threads)) == 1 else {
            throw KernelError("\(ctx.node.type): no native kernel at this ISA")
        }
    })
}

func makeNativeLayerNorm(_ ctx: KernelBuildContext, _ isa: ISALevel) throws -> KernelBuild {
    if let why = opsGate(isa, ctx) { return .rejected(why) }
    let spec = try ctx.spec(LayerNormSpec.self)
    let xs = ctx.inputShape("X")
    guard knownShape(xs), ctx.inputDType("X") == .f32 else { return .rejected("X must be a known f32 shape") }
    let (rows, cols) = try spec.split(xs)
    guard cols > 0 else { return .rejected("empty rows") }
    let scale = ctx.constant("Scale")?.floatValues(), bias = ctx.constant("Bias")?.floatValues()
    if ctx.node.input("Scale") != nil, scale?.count != cols { return .rejected("Scale must be a constant of \(cols) values") }
    if ctx.node.input("Bias") != nil, bias?.count != cols { return .rejected("Bias must be a constant of \(cols) values") }
    let eps = spec.epsilon, c = isa.cValue
    return .ready(SwiftFastKernel { io in
        let x = try io.input("X"), y = try io.output("Y")
        guard x.count == rows * cols, y.count == x.count else { throw KernelError("layer_norm planned for \(xs), got \(x.shape)") }
        let mean = io.optionalOutput("Mean").flatMap { $0.count == rows ? $0.f32 : nil }
        let variance = io.optionalOutput("Variance").flatMap { $0.count == rows ? $0.f32 : nil }
        let ok = (scale ?? []).withUnsafeBufferPointer { sp in
            (bias ?? []).withUnsafeBufferPointer { bp in
                qtop_f32_layer_norm(c, x.f32, y.f32, Int64(rows), Int64(cols), eps, scale == nil ? nil : sp.baseAddress,
                                    bias == nil ? nil : bp.baseAddress, mean, variance, nativePoolHandle(io.threads))
            }
        }
        guard ok == 1 else { throw KernelError("layer_norm: no native kernel at this ISA") }
    })
}

func makeNativeSoftmax(_ ctx: KernelBuildContext, _ isa: ISALevel) throws -> KernelBuild {
    if let why = opsGate(isa, ctx) { return .rejected(why) }
    let xs = ctx.inputShape("X")
    guard knownShape(xs), ctx.inputDType("X") == .f32 else { return .rejected("X must be a known f32 shape") }
    let axis = try ctx.spec(UnarySpec.self).axis
    guard axis == -1 || axis == xs.count - 1 else { return .rejected("softmax over axis \(axis), not the last") }
    let cols = xs.last!, rows = xs.dropLast().reduce(1, *), c = isa.cValue
    return .ready(SwiftFastKernel { io in
        let x = try io.input("X"), y = try io.output("Out")
        guard x.count == rows * cols, y.count == x.count, x.dtype == .f32 else { throw KernelError("softmax planned for \(xs), got \(x.shape)") }
        guard qtop_f32_softmax_rows(c, x.f32, y.f32, Int64(rows), Int64(cols), nativePoolHandle(io.threads)) == 1 else {
            throw KernelError("softmax: no native kernel at this ISA")
        }
    })
}

/// Inference batch_norm on channel-first tensors (rank ≥ 3, NCHW): per channel the reference's new_scale /
/// new_bias (computed here exactly as it does), then y = x · new_scale + new_bias row by row.
func makeNativeBatchNorm(_ ctx: KernelBuildContext, _ isa: ISALevel) throws -> KernelBuild {
    if let why = opsGate(isa, ctx) { return .rejected(why) }
    let spec = try ctx.spec(BatchNormSpec.self)
    let xs = ctx.inputShape("X")
    guard knownShape(xs), xs.count >= 3, !spec.nhwc, ctx.inputDType("X") == .f32 else {
        return .rejected("X must be a known channel-first f32 shape of rank ≥ 3")
    }
    let c = xs[1]
    guard let scale = ctx.constant("Scale")?.floatValues(), let bias = ctx.constant("Bias")?.floatValues(),
          let mean = ctx.constant("Mean")?.floatValues(), let variance = ctx.constant("Variance")?.floatValues(),
          scale.count == c, bias.count == c, mean.count == c, variance.count == c else {
        return .rejected("Scale, Bias, Mean and Variance must be constants of \(c) values")
    }
    let eps = spec.epsilon
    var newScale = [Float](repeating: 0, count: c), newBias = [Float](repeating: 0, count: c)
    for k in 0..<c {
        let invStd = 1 / (variance[k] + eps).squareRoot()
        newScale[k] = invStd * scale[k]
        newBias[k] = bias[k] - mean[k] * invStd * scale[k]
    }
    let rows = xs[0] * c, inner = xs.dropFirst(2).reduce(1, *), cv = isa.cValue
    return .ready(SwiftFastKernel { io in
        let x = try io.input("X"), y = try io.output("Y")
        guard x.count == rows * inner, y.count == x.count, x.dtype == .f32 else { throw KernelError("batch_norm planned for \(xs), got \(x.shape)") }
        let ok = newScale.withUnsafeBufferPointer { sp in
            newBias.withUnsafeBufferPointer { bp in
                qtop_f32_affine_rows(cv, x.f32, y.f32, Int64(rows), Int64(inner), sp.baseAddress, bp.baseAddress, Int64(c),
                                     nativePoolHandle(io.threads))
            }
        }
        guard ok == 1 else { throw KernelError("batch_norm: no native kernel at this ISA") }
    })
}

/// scale_residual (the RSE shortcut x + x·s, fused by fuse-scale-residual): one pass over x per (n, c) row.
func makeNativeScaleResidual(_ ctx: KernelBuildContext, _ isa: ISALevel) throws -> KernelBuild {
    if let why = opsGate(isa, ctx) { return .rejected(why) }
    let xs = ctx.inputShape("X"), ss = ctx.inputShape("Scale")
    guard knownShape(xs), knownShape(ss), ctx.inputDType("X") == .f32, ctx.inputDType("Scale") == .f32 else {
        return .rejected("X and Scale must be known f32 shapes")
    }
    let (rows, inner, shared) = try ScaleResidualSpec.split(x: xs, scale: ss)
    let channels = xs[1], c = isa.cValue
    return .ready(SwiftFastKernel { io in
        let x = try io.input("X"), s = try io.input("Scale"), y = try io.output("Out"), z = io.optionalInput("Addend")
        guard x.shape == xs, s.shape == ss, y.count == x.count, x.dtype == .f32, s.dtype == .f32,
              z.map({ $0.shape == xs && $0.dtype == .f32 }) ?? true else {
            throw KernelError("scale_residual planned for \(xs) and \(ss), got \(x.shape) and \(s.shape)")
        }
        guard qtop_f32_scale_residual_rows(c, x.f32, s.f32, z?.f32, y.f32, Int64(rows), Int64(inner), Int64(channels), shared ? 1 : 0,
                                           nativePoolHandle(io.threads)) == 1 else {
            throw KernelError("scale_residual: no native kernel at this ISA")
        }
    })
}

/// Registers the f32_ops.c kernels at avx2 and avx512_core (the SIMD rows) and generic (the scalar row, priority 2:
/// ahead of the Swift fast kernels there, so every ISA cap computes the same bits).
func registerNativeFloatOps(_ r: KernelRegistry) {
    registerChannelShuffleKernels(r)
    for isa: ISALevel in [.avx512_core, .avx2, .generic] {
        let prio = isa == .generic ? 2 : 0
        func add(_ op: String, _ impl: String, _ make: @escaping (KernelBuildContext, ISALevel) throws -> KernelBuild) {
            r.register(KernelEntry(op: op, precision: .f32, implementation: impl, isa: isa, priority: prio) { ctx in try make(ctx, isa) })
        }
        for op in nativeBinaryOps.keys.sorted() { add(op, "eltwise", makeNativeBinary) }
        for op in ["relu", "hard_sigmoid", "hard_swish"] { add(op, "eltwise", makeNativeUnary) }
        for op in ["sigmoid", "silu", "swish"] { add(op, "eltwise_exp", makeNativeUnary) }
        add("layer_norm", "lnorm8", makeNativeLayerNorm)
        add("softmax", "softmax8", makeNativeSoftmax)
        add("batch_norm", "eltwise", makeNativeBatchNorm)
        add("scale_residual", "eltwise", makeNativeScaleResidual)
    }
}
