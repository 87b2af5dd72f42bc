import QtopFormat
import QtopGraph

/// lower-int8: a planned conv / matmul becomes qconv2d / qmatmul with its fused epilogue (residual split back out
/// to float when its producer is not an integer op; QuantOutput when an f32 conv output is only re-quantized).
extension LowerInt8.Lowering {
    /// The integer value (name, dtype, range) a lowered op reads in place of its fake-quantized input.
    func inputOf(_ n: Node) -> (name: String, dtype: DType, scale: Float) {
        let z = LowerInt8.dataInput(n)!
        let f = rw.producer(z, before: n)!
        let x = f.input("X")!
        if let r = plan.intRange[x] { return (x, rw.values[x]?.dtype ?? .i8, r) }
        return quantized[z]!
    }

    mutating func lowerConvOrMatMul(_ n: Node) {
        let isConv = LowerInt8.convTypes.contains(n.type)
        let v = LowerInt8.mainOutput(n)!
        let inp = inputOf(n)
        let w = LowerInt8.weightInput(n)!
        let ws = n.attrs["weight_scales"]!.floats!
        let unfuse = plan.unfuse.contains(n.id)
        var act = fusedActivation(n)
        let intOut = plan.intRange[v]
        let outType: DType = intOut != nil ? dt(plan.isU8[v] ?? false) : .f32
        var attrs = Attributes()
        var ins: [Slot] = []
        var after: [Node] = []
        var outName = v
        let origInfo = rw.values[v] ?? ValueInfo(name: v, dtype: .f32, shape: nil)
        if isConv {
            let wt = rw.constant(w)!
            let (pads, dil, strides, groups) = LowerInt8.resolvedPads(n, input: rw.shape(LowerInt8.dataInput(n)), kernel: [wt.shape[2], wt.shape[3]])!
            attrs["strides"] = .ints(strides)
            attrs["paddings"] = .ints(pads)
            attrs["dilations"] = .ints(dil)
            attrs["groups"] = .int(groups)
            ins = [Slot("Input", [inp.name]), Slot("Filter", [w])]
            if let b = n.input("Bias") { ins.append(Slot("Bias", [b])) }
            if let r = n.input("ResidualData") {
                if unfuse {
                    (outName, after) = splitResidualOut(n, residual: r, output: v, activation: act, info: origInfo)
                    act = "none"
                } else {
                    ins.append(Slot("Residual", [r]))
                }
            }
        } else {
            ins = [Slot("X", [inp.name]), Slot("Y", [w])]
            if let b = n.input("Bias") { ins.append(Slot("Bias", [b])) }
        }
        attrs["in_scale"] = .float(inp.scale)
        attrs["weight_scales"] = .floats(ws)
        attrs["activation"] = .string(act)
        if act == "hard_sigmoid" {
            attrs["slope"] = .float(n.attrs.float("slope", default: 0.2))
            attrs["offset"] = .float(n.attrs.float("offset", default: 0.5))
        }
        attrs["out_dtype"] = .string(dtName(outType))
        if let r = intOut { attrs["out_scale"] = .float(r) }
        var outSlots = [Slot(isConv ? "Output" : "Out", [outName])]
        var quantOut: (name: String, dtype: DType, scale: Float)? = nil
        var fused: [Node] = []
        if isConv && outType == .f32 && !unfuse && !rw.isGraphOutput(v, of: n), let (qo, readers) = quantOutput(n, output: v) {
            quantOut = qo
            fused = readers
            outSlots.append(Slot("QuantOutput", [qo.name]))
            attrs["quant_out_scale"] = .float(qo.scale)
            attrs["quant_out_dtype"] = .string(dtName(qo.dtype))
        }
        let q = Node(id: n.id, type: isConv ? "qconv2d" : "qmatmul", inputs: ins, outputs: outSlots,
                     attrs: attrs, provenance: n.provenance)
        if let qo = quantOut {
            for f in fused {
                let z = f.output("Out")!
                quantized[z] = qo
                prequantized.insert(z)
            }
        }
        rw.freeze(q)
        for a in after { rw.freeze(a) }
        // Output value record.
        var info = origInfo
        info.name = outName
        info.dtype = outType
        info.shape = isConv ? nhwc(origInfo.shape) : origInfo.shape
        rw.values[outName] = info
        var nodes = [q] + after
        if isConv && outType == .f32 && !unfuse && quantOut == nil {
            nhwcF32.insert(v)
            if let l = layoutForFloatReaders(n, output: v, info: origInfo) { nodes.append(l) }
        }
        rw.replace(n, with: nodes)
        let inDesc = "\(dtName(inp.dtype)) ±\(fmt(inp.scale))"
        var outDesc = intOut.map { "\(dtName(outType)) ±\(fmt($0))" } ?? (isConv ? "f32 NHWC" : "f32")
        if let qo = quantOut { outDesc += " + QuantOutput \(dtName(qo.dtype)) ±\(fmt(qo.scale))" }
        var d = "\(n.type) → \(q.type) (in \(inDesc), out \(outDesc), activation \(act))"
        if unfuse { d += "; residual add split out to float (residual not produced by an integer op)" }
        rw.record(.rewritten, q, d)
        for a in nodes.dropFirst() { rw.record(.added, a, "\(a.type) after \(q.type) \(q.name)") }
    }

