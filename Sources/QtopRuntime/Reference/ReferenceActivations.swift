import Foundation
import QtopGraph

// Elementwise unary fp32 ops with Paddle's CPU formulas, written in the same operation order.
// `max`/`min` follow std::max/std::min as Eigen's cwiseMax/cwiseMin do on CPU: `max(a, b) = a < b ? b : a`,
// `min(a, b) = b < a ? b : a`, so NaN propagates through relu6/hard_swish/hard_sigmoid as in Paddle.
// relu itself is `x > 0 ? x : 0`: Paddle 3.3's CPU relu turns NaN into 0 (checked against paddle 3.3.1).

@inline(__always) func stdMax(_ a: Float, _ b: Float) -> Float { a < b ? b : a }
@inline(__always) func stdMin(_ a: Float, _ b: Float) -> Float { b < a ? b : a }

/// Registers an X → Out f32 map whose function is built from the node's attributes.
func addUnaryF32(_ r: KernelRegistry, _ op: String, _ build: @escaping (UnarySpec) -> (Float) -> Float) {
    addUnaryF32(r, op, spec: UnarySpec.self, build)
}

/// The same for an op decoded by another spec (dropout).
func addUnaryF32<S: OpSpec>(_ r: KernelRegistry, _ op: String, spec: S.Type, inSlot: String = "X",
                            outSlot: String = "Out", _ build: @escaping (S) -> (Float) -> Float) {
    r.addReference(op) { ctx in
        let f = build(try ctx.spec(S.self))
        return refReady { io in
            let x = try io.input(inSlot), y = try io.output(outSlot)
            try requireF32(x, op)
            try requireSameCount(x, y, op)
            let xp = x.f32, yp = y.f32
            for i in 0..<x.count { yp[i] = f(xp[i]) }
        }
    }
}

func reluF(_ x: Float) -> Float { x > 0 ? x : 0 }
func relu6F(_ x: Float, _ t: Float) -> Float { stdMin(stdMax(x, 0), t) }
/// Paddle: (x + offset).max(0).min(threshold) * x / scale.
func hardSwishF(_ x: Float, threshold: Float = 6, scale: Float = 6, offset: Float = 3) -> Float {
    stdMin(stdMax(x + offset, 0), threshold) * x / scale
}
/// Paddle: (x * slope + offset).max(0).min(1).
func hardSigmoidF(_ x: Float, slope: Float, offset: Float) -> Float { stdMin(stdMax(x * slope + offset, 0), 1) }
func sigmoidF(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }
/// Paddle softplus: x * beta > threshold ? x : log1p(exp(x * beta)) / beta.
func softplusF(_ x: Float, beta: Float, threshold: Float) -> Float {
    let xb = x * beta
    return xb > threshold ? x : Foundation.log1p(Foundation.exp(xb)) / beta
}
/// Paddle mish: x * tanh(softplus(x)) with softplus(x) = x > threshold ? x : log1p(exp(x)).
func mishF(_ x: Float, threshold: Float) -> Float {
    let sp = x > threshold ? x : Foundation.log1p(Foundation.exp(x))
    return x * Foundation.tanh(sp)
}
/// Paddle LeakyRelu: x >= 0 ? x : alpha * x (NaN → alpha * NaN = NaN).
func leakyReluF(_ x: Float, _ alpha: Float) -> Float { x >= 0 ? x : alpha * x }

