import QtopFormat
import QtopGraph

/// `fold-weight-dequant`: an integer weight constant followed by its dequantizer (`dequantize_linear`,
/// `fake_channel_wise_dequantize_max_abs`, `fake_dequantize_max_abs`), or a float weight constant followed by a
/// legacy weight quantize-dequantize (`fake_channel_wise_quantize_dequantize_abs_max`,
/// `fake_quantize_dequantize_abs_max`), is folded into the consuming conv/matmul: the consumer reads an **int8
/// constant** directly and carries the ranges as attributes:
/// - `weight_scales` floats — one abs-max range per output channel (conv: OC along Filter axis 0; matmul/mul:
///   N along Y axis 1; conv2d_transpose: Filter axis 1, repeated per group); step of channel c = weight_scales[c] / 127.
/// - `weight_axis` int — the weight axis the ranges run along.
/// Consumers that cannot read integer weights get a float constant computed exactly as the dequantizer would
/// (`QuantMath.dequantizedWeights`). Float weights behind their own quantize_linear (Paddle 3 PTQ) are first
/// quantized once into int8 constants (`WeightQuantizers`).
public enum FoldWeightDequant {
    public static let name = "fold-weight-dequant"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    static var dequantizers: Set<String> { QuantOpNames.weightDequantizers }

    /// The axis along which a consumer needs per-channel weight ranges, when `w` is its weight input.
    static func weightAxis(_ c: Node, _ w: String, shape: [Int]) -> Int? {
        switch c.type {
        case "conv2d", "depthwise_conv2d", "fused_conv2d":
            return c.input("Filter") == w && c.input("Input") != w && shape.count == 4 ? 0 : nil
        case "conv2d_transpose", "depthwise_conv2d_transpose":
            // Filter [C_in, C_out/groups, kh, kw]: Paddle's PTQ quantizes it along axis 1
            return c.input("Filter") == w && c.input("Input") != w && shape.count == 4 ? 1 : nil
        case "matmul_v2", "matmul", "mul":
            guard c.input("Y") == w, c.input("X") != w, shape.count == 2 else { return nil }
            if c.type == "mul" {
                guard (try? c.spec(MulSpec.self))?.yNumColDims == 1 else { return nil }
            } else {
                guard let m = try? c.spec(MatMulSpec.self), !m.transY, m.alpha == 1 else { return nil }
            }
            return 1
        default:
            return nil
        }
    }

    struct Folded {
        var int8: HostTensor
        var ranges: [Float]   // as stored (1 or C values)
        var axis: Int         // -1 = per-tensor
        var bits: Int
    }

    /// Reads one weight quantization pattern: the integer weights and their ranges.
    static func read(_ d: Node, _ rw: Rewriter) -> (weights: String, Folded)? {
        guard let x = d.input("X"), let w = rw.constant(x), let spec = try? d.spec(QuantSpec.self) else { return nil }
        switch d.type {
        case "dequantize_linear":
            guard !DropObservers.isObserver(d), QuantMath.isIntegral(w),
                  QuantMath.zeroPointIsZero(rw.constant(d.input("ZeroPoint"))),
                  let s = rw.constant(d.input("Scale")).map(QuantMath.scaleValues), !s.isEmpty else { return nil }
            return (x, Folded(int8: QuantMath.asInt8(w), ranges: s, axis: s.count == 1 ? -1 : spec.quantAxis, bits: spec.bitLength))
        case "fake_channel_wise_dequantize_max_abs":
            let scales = d.inputs("Scales")
            let bits = spec.quantBits
            guard scales.count == 1, bits.count == 1, QuantMath.isIntegral(w),
                  let s = rw.constant(scales[0]).map(QuantMath.scaleValues), !s.isEmpty else { return nil }
            return (x, Folded(int8: QuantMath.asInt8(w), ranges: s, axis: s.count == 1 ? -1 : spec.quantAxis, bits: bits[0]))
        case "fake_dequantize_max_abs":
            guard QuantMath.isIntegral(w), let s = rw.constant(d.input("Scale")).map(QuantMath.scaleValues), s.count == 1 else { return nil }
            let mr = spec.maxRange
            guard mr == mr.rounded(), let bitsLog = (2...16).first(where: { Float(QuantMath.qmax(bits: $0)) == mr }) else { return nil }
            return (x, Folded(int8: QuantMath.asInt8(w), ranges: s, axis: -1, bits: bitsLog))
        case "fake_channel_wise_quantize_dequantize_abs_max", "fake_quantize_dequantize_abs_max":
            guard w.dtype.isFloatingPoint else { return nil }
            let bits = spec.bitLength
            let axis = d.type == "fake_quantize_dequantize_abs_max" ? -1 : spec.quantAxis
            let r = QuantMath.absMax(w, axis: axis)
            return (x, Folded(int8: QuantMath.quantizeWeights(w, ranges: r, axis: axis, bits: bits), ranges: r, axis: axis, bits: bits))
        default:
            return nil
        }
    }

