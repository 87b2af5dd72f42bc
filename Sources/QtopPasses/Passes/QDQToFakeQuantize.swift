import QtopFormat
import QtopGraph

/// `qdq-to-fakequantize`: each activation quantize→dequantize with a constant range and zero point 0 becomes one
/// `fake_quantize` node.
///
/// `fake_quantize` (X → Out, both f32 with X's layout) computes exactly what the pair computes, in float:
/// `q = quantize_linear(x; range, axis, bit_length, round_type)`, `out = dequantize_linear(q; range, axis)`.
/// Attributes: `range` floats (1 value per-tensor, C values per-channel), `axis` (-1 per-tensor), `levels`
/// (2^bit_length), `round_type` (Paddle's: 0 half-to-even, 1 clip then half-away), `bit_length`.
///
/// Also rewritten: the legacy `fake_quantize_dequantize_moving_average_abs_max` (range from InScale) and
/// `fake_quantize_{range,moving_average}_abs_max` (is_test, range from InScale) followed by
/// `fake_dequantize_max_abs`. Ops whose range is computed from the data at run time (`*_abs_max` without
/// InScale) are left alone; weight quantizers are handled by fold-weight-dequant.
public enum QDQToFakeQuantize {
    public static let name = "qdq-to-fakequantize"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    static func fakeQuantizeAttrs(range: [Float], axis: Int, bits: Int, roundType: Int) -> Attributes {
        Attributes([("range", .floats(range)), ("axis", .int(range.count == 1 ? -1 : axis)),
                    ("levels", .int(1 << bits)), ("round_type", .int(roundType)), ("bit_length", .int(bits))])
    }

    static func detail(_ what: String, _ range: [Float], bits: Int) -> String {
        "\(what) → FakeQuantize(levels=\(1 << bits), range=\(fmtRange(range)))"
    }

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for n in g.nodes where !rw.claimed.contains(n.id) {
            switch n.type {
            case "quantize_linear":
                matchPair(n, &rw)
            case "fake_quantize_dequantize_moving_average_abs_max":
                guard let x = n.input("X"), rw.constant(x) == nil, let out = n.output("Out"),
                      let s = rw.constant(n.input("InScale")).map(QuantMath.scaleValues), s.count == 1, s[0] > 0 else { continue }
                let bits = n.attrs.int("bit_length", default: 8)
                let fq = Node(id: n.id, type: "fake_quantize", inputs: [Slot("X", [x])], outputs: [Slot("Out", [out])],
                              attrs: fakeQuantizeAttrs(range: s, axis: -1, bits: bits, roundType: n.attrs.int("round_type", default: 1)),
                              provenance: n.provenance)
                rw.replace(n, with: [fq])
                rw.record(.rewritten, fq, detail(n.type, s, bits: bits))
            case "fake_quantize_range_abs_max", "fake_quantize_moving_average_abs_max":
                matchLegacyPair(n, &rw)
            default:
                continue
            }
        }
        return (rw.finish(), rw.changes)
    }

    static func matchPair(_ q: Node, _ rw: inout Rewriter) {
        guard !DropObservers.isObserver(q), let x = q.input("X"), rw.constant(x) == nil, let y = q.output("Y") else { return }
        let cons = rw.consumers(y, of: q)
        guard cons.count == 1, let d = cons.first, d.type == "dequantize_linear", !DropObservers.isObserver(d),
              d.input("X") == y, !rw.isGraphOutput(y, of: q), let z = d.output("Y") else { return }
        guard let sq = rw.constant(q.input("Scale")), let sd = rw.constant(d.input("Scale")) else { return }
        let s = QuantMath.scaleValues(sq)
        guard s == QuantMath.scaleValues(sd), !s.isEmpty, s.allSatisfy({ $0 > 0 }),
              QuantMath.zeroPointIsZero(rw.constant(q.input("ZeroPoint"))),
              QuantMath.zeroPointIsZero(rw.constant(d.input("ZeroPoint"))) else { return }
        let bits = q.attrs.int("bit_length", default: 8)
        let axis = q.attrs.int("quant_axis", default: -1)
        guard d.attrs.int("bit_length", default: 8) == bits, s.count == 1 || axis == d.attrs.int("quant_axis", default: -1) else { return }
        let fq = Node(id: q.id, type: "fake_quantize", inputs: [Slot("X", [x])], outputs: [Slot("Out", [z])],
                      attrs: fakeQuantizeAttrs(range: s, axis: axis, bits: bits, roundType: q.attrs.int("round_type", default: 0)),
                      provenance: unionProvenance([q, d]))
        rw.replace(q, with: [])
        rw.replace(d, with: [fq])
        rw.record(.fused, fq, detail("quantize_linear+dequantize_linear", s, bits: bits))
        rw.changes.append(Change(kind: .removed, node: d.name, nodeID: d.id, detail: "fused into fake_quantize \(fq.name)"))
    }

    static func matchLegacyPair(_ q: Node, _ rw: inout Rewriter) {
        guard let x = q.input("X"), rw.constant(x) == nil, let y = q.output("Out"),
              let s = rw.constant(q.input("InScale")).map(QuantMath.scaleValues), s.count == 1, s[0] > 0 else { return }
        let cons = rw.consumers(y, of: q)
        let bits = q.attrs.int("bit_length", default: 8)
        guard cons.count == 1, let d = cons.first, d.type == "fake_dequantize_max_abs", d.input("X") == y,
              !rw.isGraphOutput(y, of: q), let z = d.output("Out"),
              Int(d.attrs.float("max_range", default: 0)) == QuantMath.qmax(bits: bits) else { return }
        // The dequantizer must use the quantizer's range (its OutScale, or the same constant).
        if let ds = d.input("Scale"), ds != q.output("OutScale"), rw.constant(ds).map(QuantMath.scaleValues) != s { return }
        let fq = Node(id: q.id, type: "fake_quantize", inputs: [Slot("X", [x])], outputs: [Slot("Out", [z])],
                      attrs: fakeQuantizeAttrs(range: s, axis: -1, bits: bits, roundType: q.attrs.int("round_type", default: 1)),
                      provenance: unionProvenance([q, d]))
        rw.replace(q, with: [])
        rw.replace(d, with: [fq])
        rw.record(.fused, fq, detail("\(q.type)+fake_dequantize_max_abs", s, bits: bits))
        rw.changes.append(Change(kind: .removed, node: d.name, nodeID: d.id, detail: "fused into fake_quantize \(fq.name)"))
    }
}
