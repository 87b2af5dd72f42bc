import QtopFormat
import QtopGraph

/// `lower-int8`: convs and matmuls with int8 weights whose input comes through a per-tensor `fake_quantize`
/// become integer ops; integer values flow through max pool, relu, channel concat and 1×1 flatten/reshape.
///
/// Contract (what the kernels implement):
/// - `qconv2d`: inputs `Input` (u8/s8 NHWC), `Filter` (s8 constant [OC, IC/groups, KH, KW]), optional `Bias`
///   (f32 [OC]), optional `Residual` (f32 NHWC — see below); output `Output` (NHWC). Attributes `strides` [2],
///   `paddings` [4] top, bottom, left, right (SAME/VALID resolved; SAME resets dilations to 1 as Paddle does),
///   `dilations` [2], `groups`, `in_scale`, `weight_scales` [OC] (ranges, BN folded in), `activation`
///   ("none" | "relu" | "relu6" | "hard_swish"), `out_dtype` ("u8" | "s8" | "f32"), `out_scale` (only for u8/s8).
///   Optional second output `QuantOutput` (u8/s8 NHWC) with an f32 `Output`: the same values quantized with
///   `quant_out_scale` into `quant_out_dtype`. Used when an f32 conv output (read as a residual) is otherwise only
///   read through `fake_quantize`s of one range (round_type 0): no layout + quantize round trip is needed.
/// - `qmatmul`: `X` (u8/s8 [M, K]), `Y` (s8 constant [K, N]), optional `Bias` [N]; output `Out` [M, N];
///   attributes `in_scale`, `weight_scales` [N], `activation`, `out_dtype`, `out_scale`.
/// - `quantize`: `X` f32 NCHW → `Out` u8/s8 NHWC; attributes `scale` (range), `out_dtype`.
/// - `dequantize`: `X` u8/s8 NHWC → `Out` f32 NCHW; attribute `scale`.
/// - `layout_nhwc_to_nchw`: `X` f32 NHWC → `Out` f32 NCHW.
/// - `qpool2d` (max only; pool2d attributes with `data_format` = "NHWC", plus `in_scale`, `out_scale`,
///   `out_dtype`), `qrelu` (`in_scale`, `out_scale`, `out_dtype` "u8"),
///   `qconcat` (`axis` = 3, `in_scales`, `out_scale`, `out_dtype`); flatten/reshape keep their type and
///   read/write the integer tensor (H = W = 1), without the XShape output.
/// 2-D tensors (matmul operands) have no layout: NHWC and NCHW coincide.
///
/// Precision choice — exactness first: a value is produced as u8/s8 only when, in the loaded graph, every
/// reader quantizes it with the same range (directly through `fake_quantize`, or after max pool / relu / concat /
/// flatten, which commute with quantization). Then the producer requantizes to that range in its epilogue
/// (`out_scale`) and the `fake_quantize` disappears. Any other int8 op output is **`out_dtype` "f32" (NHWC)**,
/// followed by a `layout_nhwc_to_nchw` node when float ops read it; a fused residual reads that f32 NHWC tensor
/// directly. A residual whose producer is not an integer op is split back out into float `elementwise_add` (+
/// activation) after the conv. Float values feeding an integer op get a `quantize` node (u8 when known
/// non-negative; u8 saturates at 127 steps like Paddle's quantize/dequantize, see docs/int8-semantics.md). A `fake_quantize` over an integer value that
/// float ops also read becomes `dequantize`; one that only float ops read becomes `quantize` (s8) + `dequantize`
/// (no per-tensor `fake_quantize` survives: it has no kernel). `quantize` carries `round_type` when the source
/// used Paddle's round_type 1 (legacy: clip, then round half away from zero).
public enum LowerInt8 {
    public static let name = "lower-int8"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    static let convTypes: Set<String> = ["conv2d", "depthwise_conv2d", "fused_conv2d"]
    static let matmulTypes: Set<String> = ["fc", "matmul_v2", "matmul", "mul"]
    static let intActivations: Set<String> = ["none", "relu", "relu6", "hard_swish"]

    /// A per-tensor 8-bit fake_quantize's range.
    static func fqRange(_ n: Node?) -> Float? {
        guard let n, n.type == "fake_quantize", n.attrs.int("bit_length", default: 8) == 8,
              let r = n.attrs["range"]?.floats, r.count == 1, r[0] > 0 else { return nil }
        return r[0]
    }

