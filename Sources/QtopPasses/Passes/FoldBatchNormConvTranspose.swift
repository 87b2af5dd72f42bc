import QtopFormat
import QtopGraph

/// `fold-batchnorm` for conv2d_transpose (NCHW, float constant Filter [C_in, C_out/groups, kh, kw]): the bias add
/// Paddle's Conv2DTranspose writes after the op (`elementwise_add` of `reshape2(b)`) and an inference
/// `batch_norm` after it fold into the node itself — it keeps its type and gains `Bias` (f32 [C_out]); with
/// m[c] = gamma[c] / sqrt(var[c] + eps) the filter elements of output channel c are scaled by m[c] (a new
/// constant) and Bias = (b - mean) · m + beta. DBNet's head (deconv → BN → relu → deconv) then runs as one
/// kernel per deconv once fuse-activation moves the relu in. An int8 filter (fold-weight-dequant, `weight_scales`
/// one per output channel) keeps its integers; the multiplier goes into `weight_scales` as for conv2d.
extension FoldBatchNorm {
    static func foldConvTranspose(_ deconv: Node, _ rw: inout Rewriter) {
        guard let out = deconv.output("Output"), let fname = deconv.input("Filter"), let w = rw.constant(fname),
              w.dtype.isFloatingPoint || w.dtype == .i8, w.shape.count == 4, let spec = try? deconv.spec(ConvTransposeSpec.self), !spec.nhwc,
              spec.activation.name == "none", w.shape[0] % spec.groups == 0 else { return }
        let ocg = w.shape[1], oc = ocg * spec.groups
        var bias = [Float](repeating: 0, count: oc)
        if let b = deconv.input("Bias") {
            guard let t = rw.constant(b), t.dtype.isFloatingPoint, t.count == oc else { return }
            bias = t.floatValues()
        }
        var parts = [deconv], extraProv: [Node] = [], how: [String] = []
        var cur = out
        if let add = rw.consumers(cur, of: deconv).first, rw.onlyConsumer(cur, of: deconv, is: add),
           let b = channelBias(add, x: cur, channels: oc, rank: 4, rw), let ao = add.output("Out") {
            for c in 0..<oc { bias[c] += b.values[c] }
            if let via = b.via { extraProv.append(via) }
            parts.append(add)
            how.append("bias add")
            cur = ao
        }
        var mult: [Float]?
        if let f = inferenceBatchNorm(after: parts.last!, reading: cur, channels: oc, bias: &bias, rw) {
            mult = f.multiplier
            parts.append(f.bn)
            how.append("batch_norm")
            cur = f.y
        }
        guard parts.count > 1 else { return }
        var filter = fname
        var attrs = deconv.attrs
        if w.dtype == .i8 {
            // int8 filter (fold-weight-dequant): the integers stay, weight_scales[c] takes the BN multiplier
            guard let ws = attrs["weight_scales"]?.floats, ws.count == oc else { return }
            if let m = mult { attrs["weight_scales"] = .floats(zip(ws, m).map { $0 * $1 }) }
        } else if let m = mult {
            // element i of [C_in][ocg][kh][kw] belongs to output channel (C_in index / icg)·ocg + (i / kk) % ocg
            var vals = w.floatValues()
            let kk = w.shape[2] * w.shape[3], icg = w.shape[0] / spec.groups
            for i in 0..<vals.count {
                let ci = i / (ocg * kk), o = (ci / icg) * ocg + (i / kk) % ocg
                vals[i] *= m[o]
            }
            filter = cur + ".filter"
            rw.values[filter] = ValueInfo(name: filter, dtype: .f32, shape: w.shape, persistable: true,
                                          constant: HostTensor(shape: w.shape, floats: vals))
        }
        let biasName = cur + ".bias"
        rw.values[biasName] = ValueInfo(name: biasName, dtype: .f32, shape: [oc], persistable: true,
                                        constant: HostTensor(shape: [oc], floats: bias))
        let folded = Node(id: deconv.id, type: deconv.type,
                          inputs: [Slot("Input", deconv.inputs("Input")), Slot("Filter", [filter]), Slot("Bias", [biasName])],
                          outputs: [Slot("Output", [cur])], attrs: attrs, provenance: unionProvenance(parts + extraProv))
        for p in parts.dropLast() { rw.replace(p, with: []) }
        rw.replace(parts.last!, with: [folded])
        let scaled = mult == nil ? "" : (w.dtype == .i8 ? "; BN multiplier folded into weight_scales" : "; filter scaled by BN multiplier")
        rw.record(.fused, folded, "\(parts.map(\.type).joined(separator: "+")) → \(deconv.type) (\(how.joined(separator: " + ")) folded into Bias\(scaled))")
        for p in parts.dropFirst() {
            rw.changes.append(Change(kind: .removed, node: p.name, nodeID: p.id, detail: "folded into \(deconv.type) \(folded.name)"))
        }
    }
}
