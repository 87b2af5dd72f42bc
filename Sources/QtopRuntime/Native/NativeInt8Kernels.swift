import CQtopKernels
import QtopFormat
import QtopGraph

@inline(__always) func ci(_ d: qtop_dtype) -> Int32 { Int32(d.rawValue) }
@inline(__always) func ci(_ a: qtop_act) -> Int32 { Int32(a.rawValue) }

private func known(_ s: [Int]) -> Bool { !s.isEmpty && s.allSatisfy { $0 > 0 } }

// MARK: - qconv2d

struct QConvSetup {
    var desc = qtop_qconv_desc()
    var weights: [Int8] = []
    var ranges: [Float] = []
    var bias: [Float]?
    var inShape: [Int] = []
    var outShape: [Int] = []
}

/// Decodes a `qconv2d` node (NHWC int8) into a C descriptor; a String is the reason it cannot be served.
func decodeQConv(_ ctx: KernelBuildContext, _ spec: QConvSpec) -> Result<QConvSetup, KernelError> {
    var s = QConvSetup()
    let e = spec.epilogue
    let xs = ctx.inputShape("Input")
    guard xs.count == 4, known(xs) else { return .failure(KernelError("Input must be a known 4-D NHWC shape, got \(xs)")) }
    guard let xname = ctx.node.input("Input"), let sdt = NativeAttr.int8DType(ctx.graph.values[xname]?.dtype) else {
        return .failure(KernelError("Input must be u8 or s8"))
    }
    guard let f = ctx.constant("Filter"), f.dtype == .i8, f.shape.count == 4 else {
        return .failure(KernelError("Filter must be an s8 constant [OC, IC/g, KH, KW]"))
    }
    let groups = spec.groups
    let (oc, icg, kh, kw) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
    guard icg * groups == xs[3] else { return .failure(KernelError("Filter IC/groups \(icg)×\(groups) ≠ input channels \(xs[3])")) }
    let (sh, sw) = spec.geometry.strides
    let (pads, (dh, dw)) = spec.geometry.resolve(inH: xs[1], inW: xs[2], kH: kh, kW: kw)
    let ph = (pads[0], pads[1]), pw = (pads[2], pads[3])
    let act = NativeAttr.activation(e.activation)
    let odt = NativeAttr.cDType(e.outType)
    var rdt = QTOP_DT_NONE
    if let rn = ctx.node.input("Residual") {
        guard let d = ctx.graph.values[rn]?.dtype, let c = NativeAttr.cDType(d) else {
            return .failure(KernelError("Residual must be u8, s8 or f32"))
        }
        rdt = c
    }
    guard let ranges = e.weightScales(channels: oc) else {
        return .failure(KernelError("weight_scales has \(e.weightScales.count) values for \(oc) channels"))
    }
    s.ranges = ranges
    s.weights = Array(UnsafeBufferPointer(start: f.pointer(as: Int8.self), count: f.shape.reduce(1, *)))
    if let b = ctx.constant("Bias") {
        guard b.dtype == .f32, b.shape.reduce(1, *) == oc else { return .failure(KernelError("Bias must be f32 [\(oc)]")) }
        s.bias = b.floatValues()
    }
    var d = qtop_qconv_desc()
    d.n = Int32(xs[0]); d.h = Int32(xs[1]); d.w = Int32(xs[2]); d.ic = Int32(xs[3])
    d.oc = Int32(oc); d.kh = Int32(kh); d.kw = Int32(kw)
    d.stride_h = Int32(sh); d.stride_w = Int32(sw)
    d.pad_t = Int32(ph.0); d.pad_b = Int32(ph.1); d.pad_l = Int32(pw.0); d.pad_r = Int32(pw.1)
    d.dil_h = Int32(dh); d.dil_w = Int32(dw); d.groups = Int32(groups)
    d.src_dt = ci(sdt); d.dst_dt = ci(odt); d.res_dt = ci(rdt); d.act = ci(act)
    d.in_range = e.inScale
    d.out_range = e.outScale
    d.res_range = e.residualScale
    d.act_alpha = e.slope
    d.act_beta = e.offset
    if rdt != QTOP_DT_NONE && rdt != QTOP_DT_F32 && !(e.residualScale > 0) {
        return .failure(KernelError("an integer Residual needs residual_scale > 0"))
    }
    if let (qt, qs) = spec.quantOutput {
        d.has_q2 = 1
        d.q2_dt = ci(NativeAttr.cDType(qt))
        d.q2_range = qs
    }
    s.desc = d
    s.inShape = xs
    s.outShape = [xs[0], Int(qtop_qconv_out_h(&d)), Int(qtop_qconv_out_w(&d)), oc]
    let os = ctx.outputShape("Output")
    if known(os) && os != s.outShape { return .failure(KernelError("Output shape \(os) ≠ computed \(s.outShape)")) }
    return .success(s)
}

