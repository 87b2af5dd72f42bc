import QtopFormat
import QtopGraph

/// lower-int8: a per-tensor fake_quantize becomes nothing (its input is already integer), a dequantize for float
/// readers, or quantize (+ dequantize) nodes.
extension LowerInt8.Lowering {
    mutating func lowerFakeQuantize(_ f: Node, x: String, z: String) {
        let r = LowerInt8.fqRange(f)!
        let readers = rw.consumers(z, of: f)
        let intReaders = readers.filter { plan.qops.contains($0.id) && LowerInt8.dataInput($0) == z }
        let floatReaders = readers.count - intReaders.count + (rw.isGraphOutput(z, of: f) ? 1 : 0)
        if let xr = plan.intRange[x] {
            precondition(xr == r)
            if floatReaders > 0 {
                let dq = Node(id: f.id, type: "dequantize", inputs: [Slot("X", [x])], outputs: [Slot("Out", [z])],
                              attrs: Attributes([("scale", .float(r))]), provenance: f.provenance)
                rw.replace(f, with: [dq])
                rw.freeze(dq)
                rw.values[z]?.dtype = .f32
                rw.record(.rewritten, dq, "fake_quantize over integer \(x) → dequantize (\(dtName(rw.values[x]?.dtype ?? .i8)) NHWC → f32 NCHW, range ±\(fmt(r)))")
            } else {
                rw.remove(f, detail: "fake_quantize absorbed: \(x) is already produced as integers with range ±\(fmt(r))")
            }
            return
        }
        if prequantized.contains(z), let qv = quantized[z] {
            if floatReaders > 0 {
                let dq = Node(id: f.id, type: "dequantize", inputs: [Slot("X", [qv.name])], outputs: [Slot("Out", [z])],
                              attrs: Attributes([("scale", .float(r))]), provenance: f.provenance)
                rw.replace(f, with: [dq])
                rw.freeze(dq)
                rw.values[z]?.dtype = .f32
                rw.record(.rewritten, dq, "fake_quantize over \(x) → dequantize of the conv's QuantOutput \(qv.name) for float readers")
            } else {
                rw.remove(f, detail: "fake_quantize absorbed: the producing qconv2d writes \(qv.name) (\(dtName(qv.dtype)) NHWC, range ±\(fmt(r))) as its QuantOutput")
            }
            return
        }
        // No integer reader: the fake_quantize still becomes quantize(s8) + dequantize, which compute exactly its
        // arithmetic (round half to even, clamp to [-128, 127]) with the standard integer kernels.
        let standalone = intReaders.isEmpty
        let u8 = !standalone && LowerInt8.useU8(bound: LowerInt8.nonNegativeBound(x, rw))
        let qname = z + ".quant"
        let rt = (try? f.spec(FakeQuantizeSpec.self))?.roundType ?? 0
        var qa = Attributes([("scale", .float(r)), ("out_dtype", .string(u8 ? "u8" : "s8"))])
        if rt != 0 { qa["round_type"] = .int(rt) }
        let q = Node(id: rw.makeID(), type: "quantize", inputs: [Slot("X", [x])], outputs: [Slot("Out", [qname])],
                     attrs: qa, provenance: f.provenance)
        setInt(qname, dt(u8), from: z)
        quantized[z] = (qname, dt(u8), r)
        if floatReaders > 0 {
            let dq = Node(id: f.id, type: "dequantize", inputs: [Slot("X", [qname])], outputs: [Slot("Out", [z])],
                          attrs: Attributes([("scale", .float(r))]), provenance: f.provenance)
            rw.freeze(dq)
            rw.replace(f, with: [q, dq])
            rw.record(.added, q, "quantize f32 NCHW → \(u8 ? "u8" : "s8") NHWC (range ±\(fmt(r)))" + (standalone ? "" : " for integer readers of \(z)"))
            rw.record(.rewritten, dq, "fake_quantize \(f.name) → quantize + dequantize (\(u8 ? "u8" : "s8") NHWC → f32 NCHW) for float readers")
        } else {
            rw.replace(f, with: [q])
            rw.record(.added, q, "quantize f32 NCHW → \(u8 ? "u8" : "s8") NHWC (range ±\(fmt(r))); replaces fake_quantize \(f.name)")
            rw.changes.append(Change(kind: .removed, node: f.name, nodeID: f.id, detail: "fake_quantize replaced by quantize \(qname)"))
        }
    }
}
