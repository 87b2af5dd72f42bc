import CQtopKernels
import QtopFormat
import QtopGraph

private func known(_ s: [Int]) -> Bool { !s.isEmpty && s.allSatisfy { $0 > 0 } }

// MARK: - conv2d / depthwise_conv2d / fused_conv2d (f32 NCHW)

final class NativeFConvKernel: Kernel {
    let handle: OpaquePointer
    let inShape: [Int]
    let outCount: Int
    let hasResidual: Bool
    /// An activation the fp32 conv epilogue lacks (sigmoid family), applied to the output after the conv.
    var post: (act: Int32, slope: Float, offset: Float)?

    init(handle: OpaquePointer, inShape: [Int], outCount: Int, hasResidual: Bool) {
        self.handle = handle
        self.inShape = inShape
        self.outCount = outCount
        self.hasResidual = hasResidual
    }

    deinit { qtop_fconv_destroy(handle) }

    func run(_ io: KernelIO) throws {
        let x = try io.input("Input")
        let y = try io.output(io.outputs["Output"] != nil ? "Output" : "Out")
        guard x.shape == inShape, y.count == outCount else { throw KernelError("conv planned for \(inShape), got \(x.shape)") }
        var r: UnsafePointer<Float>? = nil
        if hasResidual {
            guard let rt = io.optionalInput("ResidualData"), rt.count == outCount else { throw KernelError("conv residual missing") }
            r = UnsafePointer(rt.f32)
        }
        qtop_fconv_run(handle, x.f32, y.f32, r, nativePoolHandle(io.threads))
        if let p = post { qtop_act_apply_f32(y.f32, Int64(outCount), p.act, p.slope, p.offset, nativePoolHandle(io.threads)) }
    }
}

func makeFConv(_ ctx: KernelBuildContext, family: String, isa: ISALevel, fused: Bool) throws -> KernelBuild {
    if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    let spec = try ctx.spec(ConvSpec.self)
    if spec.nhwc { return .rejected("data_format NHWC") }
    let xs = ctx.inputShape("Input")
    guard xs.count == 4, known(xs) else { return .rejected("Input must be a known 4-D NCHW shape, got \(xs)") }
    guard let f = ctx.constant("Filter"), f.dtype == .f32, f.shape.count == 4 else { return .rejected("Filter must be an f32 constant") }
    let groups = spec.groups
    let (oc, icg, kh, kw) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
    guard icg * groups == xs[1] else { return .rejected("Filter \(f.shape) does not match \(xs[1]) input channels with groups \(groups)") }
    let (sh, sw) = spec.geometry.strides
    let (pads, (dh, dw)) = spec.geometry.resolve(inH: xs[2], inW: xs[3], kH: kh, kW: kw)
    let ph = (pads[0], pads[1]), pw = (pads[2], pads[3])
    var act = QTOP_ACT_NONE
    var post: (act: Int32, slope: Float, offset: Float)?
    if fused {
        if let v = NativeAttr.activation(spec.activation) {
            act = v
        } else if let p = NativeAttr.postActivation(spec.activation) {
            post = p
        } else {
            return .rejected(NativeAttr.unsupported(spec.activation))
        }
    }
    var bias: [Float]?
    if fused, let b = ctx.constant("Bias") {
        guard b.dtype == .f32, b.shape.reduce(1, *) == oc else { return .rejected("Bias must be f32 [\(oc)]") }
        bias = b.floatValues()
    }
    let hasRes = fused && ctx.node.input("ResidualData") != nil
    var d = qtop_fconv_desc()
    d.n = Int32(xs[0]); d.ic = Int32(xs[1]); d.h = Int32(xs[2]); d.w = Int32(xs[3])
    d.oc = Int32(oc); d.kh = Int32(kh); d.kw = Int32(kw)
    d.stride_h = Int32(sh); d.stride_w = Int32(sw)
    d.pad_t = Int32(ph.0); d.pad_b = Int32(ph.1); d.pad_l = Int32(pw.0); d.pad_r = Int32(pw.1)
    d.dil_h = Int32(dh); d.dil_w = Int32(dw); d.groups = Int32(groups)
    d.has_residual = hasRes ? 1 : 0
    d.act = ci(act)
    let fam = String(cString: qtop_fconv_impl_name(&d))
    if fam != family { return .rejected("\(family): shape is \(fam)") }
    var why = [CChar](repeating: 0, count: 256)
    if qtop_fconv_query(&d, isa.cValue, ctx.isaCap.cValue, &why, why.count) == 0 { return .rejected(whyString(why)) }
    let outShape = [xs[0], oc, Int(qtop_fconv_out_h(&d)), Int(qtop_fconv_out_w(&d))]
    let os = ctx.outputShape("Output").isEmpty ? ctx.outputShape("Out") : ctx.outputShape("Output")
    if known(os) && os != outShape { return .rejected("Output shape \(os) ≠ computed \(outShape)") }
    let wp = UnsafePointer(f.pointer(as: Float.self))
    let h: OpaquePointer?
    if let bias { h = bias.withUnsafeBufferPointer { qtop_fconv_create(&d, wp, $0.baseAddress, isa.cValue) } }
    else { h = qtop_fconv_create(&d, wp, nil, isa.cValue) }
    guard let h else { return .rejected("\(isa.rawValue): kernel creation failed") }
    let k = NativeFConvKernel(handle: h, inShape: xs, outCount: outShape.reduce(1, *), hasResidual: hasRes)
    k.post = post
    return .ready(k)
}

