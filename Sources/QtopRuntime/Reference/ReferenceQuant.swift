import Foundation
import QtopFormat
import QtopGraph

// Paddle's quantization ops in float, mirroring the arithmetic order of Paddle's CPU functors
// (paddle/phi/kernels/funcs/fake_quantize_functor.{h,cc}, paddle/phi/kernels/cpu/quantize_linear_kernel.cc,
// paddle/fluid/operators/fake_dequantize_op.cc):
//
// - `inverse(s) = s <= 1e-30 ? 1 / (s + 1e-6) : 1 / s` (Float).
// - round_type 0 (QuantTensorFunctor): `v = (bin_cnt * inv_s) * x`, round half to even,
//   then clamp to [-bin_cnt - 1, bin_cnt].
// - round_type 1: `c = clip(x, -s, s)` (`x < lo ? lo : (x > hi ? hi : x)`), then
//   `round((bin_cnt * inv_s) * c)` with std::round (half away from zero). No further clamp.
// - dequantize: `(x * s) / max_range`.
// - quantize-dequantize (legacy fake_*_quantize_dequantize_*): round_type 0: `q * s / bin_cnt` with q from the
//   round_type-0 quantizer; round_type 1: `round((bin_cnt * inv_s) * clip(x)) * s / bin_cnt`.
// Legacy ops default to round_type 1; quantize_linear / dequantize_linear default to round_type 0 and quant_axis 0
// (Paddle 3.3.1 op defaults). Per-tensor vs per-channel is decided by the scale's element count (one value =
// per-tensor, whatever quant_axis says), which is what Paddle computes for every well-formed model.

/// Paddle's `inverse` helper.
func paddleInverse(_ s: Float) -> Float { s <= 1e-30 ? 1 / (s + 1e-6) : 1 / s }

/// Quantize one value to its integer grid value (as Float), Paddle's formula for `roundType`.
func paddleQuantize(_ x: Float, s: Float, binCnt: Float, roundType: Int) -> Float {
    let invS = paddleInverse(s)
    if roundType == 0 {
        var v = (binCnt * invS * x).rounded(.toNearestOrEven)
        let hi = binCnt, lo = -binCnt - 1
        v = v > hi ? hi : v
        v = v < lo ? lo : v
        return v
    }
    let c = x < -s ? -s : (x > s ? s : x)
    return (binCnt * invS * c).rounded(.toNearestOrAwayFromZero)
}

/// Quantize then dequantize one value (legacy fake_quantize_dequantize ops).
func paddleQuantDequant(_ x: Float, s: Float, binCnt: Float, roundType: Int) -> Float {
    paddleQuantize(x, s: s, binCnt: binCnt, roundType: roundType) * s / binCnt
}

/// Paddle's FindAbsMaxFunctor: |the element with the largest |x||.
func absMax(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
    guard n > 0 else { return 0 }
    var best = p[0]
    for i in 1..<n where Swift.abs(best) < Swift.abs(p[i]) { best = p[i] }
    return Swift.abs(best)
}

/// The channel index of flat element `i` along `axis` of `shape`.
struct ChannelIndexer {
    let inner: Int, extent: Int
    /// An axis outside the shape (e.g. -1 from a file) means one channel.
    init(shape: [Int], axis: Int) {
        guard axis >= 0, axis < shape.count else {
            extent = 1
            inner = 1
            return
        }
        extent = shape[axis]
        inner = shape[(axis + 1)...].reduce(1, *)
    }
    @inline(__always) func channel(_ i: Int) -> Int { (i / inner) % extent }
}

/// (outer, extent, inner) of the per-channel layout along `axis` — (1, 1, count) for a single scale — so loops can
/// walk the elements in order with the channel's scale hoisted.
func channelLayout(scales: [Float], shape: [Int], axis: Int, op: String) throws -> (Int, Int, Int) {
    let count = shape.reduce(1, *)
    if scales.count == 1 { return (1, 1, count) }
    guard !scales.isEmpty else { throw KernelError("\(op): empty scale") }
    let ax = normalizeAxis(axis, rank: shape.count)
    guard axis >= 0, ax < shape.count, shape[ax] == scales.count else {
        throw KernelError("\(op): \(scales.count) scales for X \(shape) along quant_axis \(axis)")
    }
    return (shape[..<ax].reduce(1, *), shape[ax], shape[(ax + 1)...].reduce(1, *))
}

