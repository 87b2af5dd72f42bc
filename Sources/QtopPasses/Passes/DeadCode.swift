import QtopGraph

/// `dead-code`: removes nodes none of whose outputs is read (feed and fetch always stay), repeatedly, then
/// constants and value records nothing refers to any more. Removed constants are reported with node id -1.
public enum DeadCode {
    public static let name = "dead-code"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        var live = Array(repeating: true, count: g.nodes.count)
        var reads: [String: Int] = [:]
        for n in g.nodes { for v in n.allInputs { reads[v, default: 0] += 1 } }
        for o in g.outputs { reads[o, default: 0] += 1 }
        var changes: [Change] = []
        var changed = true
        while changed {
            changed = false
            for i in stride(from: g.nodes.count - 1, through: 0, by: -1) where live[i] {
                let n = g.nodes[i]
                if n.type == "feed" || n.type == "fetch" { continue }
                if n.allOutputs.contains(where: { (reads[$0] ?? 0) > 0 }) { continue }
                live[i] = false
                changed = true
                for v in n.allInputs { reads[v, default: 0] -= 1 }
                changes.append(Change(kind: .removed, node: n.name, nodeID: n.id, detail: "\(n.type): output never read"))
            }
        }
        changes.reverse()
        let nodes = zip(g.nodes, live).filter(\.1).map(\.0)
        var used = Set(g.inputs).union(g.outputs)
        for n in nodes { used.formUnion(n.allInputs); used.formUnion(n.allOutputs) }
        var values = g.values
        var dropped: [String] = []
        for (name, info) in g.values where !used.contains(name) {
            values[name] = nil
            if info.constant != nil { dropped.append(name) }
        }
        for name in dropped.sorted() {
            changes.append(Change(kind: .removed, node: name, nodeID: -1, detail: "unused constant"))
        }
        return (Graph(nodes: nodes, values: values, inputs: g.inputs, outputs: g.outputs, nextNodeID: g.nextNodeID), changes)
    }
}