    /// A residual whose producer is not an integer op: conv → f32 NHWC → NCHW → elementwise_add(residual) →
    /// activation, all writing fresh names. Returns the conv's new output name and the nodes after it.
    mutating func splitResidualOut(_ n: Node, residual r: String, output v: String, activation resAct: String,
                                   info origInfo: ValueInfo) -> (String, [Node]) {
        var after: [Node] = []
        let outName = v + ".conv"
        let layoutOut = outName + ".nchw"
        let addOut = resAct == "none" ? v : v + ".add"
        let resProv = n.attrs["residual_provenance"]?.strings ?? []
        let actProv = n.attrs["activation_provenance"]?.strings ?? []
        let convProv = n.provenance.filter { !resProv.contains($0) && !actProv.contains($0) }
        after.append(Node(id: rw.makeID(), type: "layout_nhwc_to_nchw", inputs: [Slot("X", [outName])],
                          outputs: [Slot("Out", [layoutOut])], provenance: convProv.isEmpty ? n.provenance : convProv))
        after.append(Node(id: rw.makeID(), type: "elementwise_add", inputs: [Slot("X", [layoutOut]), Slot("Y", [r])],
                          outputs: [Slot("Out", [addOut])], attrs: Attributes([("axis", .int(-1))]),
                          provenance: resProv.isEmpty ? n.provenance : resProv))
        var info = origInfo
        info.name = layoutOut
        rw.values[layoutOut] = info
        info.name = addOut
        rw.values[addOut] = info
        if resAct != "none" {
            var actAttrs: Attributes = resAct == "relu6" ? Attributes([("threshold", .float(6))])
                : (resAct == "hard_swish" ? Attributes([("threshold", .float(6)), ("scale", .float(6)), ("offset", .float(3))]) : Attributes())
            if resAct == "hard_sigmoid" {
                actAttrs["slope"] = .float(n.attrs.float("slope", default: 0.2))
                actAttrs["offset"] = .float(n.attrs.float("offset", default: 0.5))
            }
            after.append(Node(id: rw.makeID(), type: resAct, inputs: [Slot("X", [addOut])], outputs: [Slot("Out", [v])],
                              attrs: actAttrs, provenance: actProv.isEmpty ? n.provenance : actProv))
        }
        return (outName, after)
    }

    /// An f32 conv output whose only readers besides fused residuals are fake_quantizes of one range (round_type 0)
    /// feeding integer ops: the epilogue also writes the quantized value (`QuantOutput`), so no layout + quantize
    /// round trip is needed. Returns that value and the fake_quantizes it replaces.
    mutating func quantOutput(_ n: Node, output v: String) -> ((name: String, dtype: DType, scale: Float), [Node])? {
        let others = rw.consumers(v, of: n).filter { c in
            !(plan.qops.contains(c.id) && !plan.unfuse.contains(c.id) && c.input("ResidualData") == v && LowerInt8.dataInput(c) != v)
        }
        let ranges = others.map { c -> Float? in
            guard let fr = LowerInt8.fqRange(c), c.input("X") == v, (try? c.spec(FakeQuantizeSpec.self))?.roundType == 0,
                  let z = c.output("Out"), quantized[z] == nil,
                  rw.consumers(z, of: c).contains(where: { plan.qops.contains($0.id) && LowerInt8.dataInput($0) == z }) else { return nil }
            return fr
        }
        guard !others.isEmpty, ranges.allSatisfy({ $0 != nil && $0 == ranges[0] }), let r = ranges[0] else { return nil }
        let u8 = LowerInt8.useU8(bound: LowerInt8.nonNegativeBound(v, rw))
        let z0 = others[0].output("Out")!
        let qname = z0 + ".quant"
        setInt(qname, dt(u8), from: z0)
        return ((qname, dt(u8), r), others)
    }

    /// Float readers of an f32 NHWC conv output (other than fused residuals of integer convs) need NCHW: a
    /// layout node, with the readers renamed to its output.
    mutating func layoutForFloatReaders(_ n: Node, output v: String, info origInfo: ValueInfo) -> Node? {
        let residualOnly = rw.consumers(v, of: n).allSatisfy { c in
            plan.qops.contains(c.id) && !plan.unfuse.contains(c.id) && c.input("ResidualData") == v && LowerInt8.dataInput(c) != v
        }
        guard !residualOnly || rw.isGraphOutput(v, of: n) else { return nil }
        let nchwName = v + ".nchw"
        let l = Node(id: rw.makeID(), type: "layout_nhwc_to_nchw", inputs: [Slot("X", [v])],
                     outputs: [Slot("Out", [nchwName])], provenance: n.provenance)
        rw.freeze(l)
        var fi = origInfo
        fi.name = nchwName
        rw.values[nchwName] = fi
        rw.rename(v, to: nchwName, writtenBy: n)
        return l
    }
}
