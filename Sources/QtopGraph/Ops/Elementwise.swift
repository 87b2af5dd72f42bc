import QtopFormat

// Elementwise ops: unary activations (the output has the input's shape) and Paddle's broadcasting binary ops.

public enum ElementwiseSpecs {
    static let specs: [any OpSpec.Type] = [UnarySpec.self, BinarySpec.self, ScaleSpec.self, ClipSpec.self, DropoutSpec.self,
                                           PowSpec.self, CompareSpec.self, LogicalSpec.self, WhereSpec.self, SumSpec.self]
}

/// Activations and other shape-preserving unary ops, with their numeric parameters and Paddle's defaults.
public struct UnarySpec: OpSpec {
    public static let opTypes = ["relu", "relu6", "hard_swish", "hard_sigmoid", "sigmoid", "swish", "silu", "leaky_relu",
                                 "tanh", "gelu", "exp", "sqrt", "abs", "softmax", "log_softmax", "elu", "mish", "softplus",
                                 "prelu"]
    /// The numeric parameters of this activation (decoded with defaults), by Paddle's attribute name.
    public let params: [String: Float]
    /// gelu's `approximate`.
    public let approximate: Bool
    /// softmax / log_softmax axis.
    public let axis: Int
    /// prelu's `mode` and data_format.
    public let mode: String
    public let nhwc: Bool

    static let defaults: [String: [(String, Float)]] = [
        "relu6": [("threshold", 6)],
        "hard_swish": [("threshold", 6), ("scale", 6), ("offset", 3)],
        "hard_sigmoid": [("slope", 0.2), ("offset", 0.5)],
        "swish": [("beta", 1)],
        "leaky_relu": [("alpha", 0.02)],
        "elu": [("alpha", 1)],
        "softplus": [("beta", 1), ("threshold", 20)],
        "mish": [("threshold", 20)],
    ]

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        var p: [String: Float] = [:]
        for (name, d) in UnarySpec.defaults[node.type] ?? [] { p[name] = try a.float(name, default: d) }
        params = p
        approximate = node.type == "gelu" ? try a.bool("approximate", default: false) : false
        axis = node.type == "softmax" || node.type == "log_softmax" ? try a.int("axis", default: -1) : -1
        mode = node.type == "prelu" ? try a.string("mode", default: "all", oneOf: ["all", "channel", "element"]) : "all"
        nhwc = node.type == "prelu" ? try a.string("data_format", default: "NCHW") == "NHWC" : false
    }

    public func param(_ name: String) -> Float { params[name] ?? 0 }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? { try s.same() }
}

/// scale: `bias_after_scale ? x * scale + bias : (x + bias) * scale` (a ScaleTensor input overrides `scale`).
public struct ScaleSpec: OpSpec {
    public static let opTypes = ["scale"]
    public let scale: Float, bias: Float, biasAfterScale: Bool

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        scale = try a.float("scale", default: 1)
        bias = try a.float("bias", default: 0)
        biasAfterScale = try a.bool("bias_after_scale", default: true)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? { try s.same() }
}

/// clip to [min, max] (Min/Max tensor inputs override).
public struct ClipSpec: OpSpec {
    public static let opTypes = ["clip"]
    public let min: Float, max: Float

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        min = try a.float("min", default: -Float.greatestFiniteMagnitude)
        max = try a.float("max", default: Float.greatestFiniteMagnitude)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? { try s.same() }
}

/// dropout at inference: identity (upscale_in_train) or `x * (1 - dropout_prob)` (downgrade_in_infer).
public struct DropoutSpec: OpSpec {
    public static let opTypes = ["dropout"]
    public let upscaleInTrain: Bool
    public let prob: Float

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        upscaleInTrain = try a.string("dropout_implementation", default: "downgrade_in_infer",
                                      oneOf: ["downgrade_in_infer", "upscale_in_train"]) == "upscale_in_train"
        prob = try a.float("dropout_prob", default: 0.5)
        guard prob >= 0, prob <= 1 else { throw a.fail("dropout_prob", "must be in 0…1, got \(prob)") }
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? { try s.same("X", ["Out"]) }
}

