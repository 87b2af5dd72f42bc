import QtopGraph

/// `fuse-residual-add`: `elementwise_add(conv_out, other)` (same shapes, no broadcasting) where conv_out is read only
/// by the add and the conv has no activation yet → the conv (now `fused_conv2d`) gets `ResidualData` = other and
/// writes the add's output: y = conv(x) + bias + other. The attribute `residual_provenance` keeps the add's own
/// names so a later pass can split it out again.
public enum FuseResidualAdd {
    public static let name = "fuse-residual-add"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    static let convTypes: Set<String> = ["conv2d", "depthwise_conv2d", "fused_conv2d"]

    /// A conv-family node as a `fused_conv2d` with the same inputs and attributes (`activation` defaults to none).
    static func asFused(_ c: Node) -> Node {
        var attrs = c.attrs
        if attrs["activation"] == nil { attrs["activation"] = .string("none") }
        let order = ["Input", "Filter", "Bias", "ResidualData"]
        let ins = order.compactMap { s in c.inputs.first { $0.name == s } }
        return c.with(type: "fused_conv2d", inputs: ins, attrs: attrs)
    }

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for add in g.nodes where add.type == "elementwise_add" && !rw.claimed.contains(add.id) {
            guard let x = add.input("X"), let y = add.input("Y"), x != y, let out = add.output("Out"),
                  let xs = rw.shape(x), let ys = rw.shape(y), xs == ys, xs.count == 4 else { continue }
            let pick = [(y, x), (x, y)].first { convOut, _ in
                guard let c = rw.producer(convOut, before: add), convTypes.contains(c.type), !rw.claimed.contains(c.id),
                      c.output("Output") == convOut, c.inputs("ResidualData").isEmpty,
                      c.attrs.string("activation", default: "none") == "none",
                      c.attrs.string("data_format", default: "NCHW") != "NHWC" else { return false }
                return rw.onlyConsumer(convOut, of: c, is: add)
            }
            guard let (convOut, other) = pick, let conv = rw.producer(convOut, before: add) else { continue }
            var fused = asFused(conv).replacingInput("ResidualData", [other]).replacingOutput("Output", [out])
            fused = fused.with(attrs: { var a = fused.attrs; a["residual_provenance"] = .strings(add.provenance); return a }(),
                               provenance: unionProvenance([conv, add]))
            rw.replace(conv, with: [])
            rw.replace(add, with: [fused])
            rw.record(.fused, fused, "\(conv.type)+elementwise_add → fused_conv2d (ResidualData = \(other))")
            rw.changes.append(Change(kind: .removed, node: add.name, nodeID: add.id, detail: "fused into \(fused.name) as residual"))
        }
        return (rw.finish(), rw.changes)
    }
}