/// Writes the scale(s) used to an optional OutScale output when the executor allocated one.
func writeOutScale(_ io: KernelIO, _ scales: [Float]) {
    guard let o = io.optionalOutput("OutScale"), o.dtype == .f32, o.count == scales.count else { return }
    for (i, s) in scales.enumerated() { o.f32[i] = s }
}

/// Per-channel abs-max along axis 0 or 1 (Paddle's FindChannelAbsMaxFunctor).
func channelAbsMax(_ x: Tensor, axis: Int) throws -> [Float] {
    guard axis == 0 || axis == 1, axis < x.rank else { throw KernelError("channel-wise quantization: quant_axis \(axis)") }
    let idx = ChannelIndexer(shape: x.shape, axis: axis)
    var m = [Float](repeating: 0, count: idx.extent)
    for i in 0..<x.count { m[idx.channel(i)] = Swift.max(m[idx.channel(i)], Swift.abs(x.f32[i])) }
    return m
}

func registerReferenceQuantKernels(_ r: KernelRegistry) {
    r.addReference("quantize_linear") { ctx in
        let spec = try ctx.spec(QuantSpec.self)
        let bin = Float(spec.binCount), axis = spec.quantAxis, roundType = spec.roundType, observer = spec.onlyObserver
        return refReady { io in
            let x = try io.input("X"), y = try io.output("Y")
            try requireSameCount(x, y, "quantize_linear")
            if observer { try copyElements(from: x, to: y); return }
            try requireF32(x, "quantize_linear X")
            let scales = floatArray(try io.input("Scale"))
            let (outer, extent, inner) = try channelLayout(scales: scales, shape: x.shape, axis: axis, op: "quantize_linear")
            var i = 0
            for _ in 0..<outer {
                for ch in 0..<extent {
                    let s = scales[scales.count == 1 ? 0 : ch]
                    for _ in 0..<inner {
                        let q = paddleQuantize(x.f32[i], s: s, binCnt: bin, roundType: roundType)
                        if y.dtype == .f32 { y.f32[i] = q } else { storeInt64(y, i, q.isNaN ? 0 : Int64(q)) }
                        i += 1
                    }
                }
            }
        }
    }
    r.addReference("dequantize_linear") { ctx in
        let spec = try ctx.spec(QuantSpec.self)
        let bin = Float(spec.binCount), axis = spec.quantAxis, observer = spec.onlyObserver
        /// y = (x * s) / qmax over the layout; X may be int8 or float.
        func dequantize(_ x: Tensor, _ scales: [Float], into y: UnsafeMutablePointer<Float>) throws {
            let (outer, extent, inner) = try channelLayout(scales: scales, shape: x.shape, axis: axis, op: "dequantize_linear")
            var i = 0
            for _ in 0..<outer {
                for ch in 0..<extent {
                    let s = scales[scales.count == 1 ? 0 : ch]
                    for _ in 0..<inner {
                        y[i] = loadFloat(x, i) * s / bin
                        i += 1
                    }
                }
            }
        }
        // Weights: X and Scale are both constants, so the result is too; compute it once here.
        var folded: [Float]?
        if !observer, let xc = ctx.constant("X"), let sc = ctx.constant("Scale") {
            var values = [Float](repeating: 0, count: xc.count)
            let ok: Bool = values.withUnsafeMutableBufferPointer { buf in
                (try? dequantize(Tensor(xc), sc.floatValues(), into: buf.baseAddress!)) != nil
            }
            folded = ok ? values : nil  // on a bad layout, run() reports the error
        }
        let constantResult = folded
        return refReady { io in
            let x = try io.input("X"), y = try io.output("Y")
            try requireSameCount(x, y, "dequantize_linear")
            if observer, x.dtype.byteSize == y.dtype.byteSize { try copyElements(from: x, to: y); return }
            try requireF32(y, "dequantize_linear Y")
            if observer { for i in 0..<x.count { y.f32[i] = loadFloat(x, i) }; return }
            if let c = constantResult, c.count == y.count {
                c.withUnsafeBytes { y.data.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                return
            }
            try dequantize(x, floatArray(try io.input("Scale")), into: y.f32)
        }
    }

    // Legacy per-tensor quantize-dequantize (Out = dequantized values) and quantize-only ops (Out = the integer grid
    // values as float): InScale when given (moving average / range at inference), else abs-max of X.
    let perTensor: [(op: String, useInScale: Bool, f: (Float, Float, Float, Int) -> Float)] = [
        ("fake_quantize_dequantize_moving_average_abs_max", true, paddleQuantDequant),
        ("fake_quantize_dequantize_abs_max", false, paddleQuantDequant),
        ("fake_quantize_range_abs_max", true, paddleQuantize),
        ("fake_quantize_moving_average_abs_max", true, paddleQuantize),
        ("fake_quantize_abs_max", false, paddleQuantize),
    ]
    for (op, useInScale, f) in perTensor {
        r.addReference(op) { ctx in
            let spec = try ctx.spec(QuantSpec.self)
            let bin = Float(spec.binCount), roundType = spec.roundType
            return refReady { io in
                let x = try io.input("X"), y = try io.output("Out")
                try requireF32(x, op)
                try requireSameCount(x, y, op)
                let s = (useInScale ? io.optionalInput("InScale").map { loadFloat($0, 0) } : nil) ?? absMax(x.f32, x.count)
                for i in 0..<x.count { y.f32[i] = f(x.f32[i], s, bin, roundType) }
                writeOutScale(io, [s])
            }
        }
    }
    // Channel-wise variants: abs-max per channel along quant_axis.
    let perChannel: [(op: String, f: (Float, Float, Float, Int) -> Float)] = [
        ("fake_channel_wise_quantize_dequantize_abs_max", paddleQuantDequant),
        ("fake_channel_wise_quantize_abs_max", paddleQuantize),
    ]
    for (op, f) in perChannel {
        r.addReference(op) { ctx in
            let spec = try ctx.spec(QuantSpec.self)
            let bin = Float(spec.binCount), roundType = spec.roundType, axis = spec.quantAxis
            return refReady { io in
                let x = try io.input("X"), y = try io.output("Out")
                try requireF32(x, op)
                try requireSameCount(x, y, op)
                let scales = try channelAbsMax(x, axis: axis)
                let idx = ChannelIndexer(shape: x.shape, axis: axis)
                for i in 0..<x.count { y.f32[i] = f(x.f32[i], scales[idx.channel(i)], bin, roundType) }
                writeOutScale(io, scales)
            }
        }
    }
    // fake_dequantize_max_abs: Out = (X * Scale) / max_range.
    r.addReference("fake_dequantize_max_abs") { ctx in
        let maxRange = try ctx.spec(QuantSpec.self).maxRange
        return refReady { io in
            let x = try io.input("X"), y = try io.output("Out")
            try requireF32(y, "fake_dequantize_max_abs")
            try requireSameCount(x, y, "fake_dequantize_max_abs")
            let s = loadFloat(try io.input("Scale"), 0)
            for i in 0..<x.count { y.f32[i] = loadFloat(x, i) * s / maxRange }
        }
    }
    // fake_channel_wise_dequantize_max_abs: Out = X · Π Scales_i[c] / Π (2^(bits_i - 1) - 1).
    // One scale tensor: per channel along quant_axis (0 or 1), (x * s[c]) / max_range.
    // Two: the first per channel along x_num_col_dims (> 1) or axis 1, the second a single value:
    // ((x * s1[c]) * s2) / max_range.
    r.addReference("fake_channel_wise_dequantize_max_abs") { ctx in
        let spec = try ctx.spec(QuantSpec.self)
        let bits = spec.quantBits, axis = spec.quantAxis, xNumCol = spec.xNumColDims
        var maxRange: Float = 1
        for b in bits { maxRange *= Float((1 << (b - 1)) - 1) }
        let range = maxRange
        return refReady { io in
            let x = try io.input("X"), y = try io.output("Out")
            try requireF32(y, "fake_channel_wise_dequantize_max_abs")
            try requireSameCount(x, y, "fake_channel_wise_dequantize_max_abs")
            let scales = (io.inputs["Scales"] ?? []).map(floatArray)
            if scales.count == 1 {
                let idx = ChannelIndexer(shape: x.shape, axis: axis)
                guard idx.extent == scales[0].count else { throw KernelError("fake_channel_wise_dequantize_max_abs: scale count") }
                for i in 0..<x.count { y.f32[i] = loadFloat(x, i) * scales[0][idx.channel(i)] / range }
            } else if scales.count == 2 {
                let cAxis = xNumCol > 1 ? xNumCol : 1
                let idx = ChannelIndexer(shape: x.shape, axis: cAxis)
                guard idx.extent == scales[0].count, let s2 = scales[1].first else {
                    throw KernelError("fake_channel_wise_dequantize_max_abs: scale counts")
                }
                for i in 0..<x.count { y.f32[i] = loadFloat(x, i) * scales[0][idx.channel(i)] * s2 / range }
            } else {
                throw KernelError("fake_channel_wise_dequantize_max_abs: \(scales.count) scale tensors")
            }
        }
    }
}