    static func dataInput(_ n: Node) -> String? { convTypes.contains(n.type) ? n.input("Input") : (n.type == "fc" ? n.input("Input") : n.input("X")) }
    static func weightInput(_ n: Node) -> String? { QuantMath.weightSlot(n).flatMap { n.input($0) } }
    static func mainOutput(_ n: Node) -> String? { convTypes.contains(n.type) ? n.output("Output") : n.output("Out") }

    /// Explicit [top, bottom, left, right] pads and dilations of a conv, or nil when SAME needs an unknown size.
    static func resolvedPads(_ n: Node, input: [Int]?, kernel: [Int]) -> (pads: [Int], dil: [Int])? {
        let a = n.attrs
        let s = a.ints("strides", default: [1, 1]), d = a.ints("dilations", default: [1, 1])
        let dil = [d[0], d.count > 1 ? d[1] : d[0]]
        let stride = [s[0], s.count > 1 ? s[1] : s[0]]
        switch a.string("padding_algorithm", default: "EXPLICIT") {
        case "VALID": return ([0, 0, 0, 0], dil)
        case "SAME":
            guard let x = input, x.count == 4, x[2] > 0, x[3] > 0 else { return nil }
            var pads: [Int] = []
            for i in 0..<2 {
                let inp = x[2 + i], k = kernel[i], st = stride[i]
                let out = (inp + st - 1) / st
                let total = max((out - 1) * st + k - inp, 0)
                pads += [total / 2, total - total / 2]
            }
            return (pads, [1, 1])
        default:
            let p = a.ints("paddings", default: [0, 0])
            return (p.count == 4 ? p : (p.count == 2 ? [p[0], p[0], p[1], p[1]] : [0, 0, 0, 0]), dil)
        }
    }

    struct Plan {
        /// Lowerable conv/matmul nodes (by id).
        var qops: Set<NodeID> = []
        /// Convs whose residual must be split back out into float ops.
        var unfuse: Set<NodeID> = []
        /// Integer values and the range they are quantized with.
        var intRange: [String: Float] = [:]
        var isU8: [String: Bool] = [:]
    }

    /// Ops that carry integer values unchanged in meaning (judged on the input graph's NCHW shapes).
    static func isTransparent(_ n: Node, _ rw: Rewriter) -> Bool {
        func shape(_ v: String?) -> [Int]? { v.flatMap { rw.base.values[$0]?.shape } }
        switch n.type {
        case "pool2d":
            guard n.attrs.string("pooling_type", default: "max") == "max", n.attrs.string("data_format", default: "NCHW") != "NHWC",
                  !n.attrs.bool("adaptive", default: false) || n.attrs.bool("global_pooling", default: false),
                  shape(n.input("X"))?.count == 4 else { return false }
            return true
        case "relu":
            return true
        case "concat":
            guard n.inputs("AxisTensor").isEmpty, let s = shape(n.input("X")), s.count == 4 else { return false }
            let ax = n.attrs.int("axis", default: 0)
            return ax == 1 || ax == -3
        case "flatten_contiguous_range", "flatten2", "flatten", "reshape2", "reshape":
            guard let s = shape(n.input("X")), s.count == 4, s[2] == 1, s[3] == 1,
                  let o = shape(n.output("Out")), o.count == 2 else { return false }
            return true
        default:
            return false
        }
    }

    static func transparentInputs(_ n: Node) -> [String] { n.type == "concat" ? n.inputs("X") : n.inputs("X").prefix(1).map { $0 } }

    /// Upper bound of a value known to be non-negative (infinity when unbounded), nil when it may be negative.
    static func activationBound(_ act: String) -> Float? {
        switch act {
        case "relu": return .infinity
        case "relu6": return 6
        case "sigmoid", "hard_sigmoid": return 1
        default: return nil
        }
    }

