import QtopFormat
import QtopGraph

/// lower-int8 for conv2d_transpose: a deconv whose `Input` comes through a per-tensor 8-bit fake_quantize and whose
/// `Filter` fold-weight-dequant left int8 (Paddle's PTQ quantizes it per output channel along axis 1; fold-batchnorm
/// put the BN multiplier into `weight_scales`) becomes `qconv2d_transpose` (Ops/IntegerDeconv.swift) with the
/// fused bias and activation. Its output is u8/s8 NHWC when every reader quantizes it with one range (planned like
/// a conv's, Int8Planning.swift), else f32 **NCHW**, which float readers take directly (no layout node).
extension LowerInt8 {
    /// Planning: a conv2d_transpose the integer kernels serve — NCHW, a known 4-D input, an s8 filter
    /// [C_in, C_out/groups, kh, kw] with one range per output channel.
    static func isLowerableConvTranspose(_ n: Node, filter w: HostTensor, scales ws: [Float], input x: String, _ rw: Rewriter) -> Bool {
        guard w.shape.count == 4, let spec = try? n.spec(ConvTransposeSpec.self), !spec.nhwc, w.shape[0] % spec.groups == 0,
              ws.count == w.shape[1] * spec.groups, let xs = rw.shape(x), xs.count == 4, xs[1] == w.shape[0] else { return false }
        // SAME resolves its paddings on the input extent
        if spec.geometry.algorithm == .same { return xs[2] > 0 && xs[3] > 0 }
        return true
    }
}

extension LowerInt8.Lowering {
    mutating func lowerConvTranspose(_ n: Node) {
        let v = LowerInt8.mainOutput(n)!
        let w = LowerInt8.weightInput(n)!
        guard let spec = try? n.spec(ConvTransposeSpec.self), let wt = rw.constant(w), let ws = n.attrs["weight_scales"]?.floats else { return }
        let inp = inputOf(n)
        let act = fusedActivation(n)
        let intOut = plan.intRange[v]
        let outType: DType = intOut != nil ? dt(plan.isU8[v] ?? false) : .f32
        let xs = rw.shape(LowerInt8.dataInput(n))
        let (pads, dil) = spec.geometry.resolve(inH: xs?[2] ?? 0, inW: xs?[3] ?? 0, kH: wt.shape[2], kW: wt.shape[3])
        var attrs = Attributes()
        attrs["strides"] = .ints([spec.geometry.strides.0, spec.geometry.strides.1])
        attrs["paddings"] = .ints(pads)
        attrs["dilations"] = .ints([dil.0, dil.1])
        attrs["groups"] = .int(spec.groups)
        if !spec.outputPadding.isEmpty { attrs["output_padding"] = .ints(spec.outputPadding) }
        if !spec.outputSize.isEmpty { attrs["output_size"] = .ints(spec.outputSize) }
        attrs["in_scale"] = .float(inp.scale)
        attrs["weight_scales"] = .floats(ws)
        attrs["activation"] = .string(act)
        attrs["out_dtype"] = .string(dtName(outType))
        if let r = intOut { attrs["out_scale"] = .float(r) }
        var ins = [Slot("Input", [inp.name]), Slot("Filter", [w])]
        if let b = n.input("Bias") { ins.append(Slot("Bias", [b])) }
        let q = Node(id: n.id, type: "qconv2d_transpose", inputs: ins, outputs: [Slot("Output", [v])], attrs: attrs,
                     provenance: n.provenance)
        rw.freeze(q)
        var info = rw.values[v] ?? ValueInfo(name: v, dtype: .f32, shape: nil)
        info.dtype = outType
        if outType != .f32 { info.shape = nhwc(info.shape) }
        rw.values[v] = info
        rw.replace(n, with: [q])
        let inDesc = "\(dtName(inp.dtype)) ±\(fmt(inp.scale))"
        let outDesc = intOut.map { "\(dtName(outType)) NHWC ±\(fmt($0))" } ?? "f32 NCHW"
        rw.record(.rewritten, q, "\(n.type) → qconv2d_transpose (in \(inDesc), weights s8 per output channel \(fmtRange(ws)), out \(outDesc), activation \(act))")
    }
}