// MARK: - matmul_v2 / fc / mul (f32, constant weights)

final class NativeFMatMulKernel: Kernel {
    let handle: OpaquePointer
    let xSlot: String, outSlot: String
    let m: Int, k: Int, n: Int

    init(handle: OpaquePointer, xSlot: String, outSlot: String, m: Int, k: Int, n: Int) {
        self.handle = handle
        self.xSlot = xSlot; self.outSlot = outSlot
        self.m = m; self.k = k; self.n = n
    }

    deinit { qtop_fmatmul_destroy(handle) }

    func run(_ io: KernelIO) throws {
        let x = try io.input(xSlot)
        let y = try io.output(outSlot)
        guard x.count == m * k, y.count == m * n else { throw KernelError("matmul planned for [\(m),\(k)]×[\(k),\(n)], got \(x.shape)") }
        qtop_fmatmul_run(handle, x.f32, y.f32, nil, nativePoolHandle(io.threads))
    }
}

func makeFMatMul(_ ctx: KernelBuildContext, op: String, isa: ISALevel) throws -> KernelBuild {
    if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    let xSlot = op == "fc" ? "Input" : "X"
    let wSlot = op == "fc" ? "W" : "Y"
    let xs = ctx.inputShape(xSlot)
    guard known(xs), xs.count >= 1 else { return .rejected("\(xSlot) shape unknown") }
    guard let w = ctx.constant(wSlot), w.dtype == .f32 else { return .rejected("\(wSlot) is not an f32 constant") }
    var m = 0, k = 0, n = 0
    var transY = false
    var act = QTOP_ACT_NONE
    switch op {
    case "fc":
        let spec = try ctx.spec(FCSpec.self)
        if spec.paddingWeights { return .rejected("fc padding_weights") }
        let ncd = spec.inNumColDims
        guard ncd < xs.count + 1, w.shape.count == 2 else { return .rejected("unsupported fc shapes") }
        m = xs.prefix(ncd).reduce(1, *); k = xs.dropFirst(ncd).reduce(1, *)
        guard w.shape[0] == k else { return .rejected("W \(w.shape) vs K=\(k)") }
        n = w.shape[1]
        guard let v = NativeAttr.activation(spec.activation) else { return .rejected("unsupported activation_type") }
        act = v
    case "mul":
        let spec = try ctx.spec(MulSpec.self)
        let xcd = spec.xNumColDims, ycd = spec.yNumColDims
        guard xcd < xs.count, ycd < w.shape.count else { return .rejected("unsupported mul shapes") }
        m = xs.prefix(xcd).reduce(1, *); k = xs.dropFirst(xcd).reduce(1, *)
        guard w.shape.prefix(ycd).reduce(1, *) == k else { return .rejected("Y \(w.shape) vs K=\(k)") }
        n = w.shape.dropFirst(ycd).reduce(1, *)
    default:
        let spec = try ctx.spec(MatMulSpec.self)
        if spec.transX { return .rejected("trans_x") }
        transY = spec.transY
        guard xs.count >= 2, w.shape.count == 2 else { return .rejected("needs X rank ≥ 2 and a 2-D constant Y") }
        k = xs.last!; m = xs.dropLast().reduce(1, *)
        let (wk, wn) = transY ? (w.shape[1], w.shape[0]) : (w.shape[0], w.shape[1])
        guard wk == k else { return .rejected("Y \(w.shape) vs K=\(k)") }
        n = wn
        if spec.alpha != 1 { return .rejected("alpha ≠ 1") }
    }
    var bias: [Float]?
    if op == "fc", let b = ctx.constant("Bias") {
        guard b.dtype == .f32, b.shape.reduce(1, *) == n else { return .rejected("Bias must be f32 [\(n)]") }
        bias = b.floatValues()
    }
    var d = qtop_fmatmul_desc()
    d.m = Int32(m); d.k = Int32(k); d.n = Int32(n); d.act = ci(act)
    var why = [CChar](repeating: 0, count: 256)
    if qtop_fmatmul_query(&d, isa.cValue, ctx.isaCap.cValue, &why, why.count) == 0 { return .rejected(whyString(why)) }
    var weights = Array(UnsafeBufferPointer(start: w.pointer(as: Float.self), count: k * n))
    if transY {
        var t = [Float](repeating: 0, count: k * n)
        for i in 0..<n { for j in 0..<k { t[j * n + i] = weights[i * k + j] } }
        weights = t
    }
    let h: OpaquePointer? = weights.withUnsafeBufferPointer { wp in
        if let bias { return bias.withUnsafeBufferPointer { qtop_fmatmul_create(&d, wp.baseAddress, $0.baseAddress, isa.cValue) } }
        return qtop_fmatmul_create(&d, wp.baseAddress, nil, isa.cValue)
    }
    guard let h else { return .rejected("\(isa.rawValue): kernel creation failed") }
    return .ready(NativeFMatMulKernel(handle: h, xSlot: xSlot, outSlot: "Out", m: m, k: k, n: n))
}

