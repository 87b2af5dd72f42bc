import QtopFormat

enum ScaleResidualSpecs {
    static let specs: [any OpSpec.Type] = [ScaleResidualSpec.self]
}

/// scale_residual: qtop's own op, made by the `fuse-scale-residual` pass from the RSE shortcut of PP-OCR's FPN
/// (`elementwise_mul(x, s)` read only by `elementwise_add(x, that)`): `Out = X + X * Scale` on f32 channel-first
/// `X` [N, C, …] with `Scale` one value per (n, c) ([N, C, 1, …, 1], or [1, C, 1, …, 1] shared by the batch). The product and the sum are rounded
/// separately, as the two Paddle ops did, so the result is theirs bit for bit; the tensor is read once and written
/// once instead of twice each. With the optional `Addend` z (X's shape: the FPN's upsampled coarser level added to
/// the shortcut's result) `Out = (X + X * Scale) + z`, a third rounded operation, the add it absorbed.
public struct ScaleResidualSpec: OpSpec {
    public static let opTypes = ["scale_residual"]

    public init(_ node: Node, _ a: inout AttributeReader) throws {}

    /// (rows = N·C, inner = the rest, Scale shared by the batch) for X, checked against Scale.
    public static func split(x: [Int], scale: [Int]) throws -> (rows: Int, inner: Int, sharedScale: Bool) {
        guard x.count >= 2, scale.count == x.count, scale[0] == x[0] || scale[0] == 1, scale[1] == x[1],
              scale.dropFirst(2).allSatisfy({ $0 == 1 }) else {
            throw OpSpecError("scale_residual: Scale \(scale) is not one value per (n, channel) of X \(x)")
        }
        return (x[0] * x[1], x.dropFirst(2).reduce(1, *), scale[0] != x[0])
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X"), sc = try s.shape("Scale")
        guard s.dtype("X") == .f32 || s.dtype("X") == nil else { throw OpSpecError("scale_residual: X must be f32") }
        if x.allSatisfy({ $0 >= 0 }) && sc.allSatisfy({ $0 >= 0 }) { _ = try Self.split(x: x, scale: sc) }
        if s.node.input("Addend") != nil {
            let z = try s.shape("Addend")
            guard z == x, s.dtype("Addend") == .f32 || s.dtype("Addend") == nil else {
                throw OpSpecError("scale_residual: Addend \(z) must be f32 of X's shape \(x)")
            }
        }
        return s.output("Out", .f32, x)
    }
}
