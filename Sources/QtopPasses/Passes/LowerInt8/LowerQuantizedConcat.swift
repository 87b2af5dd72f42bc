import QtopFormat
import QtopGraph

/// lower-int8, after the SE step: a `quantize` whose input is a channel concat of float tensors, each possibly
/// nearest-upsampled first (DBNet's FPN neck before its head conv). Nearest interp and concat only copy elements,
/// and quantization is elementwise, so quantizing each source first with the same range and type, then copying
/// the integers (`qnearest_interp`, `qconcat` with equal ranges) gives exactly the same tensor — from smaller
/// tensors, and without the f32 upsampled copies. A source written by a float-output `scale_channels_nhwc` that
/// nothing else reads is quantized by that op directly (the same rounded operations); any other source gets a
/// `quantize` node.
extension LowerInt8 {
    static func lowerQuantizedConcats(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for q in g.nodes where q.type == "quantize" {
            guard let c = q.input("X"), let qo = q.output("Out"), let qs = try? q.spec(QuantizeSpec.self), q.attrs["round_type"] == nil,
                  let cat = rw.producer(c), cat.type == "concat", cat.inputs("AxisTensor").isEmpty,
                  rw.shape(c)?.count == 4,
                  let ax = (try? cat.spec(ConcatSpec.self))?.axis, ax == 1 || ax == -3,
                  !rw.isGraphOutput(c, of: cat), rw.consumers(c, of: cat).count == 1,
                  Set(cat.inputs("X")).count == cat.inputs("X").count,
                  let legs = concatLegs(cat, rw), Set(legs.map(\.1)).count == legs.count,
                  legs.allSatisfy({ rw.values[$0.1 + ".cq"] == nil && rw.values[$0.2 + ".cq"] == nil }) else { continue }
            let dt: DType = qs.outType == .u8 ? .u8 : .i8
            let dtName = qs.outType.rawValue
            // Removed first: a replacement (removal included) drops what was inserted at its slot.
            rw.remove(cat, detail: "concat fused into qconcat \(qo): its inputs are quantized first")
            var catIns: [String] = []
            for (interp, src, leg) in legs {
                let srcShape = rw.shape(src)!
                let qsrc = src + ".cq"
                rw.values[qsrc] = ValueInfo(name: qsrc, dtype: dt, shape: [srcShape[0], srcShape[2], srcShape[3], srcShape[1]])
                var quantizeSource: Node? = nil
                if let p = rw.producer(src), p.type == "scale_channels_nhwc", (try? p.spec(ScaleChannelsNHWCSpec.self))?.outDType == .f32,
                   rw.consumers(src, of: p).count == 1, !rw.isGraphOutput(src, of: p) {
                    var a = p.attrs
                    a["out_dtype"] = .string(dtName)
                    a["out_scale"] = .float(qs.scale)
                    let np = p.with(outputs: [Slot("Out", [qsrc])], attrs: a)
                    rw.freeze(np)
                    rw.replace(p, with: [np])
                    rw.record(.rewritten, np, "scale_channels_nhwc writes \(dtName) NHWC (range ±\(fmt(qs.scale))) for the quantized concat \(qo)")
                } else {
                    quantizeSource = Node(id: rw.makeID(), type: "quantize", inputs: [Slot("X", [src])], outputs: [Slot("Out", [qsrc])],
                                          attrs: Attributes([("scale", .float(qs.scale)), ("out_dtype", .string(dtName))]), provenance: q.provenance)
                }
                var legOut = qsrc
                if let interp {
                    let legShape = rw.shape(leg)!
                    legOut = leg + ".cq"
                    var a = interp.attrs
                    a["data_layout"] = .string("NHWC")
                    let ni = Node(id: interp.id, type: "qnearest_interp", inputs: [Slot("X", [qsrc])], outputs: [Slot("Out", [legOut])],
                                  attrs: a, provenance: interp.provenance)
                    rw.freeze(ni)
                    rw.replace(interp, with: [ni])
                    rw.values[legOut] = ValueInfo(name: legOut, dtype: dt, shape: [legShape[0], legShape[2], legShape[3], legShape[1]])
                    rw.record(.rewritten, ni, "nearest_interp_v2 → qnearest_interp on \(dtName) NHWC")
                }
                if let nq = quantizeSource {   // inserted after the replacements at its slot (a replacement drops insertions)
                    rw.freeze(nq)
                    rw.insert([nq], before: interp ?? cat)
                    rw.record(.added, nq, "quantize \(src) before the concat (range ±\(fmt(qs.scale)), \(dtName) NHWC)")
                }
                catIns.append(legOut)
            }
            let qc = Node(id: q.id, type: "qconcat", inputs: [Slot("X", catIns)], outputs: [Slot("Out", [qo])],
                          attrs: Attributes([("axis", .int(3)), ("in_scales", .floats(Array(repeating: qs.scale, count: catIns.count))),
                                             ("out_scale", .float(qs.scale)), ("out_dtype", .string(dtName))]),
                          provenance: cat.provenance + q.provenance)
            rw.freeze(qc)
            rw.replace(q, with: [qc])
            rw.record(.rewritten, qc, "concat + quantize → qconcat of \(catIns.count) \(dtName) NHWC inputs (range ±\(fmt(qs.scale)))")
        }
        return (rw.finish(), rw.changes)
    }

    /// Per concat input: the nearest interp that produced it (when only the concat reads it and its sizes are
    /// attributes), the float NCHW source to quantize, and the input itself. Nil when an input is not f32 rank 4.
    private static func concatLegs(_ cat: Node, _ rw: Rewriter) -> [(Node?, String, String)]? {
        var legs: [(Node?, String, String)] = []
        for i in cat.inputs("X") {
            guard rw.values[i]?.dtype == .f32, rw.shape(i)?.count == 4 else { return nil }
            if let p = rw.producer(i), p.type == "nearest_interp_v2", rw.consumers(i, of: p).count == 1, !rw.isGraphOutput(i, of: p),
               p.inputs("SizeTensor").isEmpty, p.inputs("OutSize").isEmpty, p.inputs("Scale").isEmpty,
               let sp = try? p.spec(InterpSpec.self), !sp.nhwc, let t = p.input("X"), rw.values[t]?.dtype == .f32,
               rw.shape(t)?.count == 4 {
                legs.append((p, t, i))
            } else {
                legs.append((nil, i, i))
            }
        }
        return legs
    }
}