final class NativeQConvKernel: Kernel {
    let handle: OpaquePointer
    let setup: QConvSetup

    init(handle: OpaquePointer, setup: QConvSetup) {
        self.handle = handle
        self.setup = setup
    }

    deinit { qtop_qconv_destroy(handle) }

    func run(_ io: KernelIO) throws {
        let x = try io.input("Input")
        let y = try io.output("Output")
        guard x.shape == setup.inShape else { throw KernelError("qconv2d planned for \(setup.inShape), got \(x.shape)") }
        guard y.count == setup.outShape.reduce(1, *) else { throw KernelError("qconv2d output has \(y.count) elements, expected \(setup.outShape)") }
        let r = io.optionalInput("Residual")
        if setup.desc.res_dt != ci(QTOP_DT_NONE) {
            guard let r, r.count == y.count else { throw KernelError("qconv2d residual missing or of the wrong size") }
        }
        var y2: UnsafeMutableRawPointer? = nil
        if setup.desc.has_q2 != 0 {
            guard let q = io.optionalOutput("QuantOutput"), q.count == y.count else { throw KernelError("qconv2d QuantOutput missing or of the wrong size") }
            y2 = q.data
        }
        qtop_qconv_run2(handle, x.data, y.data, y2, r.map { UnsafeRawPointer($0.data) }, nativePoolHandle(io.threads))
    }
}

func makeQConv(_ ctx: KernelBuildContext, family: String, isa: ISALevel) throws -> KernelBuild {
    if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    let spec = try ctx.spec(QConvSpec.self)
    // cheap family check before copying weights (every family × ISA entry is asked in turn)
    if let fs = ctx.constant("Filter")?.shape, fs.count == 4, let ic = ctx.inputShape("Input").last {
        let fam = spec.family(inputChannels: ic, filter: fs).rawValue
        if fam != family { return .rejected("\(family): shape is \(fam)") }
    }
    let s: QConvSetup
    switch decodeQConv(ctx, spec) {
    case .failure(let e): return .rejected(e.description)
    case .success(let v): s = v
    }
    var d = s.desc
    let fam = String(cString: qtop_qconv_impl_name(&d))
    if fam != family { return .rejected("\(family): shape is \(fam)") }
    var why = [CChar](repeating: 0, count: 256)
    if qtop_qconv_query(&d, isa.cValue, ctx.isaCap.cValue, &why, why.count) == 0 { return .rejected(whyString(why)) }
    let h: OpaquePointer? = s.weights.withUnsafeBufferPointer { w in
        s.ranges.withUnsafeBufferPointer { rg in
            if let b = s.bias {
                return b.withUnsafeBufferPointer { qtop_qconv_create(&d, w.baseAddress, rg.baseAddress, $0.baseAddress, isa.cValue) }
            }
            return qtop_qconv_create(&d, w.baseAddress, rg.baseAddress, nil, isa.cValue)
        }
    }
    guard let h else { return .rejected("\(isa.rawValue): kernel creation failed") }
    return .ready(NativeQConvKernel(handle: h, setup: s))
}

// MARK: - qmatmul

final class NativeQMatMulKernel: Kernel {
    let handle: OpaquePointer
    let m: Int, k: Int, n: Int
    let hasResidual: Bool

    init(handle: OpaquePointer, m: Int, k: Int, n: Int, hasResidual: Bool) {
        self.handle = handle
        self.m = m; self.k = k; self.n = n
        self.hasResidual = hasResidual
    }

    deinit { qtop_qmatmul_destroy(handle) }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X")
        let y = try io.output("Out")
        guard x.count == m * k, y.count == m * n else { throw KernelError("qmatmul planned for [\(m),\(k)]→[\(m),\(n)], got \(x.shape)→\(y.shape)") }
        let r = io.optionalInput("Residual")
        if hasResidual { guard let r, r.count == y.count else { throw KernelError("qmatmul residual missing") } }
        qtop_qmatmul_run(handle, x.data, y.data, r.map { UnsafeRawPointer($0.data) }, nativePoolHandle(io.threads))
    }
}

