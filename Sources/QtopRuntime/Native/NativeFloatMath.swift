import CQtopKernels
import Foundation
import QtopFormat
import QtopGraph

// Fast fp32 kernels for the OCR / detection / transformer families, in Swift: interp (nearest through the C row
// copies of f32_layout.c / q8_misc.c, bilinear in Swift) with index and weight tables built once per shape, layer_norm by rows, and the hot activations (sigmoid, swish, silu,
// gelu, hard_sigmoid) — each split over the executor's threads. Every one computes exactly the reference
// kernel's expression in the same order, so it matches the reference bit for bit (tests check this).

/// A Kernel whose run is one closure (the native counterpart of ReferenceKernel).
final class SwiftFastKernel: Kernel {
    private let body: (KernelIO) throws -> Void
    init(_ body: @escaping (KernelIO) throws -> Void) { self.body = body }
    func run(_ io: KernelIO) throws { try body(io) }
}

/// Splits [0, n) into about 4 chunks per thread (at least `grain` items each) and runs them on the pool.
func parallelChunks(_ threads: ThreadContext, _ n: Int, grain: Int, _ body: (Range<Int>) -> Void) {
    let chunks = threads.count <= 1 ? 1 : max(1, min(threads.count * 4, n / max(grain, 1)))
    if chunks == 1 { body(0..<n); return }
    threads.parallelFor(chunks) { c in
        let lo = n * c / chunks, hi = n * (c + 1) / chunks
        if lo < hi { body(lo..<hi) }
    }
}

// MARK: - interp

/// nearest / bilinear interp over planes, tables cached for the last input shape and size.
final class FastInterpKernel: Kernel {
    let spec: InterpSpec
    private var cachedKey: [Int] = []
    private var rows32: [Int32] = [], cols32: [Int32] = []
    private var rowsB: [(Int, Int, Float, Float)] = [], colsB: [(Int, Int, Float, Float)] = []

    init(spec: InterpSpec) { self.spec = spec }

    func run(_ io: KernelIO) throws {
        let x = try io.input("X"), y = try io.output("Out")
        try requireF32(x, "interp")
        let p = try interpPlan(spec, io, x: x)
        let expect = p.nhwc ? [p.n, p.outH, p.outW, p.c] : [p.n, p.c, p.outH, p.outW]
        guard y.shape == expect else { throw KernelError("interp: output \(y.shape), expected \(expect)") }
        if p.inH == p.outH && p.inW == p.outW { y.f32.update(from: x.f32, count: x.count); return }
        let nearest = spec.method == "nearest"
        let key = [p.inH, p.inW, p.outH, p.outW, Int(p.ratioH.bitPattern), Int(p.ratioW.bitPattern)]
        if key != cachedKey {
            if nearest {
                rows32 = nearestIndices(out: p.outH, ratio: p.ratioH, alignCorners: spec.alignCorners, input: p.inH).map { Int32(clamping: $0) }
                cols32 = nearestIndices(out: p.outW, ratio: p.ratioW, alignCorners: spec.alignCorners, input: p.inW).map { Int32(clamping: $0) }
            } else {
                let flag = spec.alignMode == 0 && !spec.alignCorners
                rowsB = bilinearTaps(out: p.outH, ratio: p.ratioH, alignFlag: flag, input: p.inH)
                colsB = bilinearTaps(out: p.outW, ratio: p.ratioW, alignFlag: flag, input: p.inW)
            }
            cachedKey = key
        }
        let xp = x.f32, yp = y.f32
        if nearest {
            // C row copies (f32_layout.c / q8_misc.c): the same indices, so the same elements
            guard [p.n * p.c, p.c * 4, p.inH, p.inW, p.outH, p.outW].allSatisfy({ $0 <= Int(Int32.max) }) else {
                throw KernelError("interp: X \(x.shape) too large")
            }
            let pool = nativePoolHandle(io.threads)
            let ok = p.nhwc
                ? qtop_q8_nearest_nhwc(x.data, y.data, Int32(p.n), Int32(p.inH), Int32(p.inW), Int32(p.c * 4), Int32(p.outH), Int32(p.outW),
                                       rows32, cols32, pool)
                : qtop_nearest_nchw_f32(x.data, y.data, Int64(p.n * p.c), Int32(p.inH), Int32(p.inW), Int32(p.outH), Int32(p.outW),
                                        rows32, cols32, pool)
            guard ok == 1 else { throw KernelError("interp: source index out of range for X \(x.shape)") }
            return
        }
        if p.nhwc {
            // rows of C contiguous values: one output pixel at a time
            let c = p.c
            parallelChunks(io.threads, p.n * p.outH, grain: 4) { range in
                for nk in range {
                    let n = nk / p.outH, k = nk % p.outH
                    let src = xp + n * p.inH * p.inW * c
                    let dstRow = yp + (n * p.outH + k) * p.outW * c
                    let (yn, ys, dS, dN) = rowsB[k]
                    for l in 0..<p.outW {
                        let (xw, xe, dE, dW) = colsB[l]
                        let a = src + (yn * p.inW + xw) * c, b = src + (ys * p.inW + xw) * c
                        let e = src + (yn * p.inW + xe) * c, f = src + (ys * p.inW + xe) * c
                        let d = dstRow + l * c
                        for ch in 0..<c { d[ch] = a[ch] * dS * dE + b[ch] * dN * dE + e[ch] * dS * dW + f[ch] * dN * dW }
                    }
                }
            }
            return
        }
        let inPlane = p.inH * p.inW, outPlane = p.outH * p.outW
        parallelChunks(io.threads, p.n * p.c, grain: 1) { range in
            for plane in range {
                let src = xp + plane * inPlane, dst = yp + plane * outPlane
                self.colsB.withUnsafeBufferPointer { cols in
                    for k in 0..<p.outH {
                        let (yn, ys, dS, dN) = self.rowsB[k]
                        let rn = src + yn * p.inW, rs = src + ys * p.inW, dr = dst + k * p.outW
                        for l in 0..<p.outW {
                            let (xw, xe, dE, dW) = cols[l]
                            dr[l] = rn[xw] * dS * dE + rs[xw] * dN * dE + rn[xe] * dS * dW + rs[xe] * dN * dW
                        }
                    }
                }
            }
        }
    }
}

