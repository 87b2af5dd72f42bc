import Foundation
import QtopFormat
import QtopGraph

// The integer oracle: scalar, literal implementations of docs/int8-semantics.md. Every C/SIMD integer kernel
// must match these bit for bit. Nothing here is clever on purpose.
//
// Conventions (beyond the spec text, stated here so fast kernels can match them):
// - A range S becomes a step `S / 127` and an inverse step `Float(127) / S`, both single Float operations.
// - Rounding-and-saturating a Float v to an integer type with bounds [lo, hi] (`saturate`):
//   r = rint(v) (round half to even); NaN → 0; r < lo → lo; r > hi → hi (so ±Inf saturate); else r.
// - Int32 accumulation wraps on overflow (C semantics of the SIMD kernels); real layers never come close.
// - Step 3 always adds the bias (0 when the op has none), so `-0 + 0 = +0` as in a kernel with a zero bias array.
// - `weight_scales` with one value applies to every output channel.
// - Requantization between ranges (qconcat; qpool2d max when out_scale differs from in_scale):
//   `q' = saturate(Float(q) * ratio)` with `ratio = (S_in / 127) / (S_out / 127)` computed once in Float.
//   With equal ranges ratio == 1 exactly, so it only saturates (an s8 input into a u8 output clamps negatives to 0).
// - Pooling windows are pool2d's (see `poolWindows`): avg divides by the count of in-bounds elements when
//   `exclusive` (Paddle's default), else by Paddle's padded window size; `y = Float(sum) * (step_in / Float(count))`.
// - Layouts: `quantize` reads NCHW and writes NHWC for rank-4 tensors, other ranks keep their element order;
//   `dequantize` is the inverse. qconcat concatenates along the last (channel) dimension.

/// `S / 127`: the value of one integer step for range S.
@inline(__always) public func quantStep(_ range: Float) -> Float { range / 127 }
/// `127 / S`: multiply a value by this to get integer steps.
@inline(__always) public func quantInverse(_ range: Float) -> Float { Float(127) / range }

/// rint then saturate to [lo, hi]; NaN → 0.
@inline(__always) public func saturate(_ v: Float, lo: Float, hi: Float) -> Int32 {
    let r = v.rounded(.toNearestOrEven)
    if r.isNaN { return 0 }
    if r < lo { return Int32(lo) }
    if r > hi { return Int32(hi) }
    return Int32(r)
}

/// Reads an integer activation element (u8 or s8) as Int32.
@inline(__always) func loadQ(_ t: Tensor, _ i: Int) -> Int32 {
    t.dtype == .u8 ? Int32(t.u8[i]) : Int32(t.i8[i])
}

/// Stores a saturated value (already within the type's bounds) to a u8/s8 tensor.
@inline(__always) func storeQ(_ t: Tensor, _ i: Int, _ v: Int32) {
    if t.dtype == .u8 { t.u8[i] = UInt8(truncatingIfNeeded: v) } else { t.i8[i] = Int8(truncatingIfNeeded: v) }
}

/// The fused epilogue's activations (spec step 5; the enum is decoded by the specs in QtopGraph).
extension EpilogueActivation {
    /// relu: `y > 0 ? y : 0`; relu6: `t = y > 0 ? y : 0; t < 6 ? t : 6`;
    /// hard_swish: `y * (min(max(y + 3, 0), 6) * (Float(1) / 6))` with the same max/min spellings.
    /// sigmoid / hard_sigmoid / swish: `EpilogueMath` (the scalar definitions the C kernels share).
    @inline(__always) public func apply(_ y: Float, slope: Float = 0.2, offset: Float = 0.5) -> Float {
        switch self {
        case .none: return y
        case .relu: return y > 0 ? y : 0
        case .relu6:
            let t = y > 0 ? y : 0
            return t < 6 ? t : 6
        case .hard_swish:
            let a = y + 3
            let b = a > 0 ? a : 0
            let c = b < 6 ? b : 6
            return y * (c * (Float(1) / 6))
        case .sigmoid: return EpilogueMath.sigmoid(y)
        case .hard_sigmoid: return EpilogueMath.hardSigmoid(y, slope: slope, offset: offset)
        case .swish: return y * EpilogueMath.sigmoid(y)
        }
    }
}

