import CQtopKernels
import QtopGraph

/// Native `layout_nhwc_to_nchw` (f32 NHWC → f32 NCHW, a pure transpose) on the C boundary rows of `isa`
/// (8×8 register transposes at avx2 and up; the generic rows otherwise). Registered by
/// `registerNativeInt8LayoutKernels`, generic priority 1 so it wins over the Swift reference at the same ISA.
final class NativeLayoutNHWCToNCHWKernel: Kernel {
    let isa: ISALevel
    init(isa: ISALevel) { self.isa = isa }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X")
        let y = try io.output("Out")
        guard x.dtype == .f32, y.dtype == .f32, x.count == y.count else { throw KernelError("layout_nhwc_to_nchw: bad tensors") }
        if x.rank == 4 {
            let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            guard y.shape == [n, c, h, w] else { throw KernelError("layout_nhwc_to_nchw: Out \(y.shape) for X \(x.shape)") }
            qtop_scale_nhwc_f32(x.f32, nil, 0, y.data, ci(QTOP_DT_F32), 1, Int32(n), Int32(c), Int32(h), Int32(w),
                                isa.cValue, nativePoolHandle(io.threads))
        } else {
            y.data.copyMemory(from: x.data, byteCount: x.count * 4)
        }
    }
}

/// Native `global_avg_pool_nhwc` (SE squeeze on an f32 NHWC conv output).
final class NativeGlobalAvgPoolNHWCKernel: Kernel {
    let isa: ISALevel
    init(isa: ISALevel) { self.isa = isa }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X"), y = try io.output("Out")
        guard x.dtype == .f32, y.dtype == .f32, x.rank == 4, y.count == x.shape[0] * x.shape[3] else {
            throw KernelError("global_avg_pool_nhwc: X \(x.shape) Out \(y.shape)")
        }
        qtop_gap_nhwc_f32(x.f32, y.f32, Int32(x.shape[0]), Int32(x.shape[1] * x.shape[2]), Int32(x.shape[3]),
                          isa.cValue, nativePoolHandle(io.threads))
    }
}

/// Native `scale_channels_nhwc` (SE excite, optionally with the RSE shortcut and the FPN addend, full size or
/// upsampled on the fly), f32 NCHW or requantized out.
final class NativeScaleChannelsNHWCKernel: Kernel {
    let isa: ISALevel
    let spec: ScaleChannelsNHWCSpec
    init(isa: ISALevel, spec: ScaleChannelsNHWCSpec) { self.isa = isa; self.spec = spec }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X"), s = try io.input("Scale"), y = try io.output("Out")
        guard x.dtype == .f32, s.dtype == .f32, x.rank == 4, y.dtype == spec.outDType.dtype, y.count == x.count,
              s.count == x.shape[0] * x.shape[3] else {
            throw KernelError("scale_channels_nhwc: X \(x.shape) Scale \(s.shape) Out \(y.shape)")
        }
        let z = io.optionalInput("Addend")
        if let z {
            guard z.dtype == .f32, let want = spec.addendShape(x: x.shape), z.shape == want else {
                throw KernelError("scale_channels_nhwc: Addend \(z.shape) for X \(x.shape) (addend_upsample \(spec.addendUpsample))")
            }
        }
        let dt = NativeAttr.cDType(spec.outDType)
        let ok = qtop_scale_add_up_nhwc_f32(x.f32, s.f32, spec.residual ? 1 : 0, z?.f32, Int32(spec.addendUpsample), y.data, ci(dt),
                                            spec.outScale ?? 1, Int32(x.shape[0]), Int32(x.shape[3]), Int32(x.shape[1]), Int32(x.shape[2]),
                                            isa.cValue, nativePoolHandle(io.threads))
        guard ok == 1 else { throw KernelError("scale_channels_nhwc: X \(x.shape) Scale \(s.shape) Out \(y.shape)") }
    }
}

