import QtopGraph

/// `fuse-channel-shuffle`: ShuffleNet's channel shuffle, reshape2 [N, C, …] → [N, g, C/g, …], transpose2 swapping
/// axes 1 and 2, reshape2 back to [N, C, …], becomes one `fused_channel_shuffle` node (ChannelShuffleSpec), which
/// also absorbs the concat along axis 1 feeding it and the split along axis 1 reading it when they are its only
/// neighbours: each output channel is then one copy of an input channel, instead of five passes over the data and
/// five nodes. The intermediate values must have no other readers (nor be graph outputs), and the reshapes' and
/// the transpose's XShape outputs no readers at all.
public enum FuseChannelShuffle {
    public static let name = "fuse-channel-shuffle"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    static let reshapes: Set<String> = ["reshape2", "reshape"]
    static let transposes: Set<String> = ["transpose2", "transpose"]

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for t in g.nodes where transposes.contains(t.type) && !rw.claimed.contains(t.id) {
            guard let m = match(t, rw) else { continue }
            let fused = Node(id: rw.makeID(), type: "fused_channel_shuffle", inputs: [Slot("X", m.inputs)],
                             outputs: [Slot("Out", m.outputs)],
                             attrs: Attributes([("groups", .int(m.groups)), ("sections", .ints(m.sections))]),
                             provenance: unionProvenance(m.chain), layerPath: t.layerPath)
            for n in m.chain.dropLast() { rw.replace(n, with: []) }
            rw.replace(m.chain.last!, with: [fused])
            rw.record(.fused, fused, "\(m.chain.map(\.type).joined(separator: "+")) → fused_channel_shuffle (groups \(m.groups))")
            for n in m.chain { rw.changes.append(Change(kind: .removed, node: n.name, nodeID: n.id, detail: "fused into \(fused.name)")) }
        }
        return (rw.finish(), rw.changes)
    }

    struct Match {
        /// concat?, reshape, transpose, reshape, split? in program order.
        let chain: [Node]
        let inputs: [String], outputs: [String]
        let groups: Int
        let sections: [Int]
    }

    /// A value written by `p` that only `c` reads (and that is no graph output).
    static func private1(_ v: String, _ p: Node, _ c: Node, _ rw: Rewriter) -> Bool { rw.onlyConsumer(v, of: p, is: c) }

    /// No reader of `n`'s XShape (Paddle writes it for gradients only).
    static func xshapeUnread(_ n: Node, _ rw: Rewriter) -> Bool {
        n.outputs("XShape").allSatisfy { rw.consumers($0, of: n).isEmpty && !rw.isGraphOutput($0, of: n) }
    }

    /// A concat / split along axis 1 of rank-r tensors, with no run-time axis or sections.
    static func alongChannels(_ n: Node, rank: Int) -> Bool {
        guard n.inputs("AxisTensor").isEmpty, n.inputs("SectionsTensorList").isEmpty else { return false }
        let axis: Int?
        switch n.type {
        case "concat": axis = (try? n.spec(ConcatSpec.self))?.axis
        case "split": axis = (try? n.spec(SplitSpec.self))?.axis
        default: axis = nil
        }
        guard let a = axis else { return false }
        return (a < 0 ? a + rank : a) == 1
    }

    static func match(_ t: Node, _ rw: Rewriter) -> Match? {
        // transpose [N, g, C/g, rest…] → [N, C/g, g, rest…]
        guard let tin = t.input("X"), let tout = t.output("Out"), let s1 = rw.shape(tin), s1.count >= 4,
              let perm = try? t.spec(TransposeSpec.self).permutation(rank: s1.count),
              perm == [0, 2, 1] + Array(3..<s1.count), xshapeUnread(t, rw) else { return nil }
        let g = s1[1], per = s1[2]
        guard g >= 1, per >= 1, s1[3...].allSatisfy({ $0 >= 1 }) else { return nil }
        // reshape [N, C, rest…] → [N, g, C/g, rest…] before it, reshape back after it
        guard let r1 = rw.producer(tin, before: t), reshapes.contains(r1.type), !rw.claimed.contains(r1.id),
              r1.output("Out") == tin, private1(tin, r1, t, rw), xshapeUnread(r1, rw),
              let x = r1.input("X"), let s0 = rw.shape(x) else { return nil }
        let (c, o) = g.multipliedReportingOverflow(by: per)
        guard !o, s0 == [s1[0], c] + Array(s1[3...]) else { return nil }
        let readers = rw.consumers(tout, of: t)
        guard readers.count == 1, let r2 = readers.first, reshapes.contains(r2.type), !rw.claimed.contains(r2.id),
              r2.input("X") == tout, !rw.isGraphOutput(tout, of: t), xshapeUnread(r2, rw),
              let y = r2.output("Out"), rw.shape(y) == s0 else { return nil }
        var chain = [r1, t, r2]
        var inputs = [x], outputs = [y], sections = [c]
        // the concat feeding it
        if let cat = rw.producer(x, before: r1), cat.type == "concat", !rw.claimed.contains(cat.id), cat.output("Out") == x,
           private1(x, cat, r1, rw), alongChannels(cat, rank: s0.count) {
            let xs = cat.inputs("X")
            let shapes = xs.map { rw.shape($0) }
            if !xs.isEmpty, shapes.allSatisfy({ $0 != nil && $0!.count == s0.count && $0![1] >= 1 && $0![0] == s0[0] && Array($0![2...]) == Array(s0[2...]) }),
               shapes.reduce(0, { $0 + $1![1] }) == c {
                chain.insert(cat, at: 0)
                inputs = xs
            }
        }
        // the split reading it
        let after = rw.consumers(y, of: r2)
        if after.count == 1, let sp = after.first, sp.type == "split", !rw.claimed.contains(sp.id), sp.input("X") == y,
           !rw.isGraphOutput(y, of: r2), alongChannels(sp, rank: s0.count) {
            let outs = sp.outputs("Out")
            let secs = outs.map { rw.shape($0).flatMap { $0.count == s0.count ? $0[1] : nil } ?? -1 }
            if !outs.isEmpty, secs.allSatisfy({ $0 >= 1 }), secs.reduce(0, +) == c, Set(outs).count == outs.count {
                chain.append(sp)
                outputs = outs
                sections = secs
            }
        }
        // the fused node stands where the chain ends: every input must still hold the value the chain's head read
        let head = chain[0], last = chain[chain.count - 1]
        guard inputs.allSatisfy({ rw.producer($0, before: head)?.id == rw.producer($0, before: last)?.id }) else { return nil }
        return Match(chain: chain, inputs: inputs, outputs: outputs, groups: g, sections: sections)
    }
}
