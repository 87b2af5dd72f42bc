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
func decodeQConv(_ ctx: KernelBuildContext) -> Result<QConvSetup, KernelError> {
    var s = QConvSetup()
    let a = ctx.attrs
    let xs = ctx.inputShape("Input")
    guard xs.count == 4, known(xs) else { return .failure(KernelError("Input must be a known 4-D NHWC shape, got \(xs)")) }
    guard let xname = ctx.node.input("Input"), let sdt = NativeAttr.int8DType(ctx.graph.values[xname]?.dtype) else {
        return .failure(KernelError("Input must be u8 or s8"))
    }
    guard let f = ctx.constant("Filter"), f.dtype == .i8, f.shape.count == 4 else {
        return .failure(KernelError("Filter must be an s8 constant [OC, IC/g, KH, KW]"))
    }
    let groups = max(1, a.int("groups", default: 1))
    let (oc, icg, kh, kw) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
    guard icg * groups == xs[3] else { return .failure(KernelError("Filter IC/groups \(icg)×\(groups) ≠ input channels \(xs[3])")) }
    let (sh, sw) = NativeAttr.pair(a.ints("strides", default: [1, 1]), 1)
    var (dh, dw) = NativeAttr.pair(a.ints("dilations", default: [1, 1]), 1)
    let p = NativeAttr.four(a.ints("paddings", default: [0, 0]))
    let alg = a.string("padding_algorithm", default: "EXPLICIT")
    let ph = NativeAttr.resolve(alg, input: xs[1], kernel: kh, stride: sh, explicit: (p[0], p[1]))
    let pw = NativeAttr.resolve(alg, input: xs[2], kernel: kw, stride: sw, explicit: (p[2], p[3]))
    if alg.uppercased() == "SAME" { (dh, dw) = (1, 1) }
    guard let act = NativeAttr.activation(a.string("activation", default: "none")) else {
        return .failure(KernelError("unsupported activation \(a.string("activation", default: ""))"))
    }
    let outName = ctx.node.output("Output")
    let outValueDT = outName.flatMap { ctx.graph.values[$0]?.dtype }
    guard let odt = NativeAttr.outDType(a.string("out_dtype", default: outValueDT.map { $0 == .f32 ? "f32" : $0 == .u8 ? "u8" : "s8" } ?? "f32")) else {
        return .failure(KernelError("unsupported out_dtype"))
    }
    var rdt = QTOP_DT_NONE
    if let rn = ctx.node.input("Residual") {
        guard let d = ctx.graph.values[rn]?.dtype, let c = NativeAttr.cDType(d) else {
            return .failure(KernelError("Residual must be u8, s8 or f32"))
        }
        rdt = c
    }
    let wsc = a.floats("weight_scales", default: [])
    guard wsc.count == oc || wsc.count == 1 else { return .failure(KernelError("weight_scales has \(wsc.count) values for \(oc) channels")) }
    s.ranges = wsc.count == oc ? wsc : [Float](repeating: wsc[0], count: oc)
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
    d.in_range = a.float("in_scale", default: 0)
    d.out_range = a.float("out_scale", default: 0)
    d.res_range = a.float("residual_scale", default: 0)
    if let qo = ctx.node.output("QuantOutput") {
        let qdt = ctx.graph.values[qo]?.dtype
        guard let q2 = NativeAttr.outDType(a.string("quant_out_dtype", default: qdt == .u8 ? "u8" : "s8")), q2 != QTOP_DT_F32 else {
            return .failure(KernelError("quant_out_dtype must be u8 or s8"))
        }
        guard odt == QTOP_DT_F32 else { return .failure(KernelError("QuantOutput needs an f32 Output")) }
        d.has_q2 = 1
        d.q2_dt = ci(q2)
        d.q2_range = a.float("quant_out_scale", default: 0)
        guard d.q2_range > 0 else { return .failure(KernelError("QuantOutput needs quant_out_scale > 0")) }
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
    let pool: NativeThreadPool?

    init(handle: OpaquePointer, setup: QConvSetup, pool: NativeThreadPool?) {
        self.handle = handle
        self.setup = setup
        self.pool = pool
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
        qtop_qconv_run2(handle, x.data, y.data, y2, r.map { UnsafeRawPointer($0.data) }, nativePoolHandle(pool, io.threads))
    }
}

func makeQConv(_ ctx: KernelBuildContext, family: String, isa: ISALevel, pool: NativeThreadPool?) -> KernelBuild {
    if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    // cheap family check before copying weights (every family × ISA entry is asked in turn)
    if let fs = ctx.constant("Filter")?.shape, fs.count == 4, let ic = ctx.inputShape("Input").last {
        let g = max(1, ctx.attrs.int("groups", default: 1))
        let fam = String(cString: qtop_conv_family_name(qtop_conv_family(Int32(ic), Int32(fs[0]), Int32(g), Int32(fs[2]), Int32(fs[3]))))
        if fam != family { return .rejected("\(family): shape is \(fam)") }
    }
    let s: QConvSetup
    switch decodeQConv(ctx) {
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
    return .ready(NativeQConvKernel(handle: h, setup: s, pool: pool))
}

// MARK: - qmatmul

final class NativeQMatMulKernel: Kernel {
    let handle: OpaquePointer
    let m: Int, k: Int, n: Int
    let hasResidual: Bool
    let pool: NativeThreadPool?

    init(handle: OpaquePointer, m: Int, k: Int, n: Int, hasResidual: Bool, pool: NativeThreadPool?) {
        self.handle = handle
        self.m = m; self.k = k; self.n = n
        self.hasResidual = hasResidual
        self.pool = pool
    }

    deinit { qtop_qmatmul_destroy(handle) }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X")
        let y = try io.output("Out")
        guard x.count == m * k, y.count == m * n else { throw KernelError("qmatmul planned for [\(m),\(k)]→[\(m),\(n)], got \(x.shape)→\(y.shape)") }
        let r = io.optionalInput("Residual")
        if hasResidual { guard let r, r.count == y.count else { throw KernelError("qmatmul residual missing") } }
        qtop_qmatmul_run(handle, x.data, y.data, r.map { UnsafeRawPointer($0.data) }, nativePoolHandle(pool, io.threads))
    }
}

func makeQMatMul(_ ctx: KernelBuildContext, isa: ISALevel, pool: NativeThreadPool?) -> KernelBuild {
    if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    let a = ctx.attrs
    let xs = ctx.inputShape("X")
    guard xs.count >= 2, known(xs) else { return .rejected("X must have a known shape of rank ≥ 2, got \(xs)") }
    guard let xn = ctx.node.input("X"), let sdt = NativeAttr.int8DType(ctx.graph.values[xn]?.dtype) else { return .rejected("X must be u8 or s8") }
    guard let w = ctx.constant("Y"), w.dtype == .i8, w.shape.count == 2 else { return .rejected("Y must be an s8 constant [K, N]") }
    let k = xs.last!, m = xs.dropLast().reduce(1, *)
    guard w.shape[0] == k else { return .rejected("Y is \(w.shape), X has K=\(k)") }
    let n = w.shape[1]
    guard let act = NativeAttr.activation(a.string("activation", default: "none")) else { return .rejected("unsupported activation") }
    let outDT = ctx.node.output("Out").flatMap { ctx.graph.values[$0]?.dtype }
    guard let odt = NativeAttr.outDType(a.string("out_dtype", default: outDT.map { $0 == .f32 ? "f32" : $0 == .u8 ? "u8" : "s8" } ?? "f32")) else {
        return .rejected("unsupported out_dtype")
    }
    var rdt = QTOP_DT_NONE
    if let rn = ctx.node.input("Residual") {
        guard let dt = ctx.graph.values[rn]?.dtype, let c = NativeAttr.cDType(dt) else { return .rejected("Residual must be u8, s8 or f32") }
        rdt = c
    }
    let wsc = a.floats("weight_scales", default: [])
    guard wsc.count == n || wsc.count == 1 else { return .rejected("weight_scales has \(wsc.count) values for \(n) columns") }
    let ranges = wsc.count == n ? wsc : [Float](repeating: wsc[0], count: n)
    var bias: [Float]?
    if let b = ctx.constant("Bias") {
        guard b.dtype == .f32, b.shape.reduce(1, *) == n else { return .rejected("Bias must be f32 [\(n)]") }
        bias = b.floatValues()
    }
    var d = qtop_qmatmul_desc()
    d.m = Int32(m); d.k = Int32(k); d.n = Int32(n)
    d.src_dt = ci(sdt); d.dst_dt = ci(odt); d.res_dt = ci(rdt); d.act = ci(act)
    d.in_range = a.float("in_scale", default: 0)
    d.out_range = a.float("out_scale", default: 0)
    d.res_range = a.float("residual_scale", default: 0)
    var why = [CChar](repeating: 0, count: 256)
    if qtop_qmatmul_query(&d, isa.cValue, ctx.isaCap.cValue, &why, why.count) == 0 { return .rejected(whyString(why)) }
    let wp = UnsafePointer(w.pointer(as: Int8.self))
    let h: OpaquePointer? = ranges.withUnsafeBufferPointer { rg in
        if let bias { return bias.withUnsafeBufferPointer { qtop_qmatmul_create(&d, wp, rg.baseAddress, $0.baseAddress, isa.cValue) } }
        return qtop_qmatmul_create(&d, wp, rg.baseAddress, nil, isa.cValue)
    }
    guard let h else { return .rejected("\(isa.rawValue): kernel creation failed") }
    return .ready(NativeQMatMulKernel(handle: h, m: m, k: k, n: n, hasResidual: rdt != QTOP_DT_NONE, pool: pool))
}

// MARK: - qpool2d

/// Native int8 pool (NHWC): the windows come from `poolWindows` (Paddle's rules, shared with the fp32 pool and the
/// integer oracle), computed once at build time and copied into the C handle.
final class NativeQPoolKernel: Kernel {
    let handle: OpaquePointer
    let inCount: Int, outCount: Int
    let pool: NativeThreadPool?

    init(handle: OpaquePointer, inCount: Int, outCount: Int, pool: NativeThreadPool?) {
        self.handle = handle
        self.inCount = inCount
        self.outCount = outCount
        self.pool = pool
    }

    deinit { qtop_qpool_destroy(handle) }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X")
        let y = try io.output("Out")
        guard x.count == inCount, y.count == outCount else { throw KernelError("qpool2d shape changed since planning") }
        qtop_qpool_run(handle, x.data, y.data, nativePoolHandle(pool, io.threads))
    }
}

