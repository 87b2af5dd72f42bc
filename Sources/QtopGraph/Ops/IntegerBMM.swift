import QtopFormat

// qbmm, written by lower-int8: matmul_v2 / matmul of two activations that Paddle's PTQ fake-quantizes per tensor
// on both sides (attention's Q·Kᵀ and softmax·V). The operands stay f32 in their own layout and are quantized
// inside the op, so the integer products need no quantize / dequantize nodes and no NHWC reorder.

public enum IntegerBMMSpecs {
    static let specs: [any OpSpec.Type] = [QBMMSpec.self]
}

/// qbmm: `X`, `Y` f32 (shapes and batch broadcasting as matmul_v2, `trans_x` / `trans_y`); each is quantized as a
/// `quantize` node with range `x_scale` / `y_scale` would (s8, round half to even, NaN → 0), the products are summed
/// exactly in int32 and `Out` (f32) = Float(acc) · ((x_scale / 127) · (y_scale / 127)). K ≤ 65536 keeps the sum
/// exact; docs/int8-semantics.md has the arithmetic.
public struct QBMMSpec: OpSpec {
    public static let opTypes = ["qbmm"]
    public let transX: Bool, transY: Bool
    public let xScale: Float, yScale: Float

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        transX = try a.bool("trans_x", default: false)
        transY = try a.bool("trans_y", default: false)
        xScale = try positiveRange(&a, "x_scale")
        yScale = try positiveRange(&a, "y_scale")
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        s.output("Out", .f32, try MatMulSpec.shape(try s.shape("X"), try s.shape("Y"), tx: transX, ty: transY))
    }
}
