import CQtopKernels
import QtopFormat
import QtopGraph

// MARK: - pool2d (f32 NCHW)

/// Native fp32 pool2d: the windows come from the reference's `poolWindows` (Paddle's rules: global, adaptive,
/// SAME/VALID/explicit padding, ceil_mode, exclusive), computed once at build time; the C loop only walks them.
final class NativeFPoolKernel: Kernel {
    let inShape: [Int], outShape: [Int]
    let isMax: Bool
    let rs: [Int32], re: [Int32], cs: [Int32], ce: [Int32], rdiv: [Int32], cdiv: [Int32]

    init(inShape: [Int], outShape: [Int], isMax: Bool, rows: [PoolSpan], cols: [PoolSpan], exclusiveCount: Bool) {
        self.inShape = inShape
        self.outShape = outShape
        self.isMax = isMax
        rs = rows.map { Int32($0.start) }; re = rows.map { Int32($0.end) }
        cs = cols.map { Int32($0.start) }; ce = cols.map { Int32($0.end) }
        rdiv = rows.map { Int32(exclusiveCount ? $0.count : $0.padded) }
        cdiv = cols.map { Int32(exclusiveCount ? $0.count : $0.padded) }
    }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X"), y = try io.output("Out")
        guard x.shape == inShape, y.shape == outShape else { throw KernelError("pool2d planned for \(inShape)→\(outShape), got \(x.shape)→\(y.shape)") }
        let (h, w, oh, ow) = (Int32(inShape[2]), Int32(inShape[3]), Int32(outShape[2]), Int32(outShape[3]))
        let planes = Int32(inShape[0] * inShape[1])
        let ph = nativePoolHandle(io.threads)
        rs.withUnsafeBufferPointer { rs in re.withUnsafeBufferPointer { re in
            cs.withUnsafeBufferPointer { cs in ce.withUnsafeBufferPointer { ce in
                rdiv.withUnsafeBufferPointer { rd in cdiv.withUnsafeBufferPointer { cd in
                    qtop_fpool_nchw(x.f32, y.f32, planes, h, w, oh, ow, rs.baseAddress, re.baseAddress, cs.baseAddress,
                                    ce.baseAddress, rd.baseAddress, cd.baseAddress, isMax ? 1 : 0, ph)
                } }
            } }
        } }
    }
}

func makeFPool(_ ctx: KernelBuildContext) throws -> KernelBuild {
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
    return .ready(NativeFPoolKernel(inShape: xs, outShape: os, isMax: p.isMax, rows: rows, cols: cols,
                                    exclusiveCount: countDiv))
}
