import QtopFormat
import QtopGraph

/// lower-int8, last step: SE blocks (and RSE shortcuts) whose input is an integer conv's f32 NHWC output.
///
/// Paddle's PTQ leaves that tensor float (only the SE convs' inputs and the excited tensor's reader are quantized),
/// so after lowering it is reordered to NCHW for its float readers: a global average pool, a channel multiply by
/// the SE gate, and then either a `quantize` for the next conv or an `elementwise_add` with the tensor itself (RSE).
/// When every reader of that reorder is one of those, they read the NHWC tensor directly instead:
/// - pool2d (avg, global or adaptive 1×1) → `global_avg_pool_nhwc` (same output, [N, C, 1, 1]);
/// - elementwise_mul(x, s) read only by a quantize → `scale_channels_nhwc` writing the quantized tensor (u8/s8 NHWC):
///   the same two rounded Float operations the float mul and the quantize did, so the same integers;
/// - elementwise_mul(x, s) read only by elementwise_add(x, mul) → `scale_channels_nhwc` with `residual`, f32 NCHW;
/// and the reorder goes. Works on unspecialized graphs too (H, W, and a batch shared by x and its gate, unknown). A gate `s` that is itself a reordered [N, 1, 1, C] tensor is read before its reorder
/// (same element order), which dead-code then removes.
extension LowerInt8 {
    static func lowerSEBlocks(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for l in g.nodes where l.type == "layout_nhwc_to_nchw" {
            guard let x = l.input("X"), let xn = l.output("Out"), rw.values[x]?.dtype == .f32,
                  let xs = rw.shape(x), xs.count == 4, xs[3] > 0, !rw.isGraphOutput(xn, of: l) else { continue }
            let readers = rw.consumers(xn, of: l)
            guard !readers.isEmpty, let plan = seRewrites(readers, x: x, xn: xn, shape: xs, rw) else { continue }
            for step in plan {
                rw.freeze(step.new)
                rw.replace(step.old.last!, with: [step.new])
                for o in step.old.dropLast() { rw.remove(o, detail: "\(o.type) fused into \(step.new.type) \(step.new.name)") }
                rw.record(.rewritten, step.new, step.detail)
            }
            rw.remove(l, detail: "layout_nhwc_to_nchw of \(x) no longer read: its SE readers read the f32 NHWC tensor")
        }
        return (rw.finish(), rw.changes)
    }

    private struct SERewrite {
        var old: [Node]
        var new: Node
        var detail: String
    }

    /// The rewrites of every reader of `xn` (the NCHW copy of `x`), or nil when one of them is not an SE reader.
    private static func seRewrites(_ readers: [Node], x: String, xn: String, shape xs: [Int], _ rw: Rewriter) -> [SERewrite]? {
        let (n, c) = (xs[0], xs[3])
        var out: [SERewrite] = []
        var absorbedAdds: Set<NodeID> = []
        for r in readers {
            switch r.type {
            case "pool2d":
                guard let p = try? r.spec(PoolSpec.self), !p.nhwc, !p.windows.isMax, r.input("X") == xn,
                      p.windows.global || (p.windows.adaptive && p.windows.kernel == (1, 1)),
                      let o = r.output("Out"), let os = rw.shape(o), os.count == 4, os[1] == c, os[2] == 1, os[3] == 1 else { return nil }
                let q = Node(id: r.id, type: "global_avg_pool_nhwc", inputs: [Slot("X", [x])], outputs: [Slot("Out", [o])],
                             provenance: r.provenance)
                out.append(SERewrite(old: [r], new: q, detail: "pool2d (global avg) → global_avg_pool_nhwc on f32 NHWC \(x)"))
            case "elementwise_mul":
                let ins = r.inputs("X") + r.inputs("Y")
                guard ins.count == 2, let m = r.output("Out"), !rw.isGraphOutput(m, of: r),
                      let s = ins.first(where: { $0 != xn }), ins.contains(xn), rw.values[s]?.dtype == .f32,
                      rw.values[s]?.constant == nil, let ss = rw.shape(s), ss == [n, c, 1, 1], rw.shape(m) == LayoutSpecShape.nchw(xs),
                      (try? r.spec(BinarySpec.self))?.axis ?? 0 == -1 else { return nil }
                let gate = gateBeforeReorder(s, rw) ?? s
                let mReaders = rw.consumers(m, of: r)
                guard mReaders.count == 1, let t = mReaders.first, let to = t.output("Out") else { return nil }
                var attrs = Attributes()
                var detail: String
                if t.type == "quantize", let q = try? t.spec(QuantizeSpec.self), t.attrs["round_type"] == nil || t.attrs.int("round_type", default: 0) == 0 {
                    attrs["out_dtype"] = .string(q.outType.rawValue)
                    attrs["out_scale"] = .float(q.scale)
                    detail = "elementwise_mul + quantize → scale_channels_nhwc on f32 NHWC \(x), \(q.outType.rawValue) NHWC out (range ±\(fmt(q.scale)))"
                } else if t.type == "elementwise_add", Set(t.inputs("X") + t.inputs("Y")) == Set([xn, m]), t.allInputs.count == 2,
                          (try? t.spec(BinarySpec.self))?.axis ?? 0 == -1, rw.shape(to) == LayoutSpecShape.nchw(xs) {
                    attrs["residual"] = .bool(true)
                    absorbedAdds.insert(t.id)
                    detail = "elementwise_mul + elementwise_add (x + x·s) → scale_channels_nhwc (residual) on f32 NHWC \(x), f32 NCHW out"
                } else {
                    return nil
                }
                let q = Node(id: t.id, type: "scale_channels_nhwc", inputs: [Slot("X", [x]), Slot("Scale", [gate])],
                             outputs: [Slot("Out", [to])], attrs: attrs, provenance: r.provenance + t.provenance)
                out.append(SERewrite(old: [r, t], new: q, detail: detail))
            case "elementwise_add":
                continue   // must be an RSE shortcut absorbed above (checked below)
            default:
                return nil
            }
        }
        for r in readers where r.type == "elementwise_add" && !absorbedAdds.contains(r.id) { return nil }
        return out
    }

    /// The f32 [N, 1, 1, C] tensor a [N, C, 1, 1] gate was reordered from (the same elements in the same order).
    private static func gateBeforeReorder(_ s: String, _ rw: Rewriter) -> String? {
        guard let p = rw.producer(s), p.type == "layout_nhwc_to_nchw", let src = p.input("X"), rw.values[src]?.dtype == .f32,
              let ss = rw.shape(src), ss.count == 4, ss[1] == 1, ss[2] == 1 else { return nil }
        return src
    }
}

/// NHWC → NCHW extents.
private enum LayoutSpecShape {
    static func nchw(_ s: [Int]) -> [Int] { [s[0], s[3], s[1], s[2]] }
}
