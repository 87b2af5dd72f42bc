import QtopFormat

// Reductions: reduce_{mean,sum,max,min,prod} over axes, arg_max / arg_min.

public enum ReduceSpecs {
    static let specs: [any OpSpec.Type] = [ReduceSpec.self, ArgSpec.self]
}

/// reduce_mean / reduce_sum / reduce_max / reduce_min / reduce_prod over `dim` (all dims when empty, when it names
/// every dim, or when reduce_all). `out_dtype` -1 keeps the input's dtype.
public struct ReduceSpec: OpSpec {
    public static let opTypes = ["reduce_mean", "reduce_sum", "reduce_max", "reduce_min", "reduce_prod"]
    public let dims: [Int]
    public let reduceAll: Bool
    public let keepDim: Bool
    /// nil: the input's dtype.
    public let outDType: DType?

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        dims = try a.ints("dim", default: [])
        keepDim = try a.bool("keep_dim", default: false)
        reduceAll = try a.bool("reduce_all", default: false)
        let code = try a.int("out_dtype", default: -1)
        if code == -1 {
            outDType = nil
        } else {
            guard let t = DType(paddleCode: code) else { throw a.fail("out_dtype", "is not a known dtype code: \(code)") }
            outDType = t
        }
        _ = try a.int("in_dtype", default: -1)
    }

    /// The reduced axes of a rank-`rank` input, normalized and validated.
    public func axes(rank: Int) throws -> Set<Int> {
        if reduceAll || dims.isEmpty || rank == 0 { return Set(0..<rank) }
        return Set(try dims.map { try ShapeMath.axis($0, rank: rank, "reduce") })
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        let ax = try axes(rank: x.count)
        var out: [Int] = []
        for (i, d) in x.enumerated() {
            if ax.contains(i) { if keepDim { out.append(1) } } else { out.append(d) }
        }
        return s.output("Out", outDType ?? s.dtype("X"), out)
    }
}

/// arg_max / arg_min along `axis` (the whole tensor when `flatten`); ties give the first index. `dtype` 2 = int32,
/// 3 = int64 (the default).
public struct ArgSpec: OpSpec {
    public static let opTypes = ["arg_max", "arg_min"]
    public let axis: Int
    public let keepDims: Bool
    public let flatten: Bool
    public let outDType: DType

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        axis = try a.int("axis", default: 0)
        keepDims = try a.bool("keepdims", default: false)
        flatten = try a.bool("flatten", default: false)
        let code = try a.int("dtype", default: 3)
        guard code == 2 || code == 3 else { throw a.fail("dtype", "must be 2 (int32) or 3 (int64), got \(code)") }
        outDType = code == 2 ? .i32 : .i64
    }

    /// The output shape for an input shape.
    public func outputShape(_ x: [Int]) throws -> [Int] {
        if flatten { return keepDims ? Array(repeating: 1, count: x.count) : [] }
        if x.isEmpty { return [] }
        let ax = try ShapeMath.axis(axis, rank: x.count, "arg_max")
        var out = x
        if keepDims { out[ax] = 1 } else { out.remove(at: ax) }
        return out
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        s.output("Out", outDType, try outputShape(try s.shape("X")))
    }
}
