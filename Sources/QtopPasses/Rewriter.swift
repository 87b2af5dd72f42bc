import QtopFormat
import QtopGraph

/// A mutable view over one graph snapshot used by a pass. Pattern matching reads the *input* graph (`base`,
/// `index`); edits are collected and applied by `finish()`, which builds the next snapshot. Nodes the pass does
/// not touch (and every constant it does not replace) are shared with the input graph.
struct Rewriter {
    let base: Graph
    let index: GraphIndex
    var values: [String: ValueInfo]
    var outputs: [String]
    var changes: [Change] = []
    private(set) var nextID: NodeID
    /// Replacement nodes per position of the input graph (initially each holds its own node).
    private var slots: [[Node]]
    /// Value renames applied to the inputs of every node not in `frozen` (and to graph outputs) at `finish()`.
    private var renames: [String: String] = [:]
    private var frozen: Set<NodeID> = []
    /// Nodes a pattern already claimed, so overlapping matches are skipped.
    var claimed: Set<NodeID> = []

    init(_ g: Graph) {
        base = g
        index = g.index()
        values = g.values
        outputs = g.outputs
        nextID = g.nextNodeID
        slots = g.nodes.map { [$0] }
    }

    // MARK: lookups on the input graph

    func producer(_ v: String) -> Node? {
        guard let id = index.producer[v], let p = index.position[id] else { return nil }
        return base.nodes[p]
    }

    /// Distinct nodes of the input graph reading `v`, in order.
    func consumers(_ v: String) -> [Node] {
        var seen = Set<NodeID>()
        return (index.consumers[v] ?? []).compactMap { id in
            guard seen.insert(id).inserted, let p = index.position[id] else { return nil }
            return base.nodes[p]
        }
    }

    /// Number of readers of `v`, counting a graph output as one more.
    func useCount(_ v: String) -> Int { consumers(v).count + (base.outputs.contains(v) ? 1 : 0) }

    /// `v` is read by exactly this node (once or several times) and is not a graph output.
    func onlyConsumer(_ v: String, is n: Node) -> Bool {
        let c = consumers(v)
        return c.count == 1 && c[0].id == n.id && !base.outputs.contains(v)
    }

    func constant(_ v: String?) -> HostTensor? { v.flatMap { values[$0]?.constant } }
    func shape(_ v: String?) -> [Int]? { v.flatMap { values[$0]?.shape } }

    // MARK: edits

    mutating func makeID() -> NodeID {
        defer { nextID += 1 }
        return nextID
    }

    private func position(_ n: Node) -> Int {
        guard let p = index.position[n.id] else { preconditionFailure("node \(n) is not in the input graph") }
        return p
    }

    /// Replaces an input-graph node by zero or more nodes at its position.
    mutating func replace(_ old: Node, with new: [Node]) {
        slots[position(old)] = new
        claimed.insert(old.id)
    }

    /// Removes an input-graph node; its outputs must be rewired with `rename` if anyone reads them.
    mutating func remove(_ n: Node, detail: String, record: Bool = true) {
        replace(n, with: [])
        if record { changes.append(Change(kind: .removed, node: n.name, nodeID: n.id, detail: detail)) }
    }

    /// Adds nodes right before / after an input-graph node (whatever currently replaces it).
    mutating func insert(_ new: [Node], before n: Node) { slots[position(n)].insert(contentsOf: new, at: 0) }
    mutating func insert(_ new: [Node], after n: Node) { slots[position(n)].append(contentsOf: new) }

    /// Every reader of `old` (except frozen nodes) reads `new` instead; graph outputs follow.
    mutating func rename(_ old: String, to new: String) {
        if old != new { renames[old] = new }
    }

    /// Inputs of this node are final: `rename` does not apply to it.
    mutating func freeze(_ n: Node) { frozen.insert(n.id) }

    mutating func record(_ kind: ChangeKind, _ n: Node, _ detail: String) {
        changes.append(Change(kind: kind, node: n.name, nodeID: n.id, detail: detail))
    }

    func resolve(_ v: String) -> String {
        var cur = v
        var steps = 0
        while let nx = renames[cur], steps < 10_000 { cur = nx; steps += 1 }
        return cur
    }

    func finish() -> Graph {
        var nodes: [Node] = []
        nodes.reserveCapacity(slots.count)
        for slot in slots {
            for n in slot {
                if renames.isEmpty || frozen.contains(n.id) { nodes.append(n); continue }
                var changed = false
                let ins = n.inputs.map { s -> Slot in
                    let args = s.args.map { resolve($0) }
                    if args != s.args { changed = true }
                    return Slot(s.name, args)
                }
                nodes.append(changed ? n.with(inputs: ins) : n)
            }
        }
        let outs = outputs.map { resolve($0) }
        return Graph(nodes: nodes, values: values, inputs: base.inputs, outputs: outs, nextNodeID: nextID)
    }
}

// MARK: small helpers shared by passes

extension Node {
    /// The same node with one input slot replaced (added when missing).
    func replacingInput(_ slot: String, _ args: [String]) -> Node {
        var ins = inputs
        if let i = ins.firstIndex(where: { $0.name == slot }) {
            if args.isEmpty { ins.remove(at: i) } else { ins[i] = Slot(slot, args) }
        } else if !args.isEmpty {
            ins.append(Slot(slot, args))
        }
        return with(inputs: ins)
    }

    func replacingOutput(_ slot: String, _ args: [String]) -> Node {
        var outs = outputs
        if let i = outs.firstIndex(where: { $0.name == slot }) { outs[i] = Slot(slot, args) } else { outs.append(Slot(slot, args)) }
        return with(outputs: outs)
    }

    func settingAttrs(_ kv: [(String, AttrValue?)]) -> Node {
        var a = attrs
        for (k, v) in kv { a[k] = v }
        return with(attrs: a)
    }
}

/// Provenance union preserving first-seen order.
func unionProvenance(_ parts: [Node]) -> [String] {
    var seen = Set<String>()
    var out: [String] = []
    for n in parts { for p in n.provenance where seen.insert(p).inserted { out.append(p) } }
    return out
}

/// Short human formatting of a float for change details (`2.31`, `0.000123`).
func fmt(_ x: Float) -> String {
    if x == 0 { return "0" }
    if x.rounded() == x, abs(x) < 1e6 { return String(Int(x)) }
    var s = String(format: "%.3g", Double(x))
    if s.contains("e") { s = String(format: "%.3e", Double(x)) }
    return s
}

func fmtRange(_ r: [Float]) -> String {
    if r.count == 1 { return "±" + fmt(r[0]) }
    let lo = r.min() ?? 0, hi = r.max() ?? 0
    return "per-channel[\(r.count)] ±\(fmt(lo))…\(fmt(hi))"
}

/// NCHW shape → NHWC shape (other ranks unchanged).
func nhwc(_ s: [Int]?) -> [Int]? {
    guard let s else { return nil }
    return s.count == 4 ? [s[0], s[2], s[3], s[1]] : s
}