// MARK: - registration

/// Registers the native C kernels (int8 and fp32) for every ISA this build has. Generic native entries have
/// priority 1 so they win over the Swift reference kernels ("ref", priority 0) at the same ISA.
public func registerNativeKernels(_ r: KernelRegistry) {
    let int8ISAs: [ISALevel] = [.avx512_vnni, .avx512_core, .avx2_vnni, .avx2, .generic]
    let f32ISAs: [ISALevel] = [.avx512_core, .avx2, .generic]
    let prio: (ISALevel) -> Int = { $0 == .generic ? 1 : 0 }
    for isa in int8ISAs {
        for fam in ["conv1x1", "conv", "dwconv"] {
            r.register(KernelEntry(op: "qconv2d", precision: .i8, implementation: fam, isa: isa, priority: prio(isa)) { ctx in
                try makeQConv(ctx, family: fam, isa: isa)
            })
        }
        r.register(KernelEntry(op: "qmatmul", precision: .i8, implementation: "gemm", isa: isa, priority: prio(isa)) { ctx in
            try makeQMatMul(ctx, isa: isa)
        })
        r.register(KernelEntry(op: "qpool2d", precision: .i8, implementation: "pool", isa: isa, priority: prio(isa)) { ctx in
            try makeQPool(ctx, isa: isa)
        })
        r.register(KernelEntry(op: "quantize", precision: .i8, implementation: "reorder", isa: isa, priority: prio(isa)) { ctx in
            try makeQuantize(ctx, isa: isa)
        })
        r.register(KernelEntry(op: "dequantize", precision: .i8, implementation: "reorder", isa: isa, priority: prio(isa)) { ctx in
            try makeDequantize(ctx, isa: isa)
        })
        registerNativeQConvTranspose(r, isa: isa)
    }
    registerNativeFloatPool(r)
    for isa in f32ISAs {
        for op in ["fused_conv2d", "conv2d", "depthwise_conv2d"] {
            for fam in ["conv1x1", "conv", "dwconv"] {
                r.register(KernelEntry(op: op, precision: .f32, implementation: fam, isa: isa, priority: prio(isa)) { ctx in
                    try makeFConv(ctx, family: fam, isa: isa, fused: op == "fused_conv2d")
                })
            }
        }
        for op in ["matmul_v2", "matmul", "fc", "mul"] {
            r.register(KernelEntry(op: op, precision: .f32, implementation: "gemm", isa: isa, priority: prio(isa)) { ctx in
                try makeFMatMul(ctx, op: op, isa: isa)
            })
        }
    }
}