    /// Legacy post-dequantizer: conv/matmul with integer-valued float weights → `fake_channel_wise_dequantize_max_abs`
    /// (one scale: the weight ranges) on its output. The op reads int8 weights and takes over the output name.
    static func foldPostDequant(_ d: Node, _ rw: inout Rewriter) -> Bool {
        guard d.type == "fake_channel_wise_dequantize_max_abs", d.inputs("Scales").count == 1,
              (try? d.spec(QuantSpec.self))?.quantBits == [8], let c = d.input("X"), rw.constant(c) == nil,
              let p = rw.producer(c, before: d), !rw.claimed.contains(p.id), rw.onlyConsumer(c, of: p, is: d),
              let wslot = QuantMath.weightSlot(p), let wname = p.input(wslot), let w = rw.constant(wname), QuantMath.isIntegral(w),
              p.attrs["weight_scales"] == nil, let out = d.output("Out"),
              let s = rw.constant(d.inputs("Scales")[0]).map(QuantMath.scaleValues) else { return false }
        let outSlot = p.type.contains("conv") ? "Output" : "Out"
        guard p.output(outSlot) == c, let ax = weightAxis(p, wname, shape: w.shape),
              let ranges = QuantMath.perChannel(s, shape: w.shape, axis: ax) else { return false }
        let q = QuantMath.asInt8(w)
        var qName = wname
        if q !== w {
            qName = wname + ".int8"
            rw.values[qName] = ValueInfo(name: qName, dtype: .i8, shape: q.shape, persistable: true, constant: q)
        }
        let np = p.replacingInput(wslot, [qName]).replacingOutput(outSlot, [out])
            .settingAttrs([("weight_scales", .floats(ranges)), ("weight_axis", .int(ax))])
        let nn = np.with(provenance: unionProvenance([p, d]))
        rw.replace(p, with: [])
        rw.replace(d, with: [nn])
        rw.record(.fused, nn, "\(p.type)+\(d.type) → \(p.type) reading int8 weights \(qName); weight_scales \(fmtRange(ranges)) along axis \(ax)")
        rw.changes.append(Change(kind: .removed, node: d.name, nodeID: d.id, detail: "post-dequantizer folded into \(nn.name)"))
        return true
    }

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        WeightQuantizers.evaluate(g, &rw)
        for d in g.nodes where dequantizers.contains(d.type) && !rw.claimed.contains(d.id) {
            if foldPostDequant(d, &rw) { continue }
            let outSlot = d.type == "dequantize_linear" ? "Y" : "Out"
            guard let y = d.output(outSlot), let (wName, f) = read(d, rw) else { continue }
            let cons = rw.consumers(y, of: d)
            let axes = cons.map { weightAxis($0, y, shape: f.int8.shape) }
            let foldable = !cons.isEmpty && !rw.isGraphOutput(y, of: d) && axes.allSatisfy { $0 != nil } &&
                cons.allSatisfy { !rw.claimed.contains($0.id) } && (f.bits == 8) &&
                zip(cons, axes).allSatisfy { c, ax in
                    QuantMath.perChannel(f.ranges, shape: f.int8.shape, axis: ax!) != nil && (f.axis == -1 || f.axis == ax!)
                }
            if !foldable {
                // Materialize the float weights for whoever reads them.
                let dq = QuantMath.dequantizedWeights(f.int8, ranges: f.ranges, axis: f.axis, bits: f.bits)
                rw.values[y] = ValueInfo(name: y, dtype: .f32, shape: dq.shape, persistable: true, constant: dq)
                rw.remove(d, detail: "\(d.type) of constant \(wName) evaluated once: f32 weights \(y) (\(fmtRange(f.ranges)))")
                continue
            }
            // The int8 constant: the stored tensor when it already is int8, else a new one.
            var qName = wName
            if rw.values[wName]?.constant !== f.int8 {
                qName = wName + ".int8"
                rw.values[qName] = ValueInfo(name: qName, dtype: .i8, shape: f.int8.shape, persistable: true, constant: f.int8)
            }
            rw.remove(d, detail: "\(d.type) folded: consumers read int8 \(qName) with ranges \(fmtRange(f.ranges))", record: true)
            for (c, ax) in zip(cons, axes) {
                let ranges = QuantMath.weightScales(for: c, QuantMath.perChannel(f.ranges, shape: f.int8.shape, axis: ax!)!)
                var ins = c.inputs
                for i in ins.indices { ins[i] = Slot(ins[i].name, ins[i].args.map { $0 == y ? qName : $0 }) }
                var attrs = c.attrs
                attrs["weight_scales"] = .floats(ranges)
                attrs["weight_axis"] = .int(ax!)
                let nc = c.with(inputs: ins, attrs: attrs, provenance: unionProvenance([c, d]))
                rw.replace(c, with: [nc])
                rw.record(.rewritten, nc, "reads int8 weights \(qName) directly; weight_scales \(fmtRange(ranges)) along axis \(ax!)")
            }
        }
        return (rw.finish(), rw.changes)
    }
}