/// The epilogue's exp, sigmoid and hard_sigmoid, operation for operation as `Sources/CQtopKernels/q8_act.h`
/// defines them (each step one separately rounded Float operation; see that file for the why).
public enum EpilogueMath {
    static let expLo: Float = -87, expHi: Float = 88
    static let log2e: Float = 1.44269504088896341, ln2Hi: Float = 0.693359375, ln2Lo: Float = -2.12194440e-4
    static let p: [Float] = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
                             5.0000001201e-1]

    /// exp(x) on [-87, 88] (x clamped first, NaN → -87): 2^n · (1 + r + r² · P(r)).
    @inline(__always) public static func exp(_ x0: Float) -> Float {
        var x = x0 > expLo ? x0 : expLo
        x = x < expHi ? x : expHi
        let t = x * log2e
        let n = t.rounded(.toNearestOrEven)
        var r = x - n * ln2Hi
        r = r - n * ln2Lo
        let z = r * r
        var q = p[0]
        for c in p.dropFirst() {
            q = q * r
            q = q + c
        }
        q = q * z
        q = q + r
        q = q + 1
        let s = Float(bitPattern: UInt32(bitPattern: (Int32(n) + 127) << 23))
        return q * s
    }

    @inline(__always) public static func sigmoid(_ y: Float) -> Float {
        let e = exp(-y)
        let d = 1 + e
        return 1 / d
    }

    @inline(__always) public static func hardSigmoid(_ y: Float, slope: Float, offset: Float) -> Float {
        var t = y * slope
        t = t + offset
        t = t > 0 ? t : 0
        return t < 1 ? t : 1
    }
}

/// The shared epilogue of qconv2d and qmatmul (spec steps 2–6) for one output element.
public struct IntegerEpilogue: Sendable {
    /// Per output channel `step_x * ws[c]`, with `step_x = in_scale / 127`, `ws[c] = weight_scales[c] / 127`.
    public let scale: [Float]
    /// Per output channel bias (zeros when the op has none; step 3 always adds it).
    public let bias: [Float]
    public let activation: EpilogueActivation
    /// hard_sigmoid's slope and offset.
    public var slope: Float = 0.2, offset: Float = 0.5
    public let outType: QDataType
    /// `127 / out_scale` (unused for f32 output).
    public let invOut: Float

    public init(inScale: Float, weightScales: [Float], bias: [Float]?, activation: EpilogueActivation,
                outType: QDataType, outScale: Float) {
        let stepX = quantStep(inScale)
        scale = weightScales.map { stepX * quantStep($0) }
        self.bias = bias ?? [Float](repeating: 0, count: weightScales.count)
        self.activation = activation
        self.outType = outType
        invOut = outType == .f32 ? 1 : quantInverse(outScale)
    }

    /// Steps 2–5: the Float value before output conversion. `residual` is the already-dequantized residual
    /// (`Float(r_q) * step_r`, or the f32 residual), nil when there is none.
    @inline(__always) public func value(acc: Int32, channel c: Int, residual: Float?) -> Float {
        var y = Float(acc) * scale[c]  // 2
        y = y + bias[c]  // 3
        if let r = residual { y = y + r }  // 4
        return activation.apply(y, slope: slope, offset: offset)  // 5
    }

    /// Step 6 into element `i` of `out` (f32 → y; u8/s8 → saturate(y * inv_out)).
    @inline(__always) public func store(_ y: Float, to out: Tensor, at i: Int) {
        if outType == .f32 {
            out.f32[i] = y
        } else {
            let b = outType.bounds
            storeQ(out, i, saturate(y * invOut, lo: b.lo, hi: b.hi))
        }
    }
}

/// Reads a residual element (spec step 4): integer residuals are `Float(r_q) * step_r`, f32 residuals as they are.
struct ResidualReader {
    let tensor: Tensor
    let step: Float
    init(_ t: Tensor, range: Float) throws {
        guard t.dtype == .u8 || t.dtype == .i8 || t.dtype == .f32 else { throw KernelError("Residual dtype \(t.dtype.paddleName)") }
        tensor = t
        step = quantStep(range)
    }
    @inline(__always) func value(_ i: Int) -> Float {
        tensor.dtype == .f32 ? tensor.f32[i] : Float(loadQ(tensor, i)) * step
    }
}