// MARK: - layer_norm

func makeFastLayerNorm(_ ctx: KernelBuildContext) throws -> KernelBuild {
    let spec = try ctx.spec(LayerNormSpec.self)
    let xs = ctx.inputShape("X")
    guard !xs.isEmpty, xs.allSatisfy({ $0 > 0 }), ctx.inputDType("X") == .f32 else { return .rejected("X must be a known f32 shape") }
    let (rows, cols) = try spec.split(xs)
    let scale = ctx.constant("Scale")?.floatValues(), bias = ctx.constant("Bias")?.floatValues()
    if ctx.node.input("Scale") != nil, scale?.count != cols { return .rejected("Scale must be a constant of \(cols) values") }
    if ctx.node.input("Bias") != nil, bias?.count != cols { return .rejected("Bias must be a constant of \(cols) values") }
    return .ready(SwiftFastKernel { io in
        let x = try io.input("X"), y = try io.output("Y")
        guard x.count == rows * cols, y.count == x.count else { throw KernelError("layer_norm planned for \(xs), got \(x.shape)") }
        let mean = io.optionalOutput("Mean").flatMap { $0.count == rows ? $0.f32 : nil }
        let variance = io.optionalOutput("Variance").flatMap { $0.count == rows ? $0.f32 : nil }
        let xp = x.f32, yp = y.f32
        parallelChunks(io.threads, rows, grain: 8) { range in
            layerNorm(x: xp + range.lowerBound * cols, y: yp + range.lowerBound * cols, rows: range.count, cols: cols,
                      eps: spec.epsilon, scale: scale, bias: bias, mean: mean.map { $0 + range.lowerBound },
                      variance: variance.map { $0 + range.lowerBound })
        }
    })
}

// MARK: - activations

/// The elementwise function of a hot activation, as the reference computes it.
func fastActivation(_ ctx: KernelBuildContext) throws -> ((Float) -> Float)? {
    let spec = try ctx.spec(UnarySpec.self)
    switch ctx.node.type {
    case "sigmoid": return sigmoidF
    case "silu": return { x in x / (1 + Foundation.exp(-x)) }
    case "swish":
        let beta = spec.param("beta")
        return { x in x / (1 + Foundation.exp(-beta * x)) }
    case "hard_sigmoid":
        let slope = spec.param("slope"), offset = spec.param("offset")
        return { hardSigmoidF($0, slope: slope, offset: offset) }
    case "gelu":
        if spec.approximate {
            let k = Float(sqrt(2.0 / Double.pi))
            return { x in x * 0.5 * (1 + Foundation.tanh(k * (x + 0.044715 * x * x * x))) }
        }
        let r2 = Float(1.0 / 2.0.squareRoot())
        return { x in x * 0.5 * (1 + Foundation.erf(x * r2)) }
    default: return nil
    }
}

func makeFastActivation(_ ctx: KernelBuildContext) throws -> KernelBuild {
    guard ctx.inputDType("X") == .f32 else { return .rejected("X must be f32") }
    guard let f = try fastActivation(ctx) else { return .rejected("no fast kernel for \(ctx.node.type)") }
    return .ready(SwiftFastKernel { io in
        let x = try io.input("X"), y = try io.output("Out")
        try requireF32(x, "activation")
        try requireSameCount(x, y, "activation")
        let xp = x.f32, yp = y.f32
        parallelChunks(io.threads, x.count, grain: 4096) { range in
            for i in range { yp[i] = f(xp[i]) }
        }
    })
}

/// Registers the Swift fast kernels (generic ISA, priority 1: they win over "ref" at the same ISA).
func registerNativeMathKernels(_ r: KernelRegistry) {
    for op in InterpSpec.opTypes {
        r.register(KernelEntry(op: op, precision: .f32, implementation: "interp", isa: .generic, priority: 1) { ctx in
            let spec = try ctx.spec(InterpSpec.self)
            guard ctx.inputDType("X") == .f32 else { return .rejected("X must be f32") }
            return .ready(FastInterpKernel(spec: spec))
        })
    }
    r.register(KernelEntry(op: "layer_norm", precision: .f32, implementation: "layer_norm", isa: .generic, priority: 1) { ctx in
        try makeFastLayerNorm(ctx)
    })
    for op in ["sigmoid", "silu", "swish", "hard_sigmoid", "gelu"] {
        r.register(KernelEntry(op: op, precision: .f32, implementation: "eltwise", isa: .generic, priority: 1) { ctx in
            try makeFastActivation(ctx)
        })
    }
    registerNativeConvTransposeKernels(r)
    registerNativeFloatOps(r)
    registerNativeConcat(r)
}
