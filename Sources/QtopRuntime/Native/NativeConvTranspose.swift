import CQtopKernels
import QtopFormat
import QtopGraph

// conv2d_transpose (f32 NCHW) on the C driver of f32_deconv.c: the fp32 GEMM microkernel of the ISA row per input
// row, scattered into the output in C (exact-cover or scatter-accumulate, see the C file), bias and the fused
// activation (relu / relu6 / hard_swish in the epilogue; sigmoid family applied after) included.

final class NativeConvTransposeKernel: Kernel {
    let handle: OpaquePointer
    let inShape: [Int], outShape: [Int]
    /// An activation the fp32 epilogue lacks (sigmoid family), applied to the output after the deconv.
    let post: (act: Int32, slope: Float, offset: Float)?

    init(handle: OpaquePointer, inShape: [Int], outShape: [Int], post: (act: Int32, slope: Float, offset: Float)?) {
        self.handle = handle
        self.inShape = inShape
        self.outShape = outShape
        self.post = post
    }

    deinit { qtop_fdeconv_destroy(handle) }

    func run(_ io: KernelIO) throws {
        let x = try io.input("Input"), y = try io.output("Output")
        guard x.shape == inShape, y.shape == outShape else {
            throw KernelError("conv2d_transpose planned for \(inShape) → \(outShape), got \(x.shape) → \(y.shape)")
        }
        let pool = nativePoolHandle(io.threads)
        qtop_fdeconv_run(handle, x.f32, y.f32, pool)
        if let p = post { qtop_act_apply_f32(y.f32, Int64(y.count), p.act, p.slope, p.offset, pool) }
    }
}

/// qtop_fdeconv_run reads the packed weights only; its tile and B panel are per calling thread (qtop__tls_scratch),
/// so streams share one kernel (one packed filter).
extension NativeConvTransposeKernel: StreamSharedKernel {}

func makeConvTranspose(_ ctx: KernelBuildContext, isa: ISALevel) throws -> KernelBuild {
    if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    let spec = try ctx.spec(ConvTransposeSpec.self)
    if spec.nhwc { return .rejected("data_format NHWC") }
    let xs = ctx.inputShape("Input")
    guard xs.count == 4, xs.allSatisfy({ $0 > 0 }) else { return .rejected("Input must be a known 4-D NCHW shape, got \(xs)") }
    guard let f = ctx.constant("Filter"), f.dtype == .f32, f.shape.count == 4 else { return .rejected("Filter must be an f32 constant") }
    let (wc, ocg, kh, kw) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
    let groups = spec.groups
    guard wc == xs[1], wc % groups == 0 else { return .rejected("Filter \(f.shape) does not match \(xs[1]) channels, groups \(groups)") }
    let r = try spec.resolve(inH: xs[2], inW: xs[3], kH: kh, kW: kw)
    let oc = ocg * groups
    let outShape = [xs[0], oc, r.out.0, r.out.1]
    let os = ctx.outputShape("Output")
    if os.allSatisfy({ $0 > 0 }), !os.isEmpty, os != outShape { return .rejected("Output shape \(os) ≠ computed \(outShape)") }
    var bias: [Float]?
    if ctx.node.input("Bias") != nil {
        guard let b = ctx.constant("Bias"), b.dtype == .f32, b.count == oc else { return .rejected("Bias must be an f32 constant of \(oc) values") }
        bias = b.floatValues()
    }
    var act = QTOP_ACT_NONE
    var post: (act: Int32, slope: Float, offset: Float)?
    if let v = NativeAttr.activation(spec.activation) { act = v }
    else if let p = NativeAttr.postActivation(spec.activation) { post = p }
    else { return .rejected(NativeAttr.unsupported(spec.activation)) }
    let ints = [xs[0], xs[1], xs[2], xs[3], oc, kh, kw, r.out.0, r.out.1, spec.geometry.strides.0, spec.geometry.strides.1,
                r.pads[0], r.pads[2], r.dil.0, r.dil.1, groups]
    guard ints.allSatisfy({ $0 >= Int(Int32.min) && $0 <= Int(Int32.max) }) else { return .rejected("extents exceed 32 bits") }
    var d = qtop_fdeconv_desc()
    d.n = Int32(xs[0]); d.ic = Int32(xs[1]); d.h = Int32(xs[2]); d.w = Int32(xs[3])
    d.oc = Int32(oc); d.kh = Int32(kh); d.kw = Int32(kw); d.oh = Int32(r.out.0); d.ow = Int32(r.out.1)
    d.stride_h = Int32(spec.geometry.strides.0); d.stride_w = Int32(spec.geometry.strides.1)
    d.pad_t = Int32(r.pads[0]); d.pad_l = Int32(r.pads[2]); d.dil_h = Int32(r.dil.0); d.dil_w = Int32(r.dil.1)
    d.groups = Int32(groups); d.act = ci(act)
    var why = [CChar](repeating: 0, count: 256)
    if qtop_fdeconv_query(&d, isa.cValue, ctx.isaCap.cValue, &why, why.count) == 0 { return .rejected(whyString(why)) }
    let wp = UnsafePointer(f.pointer(as: Float.self))
    let h: OpaquePointer?
    if let bias { h = bias.withUnsafeBufferPointer { qtop_fdeconv_create(&d, wp, $0.baseAddress, isa.cValue) } }
    else { h = qtop_fdeconv_create(&d, wp, nil, isa.cValue) }
    guard let h else { return .rejected("\(isa.rawValue): kernel creation failed") }
    return .ready(NativeConvTransposeKernel(handle: h, inShape: xs, outShape: outShape, post: post))
}