// MARK: - qconv2d

/// Spec step 1 for an NHWC convolution: calls `body(outputIndex, outputChannel, acc)` for every output element in
/// NHWC order. `Input` [N,H,W,C] u8/s8, `Filter` s8 [OC, C/groups, KH, KW], output [N,OH,OW,OC];
/// acc = Σ_{ic, kh, kw} x * w in Int32 (wrapping), padded taps contribute 0.
func qconv2dAccumulate(x: Tensor, w: Tensor, outShape: [Int], conv: ConvAttrs, _ body: (Int, Int, Int32) -> Void) throws {
    guard x.dtype == .u8 || x.dtype == .i8 else { throw KernelError("qconv2d: Input must be u8/s8, got \(x.dtype.paddleName)") }
    guard w.dtype == .i8 else { throw KernelError("qconv2d: Filter must be s8, got \(w.dtype.paddleName)") }
    guard x.rank == 4, w.rank == 4, outShape.count == 4 else { throw KernelError("qconv2d: expects 4-D NHWC Input/Output and OIHW Filter") }
    let (n, h, wd, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (oc, icg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let (oh, ow) = (outShape[1], outShape[2])
    let g = conv.groups
    guard outShape[0] == n, outShape[3] == oc, icg * g == c, oc % g == 0 else {
        throw KernelError("qconv2d: Input \(x.shape), Filter \(w.shape), groups \(g), Output \(outShape) disagree")
    }
    let (pads, dil) = conv.resolve(inH: h, inW: wd, kH: kh, kW: kw)
    let (sh, sw) = conv.strides
    guard (h + pads[0] + pads[1] - (dil.0 * (kh - 1) + 1)) / sh + 1 == oh,
          (wd + pads[2] + pads[3] - (dil.1 * (kw - 1) + 1)) / sw + 1 == ow else {
        throw KernelError("qconv2d: output \(oh)x\(ow) does not match the geometry")
    }
    let ocg = oc / g
    for ni in 0..<n {
        for y in 0..<oh {
            for xo in 0..<ow {
                for o in 0..<oc {
                    let group = o / ocg
                    var acc: Int32 = 0
                    for ic in 0..<icg {
                        let cin = group * icg + ic
                        for ky in 0..<kh {
                            let iy = y * sh - pads[0] + ky * dil.0
                            if iy < 0 || iy >= h { continue }
                            for kx in 0..<kw {
                                let ix = xo * sw - pads[2] + kx * dil.1
                                if ix < 0 || ix >= wd { continue }
                                let xv = loadQ(x, ((ni * h + iy) * wd + ix) * c + cin)
                                let wv = Int32(w.i8[((o * icg + ic) * kh + ky) * kw + kx])
                                acc = acc &+ xv &* wv
                            }
                        }
                    }
                    body(((ni * oh + y) * ow + xo) * oc + o, o, acc)
                }
            }
        }
    }
}

/// Integer NHWC convolution with the fused epilogue (spec steps 1–6).
func qconv2d(x: Tensor, w: Tensor, out: Tensor, conv: ConvAttrs, epilogue: IntegerEpilogue, residual: ResidualReader?) throws {
    guard out.dtype == epilogue.outType.dtype else { throw KernelError("qconv2d: Output dtype \(out.dtype.paddleName) vs out_dtype \(epilogue.outType)") }
    guard w.rank == 4, epilogue.scale.count == w.shape[0] else {
        throw KernelError("qconv2d: \(epilogue.scale.count) weight scales for Filter \(w.shape)")
    }
    if let residual, residual.tensor.count != out.count { throw KernelError("qconv2d: Residual \(residual.tensor.shape) vs Output \(out.shape)") }
    try qconv2dAccumulate(x: x, w: w, outShape: out.shape, conv: conv) { oi, o, acc in
        epilogue.store(epilogue.value(acc: acc, channel: o, residual: residual?.value(oi)), to: out, at: oi)
    }
}

// MARK: - qmatmul

/// Integer matmul: `X` u8/s8 [M, K] (leading dims flattened into M), `Y` s8 [K, N] → `Out` [M, N].
func qmatmul(x: Tensor, y: Tensor, out: Tensor, epilogue: IntegerEpilogue, residual: ResidualReader?) throws {
    guard x.dtype == .u8 || x.dtype == .i8 else { throw KernelError("qmatmul: X must be u8/s8, got \(x.dtype.paddleName)") }
    guard y.dtype == .i8, y.rank == 2 else { throw KernelError("qmatmul: Y must be 2-D s8") }
    guard out.dtype == epilogue.outType.dtype else { throw KernelError("qmatmul: Out dtype \(out.dtype.paddleName) vs out_dtype \(epilogue.outType)") }
    let (k, n) = (y.shape[0], y.shape[1])
    guard x.rank >= 1, x.shape[x.rank - 1] == k, epilogue.scale.count == n else {
        throw KernelError("qmatmul: X \(x.shape), Y \(y.shape), \(epilogue.scale.count) weight scales")
    }
    let m = x.count / max(k, 1)
    guard out.count == m * n else { throw KernelError("qmatmul: Out \(out.shape) for \(m)x\(n)") }
    if let residual, residual.tensor.count != out.count { throw KernelError("qmatmul: Residual \(residual.tensor.shape) vs Out \(out.shape)") }
    qmatmulAccumulate(x: x, y: y, m: m, k: k, n: n) { oi, j, acc in
        epilogue.store(epilogue.value(acc: acc, channel: j, residual: residual?.value(oi)), to: out, at: oi)
    }
}

/// Spec step 1 for matmul: `body(i * N + j, j, Σ_p x[i,p] * y[p,j])` in row-major order, Int32 wrapping.
func qmatmulAccumulate(x: Tensor, y: Tensor, m: Int, k: Int, n: Int, _ body: (Int, Int, Int32) -> Void) {
    for i in 0..<m {
        for j in 0..<n {
            var acc: Int32 = 0
            for p in 0..<k { acc = acc &+ loadQ(x, i * k + p) &* Int32(y.i8[p * n + j]) }
            body(i * n + j, j, acc)
        }
    }
}

// MARK: - requantization (qconcat, qpool2d max with a different output range)

/// Requantizes an integer value from range `inScale` to range `outScale`:
/// `saturate(Float(q) * ratio)` with `ratio = (inScale / 127) / (outScale / 127)` computed once in Float
/// (step_in / step_out). With equal ranges ratio is exactly 1, so this is a pure saturation (e.g. s8 → u8 clamps
/// negatives to 0).
@inline(__always) public func requantize(_ q: Int32, ratio: Float, lo: Float, hi: Float) -> Int32 {
    saturate(Float(q) * ratio, lo: lo, hi: hi)
}

public func requantRatio(inScale: Float, outScale: Float) -> Float { quantStep(inScale) / quantStep(outScale) }

// MARK: - public entry points for kernel tests

/// The oracle as plain functions, for tests that compare fast kernels against it without building a graph.
public enum IntegerOracle {
    /// Int32 accumulators of an NHWC convolution (spec step 1), NHWC order [N, OH, OW, OC].
    /// `paddings` is [top, bottom, left, right] (or [h, w]).
    public static func conv2dAccumulators(input: Tensor, filter: Tensor, outputShape: [Int], strides: [Int] = [1, 1],
                                          paddings: [Int] = [0, 0], dilations: [Int] = [1, 1], groups: Int = 1) throws -> [Int32] {
        var accs = [Int32](repeating: 0, count: outputShape.reduce(1, *))
        let conv = ConvAttrs(geometry: try WindowGeometry.explicit(strides: strides, dilations: dilations, paddings: paddings), groups: max(groups, 1))
        try qconv2dAccumulate(x: input, w: filter, outShape: outputShape, conv: conv) { oi, _, acc in accs[oi] = acc }
        return accs
    }

    /// A full qconv2d (steps 1–6) into `output` (NHWC; dtype must match the epilogue's output type).
    /// `residual` is NHWC u8/s8 (range `residualScale`) or f32.
    public static func conv2d(input: Tensor, filter: Tensor, output: Tensor, strides: [Int] = [1, 1], paddings: [Int] = [0, 0],
                              dilations: [Int] = [1, 1], groups: Int = 1, epilogue: IntegerEpilogue,
                              residual: Tensor? = nil, residualScale: Float = 0) throws {
        let conv = ConvAttrs(geometry: try WindowGeometry.explicit(strides: strides, dilations: dilations, paddings: paddings), groups: max(groups, 1))
        try qconv2d(x: input, w: filter, out: output, conv: conv, epilogue: epilogue,
                    residual: try residual.map { try ResidualReader($0, range: residualScale) })
    }

    /// Int32 accumulators of X [M, K] (u8/s8) · Y [K, N] (s8), row-major [M, N].
    public static func matmulAccumulators(x: Tensor, y: Tensor) throws -> [Int32] {
        guard y.rank == 2, x.rank >= 1, x.shape[x.rank - 1] == y.shape[0], x.dtype == .u8 || x.dtype == .i8, y.dtype == .i8 else {
            throw KernelError("matmulAccumulators: X \(x.shape) \(x.dtype.paddleName), Y \(y.shape) \(y.dtype.paddleName)")
        }
        let k = y.shape[0], n = y.shape[1], m = x.count / max(k, 1)
        var accs = [Int32](repeating: 0, count: m * n)
        qmatmulAccumulate(x: x, y: y, m: m, k: k, n: n) { oi, _, acc in accs[oi] = acc }
        return accs
    }

    /// A full qmatmul (steps 1–6) into `output`.
    public static func matmul(x: Tensor, y: Tensor, output: Tensor, epilogue: IntegerEpilogue,
                              residual: Tensor? = nil, residualScale: Float = 0) throws {
        try qmatmul(x: x, y: y, out: output, epilogue: epilogue,
                    residual: try residual.map { try ResidualReader($0, range: residualScale) })
    }

    /// `quantize` with range `scale` into `output` (u8 or s8 by its dtype): f32 NCHW → NHWC for rank 4.
    public static func quantize(_ input: Tensor, into output: Tensor, scale: Float) throws {
        let (lo, hi) = try QDataType(dtype: output.dtype).bounds
        try oracleQuantize(input, into: output, inv: quantInverse(scale), lo: lo, hi: hi)
    }

    /// `dequantize` with range `scale`: u8/s8 NHWC → f32 NCHW for rank 4.
    public static func dequantize(_ input: Tensor, into output: Tensor, scale: Float) throws {
        try oracleDequantize(input, into: output, step: quantStep(scale))
    }

}

// MARK: - registration

/// Index of NCHW element (n, c, h, w) for an NHWC flat index, for rank-4 layout changes.
@inline(__always) func nhwcToNchwIndex(_ i: Int, _ s: [Int]) -> Int {
    // s is the NCHW shape [N, C, H, W]; i indexes NHWC order.
    let (c, h, w) = (s[1], s[2], s[3])
    let ci = i % c, wi = (i / c) % w, hi = (i / (c * w)) % h, ni = i / (c * w * h)
    return ((ni * c + ci) * h + hi) * w + wi
}

/// `quantize`: f32 (NCHW when rank 4) → u8/s8 (NHWC when rank 4), q = saturate(x * inv).
func oracleQuantize(_ x: Tensor, into y: Tensor, inv: Float, lo: Float, hi: Float) throws {
    try requireF32(x, "quantize")
    try requireSameCount(x, y, "quantize")
    guard y.dtype == .u8 || y.dtype == .i8 else { throw KernelError("quantize: output must be u8/s8") }
    let nchw = x.rank == 4
    for i in 0..<y.count {
        let src = nchw ? nhwcToNchwIndex(i, x.shape) : i
        storeQ(y, i, saturate(x.f32[src] * inv, lo: lo, hi: hi))
    }
}

/// `dequantize`: u8/s8 (NHWC when rank 4) → f32 (NCHW when rank 4), x = Float(q) * step.
func oracleDequantize(_ x: Tensor, into y: Tensor, step: Float) throws {
    guard x.dtype == .u8 || x.dtype == .i8 else { throw KernelError("dequantize: input must be u8/s8") }
    try requireF32(y, "dequantize")
    try requireSameCount(x, y, "dequantize")
    let nchw = y.rank == 4
    for i in 0..<x.count {
        let dst = nchw ? nhwcToNchwIndex(i, y.shape) : i
        y.f32[dst] = Float(loadQ(x, i)) * step
    }
}

/// A single weight range repeated for every output channel (per-tensor weights); per-channel lists unchanged.
func broadcastScales(_ s: [Float], to count: Int?) -> [Float] {
    if s.count == 1, let count, count > 1 { return [Float](repeating: s[0], count: count) }
    return s
}

func registerIntegerOracleKernels(_ r: KernelRegistry) {
    // quantize: f32 NCHW → u8/s8 NHWC, q = saturate(x * (127 / S)). Rank other than 4: elementwise, same order.
    r.addReference("quantize", .i8) { ctx in
        let spec = try ctx.spec(QuantizeSpec.self)
        let t = spec.outType
        let inv = quantInverse(spec.scale), (lo, hi) = t.bounds
        return refReady { io in
            let x = try io.firstInput(["X", "Input"]), y = try io.firstOutput(["Out", "Output", "Y"])
            guard y.dtype == t.dtype else { throw KernelError("quantize: output dtype \(y.dtype.paddleName) vs out_dtype \(t)") }
            try oracleQuantize(x, into: y, inv: inv, lo: lo, hi: hi)
        }
    }
    // dequantize: u8/s8 NHWC → f32 NCHW, x = Float(q) * (S / 127).
    r.addReference("dequantize", .i8) { ctx in
        let step = quantStep(try ctx.spec(DequantizeSpec.self).scale)
        return refReady { io in
            try oracleDequantize(try io.firstInput(["X", "Input"]), into: try io.firstOutput(["Out", "Output", "Y"]), step: step)
        }
    }
    r.addReference("qconv2d", .i8) { ctx in
        let spec = try ctx.spec(QConvSpec.self)
        let conv = ConvAttrs(spec)
        // one weight range for all channels is allowed (broadcast to OC)
        let binding: EpilogueBinding
        switch EpilogueBinding.make(ctx, spec.epilogue, op: "qconv2d", channels: ctx.inputShape("Filter").first) {
        case .success(let b): binding = b
        case .failure(let why): return .rejected(why.description)
        }
        let quantOutput = spec.quantOutput
        return refReady { io in
            let out = try io.firstOutput(["Output", "Out"])
            try qconv2d(x: try io.firstInput(["Input", "X"]), w: try io.input("Filter"), out: out,
                        conv: conv, epilogue: binding.epilogue(io), residual: try binding.residual(io, op: "qconv2d"))
            // Optional `QuantOutput`: the f32 Output quantized exactly as a separate `quantize` node would.
            if let q = io.optionalOutput("QuantOutput") {
                guard let (t, qs) = quantOutput else { throw KernelError("qconv2d: QuantOutput without quant_out_scale") }
                guard out.dtype == .f32 else { throw KernelError("qconv2d: QuantOutput needs an f32 Output") }
                guard q.dtype == t.dtype else { throw KernelError("qconv2d: QuantOutput dtype \(q.dtype.paddleName) vs quant_out_dtype \(t)") }
                try requireSameCount(out, q, "qconv2d QuantOutput")
                let inv = quantInverse(qs), (lo, hi) = t.bounds
                for i in 0..<q.count { storeQ(q, i, saturate(out.f32[i] * inv, lo: lo, hi: hi)) }
            }
        }
    }
    r.addReference("qmatmul", .i8) { ctx in
        let binding: EpilogueBinding
        switch EpilogueBinding.make(ctx, try ctx.spec(QMatMulSpec.self).epilogue, op: "qmatmul", channels: ctx.inputShape("Y").last) {
        case .success(let b): binding = b
        case .failure(let why): return .rejected(why.description)
        }
        return refReady { io in
            try qmatmul(x: try io.input("X"), y: try io.input("Y"), out: try io.output("Out"),
                        epilogue: binding.epilogue(io), residual: try binding.residual(io, op: "qmatmul"))
        }
    }
    // qpool2d (NHWC). max: the integer maximum (scale unchanged; requantized with `requantize` when out_scale
    // differs, saturated to the output type otherwise). avg: sum in Int32, y = Float(sum) * (step_in / Float(count)),
    // then spec step 6 (or f32 out). Windows follow pool2d exactly (see `poolWindows`).
    r.addReference("qpool2d", .i8) { ctx in
        let spec = try ctx.spec(QPoolSpec.self)
        let p = spec.windows
        let t = try spec.outType(input: ctx.inputDType("X"))
        let inScale = spec.inScale, outScale = spec.outScale
        let stepIn = quantStep(inScale)
        let invOut = t == .f32 ? 1 : quantInverse(outScale)
        let ratio = requantRatio(inScale: inScale, outScale: outScale)
        let (lo, hi) = t.bounds
        return refReady { io in
            let x = try io.input("X"), y = try io.output("Out")
            guard x.dtype == .u8 || x.dtype == .i8 else { throw KernelError("qpool2d: X must be u8/s8") }
            guard y.dtype == t.dtype else { throw KernelError("qpool2d: Out dtype \(y.dtype.paddleName) vs out_dtype \(t)") }
            guard x.rank == 4, y.rank == 4, x.shape[0] == y.shape[0], x.shape[3] == y.shape[3] else {
                throw KernelError("qpool2d: X \(x.shape) Out \(y.shape) (NHWC)")
            }
            let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            let (oh, ow) = (y.shape[1], y.shape[2])
            let (rows, cols, divisor) = try poolWindows(p, h: h, w: w, oh: oh, ow: ow)
            for ni in 0..<n {
                for i in 0..<oh {
                    let r = rows[i]
                    for j in 0..<ow {
                        let cs = cols[j]
                        for ch in 0..<c {
                            let oi = ((ni * oh + i) * ow + j) * c + ch
                            if p.isMax {
                                var m: Int32 = x.dtype == .u8 ? 0 : -128
                                for a in r.start..<max(r.end, r.start) {
                                    for b in cs.start..<max(cs.end, cs.start) { m = Swift.max(m, loadQ(x, ((ni * h + a) * w + b) * c + ch)) }
                                }
                                if t == .f32 { y.f32[oi] = Float(m) * stepIn } else { storeQ(y, oi, requantize(m, ratio: ratio, lo: lo, hi: hi)) }
                            } else {
                                var sum: Int32 = 0
                                for a in r.start..<max(r.end, r.start) {
                                    for b in cs.start..<max(cs.end, cs.start) { sum = sum &+ loadQ(x, ((ni * h + a) * w + b) * c + ch) }
                                }
                                let count = divisor(r, cs)
                                let v = Float(sum) * (stepIn / Float(count))
                                if t == .f32 { y.f32[oi] = v } else { storeQ(y, oi, saturate(v * invOut, lo: lo, hi: hi)) }
                            }
                        }
                    }
                }
            }
        }
    }
    // qrelu: s8 → u8, max(q, 0); same scale. A u8 input is copied.
    r.addReference("qrelu", .i8) { _ in
        refReady { io in
            let x = try io.input("X"), y = try io.output("Out")
            try requireSameCount(x, y, "qrelu")
            guard (x.dtype == .i8 || x.dtype == .u8), (y.dtype == .u8 || y.dtype == .i8) else { throw KernelError("qrelu: u8/s8 only") }
            for i in 0..<x.count { storeQ(y, i, Swift.max(loadQ(x, i), 0)) }
        }
    }
    // qconcat: NHWC int8 tensors concatenated along channels (the last dimension). Each input element becomes
    // `requantize(q, ratio: step_in / step_out)` — a pure saturation when its range equals out_scale.
    r.addReference("qconcat", .i8) { ctx in
        let spec = try ctx.spec(QConcatSpec.self)
        let ratios = spec.inScales.map { requantRatio(inScale: $0, outScale: spec.outScale) }
        return refReady { io in
            let xs = io.inputs["X"] ?? []
            let y = try io.output("Out")
            guard y.dtype == .u8 || y.dtype == .i8 else { throw KernelError("qconcat: Out must be u8/s8") }
            guard xs.count == ratios.count else { throw KernelError("qconcat: \(xs.count) inputs, \(ratios.count) in_scales") }
            let (lo, hi) = try QDataType(dtype: y.dtype).bounds
            let cOut = y.shape.last ?? 1
            let rows = y.count / max(cOut, 1)
            var offset = 0
            for (t, ratio) in zip(xs, ratios) {
                guard t.dtype == .u8 || t.dtype == .i8 else { throw KernelError("qconcat: inputs must be u8/s8") }
                let ct = t.shape.last ?? 1
                guard t.count == rows * ct else { throw KernelError("qconcat: input \(t.shape) vs Out \(y.shape)") }
                for row in 0..<rows {
                    for ch in 0..<ct {
                        storeQ(y, row * cOut + offset + ch, requantize(loadQ(t, row * ct + ch), ratio: ratio, lo: lo, hi: hi))
                    }
                }
                offset += ct
            }
            guard offset == cOut else { throw KernelError("qconcat: inputs have \(offset) channels, Out has \(cOut)") }
        }
    }
    // Layout changes for f32 (any element size works): NHWC ⇄ NCHW on rank-4 tensors, plain copy otherwise.
    r.addReference("layout_nhwc_to_nchw", .f32) { _ in
        refReady { io in
            let x = try io.firstInput(["X", "Input"]), y = try io.firstOutput(["Out", "Output"])
            if x.rank != 4 { try copyElements(from: x, to: y); return }
            try transposeElements(x, perm: [0, 3, 1, 2], into: y)
        }
    }
    r.addReference("layout_nchw_to_nhwc", .f32) { _ in
        refReady { io in
            let x = try io.firstInput(["X", "Input"]), y = try io.firstOutput(["Out", "Output"])
            if x.rank != 4 { try copyElements(from: x, to: y); return }
            try transposeElements(x, perm: [0, 2, 3, 1], into: y)
        }
    }
}

/// What qconv2d and qmatmul share: the epilogue decoded once from the attributes, a Bias that may only arrive at
/// run time, and the optional Residual with its range.
struct EpilogueBinding {
    let base: IntegerEpilogue
    let inScale: Float
    let weightScales: [Float]
    let outScale: Float
    let biasIsConstant: Bool
    let residualScale: Float

    static func make(_ ctx: KernelBuildContext, _ e: IntegerEpilogueSpec, op: String, channels: Int?) -> Result<EpilogueBinding, KernelError> {
        let ws = broadcastScales(e.weightScales, to: channels)
        var base = IntegerEpilogue(inScale: e.inScale, weightScales: ws, bias: constantFloats(ctx, "Bias"),
                                   activation: e.activation, outType: e.outType, outScale: e.outScale)
        base.slope = e.slope
        base.offset = e.offset
        return .success(EpilogueBinding(base: base, inScale: e.inScale, weightScales: ws, outScale: e.outScale,
                                        biasIsConstant: ctx.constant("Bias") != nil, residualScale: e.residualScale))
    }

    /// The epilogue for this run: the prepared one, or one with the Bias tensor given at run time.
    func epilogue(_ io: KernelIO) -> IntegerEpilogue {
        guard !biasIsConstant, let b = io.optionalInput("Bias") else { return base }
        var e = IntegerEpilogue(inScale: inScale, weightScales: weightScales, bias: floatArray(b), activation: base.activation,
                                outType: base.outType, outScale: outScale)
        e.slope = base.slope
        e.offset = base.offset
        return e
    }

    func residual(_ io: KernelIO, op: String) throws -> ResidualReader? {
        let res = try io.optionalInput("Residual").map { try ResidualReader($0, range: residualScale) }
        if let res, res.tensor.dtype != .f32, !(residualScale > 0) {
            throw KernelError("\(op): integer Residual needs `residual_scale`")
        }
        return res
    }
}