/// Native `qnearest_interp`: the reference's indices, one row copy per output pixel (no ISA-specific code).
final class NativeQNearestInterpKernel: Kernel {
    let spec: QNearestInterpSpec
    init(spec: QNearestInterpSpec) { self.spec = spec }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X"), y = try io.output("Out")
        guard x.dtype == .u8 || x.dtype == .i8, y.dtype == x.dtype else { throw KernelError("qnearest_interp: u8/s8 only") }
        let p = try interpPlan(spec.interp, io, x: x)
        guard y.shape == [p.n, p.outH, p.outW, p.c] else { throw KernelError("qnearest_interp: Out \(y.shape) for X \(x.shape)") }
        let same = p.inH == p.outH && p.inW == p.outW
        let rows = same ? Array(0..<p.outH) : nearestIndices(out: p.outH, ratio: p.ratioH, alignCorners: spec.interp.alignCorners, input: p.inH)
        let cols = same ? Array(0..<p.outW) : nearestIndices(out: p.outW, ratio: p.ratioW, alignCorners: spec.interp.alignCorners, input: p.inW)
        let r32 = rows.map { Int32(clamping: $0) }, c32 = cols.map { Int32(clamping: $0) }
        let ok = qtop_q8_nearest_nhwc(x.data, y.data, Int32(p.n), Int32(p.inH), Int32(p.inW), Int32(p.c), Int32(p.outH), Int32(p.outW),
                                      r32, c32, nativePoolHandle(io.threads))
        guard ok == 1 else { throw KernelError("qnearest_interp: source index out of range for X \(x.shape)") }
    }
}

/// Native `qconcat` (channel concat of u8/s8 NHWC tensors, each requantized by its range ratio on the rescale rows
/// of `isa`).
final class NativeQConcatKernel: Kernel {
    let ratios: [Float]
    let isa: ISALevel
    init(spec: QConcatSpec, isa: ISALevel) {
        ratios = spec.inScales.map { requantRatio(inScale: $0, outScale: spec.outScale) }
        self.isa = isa
    }

    func run(_ io: KernelIO) throws {
        let xs = io.inputs["X"] ?? [], y = try io.output("Out")
        guard let ydt = NativeAttr.cDType(y.dtype), y.dtype != .f32, xs.count == ratios.count, let cout = y.shape.last, cout > 0 else {
            throw KernelError("qconcat: bad tensors")
        }
        let rows = y.count / cout
        var dts: [Int32] = [], chans: [Int32] = []
        for t in xs {
            guard let d = NativeAttr.cDType(t.dtype), t.dtype != .f32, let c = t.shape.last, t.count == rows * c else {
                throw KernelError("qconcat: input \(t.shape) vs Out \(y.shape)")
            }
            dts.append(ci(d))
            chans.append(Int32(c))
        }
        let srcs: [UnsafeRawPointer?] = xs.map { UnsafeRawPointer($0.data) }
        let ok = qtop_q8_concat_nhwc(srcs, dts, chans, ratios, Int32(xs.count), y.data, ci(ydt), Int64(rows), Int32(cout),
                                     isa.cValue, nativePoolHandle(io.threads))
        guard ok == 1 else { throw KernelError("qconcat: inputs \(xs.map(\.shape)) do not make Out \(y.shape)") }
    }
}

/// Int8-path helper kernels outside the conv/matmul families, at every ISA with boundary rows (generic included).
/// Call from `KernelLibrary.standard` after `registerNativeKernels`.
public func registerNativeInt8LayoutKernels(_ r: KernelRegistry) {
    let prio: (ISALevel) -> Int = { $0 == .generic ? 1 : 0 }
    r.register(KernelEntry(op: "qnearest_interp", precision: .i8, implementation: "interp", isa: .generic, priority: 1) { ctx in
        if let why = nativeISAGate(.generic, ctx) { return .rejected(why) }
        return .ready(NativeQNearestInterpKernel(spec: try ctx.spec(QNearestInterpSpec.self)))
    })
    for isa in [ISALevel.avx512_core, .avx2, .generic] {
        r.register(KernelEntry(op: "qconcat", precision: .i8, implementation: "concat", isa: isa, priority: prio(isa)) { ctx in
            if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
            return .ready(NativeQConcatKernel(spec: try ctx.spec(QConcatSpec.self), isa: isa))
        })
        r.register(KernelEntry(op: "layout_nhwc_to_nchw", precision: .f32, implementation: "reorder", isa: isa, priority: prio(isa)) { ctx in
            if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
            return .ready(NativeLayoutNHWCToNCHWKernel(isa: isa))
        })
        r.register(KernelEntry(op: "global_avg_pool_nhwc", precision: .f32, implementation: "pool", isa: isa, priority: prio(isa)) { ctx in
            if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
            return .ready(NativeGlobalAvgPoolNHWCKernel(isa: isa))
        })
        r.register(KernelEntry(op: "scale_channels_nhwc", precision: .f32, implementation: "eltwise", isa: isa, priority: prio(isa)) { ctx in
            if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
            return .ready(NativeScaleChannelsNHWCKernel(isa: isa, spec: try ctx.spec(ScaleChannelsNHWCSpec.self)))
        })
    }
}
