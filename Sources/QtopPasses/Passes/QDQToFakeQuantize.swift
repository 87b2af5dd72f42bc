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
                      let s = rw.constant(n.input("InScale")).map(QuantMath.scaleValues), s.count == 1, s[0] > 0,
                      let spec = try? n.spec(QuantSpec.self) else { continue }
                let bits = spec.bitLength
                let fq = Node(id: n.id, type: "fake_quantize", inputs: [Slot("X", [x])], outputs: [Slot("Out", [out])],
                              attrs: fakeQuantizeAttrs(range: s, axis: -1, bits: bits, roundType: spec.roundType),
                              provenance: n.provenance)
                rw.replace(n, with: [fq])
                rw.record(.rewritten, fq, detail(n.type, s, bits: bits))
            case "fake_quantize_range_abs_max", "fake_quantize_moving_average_abs_max":
                if !matchLegacyPair(n, &rw) { matchFrozen(n, &rw) }
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
        // Both ops decoded by their spec (quant_axis defaults to 0, as the reference kernels read it).
        guard let qs = try? q.spec(QuantSpec.self), let ds = try? d.spec(QuantSpec.self) else { return }
        let bits = qs.bitLength
        let axis = qs.quantAxis
        guard ds.bitLength == bits, s.count == 1 || axis == ds.quantAxis else { return }
        let fq = Node(id: q.id, type: "fake_quantize", inputs: [Slot("X", [x])], outputs: [Slot("Out", [z])],
                      attrs: fakeQuantizeAttrs(range: s, axis: axis, bits: bits, roundType: qs.roundType),
                      provenance: unionProvenance([q, d]))
        rw.replace(q, with: [])
        rw.replace(d, with: [fq])
        rw.record(.fused, fq, detail("quantize_linear+dequantize_linear", s, bits: bits))
        rw.changes.append(Change(kind: .removed, node: d.name, nodeID: d.id, detail: "fused into fake_quantize \(fq.name)"))
    }

    @discardableResult
    static func matchLegacyPair(_ q: Node, _ rw: inout Rewriter) -> Bool {
        guard let x = q.input("X"), rw.constant(x) == nil, let y = q.output("Out"),
              let s = rw.constant(q.input("InScale")).map(QuantMath.scaleValues), s.count == 1, s[0] > 0 else { return false }
        let cons = rw.consumers(y, of: q)
        guard let qs = try? q.spec(QuantSpec.self) else { return false }
        let bits = qs.bitLength
        guard cons.count == 1, let d = cons.first, d.type == "fake_dequantize_max_abs", d.input("X") == y,
              !rw.isGraphOutput(y, of: q), let z = d.output("Out"), let ds = try? d.spec(QuantSpec.self),
              ds.maxRange == Float(QuantMath.qmax(bits: bits)) else { return false }
        // The dequantizer must use the quantizer's range (its OutScale, or the same constant).
        if let ds = d.input("Scale"), ds != q.output("OutScale"), rw.constant(ds).map(QuantMath.scaleValues) != s { return false }
        let fq = Node(id: q.id, type: "fake_quantize", inputs: [Slot("X", [x])], outputs: [Slot("Out", [z])],
                      attrs: fakeQuantizeAttrs(range: s, axis: -1, bits: bits, roundType: qs.roundType),
                      provenance: unionProvenance([q, d]))
        rw.replace(q, with: [])
        rw.replace(d, with: [fq])
        rw.record(.fused, fq, detail("\(q.type)+fake_dequantize_max_abs", s, bits: bits))
        rw.changes.append(Change(kind: .removed, node: d.name, nodeID: d.id, detail: "fused into fake_quantize \(fq.name)"))
        return true
    }

    /// Legacy PTQ "frozen" layout: `fake_quantize_*_abs_max` (integer-valued float output) feeds convs/matmuls
    /// whose outputs go through `fake_channel_wise_dequantize_max_abs(Scales = [weight ranges, activation range])`.
    /// The quantizer becomes a `fake_quantize` (dequantized output) and the activation range leaves each post
    /// dequantizer (Scales = [weight ranges] only), so every snapshot computes the same function.
    static func matchFrozen(_ q: Node, _ rw: inout Rewriter) {
        guard let x = q.input("X"), rw.constant(x) == nil, let y = q.output("Out"), !rw.isGraphOutput(y, of: q),
              let s = rw.constant(q.input("InScale")).map(QuantMath.scaleValues), s.count == 1, s[0] > 0,
              let qs = try? q.spec(QuantSpec.self) else { return }
        let bits = qs.bitLength
        let readers = rw.consumers(y, of: q)
        var posts: [Node] = []
        for c in readers {
            guard ["conv2d", "depthwise_conv2d", "matmul_v2", "matmul", "mul"].contains(c.type), !rw.claimed.contains(c.id),
                  let cout = c.output(c.type.contains("conv") ? "Output" : "Out"),
                  let d = rw.consumers(cout, of: c).first, rw.onlyConsumer(cout, of: c, is: d),
                  d.type == "fake_channel_wise_dequantize_max_abs", d.input("X") == cout, !rw.claimed.contains(d.id) else { return }
            let scales = d.inputs("Scales")
            guard scales.count == 2, let ds = try? d.spec(QuantSpec.self), ds.quantBits == [bits, bits],
                  scales[1] == q.output("OutScale") || scales[1] == q.input("InScale") ||
                  rw.constant(scales[1]).map(QuantMath.scaleValues) == s else { return }
            posts.append(d)
        }
        guard !posts.isEmpty else { return }
        let fq = Node(id: q.id, type: "fake_quantize", inputs: [Slot("X", [x])], outputs: [Slot("Out", [y])],
                      attrs: fakeQuantizeAttrs(range: s, axis: -1, bits: bits, roundType: qs.roundType),
                      provenance: q.provenance)
        rw.replace(q, with: [fq])
        rw.record(.rewritten, fq, detail(q.type, s, bits: bits) + " (integer-valued output becomes dequantized)")
        for d in posts {
            // With two scale tensors Paddle applies the per-channel one along x_num_col_dims; with one, along
            // quant_axis. Keep the channel axis the same when dropping the activation scale.
            let channelAxis = (try? d.spec(QuantSpec.self))?.xNumColDims ?? 1
            let nd = d.replacingInput("Scales", [d.inputs("Scales")[0]])
                .settingAttrs([("quant_bits", .ints([bits])), ("quant_axis", .int(channelAxis))])
            rw.replace(d, with: [nd])
            rw.record(.rewritten, nd, "activation range ±\(fmt(s[0])) moved into fake_quantize \(fq.name); weight ranges stay")
        }
    }
}
