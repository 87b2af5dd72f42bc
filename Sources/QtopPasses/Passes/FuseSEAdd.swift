import QtopFormat
import QtopGraph

/// `fuse-se-add`: in an int8 graph, PP-OCR's FPN top-down step adds the upsampled coarser level z to an RSE output
/// that lower-int8 made a `scale_channels_nhwc` writing f32 NCHW, and then (at the finest level) quantizes the sum
/// for the next conv. The add becomes the scale op's `Addend` (y = x + x·s, then y + z, each rounded as before),
/// and a quantize that is the sum's only reader becomes its requantized NHWC output: one pass reading the conv's
/// f32 NHWC output and z instead of three (scale, add, quantize) that wrote and re-read two f32 tensors.
public enum FuseSEAdd {
    public static let name = "fuse-se-add"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for t in g.nodes where t.type == "scale_channels_nhwc" && !rw.claimed.contains(t.id) {
            guard let spec = try? t.spec(ScaleChannelsNHWCSpec.self), spec.outDType == .f32, t.input("Addend") == nil,
                  let x = t.input("X"), let s = t.input("Scale"), let v = t.output("Out"), let vs = rw.shape(v),
                  vs.count == 4, vs[1] > 0, !rw.isGraphOutput(v, of: t) else { continue }
            let readers = rw.consumers(v, of: t)
            guard readers.count == 1, let a = readers.first, a.type == "elementwise_add", !rw.claimed.contains(a.id),
                  a.allInputs.count == 2, (try? a.spec(BinarySpec.self))?.axis ?? 0 == -1,
                  let z = a.allInputs.first(where: { $0 != v }), a.allInputs.contains(v), sameExtents(z, vs, rw),
                  rw.values[z]?.dtype == .f32, let w = a.output("Out"), rw.shape(w) == vs,
                  [x, s].allSatisfy({ rw.producer($0, before: a)?.id == rw.producer($0, before: t)?.id }) else { continue }
            var attrs = t.attrs
            var outName = w
            var absorbed = [t, a]
            var detail = "scale_channels_nhwc + elementwise_add → scale_channels_nhwc with Addend \(z), f32 NCHW out"
            let wReaders = rw.consumers(w, of: a)
            if wReaders.count == 1, let q = wReaders.first, q.type == "quantize", !rw.claimed.contains(q.id), !rw.isGraphOutput(w, of: a),
               let qs = try? q.spec(QuantizeSpec.self), q.attrs["round_type"] == nil || q.attrs.int("round_type", default: 0) == 0,
               q.input("X") == w, let qo = q.output("Out"), rw.shape(qo) == [vs[0], vs[2], vs[3], vs[1]] {
                attrs["out_dtype"] = .string(qs.outType.rawValue)
                attrs["out_scale"] = .float(qs.scale)
                outName = qo
                absorbed.append(q)
                detail = "scale_channels_nhwc + elementwise_add + quantize → scale_channels_nhwc with Addend \(z), \(qs.outType.rawValue) NHWC out (range ±\(fmt(qs.scale)))"
            }
            let fused = Node(id: a.id, type: "scale_channels_nhwc", inputs: [Slot("X", [x]), Slot("Scale", [s]), Slot("Addend", [z])],
                             outputs: [Slot("Out", [outName])], attrs: attrs, provenance: absorbed.flatMap(\.provenance),
                             layerPath: a.layerPath)
            rw.remove(t, detail: "scale_channels_nhwc fused into \(fused.name) (its sum with \(z))")
            rw.replace(a, with: [fused])
            if absorbed.count == 3 { rw.remove(absorbed[2], detail: "quantize fused into \(fused.name)") }
            rw.record(.fused, fused, detail)
        }
        return (rw.finish(), rw.changes)
    }

    /// z has v's extents: known and equal, or (on a graph not yet specialized: the UI and bench lower before
    /// shapes are fixed) equal where known, with the unknown ones only H / W of a resize's output, which is how the
    /// FPN makes z (its size is the finer level's; a mismatch fails planning with the spec's error, never silently).
    static func sameExtents(_ z: String, _ vs: [Int], _ rw: Rewriter) -> Bool {
        guard let zs = rw.shape(z), zs == vs else { return false }
        if zs.allSatisfy({ $0 > 0 }) { return true }
        guard let p = rw.producer(z), InterpSpec.opTypes.contains(p.type), zs[1] > 0 else { return false }
        return true
    }
}
