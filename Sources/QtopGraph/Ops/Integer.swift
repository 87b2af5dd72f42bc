import QtopFormat

// qtop's own ops, written by the passes: fake_quantize (float QDQ), and the lowered integer ops (NHWC int8
// tensors, float tensors NCHW): quantize / dequantize, layout changes, qconv2d, qmatmul, qpool2d, qconcat, qrelu.
// Their semantics are docs/int8-semantics.md; the integer oracle and every native kernel read these specs, so
// the defaults below are the only ones.

public enum IntegerSpecs {
    static let specs: [any OpSpec.Type] = [FakeQuantizeSpec.self, QuantizeSpec.self, DequantizeSpec.self, LayoutSpec.self,
                                           QConvSpec.self, QMatMulSpec.self, QPoolSpec.self, QConcatSpec.self, QReluSpec.self]
}

/// Integer activation types and f32, as the `out_dtype` attributes spell them.
public enum QDataType: String, Sendable {
    case u8, s8, f32

    public var bounds: (lo: Float, hi: Float) {
        switch self {
        // Paddle's symmetric grid ends at qmax = 127: u8 holds its non-negative half (see QTOP_U8_MAX).
        case .u8: return (0, 127)
        case .s8: return (-128, 127)
        case .f32: return (-Float.infinity, Float.infinity)
        }
    }

    public var dtype: DType {
        switch self {
        case .u8: return .u8
        case .s8: return .i8
        case .f32: return .f32
        }
    }

    public init(_ s: String) throws {
        switch s.lowercased() {
        case "u8", "uint8": self = .u8
        case "s8", "i8", "int8": self = .s8
        case "f32", "float32", "fp32": self = .f32
        default: throw OpSpecError("unknown out_dtype '\(s)'")
        }
    }

    public init(dtype: DType) throws {
        switch dtype {
        case .u8: self = .u8
        case .i8: self = .s8
        case .f32: self = .f32
        default: throw OpSpecError("not an integer-path dtype: \(dtype.paddleName)")
        }
    }

    /// Reads a dtype attribute; nil default = absent stays nil (the op decides from its input).
    static func read(_ a: inout AttributeReader, _ name: String, default d: QDataType?) throws -> QDataType? {
        guard a.has(name) || d != nil else { return nil }
        let s = try a.string(name, default: d?.rawValue ?? "")
        do { return try QDataType(s) } catch { throw a.fail(name, "must be u8, s8 or f32, got '\(s)'") }
    }
}

/// Activations of the fused integer epilogue (spec step 5). hard_sigmoid takes the node's `slope` and `offset`
/// (Paddle's defaults 0.2, 0.5); swish is silu (beta 1).
public enum EpilogueActivation: String, Sendable {
    case none, relu, relu6, hard_swish, sigmoid, hard_sigmoid, swish

    public init(_ s: String) throws {
        switch s.lowercased() {
        case "", "none", "identity", "linear": self = .none
        case "relu": self = .relu
        case "relu6": self = .relu6
        case "hard_swish", "hardswish": self = .hard_swish
        case "sigmoid": self = .sigmoid
        case "hard_sigmoid", "hardsigmoid": self = .hard_sigmoid
        case "swish", "silu": self = .swish
        default: throw OpSpecError("unsupported epilogue activation '\(s)'")
        }
    }

    static func read(_ a: inout AttributeReader) throws -> EpilogueActivation {
        let s = try a.string("activation", default: "none")
        do { return try EpilogueActivation(s) } catch {
            throw a.fail("activation", "must be none, relu, relu6, hard_swish, sigmoid, hard_sigmoid or swish, got '\(s)'")
        }
    }
}

/// A positive, finite range (scale) attribute.
func positiveRange(_ a: inout AttributeReader, _ name: String) throws -> Float {
    guard let v = try a.optionalFloat(name) else { throw a.fail(name, "is required") }
    guard v > 0, v.isFinite else { throw a.fail(name, "must be a positive range, got \(v)") }
    return v
}