    /// Known non-negative float value and its upper bound (for choosing u8 at a `quantize`).
    static func nonNegativeBound(_ v: String, _ rw: Rewriter, depth: Int = 0) -> Float? {
        guard depth < 64, let p = rw.producer(v) else { return nil }
        switch p.type {
        case "relu": return .infinity
        case "relu6": return p.attrs.float("threshold", default: 6)
        case "sigmoid", "hard_sigmoid", "softmax": return 1
        case "fused_conv2d", "fc", "qconv2d", "qmatmul": return activationBound(fusedActivation(p))
        case "pool2d", "flatten_contiguous_range", "flatten2", "flatten", "reshape2", "reshape", "transpose2", "transpose",
             "concat", "split", "squeeze2", "unsqueeze2", "dropout":
            let ins = p.type == "concat" ? p.inputs("X") : Array(p.inputs("X").prefix(1))
            let bounds = ins.map { nonNegativeBound($0, rw, depth: depth + 1) }
            guard !bounds.isEmpty, bounds.allSatisfy({ $0 != nil }) else { return nil }
            return bounds.map { $0! }.max()
        default: return nil
        }
    }

    /// u8 storage for a non-negative value with upper bound `bound` quantized with range `r`. u8 clamps at 255 steps
    /// A value known non-negative is stored as u8; u8 saturates at 127 steps, exactly where Paddle's QDQ clamps.
    static func useU8(bound: Float?) -> Bool { bound != nil }

    static func plan(_ g: Graph, _ rw: Rewriter) -> Plan {
        var p = Plan()
        // Names written more than once (non-SSA programs) are left in float.
        var writes: [String: Int] = [:]
        for n in g.nodes { for v in Set(n.allOutputs) { writes[v, default: 0] += 1 } }
        let dup = Set(writes.filter { $0.value > 1 }.keys)
        // 1. Lowerable convs / matmuls.
        for n in g.nodes where convTypes.contains(n.type) || matmulTypes.contains(n.type) {
            guard let x = dataInput(n), !dup.contains(x), !n.allOutputs.contains(where: dup.contains), fqRange(rw.producer(x, before: n)) != nil, let w = rw.constant(weightInput(n)), w.dtype == .i8,
                  let ws = n.attrs["weight_scales"]?.floats, mainOutput(n) != nil,
                  intActivations.contains(fusedActivation(n)) else { continue }
            if convTypes.contains(n.type) {
                guard w.shape.count == 4, ws.count == w.shape[0], n.attrs.string("data_format", default: "NCHW") != "NHWC",
                      rw.shape(x)?.count == 4,
                      resolvedPads(n, input: rw.shape(x), kernel: [w.shape[2], w.shape[3]]) != nil else { continue }
            } else {
                guard w.shape.count == 2, ws.count == w.shape[1], rw.shape(x)?.count == 2 else { continue }
                if n.type == "fc", n.attrs.int("in_num_col_dims", default: 1) != 1 { continue }
                if n.type == "matmul_v2", n.attrs.bool("trans_x", default: false) { continue }
                if n.type == "matmul", n.attrs.bool("transpose_X", default: false) { continue }
            }
            p.qops.insert(n.id)
        }
        for n in g.nodes where p.qops.contains(n.id) {
            if let r = n.input("ResidualData") {
                let prod = rw.producer(r, before: n)
                if prod == nil || !p.qops.contains(prod!.id) || rw.shape(r)?.count != 4 { p.unfuse.insert(n.id) }
            }
        }
        // 2. Values that can be produced as integers, forward.
        var producible: [String: Float?] = [:]   // value → upper bound when non-negative
        for n in g.nodes {
            if p.qops.contains(n.id), !p.unfuse.contains(n.id), let o = mainOutput(n) {
                producible[o] = .some(activationBound(fusedActivation(n)))
            } else if isTransparent(n, rw), let o = n.output("Out"), !dup.contains(o) {
                let ins = transparentInputs(n)
                if !ins.isEmpty, ins.allSatisfy({ producible[$0] != nil }) {
                    let bounds = ins.map { producible[$0]! }
                    producible[o] = .some(n.type == "relu" ? (bounds.allSatisfy { $0 != nil } ? bounds.map { $0! }.max()! : .infinity)
                                          : (bounds.allSatisfy { $0 != nil } ? bounds.map { $0! }.max() : nil))
                }
            }
        }
        // 3. Keep those whose readers all quantize with one range (directly or through transparent int ops), backward.
        var cand = Set(producible.keys).subtracting(g.outputs)
        var range: [String: Float] = [:]
        var changed = true
        while changed {
            changed = false
            for n in g.nodes.reversed() {
                guard let o = (p.qops.contains(n.id) ? mainOutput(n) : (isTransparent(n, rw) ? n.output("Out") : nil)), cand.contains(o) else { continue }
                var ok = true
                var r: Float? = nil
                let cons = rw.consumers(o, of: n)
                if cons.isEmpty { ok = false }
                for c in cons {
                    var rc: Float? = nil
                    if let fr = fqRange(c), c.input("X") == o {
                        rc = fr
                    } else if isTransparent(c, rw), let co = c.output("Out"), cand.contains(co), let cr = range[co],
                              !c.allInputs.contains(where: { $0 != o && !transparentInputs(c).contains($0) }),
                              transparentInputs(c).allSatisfy({ cand.contains($0) }) {
                        rc = cr
                    }
                    guard let rc, r == nil || r == rc else { ok = false; break }
                    r = rc
                }
                // Transparent ops need all their inputs integer.
                if ok, isTransparent(n, rw), !p.qops.contains(n.id), !transparentInputs(n).allSatisfy({ cand.contains($0) }) { ok = false }
                if !ok || r == nil {
                    cand.remove(o)
                    range[o] = nil
                    changed = true
                } else if range[o] != r {
                    range[o] = r
                    changed = true
                }
            }
        }
        for v in cand {
            if let r = range[v] {
                p.intRange[v] = r
                p.isU8[v] = useU8(bound: producible[v] ?? nil)
            }
        }
        return p
    }

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        let plan = plan(g, rw)
        // Int8 versions of float values made by `quantize` nodes, per fake_quantize output.
        var quantized: [String: (name: String, dtype: DType, scale: Float)] = [:]
        // Names of f32 NHWC tensors written by integer ops (for residuals), by their float value.
        var nhwcF32: Set<String> = []
        // fake_quantize outputs whose integer version a qconv2d already writes as its `QuantOutput`.
        var prequantized: Set<String> = []