func makeQPool(_ ctx: KernelBuildContext, isa: ISALevel, pool: NativeThreadPool?) -> KernelBuild {
    if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    let a = ctx.attrs
    let xs = ctx.inputShape("X"), os = ctx.outputShape("Out")
    guard xs.count == 4, known(xs), os.count == 4, known(os) else { return .rejected("X/Out must be known 4-D NHWC shapes") }
    guard let xn = ctx.node.input("X"), let sdt = NativeAttr.int8DType(ctx.graph.values[xn]?.dtype) else { return .rejected("X must be u8 or s8") }
    guard os[0] == xs[0], os[3] == xs[3] else { return .rejected("Out \(os) does not match X \(xs)") }
    let p: PoolAttrs
    do { p = try PoolAttrs(a) } catch { return .rejected("\(error)") }
    let rows: [PoolSpan], cols: [PoolSpan]
    do { (rows, cols, _) = try poolWindows(p, h: xs[1], w: xs[2], oh: os[1], ow: os[2]) } catch { return .rejected("\(error)") }
    var d = qtop_qpool_desc()
    d.n = Int32(xs[0]); d.h = Int32(xs[1]); d.w = Int32(xs[2]); d.c = Int32(xs[3])
    d.oh = Int32(os[1]); d.ow = Int32(os[2])
    d.is_avg = p.isMax ? 0 : 1
    d.src_dt = ci(sdt)
    let outDT = ctx.node.output("Out").flatMap { ctx.graph.values[$0]?.dtype }
    if d.is_avg == 1 {
        guard let odt = NativeAttr.outDType(a.string("out_dtype", default: outDT.map { $0 == .f32 ? "f32" : $0 == .u8 ? "u8" : "s8" } ?? "s8")) else {
            return .rejected("unsupported out_dtype")
        }
        d.dst_dt = ci(odt)
    } else {
        d.dst_dt = d.src_dt
        if let od = outDT, NativeAttr.int8DType(od).map(ci) != d.src_dt { return .rejected("max pool keeps the input dtype") }
    }
    d.in_range = a.float("in_scale", default: 0)
    d.out_range = a.float("out_scale", default: 0)
    // poolWindows divides by count products for global/adaptive and exclusive windows, else by padded products.
    let countDiv = p.global || p.adaptive || p.exclusive
    let rs = rows.map { Int32($0.start) }, re = rows.map { Int32($0.end) }
    let cs = cols.map { Int32($0.start) }, ce = cols.map { Int32($0.end) }
    let rdiv = rows.map { Int32(countDiv ? $0.count : $0.padded) }, cdiv = cols.map { Int32(countDiv ? $0.count : $0.padded) }
    var why = [CChar](repeating: 0, count: 256)
    let h = qtop_qpool_create(&d, rs, re, cs, ce, rdiv, cdiv, isa.cValue, &why, why.count)
    guard let h else { return .rejected("qpool2d: \(whyString(why))") }
    return .ready(NativeQPoolKernel(handle: h, inCount: xs.reduce(1, *), outCount: os.reduce(1, *), pool: pool))
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
    let pool: NativeThreadPool?
    init(dt: qtop_dtype, range: Float, pool: NativeThreadPool?) { self.dt = dt; self.range = range; self.pool = pool }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X")
        let y = try io.output("Out")
        guard x.count == y.count, x.dtype == .f32 else { throw KernelError("quantize: bad tensors") }
        let (n, c, h, w) = nchw(x.shape, nhwc: false)
        qtop_quantize_nchw_to_nhwc(x.f32, y.data, ci(dt), Int32(n), Int32(c), Int32(h), Int32(w), range,
                                   nativePoolHandle(pool, io.threads))
    }
}