func makeQMatMul(_ ctx: KernelBuildContext, isa: ISALevel) throws -> KernelBuild {
    if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    let e = try ctx.spec(QMatMulSpec.self).epilogue
    let xs = ctx.inputShape("X")
    guard xs.count >= 2, known(xs) else { return .rejected("X must have a known shape of rank ≥ 2, got \(xs)") }
    guard let xn = ctx.node.input("X"), let sdt = NativeAttr.int8DType(ctx.graph.values[xn]?.dtype) else { return .rejected("X must be u8 or s8") }
    guard let w = ctx.constant("Y"), w.dtype == .i8, w.shape.count == 2 else { return .rejected("Y must be an s8 constant [K, N]") }
    let k = xs.last!, m = xs.dropLast().reduce(1, *)
    guard w.shape[0] == k else { return .rejected("Y is \(w.shape), X has K=\(k)") }
    let n = w.shape[1]
    let act = NativeAttr.activation(e.activation)
    let odt = NativeAttr.cDType(e.outType)
    var rdt = QTOP_DT_NONE
    if let rn = ctx.node.input("Residual") {
        guard let dt = ctx.graph.values[rn]?.dtype, let c = NativeAttr.cDType(dt) else { return .rejected("Residual must be u8, s8 or f32") }
        rdt = c
    }
    guard let ranges = e.weightScales(channels: n) else { return .rejected("weight_scales has \(e.weightScales.count) values for \(n) columns") }
    if rdt != QTOP_DT_NONE && rdt != QTOP_DT_F32 && !(e.residualScale > 0) { return .rejected("an integer Residual needs residual_scale > 0") }
    var bias: [Float]?
    if let b = ctx.constant("Bias") {
        guard b.dtype == .f32, b.shape.reduce(1, *) == n else { return .rejected("Bias must be f32 [\(n)]") }
        bias = b.floatValues()
    }
    var d = qtop_qmatmul_desc()
    d.m = Int32(m); d.k = Int32(k); d.n = Int32(n)
    d.src_dt = ci(sdt); d.dst_dt = ci(odt); d.res_dt = ci(rdt); d.act = ci(act)
    d.in_range = e.inScale
    d.out_range = e.outScale
    d.res_range = e.residualScale
    d.act_alpha = e.slope
    d.act_beta = e.offset
    var why = [CChar](repeating: 0, count: 256)
    if qtop_qmatmul_query(&d, isa.cValue, ctx.isaCap.cValue, &why, why.count) == 0 { return .rejected(whyString(why)) }
    let wp = UnsafePointer(w.pointer(as: Int8.self))
    let h: OpaquePointer? = ranges.withUnsafeBufferPointer { rg in
        if let bias { return bias.withUnsafeBufferPointer { qtop_qmatmul_create(&d, wp, rg.baseAddress, $0.baseAddress, isa.cValue) } }
        return qtop_qmatmul_create(&d, wp, rg.baseAddress, nil, isa.cValue)
    }
    guard let h else { return .rejected("\(isa.rawValue): kernel creation failed") }
    return .ready(NativeQMatMulKernel(handle: h, m: m, k: k, n: n, hasResidual: rdt != QTOP_DT_NONE))
}

// MARK: - qpool2d

/// Native int8 pool (NHWC): the windows come from `poolWindows` (Paddle's rules, shared with the fp32 pool and the
/// integer oracle), computed once at build time and copied into the C handle.
final class NativeQPoolKernel: Kernel {
    let handle: OpaquePointer
    let inCount: Int, outCount: Int

    init(handle: OpaquePointer, inCount: Int, outCount: Int) {
        self.handle = handle
        self.inCount = inCount
        self.outCount = outCount
    }

    deinit { qtop_qpool_destroy(handle) }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X")
        let y = try io.output("Out")
        guard x.count == inCount, y.count == outCount else { throw KernelError("qpool2d shape changed since planning") }
        qtop_qpool_run(handle, x.data, y.data, nativePoolHandle(io.threads))
    }
}