/// The attributes qconv2d and qmatmul share: input range, per-channel weight ranges, activation, output type and
/// range, residual range.
public struct IntegerEpilogueSpec: Sendable, Equatable {
    public let inScale: Float
    /// One range per output channel, or one for all.
    public let weightScales: [Float]
    public let activation: EpilogueActivation
    /// Absent: f32.
    public let outType: QDataType
    /// Required (> 0) for an integer output; 0 for f32.
    public let outScale: Float
    /// Range of an integer Residual (0 when absent; an integer Residual needs it > 0).
    public let residualScale: Float
    /// hard_sigmoid's `slope` and `offset` (finite; read only for that activation, else Paddle's defaults).
    public var slope: Float = 0.2
    public var offset: Float = 0.5

    static func read(_ a: inout AttributeReader, _ node: Node) throws -> IntegerEpilogueSpec {
        let inScale = try positiveRange(&a, "in_scale")
        let ws = try a.floats("weight_scales", default: [])
        guard !ws.isEmpty, ws.allSatisfy({ $0.isFinite }) else { throw a.fail("weight_scales", "must hold finite weight ranges") }
        let act = try EpilogueActivation.read(&a)
        let t = try QDataType.read(&a, "out_dtype", default: .f32)!
        // out_scale only means something for an integer output, residual_scale only with a Residual input.
        let outScale = t == .f32 ? try a.optionalFloat("out_scale") ?? 0 : try positiveRange(&a, "out_scale")
        let rs = node.input("Residual") != nil ? try a.float("residual_scale", default: 0) : try a.optionalFloat("residual_scale") ?? 0
        var e = IntegerEpilogueSpec(inScale: inScale, weightScales: ws, activation: act, outType: t, outScale: outScale,
                                    residualScale: rs)
        if act == .hard_sigmoid {
            e.slope = try a.float("slope", default: 0.2)
            e.offset = try a.float("offset", default: 0.5)
            guard e.slope.isFinite else { throw a.fail("slope", "must be finite, got \(e.slope)") }
            guard e.offset.isFinite else { throw a.fail("offset", "must be finite, got \(e.offset)") }
        }
        return e
    }

    /// The weight ranges for `channels` output channels (one range broadcast), or nil when the counts disagree.
    public func weightScales(channels: Int) -> [Float]? {
        if weightScales.count == channels { return weightScales }
        if weightScales.count == 1 { return [Float](repeating: weightScales[0], count: channels) }
        return nil
    }
}

/// qconv2d: NHWC u8/s8 Input, s8 Filter [OC, IC/groups, KH, KW], fused epilogue; optional QuantOutput (the f32
/// Output also quantized).
public struct QConvSpec: OpSpec {
    public static let opTypes = ["qconv2d"]
    public let geometry: WindowGeometry
    public let groups: Int
    public let epilogue: IntegerEpilogueSpec
    /// The QuantOutput's type and range when the node has one.
    public let quantOutput: (type: QDataType, scale: Float)?

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        geometry = try WindowGeometry.read(&a, dilations: true)
        groups = try a.int("groups", default: 1, in: 1...Int(Int32.max))
        epilogue = try IntegerEpilogueSpec.read(&a, node)
        if node.output("QuantOutput") != nil {
            guard epilogue.outType == .f32 else { throw a.fail("out_dtype", "must be f32 when the node has a QuantOutput") }
            let t = try QDataType.read(&a, "quant_out_dtype", default: .s8)!
            guard t != .f32 else { throw a.fail("quant_out_dtype", "must be u8 or s8") }
            quantOutput = (t, try positiveRange(&a, "quant_out_scale"))
        } else {
            quantOutput = nil
        }
    }

    public func family(inputChannels ic: Int, filter: [Int]) -> ConvFamily {
        ConvFamily.classify(groups: groups, inputChannels: ic, filter: filter)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("Input"), w = try s.shape("Filter")
        guard x.count == 4, w.count == 4 else { throw OpSpecError("qconv2d expects 4-D NHWC input and filter") }
        let (oh, ow) = geometry.convOutput(h: x[1], w: x[2], kh: w[2], kw: w[3])
        let os = [x[0], oh, ow, w[0]]
        return s.output("Output", epilogue.outType.dtype, os) + (quantOutput.map { s.output("QuantOutput", $0.type.dtype, os) } ?? [])
    }
}

