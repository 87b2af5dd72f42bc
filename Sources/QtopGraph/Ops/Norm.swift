import QtopFormat

// Normalization: inference batch_norm (folded into convs by fold-batch-norm when it can be) and layer_norm.

public enum NormSpecs {
    static let specs: [any OpSpec.Type] = [BatchNormSpec.self, LayerNormSpec.self]
}

public struct BatchNormSpec: OpSpec {
    public static let opTypes = ["batch_norm"]
    public let epsilon: Float
    public let nhwc: Bool

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        epsilon = try a.float("epsilon", default: 1e-5)
        guard epsilon >= 0 else { throw a.fail("epsilon", "must be ≥ 0, got \(epsilon)") }
        nhwc = try a.string("data_layout", default: "NCHW", oneOf: ["NCHW", "NHWC", "AnyLayout"]) == "NHWC"
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        // Exported inference programs declare the unused training statistics 0-d; keep Paddle's view.
        let stats = ["SavedMean", "SavedVariance", "ReserveSpace"].flatMap { s.output($0, s.dtype("X"), []) }
        return try s.same("X", ["Y"]) + stats
    }
}

/// layer_norm: X viewed as [prod(dims before begin_norm_axis), prod(the rest)]; each row normalized with its own
/// mean and (biased) variance, then the optional Scale and Bias (each of the row's length). Mean and Variance
/// have the leading dims (X's dims before begin_norm_axis; checked against paddle 3.3.1).
public struct LayerNormSpec: OpSpec {
    public static let opTypes = ["layer_norm"]
    public let epsilon: Float
    public let beginNormAxis: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        epsilon = try a.float("epsilon", default: 1e-5)
        guard epsilon >= 0 else { throw a.fail("epsilon", "must be ≥ 0, got \(epsilon)") }
        beginNormAxis = try a.int("begin_norm_axis", default: 1, in: 0...64)
    }

    /// (rows, row length) for an input shape; throws when begin_norm_axis is beyond the rank.
    public func split(_ x: [Int]) throws -> (Int, Int) {
        guard beginNormAxis >= 1, beginNormAxis < x.count else {
            throw OpSpecError("layer_norm: begin_norm_axis \(beginNormAxis) for rank \(x.count)")
        }
        return (try ShapeMath.product(x[..<beginNormAxis]), try ShapeMath.product(x[beginNormAxis...]))
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        _ = try split(x)
        let lead = Array(x[..<beginNormAxis])
        return try s.same("X", ["Y"]) + s.output("Mean", s.dtype("X"), lead) + s.output("Variance", s.dtype("X"), lead)
    }
}
