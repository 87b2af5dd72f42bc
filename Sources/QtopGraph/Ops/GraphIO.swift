import QtopFormat

// The program's boundary ops: feed (a model input) and fetch (a model output). They infer nothing.

public enum GraphIOSpecs {
    static let specs: [any OpSpec.Type] = [FeedFetchSpec.self]
}

public struct FeedFetchSpec: OpSpec {
    public static let opTypes = ["feed", "fetch"]
    /// The feed / fetch column.
    public let column: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        column = try a.int("col", default: 0, in: 0...Int(Int32.max))
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? { [] }
}