func registerNativeConvTransposeKernels(_ r: KernelRegistry) {
    for isa in [ISALevel.avx512_core, .avx2, .generic] {
        for op in ConvTransposeSpec.opTypes {
            r.register(KernelEntry(op: op, precision: .f32, implementation: "deconv", isa: isa, priority: isa == .generic ? 1 : 0) { ctx in
                try makeConvTranspose(ctx, isa: isa)
            })
        }
    }
}

// MARK: - qconv2d_transpose (int8, q8_deconv.c)

/// qconv2d_transpose on q8_deconv.c: the ISA row's int8 GEMM microkernel over input pixels (a 1×1 conv with
/// kh·kw·ocg columns) and the qconv epilogue, exact-cover (pixel shuffle) or scatter-accumulate.
final class NativeQConvTransposeKernel: Kernel {
    let handle: OpaquePointer
    let inShape: [Int], outShape: [Int]

    init(handle: OpaquePointer, inShape: [Int], outShape: [Int]) {
        self.handle = handle
        self.inShape = inShape
        self.outShape = outShape
    }

    deinit { qtop_qdeconv_destroy(handle) }

    func run(_ io: KernelIO) throws {
        let x = try io.input("Input"), y = try io.output("Output")
        guard x.shape == inShape, y.shape == outShape else {
            throw KernelError("qconv2d_transpose planned for \(inShape) → \(outShape), got \(x.shape) → \(y.shape)")
        }
        qtop_qdeconv_run(handle, x.data, y.data, nativePoolHandle(io.threads))
    }
}

/// qtop_qdeconv_run reads the packed weights only; its tiles are per calling thread (qtop__tls_scratch).
extension NativeQConvTransposeKernel: StreamSharedKernel {}

