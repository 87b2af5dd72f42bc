import QtopFormat
import QtopGraph

/// lower-int8: max pool, relu, channel concat and 1×1 flatten/reshape on integer values become qpool2d, qrelu,
/// qconcat, or the same op on the integer tensor.
extension LowerInt8.Lowering {
    mutating func lowerTransparent(_ n: Node, out: String) {
        let r = plan.intRange[out]!
        let u8 = plan.isU8[out] ?? false
        let ins = LowerInt8.transparentInputs(n)
        let inScales = ins.map { plan.intRange[$0] ?? r }
        var q: Node
        switch n.type {
        case "pool2d":
            var a = n.attrs
            a["data_format"] = .string("NHWC")
            a["in_scale"] = .float(inScales[0])
            a["out_scale"] = .float(r)
            a["out_dtype"] = .string(u8 ? "u8" : "s8")
            q = Node(id: n.id, type: "qpool2d", inputs: [Slot("X", ins)], outputs: [Slot("Out", [out])], attrs: a, provenance: n.provenance)
        case "relu":
            q = Node(id: n.id, type: "qrelu", inputs: [Slot("X", ins)], outputs: [Slot("Out", [out])],
                     attrs: Attributes([("in_scale", .float(inScales[0])), ("out_scale", .float(r)), ("out_dtype", .string(u8 ? "u8" : "s8"))]),
                     provenance: n.provenance)
        case "concat":
            q = Node(id: n.id, type: "qconcat", inputs: [Slot("X", ins)], outputs: [Slot("Out", [out])],
                     attrs: Attributes([("axis", .int(3)), ("in_scales", .floats(inScales)), ("out_scale", .float(r)),
                                        ("out_dtype", .string(u8 ? "u8" : "s8"))]), provenance: n.provenance)
        default: // flatten / reshape of [N, C, 1, 1]: same op on the integer tensor, XShape dropped.
            q = n.with(outputs: [Slot("Out", [out])])
        }
        rw.freeze(q)
        setInt(out, dt(u8), from: out)
        rw.replace(n, with: [q])
        rw.record(.rewritten, q, "\(n.type) → \(q.type) on \(u8 ? "u8" : "s8") NHWC (range ±\(fmt(r)))")
    }
}