/// qmatmul: u8/s8 X [..., K] (leading dims flattened), s8 Y [K, N], fused epilogue.
public struct QMatMulSpec: OpSpec {
    public static let opTypes = ["qmatmul"]
    public let epilogue: IntegerEpilogueSpec

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        epilogue = try IntegerEpilogueSpec.read(&a, node)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X"), w = try s.shape("Y")
        guard x.count >= 1, w.count == 2 else { throw OpSpecError("qmatmul expects a 2-D weight") }
        return s.output("Out", epilogue.outType.dtype, Array(x.dropLast()) + [w[1]])
    }
}

/// qpool2d (NHWC u8/s8). max: the integer maximum, requantized to `out_scale` when it differs from `in_scale`
/// (saturated to the output type otherwise). avg: Int32 sum, `Float(sum) * (step_in / count)`, then to the output.
/// Output type: `out_dtype`, else the input's.
public struct QPoolSpec: OpSpec {
    public static let opTypes = ["qpool2d"]
    public let windows: PoolWindows
    public let inScale: Float
    /// nil: the input's type.
    public let outDType: QDataType?
    /// Defaults to in_scale.
    public let outScale: Float

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        windows = try PoolWindows.read(&a)
        inScale = try positiveRange(&a, "in_scale")
        outDType = try QDataType.read(&a, "out_dtype", default: nil)
        outScale = try a.float("out_scale", default: inScale)
        if outDType != .f32 { guard outScale > 0, outScale.isFinite else { throw a.fail("out_scale", "must be a positive range, got \(outScale)") } }
    }

    /// The output type for an input of `dtype`.
    public func outType(input dtype: DType?) throws -> QDataType {
        if let outDType { return outDType }
        guard let dtype else { throw OpSpecError("qpool2d: unknown input dtype") }
        return try QDataType(dtype: dtype)
    }

    /// True when the max pool must requantize (its output range differs from its input's).
    public var requantizes: Bool { outScale != inScale }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        guard x.count == 4 else { throw OpSpecError("qpool2d expects 4-D NHWC input") }
        let (h, w) = windows.outputSize(h: x[1], w: x[2])
        return s.output("Out", outDType?.dtype ?? s.dtype("X"), [x[0], h, w, x[3]])
    }
}

/// qconcat: NHWC int8 tensors concatenated along channels (the last dimension), each requantized from its
/// `in_scales` range to `out_scale`. Output type: `out_dtype`, else the first input's.
public struct QConcatSpec: OpSpec {
    public static let opTypes = ["qconcat"]
    public let axis: Int
    public let inScales: [Float]
    public let outScale: Float
    public let outDType: QDataType?

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        axis = try a.int("axis", default: -1)
        inScales = try a.floats("in_scales", default: [])
        guard inScales.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw a.fail("in_scales", "must be positive ranges, got \(inScales)") }
        guard inScales.count == node.inputs("X").count else {
            throw a.fail("in_scales", "has \(inScales.count) ranges for \(node.inputs("X").count) inputs")
        }
        outScale = try positiveRange(&a, "out_scale")
        outDType = try QDataType.read(&a, "out_dtype", default: nil)
        guard outDType != .f32 else { throw a.fail("out_dtype", "must be u8 or s8") }
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let xs = try s.node.inputs("X").map { name -> [Int] in
            guard let shape = s.values[name]?.shape else { throw OpSpecError("qconcat: unknown input shape") }
            return shape
        }
        guard let first = xs.first else { throw OpSpecError("qconcat: no inputs") }
        guard try ShapeMath.axis(axis, rank: first.count, "qconcat") == first.count - 1 else {
            throw OpSpecError("qconcat concatenates along the last (channel) dimension only, axis is \(axis)")
        }
        guard xs.allSatisfy({ $0.count == first.count && $0.dropLast() == first.dropLast() }) else {
            throw OpSpecError("qconcat: inputs \(xs) differ outside the channel dimension")
        }
        var out = first
        if xs.contains(where: { $0.last! < 0 }) {
            out[first.count - 1] = -1
        } else {
            var sum = 0
            for x in xs {
                let (r, o) = sum.addingReportingOverflow(x.last!)
                if o { throw OpSpecError("qconcat: channel count overflows") }
                sum = r
            }
            out[first.count - 1] = sum
        }
        return s.output("Out", outDType?.dtype ?? s.node.input("X").flatMap { s.values[$0]?.dtype }, out)
    }
}