func makeQConvTranspose(_ ctx: KernelBuildContext, isa: ISALevel) throws -> KernelBuild {
    if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    let spec = try ctx.spec(QConvTransposeSpec.self)
    let e = spec.epilogue, geo = spec.deconv
    let xs = ctx.inputShape("Input")
    guard xs.count == 4, xs.allSatisfy({ $0 > 0 }) else { return .rejected("Input must be a known 4-D NHWC shape, got \(xs)") }
    guard let xname = ctx.node.input("Input"), let sdt = NativeAttr.int8DType(ctx.graph.values[xname]?.dtype) else {
        return .rejected("Input must be u8 or s8")
    }
    guard let f = ctx.constant("Filter"), f.dtype == .i8, f.shape.count == 4 else { return .rejected("Filter must be an s8 constant [C_in, C_out/g, KH, KW]") }
    let (cin, ocg, kh, kw) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
    let groups = geo.groups
    guard cin == xs[3], cin % groups == 0 else { return .rejected("Filter \(f.shape) does not match \(xs[3]) channels, groups \(groups)") }
    let oc = ocg * groups
    guard let ranges = e.weightScales(channels: oc) else { return .rejected("weight_scales has \(e.weightScales.count) values for \(oc) channels") }
    var bias: [Float]?
    if ctx.node.input("Bias") != nil {
        guard let b = ctx.constant("Bias"), b.dtype == .f32, b.count == oc else { return .rejected("Bias must be an f32 constant of \(oc) values") }
        bias = b.floatValues()
    }
    let r = try geo.resolve(inH: xs[1], inW: xs[2], kH: kh, kW: kw)
    let outShape = e.outType == .f32 ? [xs[0], oc, r.out.0, r.out.1] : [xs[0], r.out.0, r.out.1, oc]
    let os = ctx.outputShape("Output")
    if !os.isEmpty, os.allSatisfy({ $0 > 0 }), os != outShape { return .rejected("Output shape \(os) ≠ computed \(outShape)") }
    let ints = [xs[0], xs[1], xs[2], xs[3], oc, kh, kw, r.out.0, r.out.1, geo.geometry.strides.0, geo.geometry.strides.1,
                r.pads[0], r.pads[2], r.dil.0, r.dil.1, groups]
    guard ints.allSatisfy({ $0 >= Int(Int32.min) && $0 <= Int(Int32.max) }) else { return .rejected("extents exceed 32 bits") }
    var d = qtop_qdeconv_desc()
    d.n = Int32(xs[0]); d.h = Int32(xs[1]); d.w = Int32(xs[2]); d.ic = Int32(xs[3])
    d.oc = Int32(oc); d.kh = Int32(kh); d.kw = Int32(kw); d.oh = Int32(r.out.0); d.ow = Int32(r.out.1)
    d.stride_h = Int32(geo.geometry.strides.0); d.stride_w = Int32(geo.geometry.strides.1)
    d.pad_t = Int32(r.pads[0]); d.pad_l = Int32(r.pads[2]); d.dil_h = Int32(r.dil.0); d.dil_w = Int32(r.dil.1)
    d.groups = Int32(groups)
    d.src_dt = ci(sdt); d.dst_dt = ci(NativeAttr.cDType(e.outType)); d.act = ci(NativeAttr.activation(e.activation))
    d.in_range = e.inScale; d.out_range = e.outScale; d.act_alpha = e.slope; d.act_beta = e.offset
    var why = [CChar](repeating: 0, count: 256)
    if qtop_qdeconv_query(&d, isa.cValue, ctx.isaCap.cValue, &why, why.count) == 0 { return .rejected(whyString(why)) }
    let wp = UnsafePointer(f.pointer(as: Int8.self))
    let h: OpaquePointer? = ranges.withUnsafeBufferPointer { rg in
        if let bias { return bias.withUnsafeBufferPointer { qtop_qdeconv_create(&d, wp, rg.baseAddress, $0.baseAddress, isa.cValue) } }
        return qtop_qdeconv_create(&d, wp, rg.baseAddress, nil, isa.cValue)
    }
    guard let h else { return .rejected("\(isa.rawValue): kernel creation failed") }
    return .ready(NativeQConvTransposeKernel(handle: h, inShape: xs, outShape: outShape))
}

/// The int8 entry of one ISA row (called from registerNativeKernels' int8 row loop, so every int8 row has it).
func registerNativeQConvTranspose(_ r: KernelRegistry, isa: ISALevel) {
    r.register(KernelEntry(op: "qconv2d_transpose", precision: .i8, implementation: "deconv", isa: isa, priority: isa == .generic ? 1 : 0) { ctx in
        try makeQConvTranspose(ctx, isa: isa)
    })
}
