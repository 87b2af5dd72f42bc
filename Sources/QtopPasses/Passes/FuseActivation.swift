import QtopGraph

/// `fuse-activation`: an activation whose input is written by a conv (`conv2d`, `depthwise_conv2d`,
/// `fused_conv2d`) or an `fc` read only by it moves into that node's `activation` attribute (conv2d and
/// depthwise_conv2d become `fused_conv2d`). Always: relu, relu6 (threshold 6), hard_swish (Paddle defaults).
/// fp32 target only: leaky_relu (`activation_alpha` = alpha), sigmoid, hard_sigmoid (`activation_alpha` = slope,
/// `activation_beta` = offset). `activation_provenance` keeps the activation op's own names.
public enum FuseActivation {
    public static let name = "fuse-activation"
    public static let pass = Pass(name: name) { g, o in apply(g, target: o.target) }

    static let hosts: Set<String> = ["conv2d", "depthwise_conv2d", "fused_conv2d", "fc"]

    /// (activation name, extra attributes) for a fusable activation op, or nil.
    static func activation(_ n: Node, target: PassTarget) -> (String, [(String, AttrValue)])? {
        let a = n.attrs
        switch n.type {
        case "relu": return ("relu", [])
        case "relu6": return a.float("threshold", default: 6) == 6 ? ("relu6", []) : nil
        case "hard_swish":
            return a.float("threshold", default: 6) == 6 && a.float("scale", default: 6) == 6 && a.float("offset", default: 3) == 3
                ? ("hard_swish", []) : nil
        default: break
        }
        guard target == .fp32 else { return nil }
        switch n.type {
        case "leaky_relu": return ("leaky_relu", [("activation_alpha", .float(a.float("alpha", default: 0.02)))])
        case "sigmoid": return ("sigmoid", [])
        case "hard_sigmoid":
            return ("hard_sigmoid", [("activation_alpha", .float(a.float("slope", default: 0.2))),
                                     ("activation_beta", .float(a.float("offset", default: 0.5)))])
        default: return nil
        }
    }

    static func hasActivation(_ n: Node) -> Bool {
        let a = n.type == "fc" ? n.attrs.string("activation_type", default: "") : n.attrs.string("activation", default: "none")
        return !(a.isEmpty || a == "none")
    }

    public static func apply(_ g: Graph, target: PassTarget = .int8) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for act in g.nodes where !rw.claimed.contains(act.id) {
            guard let (kind, extra) = activation(act, target: target), let x = act.input("X"), let out = act.output("Out"),
                  let host = rw.producer(x, before: act), hosts.contains(host.type), !rw.claimed.contains(host.id),
                  !hasActivation(host), rw.onlyConsumer(x, of: host, is: act) else { continue }
            let outSlot = host.type == "fc" ? "Out" : "Output"
            guard host.output(outSlot) == x else { continue }
            var fused = host.type == "fc" ? host : FuseResidualAdd.asFused(host)
            var attrs = fused.attrs
            // Paddle's fc names its activation attribute `activation_type`; our conv nodes use `activation`.
            attrs[host.type == "fc" ? "activation_type" : "activation"] = .string(kind)
            for (k, v) in extra { attrs[k] = v }
            attrs["activation_provenance"] = .strings(act.provenance)
            fused = fused.with(attrs: attrs, provenance: unionProvenance([host, act])).replacingOutput(outSlot, [out])
            rw.replace(host, with: [])
            rw.replace(act, with: [fused])
            rw.record(.fused, fused, "\(host.type)+\(act.type) → \(fused.type)(activation=\(kind))")
            rw.changes.append(Change(kind: .removed, node: act.name, nodeID: act.id, detail: "fused into \(fused.name)"))
        }
        return (rw.finish(), rw.changes)
    }
}