/// qrelu: max(q, 0) with the same range (an s8 input becomes u8 by `out_dtype`).
public struct QReluSpec: OpSpec {
    public static let opTypes = ["qrelu"]
    public let outDType: QDataType?

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        outDType = try QDataType.read(&a, "out_dtype", default: nil)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        s.output("Out", outDType?.dtype ?? s.dtype("X"), try s.shape("X"))
    }
}

/// quantize: f32 (NCHW when rank 4) → u8/s8 (NHWC when rank 4), q = saturate(x * 127 / scale).
public struct QuantizeSpec: OpSpec {
    public static let opTypes = ["quantize"]
    public let scale: Float
    /// u8 or s8 (default s8).
    public let outType: QDataType

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        scale = try positiveRange(&a, "scale")
        outType = try QDataType.read(&a, "out_dtype", default: .s8)!
        guard outType != .f32 else { throw a.fail("out_dtype", "must be u8 or s8") }
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        s.output("Out", outType.dtype, LayoutSpec.toNHWC(try s.shape("X")))
    }
}

/// dequantize: u8/s8 (NHWC when rank 4) → f32 (NCHW when rank 4), x = Float(q) * scale / 127.
public struct DequantizeSpec: OpSpec {
    public static let opTypes = ["dequantize"]
    public let scale: Float

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        scale = try positiveRange(&a, "scale")
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        s.output("Out", .f32, LayoutSpec.toNCHW(try s.shape("X")))
    }
}

/// layout_nchw_to_nhwc / layout_nhwc_to_nchw: rank-4 layout changes (other ranks copy), dtype unchanged.
public struct LayoutSpec: OpSpec {
    public static let opTypes = ["layout_nchw_to_nhwc", "layout_nhwc_to_nchw"]
    public let toNHWC: Bool

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        toNHWC = node.type == "layout_nchw_to_nhwc"
    }

    static func toNHWC(_ s: [Int]) -> [Int] { s.count == 4 ? [s[0], s[2], s[3], s[1]] : s }
    static func toNCHW(_ s: [Int]) -> [Int] { s.count == 4 ? [s[0], s[3], s[1], s[2]] : s }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        return s.output("Out", s.dtype("X"), toNHWC ? LayoutSpec.toNHWC(x) : LayoutSpec.toNCHW(x))
    }
}

/// fake_quantize (from qdq-to-fakequantize): Paddle's quantize (round_type) then `(q * s) / qmax`, per tensor
/// (one `range`) or per channel along `axis`.
public struct FakeQuantizeSpec: OpSpec {
    public static let opTypes = [QuantOpNames.qtopFakeQuantize]
    public let ranges: [Float]
    public let axis: Int
    public let bitLength: Int
    public let roundType: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        ranges = try a.floats("range", default: [])
        guard !ranges.isEmpty else { throw a.fail("range", "is required") }
        axis = try a.int("axis", default: -1, in: -8...7)
        _ = try a.int("levels", default: 256, in: 2...65536)
        bitLength = try a.int("bit_length", default: 8, in: 1...16)
        roundType = try a.int("round_type", default: 0, in: 0...1)
    }

    public var binCount: Int { (1 << (bitLength - 1)) - 1 }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        s.output("Out", s.dtype("X"), try s.shape("X"))
    }
}
