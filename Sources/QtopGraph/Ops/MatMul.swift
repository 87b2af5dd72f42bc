import QtopFormat

// Matrix products: matmul_v2, legacy matmul (alpha), mul (num_col_dims flattening) and fc.

public enum MatMulSpecs {
    static let specs: [any OpSpec.Type] = [MatMulSpec.self, MulSpec.self, FCSpec.self]
}

/// matmul_v2 (trans_x / trans_y) and legacy matmul (transpose_X / transpose_Y, alpha).
public struct MatMulSpec: OpSpec {
    public static let opTypes = ["matmul_v2", "matmul"]
    public let transX: Bool, transY: Bool
    /// Legacy matmul's output scale (1 for matmul_v2).
    public let alpha: Float

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        let legacy = node.type == "matmul"
        transX = try a.bool(legacy ? "transpose_X" : "trans_x", default: false)
        transY = try a.bool(legacy ? "transpose_Y" : "trans_y", default: false)
        alpha = legacy ? try a.float("alpha", default: 1) : 1
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        s.output("Out", s.dtype("X"), try MatMulSpec.shape(try s.shape("X"), try s.shape("Y"), tx: transX, ty: transY))
    }

    /// NumPy matmul shapes: 1-D operands are promoted and dropped again, batch dims broadcast.
    public static func shape(_ x0: [Int], _ y0: [Int], tx: Bool, ty: Bool) throws -> [Int] {
        guard !x0.isEmpty, !y0.isEmpty else { throw OpSpecError("matmul: 0-D operand") }
        var x = x0, y = y0
        let xVec = x.count == 1, yVec = y.count == 1
        if xVec { x = [1, x[0]] }
        if yVec { y = [y[0], 1] }
        let m = tx ? x[x.count - 1] : x[x.count - 2]
        let n = ty ? y[y.count - 2] : y[y.count - 1]
        let bx = Array(x.dropLast(2)), by = Array(y.dropLast(2))
        var batch: [Int] = []
        let r = max(bx.count, by.count)
        for i in 0..<r {
            let a = i < r - bx.count ? 1 : bx[i - (r - bx.count)]
            let b = i < r - by.count ? 1 : by[i - (r - by.count)]
            batch.append(a == 1 ? b : (b == 1 ? a : max(a, b)))
        }
        var out = batch
        if !xVec { out.append(m) }
        if !yVec { out.append(n) }
        return out
    }
}

/// mul: X flattened to 2-D at x_num_col_dims, Y at y_num_col_dims.
public struct MulSpec: OpSpec {
    public static let opTypes = ["mul"]
    public let xNumColDims: Int, yNumColDims: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        xNumColDims = try a.int("x_num_col_dims", default: 1, in: 1...64)
        yNumColDims = try a.int("y_num_col_dims", default: 1, in: 1...64)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X"), y = try s.shape("Y")
        guard xNumColDims <= x.count, yNumColDims <= y.count else { throw OpSpecError("mul: bad num_col_dims") }
        return s.output("Out", s.dtype("X"), Array(x[..<xNumColDims]) + Array(y[yNumColDims...]))
    }
}

/// fc: Input flattened at in_num_col_dims times W [K, N] plus Bias, with an optional activation_type.
public struct FCSpec: OpSpec {
    public static let opTypes = ["fc"]
    public let inNumColDims: Int
    /// `activation_type` with the same parameter attributes as fused_conv2d's `activation`.
    public let activation: FusedActivation
    public let paddingWeights: Bool

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        inNumColDims = try a.int("in_num_col_dims", default: 1, in: 1...64)
        let name = try a.string("activation_type", default: "")
        var params: [String: Float] = [:]
        for p in FusedActivation.paramNames { if let v = try a.optionalFloat(p) { params[p] = v } }
        activation = FusedActivation(name: name, params: params)
        paddingWeights = try a.bool("padding_weights", default: false)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("Input"), w = try s.shape("W")
        guard inNumColDims <= x.count, w.count == 2 else { throw OpSpecError("fc: bad shapes") }
        return s.output("Out", s.dtype("Input"), Array(x[..<inNumColDims]) + [w[1]])
    }
}
