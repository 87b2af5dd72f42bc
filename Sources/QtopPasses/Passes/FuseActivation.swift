import QtopGraph

/// `fuse-activation`: an activation whose input is written by a conv (`conv2d`, `depthwise_conv2d`,
/// `fused_conv2d`) or an `fc` read only by it moves into that node's `activation` attribute (conv2d and
/// depthwise_conv2d become `fused_conv2d`). Always: relu, relu6 (threshold 6), hard_swish (Paddle defaults),
/// sigmoid, hard_sigmoid (`slope`, `offset`), swish (beta 1) / silu — the int8 epilogue computes them too — and
/// SiLU written out as `elementwise_mul(x, sigmoid(x))` (YOLOv5 via X2Paddle) when x and the sigmoid have no other
/// readers: it becomes activation swish. fp32 target only: leaky_relu (`alpha`) — parameters keep the activation
/// op's own attribute names. conv2d_transpose takes relu / relu6 / hard_swish and keeps its type. conv nodes name
/// the activation `activation`, fc nodes `activation_type` (Paddle's
/// name). `activation_provenance` keeps the activation op's own names.
public enum FuseActivation {
    public static let name = "fuse-activation"
    public static let pass = Pass(name: name) { g, o in apply(g, target: o.target) }

    static let hosts: Set<String> = ["conv2d", "depthwise_conv2d", "fused_conv2d", "fc"]
    /// conv2d_transpose keeps its type and takes relu / relu6 / hard_swish (its fp32 epilogue's; the sigmoid family
    /// runs faster as its own vectorised op than applied after the deconv).
    static let deconvHosts = Set(ConvTransposeSpec.opTypes)
    static let deconvActivations: Set<String> = ["relu", "relu6", "hard_swish"]
    static let sigmoidFamily: Set<String> = ["sigmoid", "hard_sigmoid", "swish"]

    /// (activation name, extra attributes) for a fusable activation op, or nil.
    static func activation(_ n: Node, target: PassTarget) -> (String, [(String, AttrValue)])? {
        let a = n.attrs
        switch n.type {
        case "relu": return ("relu", [])
        case "relu6": return a.float("threshold", default: 6) == 6 ? ("relu6", []) : nil
        case "hard_swish":
            return a.float("threshold", default: 6) == 6 && a.float("scale", default: 6) == 6 && a.float("offset", default: 3) == 3
                ? ("hard_swish", []) : nil
        case "sigmoid": return ("sigmoid", [])
        case "hard_sigmoid":
            let slope = a.float("slope", default: 0.2), offset = a.float("offset", default: 0.5)
            guard slope.isFinite, offset.isFinite else { return nil }
            return ("hard_sigmoid", [("slope", .float(slope)), ("offset", .float(offset))])
        case "swish": return a.float("beta", default: 1) == 1 ? ("swish", []) : nil
        case "silu": return ("swish", [])
        default: break
        }
        guard target == .fp32 else { return nil }
        switch n.type {
        case "leaky_relu": return ("leaky_relu", [("alpha", .float(a.float("alpha", default: 0.02)))])
        default: return nil
        }
    }

    /// `elementwise_mul(x, sigmoid(x))` (either operand order, no broadcasting): the sigmoid node, x and the output.
    static func siluParts(_ mul: Node, _ rw: Rewriter) -> (sigmoid: Node, x: String, out: String)? {
        guard mul.type == "elementwise_mul", let a = mul.input("X"), let b = mul.input("Y"), a != b, let out = mul.output("Out"),
              let sa = rw.shape(a), sa == rw.shape(b) else { return nil }
        for (x, s) in [(a, b), (b, a)] {
            if let sg = rw.producer(s, before: mul), sg.type == "sigmoid", sg.input("X") == x, sg.output("Out") == s,
               !rw.claimed.contains(sg.id), rw.onlyConsumer(s, of: sg, is: mul) { return (sg, x, out) }
        }
        return nil
    }

    /// The conv that writes `x` when its only readers are `sig` and `mul` (the SiLU pattern's host).
    static func siluHost(_ x: String, sigmoid sg: Node, mul: Node, _ rw: Rewriter) -> Node? {
        guard let host = rw.producer(x, before: sg), hosts.contains(host.type), host.type != "fc", !rw.claimed.contains(host.id),
              !hasActivation(host), host.output("Output") == x, !rw.isGraphOutput(x, of: host) else { return nil }
        let readers = rw.consumers(x, of: host)
        guard readers.count == 2, Set(readers.map(\.id)) == [sg.id, mul.id] else { return nil }
        return host
    }

    static func hasActivation(_ n: Node) -> Bool {
        let a = n.type == "fc" ? n.attrs.string("activation_type", default: "") : n.attrs.string("activation", default: "none")
        return !(a.isEmpty || a == "none")
    }

    public static func apply(_ g: Graph, target: PassTarget = .int8) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for act in g.nodes where !rw.claimed.contains(act.id) {
            if let (sg, x, out) = siluParts(act, rw), let host = siluHost(x, sigmoid: sg, mul: act, rw) {
                var fused = FuseResidualAdd.asFused(host)
                var attrs = fused.attrs
                attrs["activation"] = .string("swish")
                attrs["activation_provenance"] = .strings(sg.provenance + act.provenance)
                fused = fused.with(attrs: attrs, provenance: unionProvenance([host, sg, act])).replacingOutput("Output", [out])
                rw.replace(host, with: [])
                rw.replace(sg, with: [])
                rw.replace(act, with: [fused])
                rw.record(.fused, fused, "\(host.type)+sigmoid+elementwise_mul (SiLU) → \(fused.type)(activation=swish)")
                rw.changes.append(Change(kind: .removed, node: sg.name, nodeID: sg.id, detail: "fused into \(fused.name) (SiLU)"))
                rw.changes.append(Change(kind: .removed, node: act.name, nodeID: act.id, detail: "fused into \(fused.name) (SiLU)"))
                continue
            }
            guard let (kind, extra) = activation(act, target: target), let x = act.input("X"), let out = act.output("Out"),
                  let host = rw.producer(x, before: act),
                  hosts.contains(host.type) || (deconvHosts.contains(host.type) && deconvActivations.contains(kind)),
                  !rw.claimed.contains(host.id), !hasActivation(host), rw.onlyConsumer(x, of: host, is: act) else { continue }
            // fc's float kernel has no sigmoid-family epilogue: those stay separate ops after an fc.
            if host.type == "fc" && sigmoidFamily.contains(kind) { continue }
            let outSlot = host.type == "fc" ? "Out" : "Output"
            guard host.output(outSlot) == x else { continue }
            var fused = host.type == "fc" || deconvHosts.contains(host.type) ? host : FuseResidualAdd.asFused(host)
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
