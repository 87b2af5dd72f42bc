import CQtopKernels
import QtopFormat
import QtopGraph

// MARK: - pool2d (f32 NCHW)

/// Native fp32 pool2d: the windows come from the reference's `poolWindows` (Paddle's rules: global, adaptive,
/// SAME/VALID/explicit padding, ceil_mode, exclusive), computed once at build time; the C driver (f32_pool.c) folds
/// global windows in lanes and regular column windows row by row through the ISA row's kernels, and walks any other
/// windows in the reference's order. Every ISA gives the same bits.
final class NativeFPoolKernel: Kernel {
    let inShape: [Int], outShape: [Int]
    let isMax: Bool, global: Bool
    let isa: Int32
    /// Regular column windows (k, stride, left padding), or nil.
    let regular: (k: Int, s: Int, p: Int)?
    let rs: [Int32], re: [Int32], cs: [Int32], ce: [Int32], rdiv: [Int32], cdiv: [Int32]

    init(isa: ISALevel, inShape: [Int], outShape: [Int], isMax: Bool, global: Bool, rows: [PoolSpan], cols: [PoolSpan],
         exclusiveCount: Bool, regular: (k: Int, s: Int, p: Int)?) {
        self.isa = isa.cValue
        self.inShape = inShape
        self.outShape = outShape
        self.isMax = isMax
        self.global = global
        self.regular = regular
        rs = rows.map { Int32($0.start) }; re = rows.map { Int32($0.end) }
        cs = cols.map { Int32($0.start) }; ce = cols.map { Int32($0.end) }
        rdiv = rows.map { Int32(exclusiveCount ? $0.count : $0.padded) }
        cdiv = cols.map { Int32(exclusiveCount ? $0.count : $0.padded) }
    }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X"), y = try io.output("Out")
        guard x.shape == inShape, y.shape == outShape else { throw KernelError("pool2d planned for \(inShape)→\(outShape), got \(x.shape)→\(y.shape)") }
        let ph = nativePoolHandle(io.threads)
        var d = qtop_fpool_desc()
        d.planes = Int32(inShape[0] * inShape[1])
        d.h = Int32(inShape[2]); d.w = Int32(inShape[3]); d.oh = Int32(outShape[2]); d.ow = Int32(outShape[3])
        d.is_max = isMax ? 1 : 0
        d.global = global ? 1 : 0
        if let r = regular { d.col_k = Int32(r.k); d.col_s = Int32(r.s); d.col_p = Int32(r.p) }
        let ok = rs.withUnsafeBufferPointer { rs in re.withUnsafeBufferPointer { re in
            cs.withUnsafeBufferPointer { cs in ce.withUnsafeBufferPointer { ce in
                rdiv.withUnsafeBufferPointer { rd in cdiv.withUnsafeBufferPointer { cd in
                    d.rs = rs.baseAddress; d.re = re.baseAddress; d.cs = cs.baseAddress; d.ce = ce.baseAddress
                    d.rdiv = rd.baseAddress; d.cdiv = cd.baseAddress
                    return qtop_fpool2d(isa, &d, x.f32, y.f32, ph)
                } }
            } }
        } }
        guard ok == 1 else { throw KernelError("pool2d: no native kernel at this ISA") }
    }
}

/// (k, stride, left padding) when every column window is max(0, q·s - p) ..< min(w, q·s - p + k), else nil.
func regularColumns(_ cols: [PoolSpan], w: Int, kernel: Int, stride: Int) -> (k: Int, s: Int, p: Int)? {
    guard kernel >= 1, stride >= 1, !cols.isEmpty else { return nil }
    for p in 0..<kernel {
        let fits = cols.enumerated().allSatisfy { q, c in
            let s = q * stride - p
            return c.start == max(s, 0) && c.end == min(w, s + kernel) && c.start < c.end
        }
        if fits { return (kernel, stride, p) }
    }
    return nil
}

func makeFPool(_ ctx: KernelBuildContext, isa: ISALevel) throws -> KernelBuild {
    if isa != .generic, let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    if isa > ctx.isaCap { return .rejected("\(isa.rawValue): capped by --isa \(ctx.isaCap.rawValue)") }
    if let big = oversizedTensor(ctx) { return .rejected(big) }
    let spec = try ctx.spec(PoolSpec.self)
    if spec.nhwc { return .rejected("NHWC data_format not supported") }
    let xs = ctx.inputShape("X"), os = ctx.outputShape("Out")
    guard xs.count == 4, xs.allSatisfy({ $0 > 0 }), os.count == 4, os.allSatisfy({ $0 > 0 }) else {
        return .rejected("X/Out must be known 4-D NCHW shapes")
    }
    guard os[0] == xs[0], os[1] == xs[1] else { return .rejected("Out \(os) does not match X \(xs)") }
    if let xn = ctx.node.input("X"), let dt = ctx.graph.values[xn]?.dtype, dt != .f32 { return .rejected("X must be f32") }
    let p = spec.windows
    let rows: [PoolSpan], cols: [PoolSpan]
    do { (rows, cols, _) = try poolWindows(p, h: xs[2], w: xs[3], oh: os[2], ow: os[3]) } catch { return .rejected("\(error)") }
    // poolWindows divides by count products for global/adaptive and exclusive windows, else by padded products.
    let countDiv = p.global || p.adaptive || p.exclusive
    let (w, ow) = (xs[3], os[3])
    let regular: (k: Int, s: Int, p: Int)?
    if p.global || (os[2] == 1 && ow == 1) {
        regular = nil
    } else if p.adaptive {
        regular = w % ow == 0 ? regularColumns(cols, w: w, kernel: w / ow, stride: w / ow) : nil
    } else {
        regular = regularColumns(cols, w: w, kernel: p.kernel.1, stride: p.geometry.strides.1)
    }
    // one window over the whole plane (global pooling, adaptive or explicit windows into 1×1): the lane fold
    let whole = rows.count == 1 && cols.count == 1 && rows[0].start == 0 && rows[0].end == xs[2] && cols[0].start == 0 && cols[0].end == w
    return .ready(NativeFPoolKernel(isa: isa, inShape: xs, outShape: os, isMax: p.isMax, global: whole, rows: rows,
                                    cols: cols, exclusiveCount: countDiv, regular: regular))
}

/// fp32 pool2d at avx512_core, avx2 and generic (priority 1 there: ahead of the Swift reference).
func registerNativeFloatPool(_ r: KernelRegistry) {
    for isa: ISALevel in [.avx512_core, .avx2, .generic] {
        r.register(KernelEntry(op: "pool2d", precision: .f32, implementation: "pool", isa: isa, priority: isa == .generic ? 1 : 0) { ctx in
            try makeFPool(ctx, isa: isa)
        })
    }
}