final class NativeDequantizeKernel: Kernel {
    let range: Float
    let pool: NativeThreadPool?
    init(range: Float, pool: NativeThreadPool?) { self.range = range; self.pool = pool }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X")
        let y = try io.output("Out")
        guard x.count == y.count, y.dtype == .f32, let sdt = NativeAttr.cDType(x.dtype) else { throw KernelError("dequantize: bad tensors") }
        let (n, c, h, w) = nchw(x.shape, nhwc: true)
        if sdt == QTOP_DT_F32 {
            qtop_reorder_nhwc_to_nchw_f32(x.f32, y.f32, Int32(n), Int32(c), Int32(h), Int32(w), nativePoolHandle(pool, io.threads))
        } else {
            qtop_dequantize_nhwc_to_nchw(x.data, ci(sdt), y.f32, Int32(n), Int32(c), Int32(h), Int32(w), range,
                                         nativePoolHandle(pool, io.threads))
        }
    }
}

func makeQuantize(_ ctx: KernelBuildContext, pool: NativeThreadPool?) -> KernelBuild {
    let a = ctx.attrs
    let range = a.float("scale", default: 0)
    guard range > 0 else { return .rejected("quantize needs scale > 0") }
    let outDT = ctx.node.output("Out").flatMap { ctx.graph.values[$0]?.dtype }
    guard let dt = NativeAttr.outDType(a.string("out_dtype", default: outDT == .u8 ? "u8" : "s8")), dt != QTOP_DT_F32 else {
        return .rejected("quantize out_dtype must be u8 or s8")
    }
    return .ready(NativeQuantizeKernel(dt: dt, range: range, pool: pool))
}

func makeDequantize(_ ctx: KernelBuildContext, pool: NativeThreadPool?) -> KernelBuild {
    let range = ctx.attrs.float("scale", default: 0)
    let inDT = ctx.node.input("X").flatMap { ctx.graph.values[$0]?.dtype }
    if inDT != .f32 && !(range > 0) { return .rejected("dequantize needs scale > 0") }
    return .ready(NativeDequantizeKernel(range: range, pool: pool))
}
