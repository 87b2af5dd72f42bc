import QtopFormat
import QtopGraph

/// lower-int8: a matmul_v2 / matmul (alpha 1) of two activations, each read through a per-tensor 8-bit
/// fake_quantize (round_type 0) — attention's Q·Kᵀ and softmax·V as Paddle's PTQ writes them — becomes `qbmm`:
/// it reads the fake_quantizes' f32 inputs and quantizes them itself, so its integer products need no quantize +
/// dequantize nodes (rank-4 operands would also be reordered to NHWC by a `quantize`). The fake_quantizes are
/// lowered as usual for any other readers; when the matmul was their only one, dead-code removes them.
/// A matmul whose operands are not both fake-quantized (Paddle left it float) stays float.
extension LowerInt8 {
    /// The two fake_quantizes (X side, Y side) and the decoded spec of a lowerable activation × activation matmul, else nil.
    static func actMatMulOperands(_ n: Node, _ l: Lowering) -> (x: Node, y: Node, spec: MatMulSpec)? {
        guard n.type == "matmul_v2" || n.type == "matmul", !l.plan.qops.contains(n.id),
              let m = try? n.spec(MatMulSpec.self), m.alpha == 1,
              let xv = n.input("X"), let yv = n.input("Y"), n.output("Out") != nil,
              l.rw.constant(yv) == nil, l.rw.constant(xv) == nil else { return nil }
        func operand(_ z: String) -> Node? {
            guard let f = l.rw.producer(z, before: n), fqRange(f) != nil, f.output("Out") == z,
                  (try? f.spec(FakeQuantizeSpec.self))?.roundType == 0, let x = f.input("X"),
                  // the f32 value the fake_quantize read, unchanged at the matmul, and not an integer tensor
                  l.plan.intRange[x] == nil, l.rw.constant(x) == nil,
                  l.rw.producer(x, before: n)?.id == l.rw.producer(x, before: f)?.id,
                  l.rw.values[x]?.dtype == nil || l.rw.values[x]?.dtype == .f32 else { return nil }
            return f
        }
        guard let fx = operand(xv), let fy = operand(yv) else { return nil }
        return (fx, fy, m)
    }
}

extension LowerInt8.Lowering {
    mutating func lowerActMatMul(_ n: Node, x fx: Node, y fy: Node, spec m: MatMulSpec) {
        let sx = LowerInt8.fqRange(fx)!, sy = LowerInt8.fqRange(fy)!
        let q = Node(id: n.id, type: "qbmm", inputs: [Slot("X", [fx.input("X")!]), Slot("Y", [fy.input("X")!])],
                     outputs: [Slot("Out", [n.output("Out")!])],
                     attrs: Attributes([("trans_x", .bool(m.transX)), ("trans_y", .bool(m.transY)), ("x_scale", .float(sx)),
                                        ("y_scale", .float(sy))]),
                     provenance: n.provenance + fx.provenance + (fy.id == fx.id ? [] : fy.provenance))
        rw.replace(n, with: [q])
        rw.record(.rewritten, q, "\(n.type) of two fake-quantized activations → qbmm (s8 ±\(fmt(sx)) × s8 ±\(fmt(sy)), int32 sums, out f32)")
    }
}