/// Paddle's elementwise binary ops with broadcasting: axis = -1 aligns trailing dims (NumPy), otherwise Y starts
/// at `axis` of X.
public struct BinarySpec: OpSpec {
    public static let opTypes = ["elementwise_add", "elementwise_sub", "elementwise_mul", "elementwise_div",
                                 "elementwise_max", "elementwise_min", "elementwise_pow", "elementwise_floordiv",
                                 "elementwise_mod"]
    public let axis: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        axis = try a.int("axis", default: -1)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        s.output("Out", s.dtype("X"), try BinarySpec.broadcast(try s.shape("X"), try s.shape("Y"), axis: axis))
    }

    /// The broadcast output shape of X and Y (-1 where an extent is unknown).
    public static func broadcast(_ x: [Int], _ y: [Int], axis: Int) throws -> [Int] {
        let rank = max(x.count, y.count)
        var ax = axis
        if ax < 0 { ax = abs(x.count - y.count) }
        guard ax <= rank else { throw OpSpecError("elementwise: axis \(axis) does not fit \(x) and \(y)") }
        var xd = x, yd = y
        if x.count >= y.count {
            var yy = y
            while yy.count > 1, yy.last == 1, ax + yy.count > x.count { yy.removeLast() }
            guard ax + yy.count <= x.count else { throw OpSpecError("elementwise: axis \(axis) does not fit \(x) and \(y)") }
            yd = Array(repeating: 1, count: ax) + yy + Array(repeating: 1, count: x.count - ax - yy.count)
        } else {
            guard ax + x.count <= y.count else { throw OpSpecError("elementwise: axis \(axis) does not fit \(x) and \(y)") }
            xd = Array(repeating: 1, count: ax) + x + Array(repeating: 1, count: y.count - ax - x.count)
        }
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let a = xd[i], b = yd[i]
            if a > 1 || b > 1 || (a == 1 && b == 1) {
                if a > 1, b > 1, a != b { throw OpSpecError("elementwise: shapes \(x) and \(y) do not broadcast") }
                out[i] = max(a, b)
            } else {
                out[i] = -1
            }
        }
        return out
    }
}

/// pow: x ^ factor (a FactorTensor input overrides `factor`).
public struct PowSpec: OpSpec {
    public static let opTypes = ["pow"]
    public let factor: Float

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        factor = try a.float("factor", default: 1)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? { try s.same() }
}

/// Comparisons with elementwise broadcasting (Paddle's `axis` as in BinarySpec); the output is bool.
public struct CompareSpec: OpSpec {
    public static let opTypes = ["equal", "not_equal", "less_than", "less_equal", "greater_than", "greater_equal"]
    public let axis: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        axis = try a.int("axis", default: -1)
        _ = try a.bool("force_cpu", default: false)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        s.output("Out", .bool, try BinarySpec.broadcast(try s.shape("X"), try s.shape("Y"), axis: axis))
    }
}

/// logical_and / or / xor (NumPy broadcasting) and logical_not; non-bool inputs count as true when nonzero.
public struct LogicalSpec: OpSpec {
    public static let opTypes = ["logical_and", "logical_or", "logical_xor", "logical_not"]

    public init(_ node: Node, _ a: inout AttributeReader) throws {}

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        if s.node.type == "logical_not" { return s.output("Out", .bool, try s.shape("X")) }
        return s.output("Out", .bool, try BinarySpec.broadcast(try s.shape("X"), try s.shape("Y"), axis: -1))
    }
}

/// where: Condition ? X : Y, the three broadcast NumPy-style.
public struct WhereSpec: OpSpec {
    public static let opTypes = ["where"]

    public init(_ node: Node, _ a: inout AttributeReader) throws {}

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let xy = try BinarySpec.broadcast(try s.shape("X"), try s.shape("Y"), axis: -1)
        return s.output("Out", s.dtype("X"), try BinarySpec.broadcast(xy, try s.shape("Condition"), axis: -1))
    }
}

/// sum: the elementwise sum of every X input (all of one shape), added in input order.
public struct SumSpec: OpSpec {
    public static let opTypes = ["sum"]

    public init(_ node: Node, _ a: inout AttributeReader) throws {}

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let shapes = try s.node.inputs("X").map { n -> [Int] in
            guard let sh = s.values[n]?.shape else { throw OpSpecError("sum: unknown input shape") }
            return sh
        }
        guard let first = shapes.first else { throw OpSpecError("sum: no inputs") }
        guard shapes.allSatisfy({ $0.count == first.count }) else { throw OpSpecError("sum: inputs of different ranks \(shapes)") }
        return s.output("Out", s.dtype("X"), first)
    }
}