func makeQPool(_ ctx: KernelBuildContext, isa: ISALevel) throws -> KernelBuild {
    if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    let spec = try ctx.spec(QPoolSpec.self)
    let p = spec.windows
    let xs = ctx.inputShape("X"), os = ctx.outputShape("Out")
    guard xs.count == 4, known(xs), os.count == 4, known(os) else { return .rejected("X/Out must be known 4-D NHWC shapes") }
    guard let sdt = NativeAttr.int8DType(ctx.inputDType("X")) else { return .rejected("X must be u8 or s8") }
    guard os[0] == xs[0], os[3] == xs[3] else { return .rejected("Out \(os) does not match X \(xs)") }
    let rows: [PoolSpan], cols: [PoolSpan]
    do { (rows, cols, _) = try poolWindows(p, h: xs[1], w: xs[2], oh: os[1], ow: os[2]) } catch { return .rejected("\(error)") }
    var d = qtop_qpool_desc()
    d.n = Int32(xs[0]); d.h = Int32(xs[1]); d.w = Int32(xs[2]); d.c = Int32(xs[3])
    d.oh = Int32(os[1]); d.ow = Int32(os[2])
    d.is_avg = p.isMax ? 0 : 1
    d.src_dt = ci(sdt)
    let out = try spec.outType(input: ctx.inputDType("X"))
    if p.isMax {
        // The spec's max pool requantizes to out_scale (and converts to out_dtype); this kernel keeps the input's
        // type and range, so it serves only the plain case.
        guard NativeAttr.cDType(out) == sdt else { return .rejected("max pool keeps the input dtype") }
        guard !spec.requantizes else { return .rejected("max pool with out_scale ≠ in_scale requantizes; the native max pool keeps the input range") }
    }
    d.dst_dt = ci(NativeAttr.cDType(out))
    d.in_range = spec.inScale
    d.out_range = spec.outScale
    // poolWindows divides by count products for global/adaptive and exclusive windows, else by padded products.
    let countDiv = p.global || p.adaptive || p.exclusive
    let rs = rows.map { Int32($0.start) }, re = rows.map { Int32($0.end) }
    let cs = cols.map { Int32($0.start) }, ce = cols.map { Int32($0.end) }
    let rdiv = rows.map { Int32(countDiv ? $0.count : $0.padded) }, cdiv = cols.map { Int32(countDiv ? $0.count : $0.padded) }
    var why = [CChar](repeating: 0, count: 256)
    let h = qtop_qpool_create(&d, rs, re, cs, ce, rdiv, cdiv, isa.cValue, &why, why.count)
    guard let h else { return .rejected("qpool2d: \(whyString(why))") }
    return .ready(NativeQPoolKernel(handle: h, inCount: xs.reduce(1, *), outCount: os.reduce(1, *)))
}

// MARK: - quantize / dequantize

/// [n, c, h, w] of a tensor: rank 4 as given (NCHW for float, NHWC for int8), other ranks elementwise.
private func nchw(_ s: [Int], nhwc: Bool) -> (Int, Int, Int, Int) {
    if s.count == 4 { return nhwc ? (s[0], s[3], s[1], s[2]) : (s[0], s[1], s[2], s[3]) }
    let c = s.last ?? 1
    return (s.dropLast().reduce(1, *), c, 1, 1)
}

final class NativeQuantizeKernel: Kernel {
    let dt: qtop_dtype
    let range: Float
    let isa: ISALevel
    init(dt: qtop_dtype, range: Float, isa: ISALevel) { self.dt = dt; self.range = range; self.isa = isa }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X")
        let y = try io.output("Out")
        guard x.count == y.count, x.dtype == .f32 else { throw KernelError("quantize: bad tensors") }
        let (n, c, h, w) = nchw(x.shape, nhwc: false)
        qtop_quantize_nchw_to_nhwc(x.f32, y.data, ci(dt), Int32(n), Int32(c), Int32(h), Int32(w), range,
                                   isa.cValue, nativePoolHandle(io.threads))
    }
}

final class NativeDequantizeKernel: Kernel {
    let range: Float
    let isa: ISALevel
    init(range: Float, isa: ISALevel) { self.range = range; self.isa = isa }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X")
        let y = try io.output("Out")
        guard x.count == y.count, y.dtype == .f32, let sdt = NativeAttr.cDType(x.dtype) else { throw KernelError("dequantize: bad tensors") }
        let (n, c, h, w) = nchw(x.shape, nhwc: true)
        if sdt == QTOP_DT_F32 {
            qtop_reorder_nhwc_to_nchw_f32(x.f32, y.f32, Int32(n), Int32(c), Int32(h), Int32(w), nativePoolHandle(io.threads))
        } else {
            qtop_dequantize_nhwc_to_nchw(x.data, ci(sdt), y.f32, Int32(n), Int32(c), Int32(h), Int32(w), range,
                                         isa.cValue, nativePoolHandle(io.threads))
        }
    }
}

/// The reorder rows of `isa` (vectorised, bit-exact with the generic C rows).
func makeQuantize(_ ctx: KernelBuildContext, isa: ISALevel) throws -> KernelBuild {
    if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    let spec = try ctx.spec(QuantizeSpec.self)
    return .ready(NativeQuantizeKernel(dt: NativeAttr.cDType(spec.outType), range: spec.scale, isa: isa))
}

func makeDequantize(_ ctx: KernelBuildContext, isa: ISALevel) throws -> KernelBuild {
    if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    let spec = try ctx.spec(DequantizeSpec.self)
    return .ready(NativeDequantizeKernel(range: spec.scale, isa: isa))
}
