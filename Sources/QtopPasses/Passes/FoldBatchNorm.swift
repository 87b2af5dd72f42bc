import Foundation
import QtopFormat
import QtopGraph

/// `fold-batchnorm`: folds bias adds and inference batch norms into the producing conv or matmul.
///
/// - `conv2d`/`depthwise_conv2d` (+ optional `elementwise_add` of a constant per-channel bias) (+ optional
///   `batch_norm`) → `fused_conv2d` with inputs `Input`, `Filter`, `Bias` (f32 [OC]) and the conv's attributes plus
///   `activation` = "none". With m[c] = gamma[c] / sqrt(var[c] + eps): float filters are scaled (a new constant),
///   int8 filters keep their integers and `weight_scales[c]` is multiplied by m[c] (so it can be negative);
///   Bias = (b - mean) * m + beta.
/// - `conv2d_transpose` (+ bias add) (+ batch_norm): folded into the node itself (FoldBatchNormConvTranspose.swift).
/// - `matmul_v2`/`matmul`/`mul` with a constant 2-D weight + `elementwise_add` of a constant [N] bias → `fc`
///   (inputs `Input`, `W`, `Bias`; output `Out`; attrs `in_num_col_dims`, `activation_type` = "" (Paddle's), and the
///   weight's `weight_scales`/`weight_axis` when it is int8).
public enum FoldBatchNorm {
    public static let name = "fold-batchnorm"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    static let convTypes: Set<String> = ["conv2d", "depthwise_conv2d"]

    /// A constant, possibly seen through a reshape of a constant (Paddle's Conv2D bias is `reshape2(b, [1, C, 1, 1])`).
    static func constantValues(_ v: String, before n: Node, _ rw: Rewriter) -> (values: [Float], shape: [Int], via: Node?)? {
        if let t = rw.constant(v) { return t.dtype.isFloatingPoint ? (t.floatValues(), t.shape, nil) : nil }
        guard let p = rw.producer(v, before: n), ["reshape2", "reshape", "unsqueeze2", "squeeze2", "flatten_contiguous_range"].contains(p.type),
              p.output("Out") == v, let t = rw.constant(p.input("X")), t.dtype.isFloatingPoint, let shape = rw.shape(v),
              shape.reduce(1, *) == t.count else { return nil }
        return (t.floatValues(), shape, p)
    }

    /// The per-channel bias added by `add` to `x` ([C] with axis 1, or [1, C, 1, 1] / [C, 1, 1]), or nil.
    static func channelBias(_ add: Node, x: String, channels: Int, rank: Int, _ rw: Rewriter) -> (values: [Float], via: Node?)? {
        guard add.type == "elementwise_add", add.input("X") == x, let y = add.input("Y"),
              let (vals, shape, via) = constantValues(y, before: add, rw), vals.count == channels,
              let axis = (try? add.spec(BinarySpec.self))?.axis else { return nil }
        if rank == 4 {
            if shape == [channels] { return axis == 1 ? (vals, via) : nil }
            if shape == [1, channels, 1, 1] { return axis == -1 || axis == 0 ? (vals, via) : nil }
            if shape == [channels, 1, 1] { return axis == -1 || axis == 1 ? (vals, via) : nil }
            return nil
        }
        // matmul output [..., N]: bias along the last axis.
        if (axis == -1 || axis == rank - 1), shape.last == channels { return (vals, via) }
        return nil
    }