        func dt(_ u8: Bool) -> DType { u8 ? .u8 : .i8 }
        func dtName(_ d: DType) -> String { d == .u8 ? "u8" : (d == .i8 ? "s8" : "f32") }
        func setInt(_ v: String, _ d: DType, from: String) {
            var info = rw.values[from] ?? ValueInfo(name: v, dtype: nil, shape: nil)
            info.name = v
            info.dtype = d
            info.shape = nhwc(info.shape)
            info.constant = nil
            info.persistable = false
            rw.values[v] = info
        }

        func lowerFQ(_ f: Node, x: String, z: String) {
            let r = fqRange(f)!
            let readers = rw.consumers(z, of: f)
            let intReaders = readers.filter { plan.qops.contains($0.id) && dataInput($0) == z }
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
            let u8 = !standalone && useU8(bound: nonNegativeBound(x, rw))
            let qname = z + ".quant"
            let rt = f.attrs.int("round_type", default: 0)
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

        func inputOf(_ n: Node) -> (name: String, dtype: DType, scale: Float) {
            let z = dataInput(n)!
            let f = rw.producer(z, before: n)!
            let x = f.input("X")!
            if let r = plan.intRange[x] { return (x, rw.values[x]?.dtype ?? .i8, r) }
            return quantized[z]!
        }

        func lowerQOp(_ n: Node) {
            let isConv = convTypes.contains(n.type)
            let v = mainOutput(n)!
            let inp = inputOf(n)
            let w = weightInput(n)!
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
                let (pads, dil) = resolvedPads(n, input: rw.shape(dataInput(n)), kernel: [wt.shape[2], wt.shape[3]])!
                let s = n.attrs.ints("strides", default: [1, 1])
                attrs["strides"] = .ints([s[0], s.count > 1 ? s[1] : s[0]])
                attrs["paddings"] = .ints(pads)
                attrs["dilations"] = .ints(dil)
                attrs["groups"] = .int(n.attrs.int("groups", default: 1))
                ins = [Slot("Input", [inp.name]), Slot("Filter", [w])]
                if let b = n.input("Bias") { ins.append(Slot("Bias", [b])) }
                if let r = n.input("ResidualData") {
                    if unfuse {
                        // conv → f32 NHWC → NCHW → elementwise_add(residual) → activation, all writing fresh names.
                        let resAct = act
                        act = "none"
                        outName = v + ".conv"
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
                            let actAttrs: Attributes = resAct == "relu6" ? Attributes([("threshold", .float(6))])
                                : (resAct == "hard_swish" ? Attributes([("threshold", .float(6)), ("scale", .float(6)), ("offset", .float(3))]) : Attributes())
                            after.append(Node(id: rw.makeID(), type: resAct, inputs: [Slot("X", [addOut])], outputs: [Slot("Out", [v])],
                                              attrs: actAttrs, provenance: actProv.isEmpty ? n.provenance : actProv))
                        }
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
            attrs["out_dtype"] = .string(dtName(outType))
            if let r = intOut { attrs["out_scale"] = .float(r) }
            let outSlot = isConv ? "Output" : "Out"
            var outSlots = [Slot(outSlot, [outName])]
            // f32 conv output whose only readers besides fused residuals are fake_quantizes of one range: the
            // epilogue also writes the quantized value (`QuantOutput`), so no layout + quantize pass is needed.
            var quantOut: (name: String, dtype: DType, scale: Float)? = nil
            var fused: [Node] = []
            if isConv && outType == .f32 && !unfuse && !rw.isGraphOutput(v, of: n) {
                let others = rw.consumers(v, of: n).filter { c in
                    !(plan.qops.contains(c.id) && !plan.unfuse.contains(c.id) && c.input("ResidualData") == v && dataInput(c) != v)
                }
                let ranges = others.map { c -> Float? in
                    guard let fr = fqRange(c), c.input("X") == v, c.attrs.int("round_type", default: 0) == 0,
                          let z = c.output("Out"), quantized[z] == nil,
                          rw.consumers(z, of: c).contains(where: { plan.qops.contains($0.id) && dataInput($0) == z }) else { return nil }
                    return fr
                }
                if !others.isEmpty, ranges.allSatisfy({ $0 != nil && $0 == ranges[0] }), let r = ranges[0] {
                    let u8 = useU8(bound: nonNegativeBound(v, rw))
                    let z0 = others[0].output("Out")!
                    let qname = z0 + ".quant"
                    setInt(qname, dt(u8), from: z0)
                    quantOut = (qname, dt(u8), r)
                    fused = others
                    outSlots.append(Slot("QuantOutput", [qname]))
                    attrs["quant_out_scale"] = .float(r)
                    attrs["quant_out_dtype"] = .string(u8 ? "u8" : "s8")
                }
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
                // Float readers (other than fused residuals of integer convs) need NCHW.
                let residualOnly = rw.consumers(v, of: n).allSatisfy { c in
                    plan.qops.contains(c.id) && !plan.unfuse.contains(c.id) && c.input("ResidualData") == v && dataInput(c) != v
                }
                if !residualOnly || rw.isGraphOutput(v, of: n) {
                    let nchwName = v + ".nchw"
                    let l = Node(id: rw.makeID(), type: "layout_nhwc_to_nchw", inputs: [Slot("X", [v])],
                                 outputs: [Slot("Out", [nchwName])], provenance: n.provenance)
                    rw.freeze(l)
                    var fi = origInfo
                    fi.name = nchwName
                    rw.values[nchwName] = fi
                    rw.rename(v, to: nchwName, writtenBy: n)
                    nodes.append(l)
                }
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

        func lowerTransparent(_ n: Node, out: String) {
            let r = plan.intRange[out]!
            let u8 = plan.isU8[out] ?? false
            let ins = transparentInputs(n)
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

        for n in g.nodes {
            if fqRange(n) != nil, let x = n.input("X"), let z = n.output("Out") {
                lowerFQ(n, x: x, z: z)
            } else if plan.qops.contains(n.id) {
                lowerQOp(n)
            } else if let o = n.output("Out"), plan.intRange[o] != nil, isTransparent(n, rw) {
                lowerTransparent(n, out: o)
            } else if let ws = weightInput(n), rw.constant(ws)?.dtype == .i8, n.attrs["weight_scales"] != nil,
                      let f = QuantMath.dequantizedWeights(of: n, in: g) {
                // Not lowerable: materialize float weights so float kernels can run it.
                let slot = QuantMath.weightSlot(n)!
                let fname = ws + ".f32"
                if rw.values[fname] == nil {
                    rw.values[fname] = ValueInfo(name: fname, dtype: .f32, shape: f.shape, persistable: true, constant: f)
                }
                let nn = n.replacingInput(slot, [fname]).settingAttrs([("weight_scales", nil), ("weight_axis", nil)])
                rw.replace(n, with: [nn])
                rw.record(.rewritten, nn, "input not quantized: runs in float with dequantized weights \(fname)")
            }
        }

        return (rw.finish(), rw.changes)
    }
}
