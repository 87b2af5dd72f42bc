import QtopGraph

/// `fuse-deconv-sigmoid` (int8): DBNet's head ends in a `qconv2d_transpose` writing f32 NCHW and a `sigmoid`
/// that is its only reader (fuse-activation leaves the sigmoid family off the float conv2d_transpose, whose fp32
/// epilogue lacks it). The integer epilogue has sigmoid (step 5 of docs/int8-semantics.md, on the dequantized
/// value, as Paddle's float sigmoid after its dequantize), so the sigmoid becomes the deconv's `activation` and the
/// 640×640 probability map is written once instead of written, re-read and written again.
public enum FuseDeconvSigmoid {
    public static let name = "fuse-deconv-sigmoid"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for d in g.nodes where d.type == "qconv2d_transpose" && !rw.claimed.contains(d.id) {
            guard let spec = try? d.spec(QConvTransposeSpec.self), spec.epilogue.activation == .none, spec.epilogue.outType == .f32,
                  let v = d.output("Output") else { continue }
            let readers = rw.consumers(v, of: d)
            guard readers.count == 1, let sg = readers.first, sg.type == "sigmoid", !rw.claimed.contains(sg.id), sg.input("X") == v,
                  rw.onlyConsumer(v, of: d, is: sg), let out = sg.output("Out") else { continue }
            var attrs = d.attrs
            attrs["activation"] = .string("sigmoid")
            attrs["activation_provenance"] = .strings(sg.provenance)
            let fused = d.with(attrs: attrs, provenance: d.provenance + sg.provenance).replacingOutput("Output", [out])
            rw.replace(d, with: [])
            rw.replace(sg, with: [fused])
            rw.record(.fused, fused, "qconv2d_transpose + sigmoid → qconv2d_transpose(activation=sigmoid), f32 NCHW out")
            rw.changes.append(Change(kind: .removed, node: sg.name, nodeID: sg.id, detail: "fused into \(fused.name)"))
        }
        return (rw.finish(), rw.changes)
    }
}