    /// The inference batch_norm (NCHW, constant statistics over `channels`) that is the only reader of `x` after
    /// `producer`, with its per-channel multiplier m[c] = gamma[c] / sqrt(var[c] + eps); `bias` (the producer's
    /// per-channel bias so far) becomes (bias - mean) · m + beta. Nil, and `bias` untouched, when there is none.
    static func inferenceBatchNorm(after producer: Node, reading x: String, channels: Int, bias: inout [Float],
                                   _ rw: Rewriter) -> (bn: Node, multiplier: [Float], y: String)? {
        guard let bn = rw.consumers(x, of: producer).first, rw.onlyConsumer(x, of: producer, is: bn), bn.type == "batch_norm",
              bn.input("X") == x, let spec = try? bn.spec(BatchNormSpec.self), !spec.nhwc,
              let gamma = rw.constant(bn.input("Scale"))?.floatValues(), let beta = rw.constant(bn.input("Bias"))?.floatValues(),
              let mean = rw.constant(bn.input("Mean"))?.floatValues(), let vari = rw.constant(bn.input("Variance"))?.floatValues(),
              gamma.count == channels, beta.count == channels, mean.count == channels, vari.count == channels,
              bias.count == channels, let y = bn.output("Y") else { return nil }
        let eps = Double(spec.epsilon)
        var m = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            let mc = Double(gamma[c]) / (Double(vari[c]) + eps).squareRoot()
            m[c] = Float(mc)
            bias[c] = Float((Double(bias[c]) - Double(mean[c])) * mc + Double(beta[c]))
        }
        return (bn, m, y)
    }

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for n in g.nodes where !rw.claimed.contains(n.id) {
            if convTypes.contains(n.type) { foldConv(n, &rw) } else if ConvTransposeSpec.opTypes.contains(n.type) { foldConvTranspose(n, &rw) } else if ["matmul_v2", "matmul", "mul"].contains(n.type) { foldFC(n, &rw) }
        }
        return (rw.finish(), rw.changes)
    }

    static func foldConv(_ conv: Node, _ rw: inout Rewriter) {
        guard let out = conv.output("Output"), let fname = conv.input("Filter"), let w = rw.constant(fname), w.shape.count == 4,
              (try? conv.spec(ConvSpec.self))?.nhwc == false else { return }
        let oc = w.shape[0]
        var parts = [conv]
        var cur = out
        var bias = [Float](repeating: 0, count: oc)
        var hasBias = false
        var extraProv: [Node] = []
        // Optional bias add.
        if let add = rw.consumers(cur, of: conv).first, rw.onlyConsumer(cur, of: conv, is: add),
           let b = channelBias(add, x: cur, channels: oc, rank: 4, rw), let ao = add.output("Out") {
            bias = b.values
            hasBias = true
            if let via = b.via { extraProv.append(via) }
            parts.append(add)
            cur = ao
        }
        // Optional batch norm.
        var mult: [Float]? = nil
        if let f = inferenceBatchNorm(after: parts.last!, reading: cur, channels: oc, bias: &bias, rw) {
            mult = f.multiplier
            hasBias = true
            parts.append(f.bn)
            cur = f.y
        }
        guard parts.count > 1, hasBias else { return }
        var attrs = conv.attrs
        var filter = fname
        var how: [String] = []
        if parts.contains(where: { $0.type == "elementwise_add" }) { how.append("bias add") }
        if let m = mult {
            how.append("batch_norm")
            if w.dtype == .i8, let ws = attrs["weight_scales"]?.floats, ws.count == oc {
                attrs["weight_scales"] = .floats(zip(ws, m).map { $0 * $1 })
            } else {
                let vals = w.floatValues()
                let per = w.count / max(oc, 1)
                var nv = vals
                for i in 0..<vals.count { nv[i] = vals[i] * m[i / per] }
                filter = cur + ".filter"
                rw.values[filter] = ValueInfo(name: filter, dtype: .f32, shape: w.shape, persistable: true,
                                              constant: HostTensor(shape: w.shape, floats: nv))
            }
        }
        let biasName = cur + ".bias"
        rw.values[biasName] = ValueInfo(name: biasName, dtype: .f32, shape: [oc], persistable: true,
                                        constant: HostTensor(shape: [oc], floats: bias))
        attrs["activation"] = .string("none")
        let fused = Node(id: conv.id, type: "fused_conv2d",
                         inputs: [Slot("Input", conv.inputs("Input")), Slot("Filter", [filter]), Slot("Bias", [biasName])],
                         outputs: [Slot("Output", [cur])], attrs: attrs, provenance: unionProvenance(parts + extraProv))
        for p in parts.dropLast() { rw.replace(p, with: []) }
        rw.replace(parts.last!, with: [fused])
        let scaled = mult == nil ? "" : (w.dtype == .i8 ? "; BN multiplier folded into weight_scales" : "; filter scaled by BN multiplier")
        rw.record(.fused, fused, "\(parts.map(\.type).joined(separator: "+")) → fused_conv2d (\(how.joined(separator: " + ")) folded into Bias\(scaled))")
        for p in parts.dropFirst() {
            rw.changes.append(Change(kind: .removed, node: p.name, nodeID: p.id, detail: "folded into fused_conv2d \(fused.name)"))
        }
    }

    static func foldFC(_ mm: Node, _ rw: inout Rewriter) {
        guard let x = mm.input("X"), let wname = mm.input("Y"), let w = rw.constant(wname), w.shape.count == 2,
              let out = mm.output("Out"), let xs = rw.shape(x), xs.count >= 2 else { return }
        var ncols = xs.count - 1
        switch mm.type {
        case "matmul_v2", "matmul":
            guard let m = try? mm.spec(MatMulSpec.self), !m.transX, !m.transY, m.alpha == 1 else { return }
        default: // mul
            guard let m = try? mm.spec(MulSpec.self), m.yNumColDims == 1 else { return }
            ncols = m.xNumColDims
        }
        if mm.type != "mul", xs.count != 2 { ncols = xs.count - 1 }
        let nOut = w.shape[1]
        guard let add = rw.consumers(out, of: mm).first, rw.onlyConsumer(out, of: mm, is: add),
              let outRank = rw.shape(out)?.count, let b = channelBias(add, x: out, channels: nOut, rank: max(outRank, 2), rw),
              let ao = add.output("Out") else { return }
        let biasName = ao + ".bias"
        rw.values[biasName] = ValueInfo(name: biasName, dtype: .f32, shape: [nOut], persistable: true,
                                        constant: HostTensor(shape: [nOut], floats: b.values))
        var attrs = Attributes([("in_num_col_dims", .int(ncols)), ("activation_type", .string(""))])
        for k in ["weight_scales", "weight_axis"] { if let v = mm.attrs[k] { attrs[k] = v } }
        let fc = Node(id: mm.id, type: "fc", inputs: [Slot("Input", [x]), Slot("W", [wname]), Slot("Bias", [biasName])],
                      outputs: [Slot("Out", [ao])], attrs: attrs, provenance: unionProvenance([mm, add] + (b.via.map { [$0] } ?? [])))
        rw.replace(mm, with: [])
        rw.replace(add, with: [fc])
        rw.record(.fused, fc, "\(mm.type)+elementwise_add → fc (bias folded)")
        rw.changes.append(Change(kind: .removed, node: add.name, nodeID: add.id, detail: "folded into fc \(fc.name)"))
    }
}
