import QtopFormat

// Normalization: inference batch_norm (folded into convs by fold-batch-norm when it can be).

public enum NormSpecs {
    static let specs: [any OpSpec.Type] = [BatchNormSpec.self]
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