func registerReferenceActivationKernels(_ r: KernelRegistry) {
    addUnaryF32(r, "relu") { _ in reluF }
    addUnaryF32(r, "relu6") { a in
        let t = a.param("threshold")
        return { relu6F($0, t) }
    }
    addUnaryF32(r, "hard_swish") { a in
        let t = a.param("threshold"), s = a.param("scale"), o = a.param("offset")
        return { hardSwishF($0, threshold: t, scale: s, offset: o) }
    }
    addUnaryF32(r, "hard_sigmoid") { a in
        let slope = a.param("slope"), offset = a.param("offset")
        return { hardSigmoidF($0, slope: slope, offset: offset) }
    }
    addUnaryF32(r, "sigmoid") { _ in sigmoidF }
    addUnaryF32(r, "swish") { a in
        let beta = a.param("beta")
        return { x in x / (1 + Foundation.exp(-beta * x)) }
    }
    addUnaryF32(r, "silu") { _ in { x in x / (1 + Foundation.exp(-x)) } }
    addUnaryF32(r, "leaky_relu") { a in
        let alpha = a.param("alpha")
        return { leakyReluF($0, alpha) }
    }
    addUnaryF32(r, "tanh") { _ in { Foundation.tanh($0) } }
    // elu: x > 0 ? x : alpha * (exp(x) - 1)
    addUnaryF32(r, "elu") { a in
        let alpha = a.param("alpha")
        return { x in x > 0 ? x : alpha * (Foundation.exp(x) - 1) }
    }
    addUnaryF32(r, "softplus") { a in
        let beta = a.param("beta"), threshold = a.param("threshold")
        return { softplusF($0, beta: beta, threshold: threshold) }
    }
    addUnaryF32(r, "mish") { a in
        let threshold = a.param("threshold")
        return { mishF($0, threshold: threshold) }
    }
    addUnaryF32(r, "gelu") { a in
        if a.approximate {
            // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
            let k = Float(sqrt(2.0 / Double.pi))
            return { x in x * 0.5 * (1 + Foundation.tanh(k * (x + 0.044715 * x * x * x))) }
        }
        // 0.5 * x * (1 + erf(x / sqrt(2)))
        let r2 = Float(1.0 / 2.0.squareRoot())
        return { x in x * 0.5 * (1 + Foundation.erf(x * r2)) }
    }
    addUnaryF32(r, "exp") { _ in { Foundation.exp($0) } }
    addUnaryF32(r, "sqrt") { _ in { $0.squareRoot() } }
    addUnaryF32(r, "abs") { _ in { Swift.abs($0) } }
    // pow: x ^ factor, a FactorTensor input overriding the attribute (std::pow in float).
    r.addReference("pow") { ctx in
        let factorAttr = try ctx.spec(PowSpec.self).factor
        return refReady { io in
            let x = try io.input("X"), y = try io.output("Out")
            try requireF32(x, "pow")
            try requireSameCount(x, y, "pow")
            let factor = io.optionalInput("FactorTensor").map { loadFloat($0, 0) } ?? factorAttr
            for i in 0..<x.count { y.f32[i] = Foundation.pow(x.f32[i], factor) }
        }
    }
    // scale: a ScaleTensor input, when present, overrides the `scale` attribute.
    r.addReference("scale") { ctx in
        let spec = try ctx.spec(ScaleSpec.self)
        let sAttr = spec.scale, b = spec.bias, after = spec.biasAfterScale
        return refReady { io in
            let x = try io.input("X"), y = try io.output("Out")
            try requireSameCount(x, y, "scale")
            let s = io.optionalInput("ScaleTensor").map { loadFloat($0, 0) } ?? sAttr
            if x.dtype != .f32 {
                // integer tensors (shape arithmetic): Paddle casts scale and bias to the element type
                guard !x.dtype.isFloatingPoint, x.dtype == y.dtype else { throw KernelError("scale: unsupported dtype \(x.dtype.paddleName)") }
                let si = Int64(s), bi = Int64(b)
                for i in 0..<x.count {
                    let v = loadInt64(x, i)
                    storeInt64(y, i, after ? v &* si &+ bi : (v &+ bi) &* si)
                }
                return
            }
            for i in 0..<x.count { y.f32[i] = after ? x.f32[i] * s + b : (x.f32[i] + b) * s }
        }
    }
    // dropout at inference: upscale_in_train → identity; downgrade_in_infer → x * (1 - p).
    addUnaryF32(r, "dropout", spec: DropoutSpec.self) { a in
        if a.upscaleInTrain { return { $0 } }
        let keep = 1 - a.prob
        return { x in x * keep }
    }
    // clip: Min/Max tensor inputs override the attributes.
    r.addReference("clip") { ctx in
        let spec = try ctx.spec(ClipSpec.self)
        let minAttr = spec.min, maxAttr = spec.max
        return refReady { io in
            let x = try io.input("X"), y = try io.output("Out")
            try requireF32(x, "clip")
            try requireSameCount(x, y, "clip")
            let lo = io.optionalInput("Min").map { loadFloat($0, 0) } ?? minAttr
            let hi = io.optionalInput("Max").map { loadFloat($0, 0) } ?? maxAttr
            for i in 0..<x.count {
                let v = x.f32[i]
                y.f32[i] = v < lo ? lo : (v > hi ? hi : v)
            }
        }
    }
    // prelu: x > 0 ? x : alpha * x with Alpha per "all" (one value), "channel" (NCHW dim 1 or NHWC last)
    // or "element" (same shape as one sample).
    r.addReference("prelu") { ctx in
        let spec = try ctx.spec(UnarySpec.self)
        let mode = spec.mode, nhwc = spec.nhwc
        return refReady { io in
            let x = try io.input("X"), y = try io.output("Out")
            try requireF32(x, "prelu")
            try requireSameCount(x, y, "prelu")
            let alpha = floatArray(try io.input("Alpha"))
            let rank = x.rank
            for i in 0..<x.count {
                let a: Float
                switch mode {
                case "channel":
                    let c = nhwc ? x.shape[rank - 1] : (rank > 1 ? x.shape[1] : 1)
                    let inner = nhwc ? 1 : (rank > 2 ? x.shape[2...].reduce(1, *) : 1)
                    a = alpha[(i / inner) % max(c, 1)]
                case "element":
                    a = alpha[i % max(alpha.count, 1)]
                default:
                    a = alpha[0]
                }
                let v = x.f32[i]
                y.f32[i] = v > 0 ? v : a * v
            }
        }
    }
}
