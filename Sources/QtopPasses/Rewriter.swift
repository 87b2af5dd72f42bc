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
    /// Value renames applied to the inputs of every node not in `frozen` (and to graph outputs) at `finish()`,
    /// each to readers at input-graph positions in (from, to].
    private var renames: [(old: String, new: String, from: Int, to: Int)] = []
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
        var w: [String: [Int]] = [:]
        for (i, n) in g.nodes.enumerated() { for v in Set(n.allOutputs) { w[v, default: []].append(i) } }
        writers = w
    }

    // MARK: lookups on the input graph (position-aware: Paddle programs may write one name more than once)

    /// Positions of the nodes writing each value, ascending.
    private let writers: [String: [Int]]

    func pos(_ n: Node) -> Int {
        guard let p = index.position[n.id] else { preconditionFailure("node \(n) is not in the input graph") }
        return p
    }

    /// The node whose write of `v` is visible at `n` (the last writer before it).
    func producer(_ v: String, before n: Node) -> Node? {
        let p = pos(n)
        guard let w = writers[v]?.last(where: { $0 < p }) else { return nil }
        return base.nodes[w]
    }

    /// The last writer of `v` in the graph.
    func producer(_ v: String) -> Node? { writers[v]?.last.map { base.nodes[$0] } }

    /// Position range (from, to] of readers that see the write of `v` by `p` (p nil: the value before any write).
    private func scope(_ v: String, _ p: Node?) -> (Int, Int) {
        let from = p.map(pos) ?? -1
        let to = writers[v]?.first(where: { $0 > from }) ?? Int.max
        return (from, to)
    }

    /// Distinct nodes reading the value `v` as written by `p` (nil: a graph input or constant), in order.
    func consumers(_ v: String, of p: Node?) -> [Node] {
        let (from, to) = scope(v, p)
        var seen = Set<NodeID>()
        return (index.consumers[v] ?? []).compactMap { id in
            guard seen.insert(id).inserted, let q = index.position[id], q > from, q <= to else { return nil }
            return base.nodes[q]
        }
    }

    /// `v` as written by `p` is a graph output (p is its last writer).
    func isGraphOutput(_ v: String, of p: Node?) -> Bool {
        base.outputs.contains(v) && scope(v, p).1 == Int.max
    }

    /// The write of `v` by `p` is read by exactly node `c` and is not a graph output.
    func onlyConsumer(_ v: String, of p: Node, is c: Node) -> Bool {
        let cs = consumers(v, of: p)
        return cs.count == 1 && cs[0].id == c.id && !isGraphOutput(v, of: p)
    }

    func constant(_ v: String?) -> HostTensor? { v.flatMap { values[$0]?.constant } }
    func shape(_ v: String?) -> [Int]? { v.flatMap { values[$0]?.shape } }

    // MARK: edits

    mutating func makeID() -> NodeID {
        defer { nextID += 1 }
        return nextID
    }


    /// Replaces an input-graph node by zero or more nodes at its position. New nodes without a layer path take the
    /// replaced node's, so the model's layer tree survives fusion.
    mutating func replace(_ old: Node, with new: [Node]) {
        slots[pos(old)] = old.layerPath == nil ? new : new.map { $0.layerPath == nil ? $0.with(layerPath: .some(old.layerPath)) : $0 }
        claimed.insert(old.id)
    }

    /// Removes an input-graph node; its outputs must be rewired with `rename` if anyone reads them.
    mutating func remove(_ n: Node, detail: String, record: Bool = true) {
        replace(n, with: [])
        if record { changes.append(Change(kind: .removed, node: n.name, nodeID: n.id, detail: detail)) }
    }

    /// Adds nodes right before / after an input-graph node (whatever currently replaces it).
    mutating func insert(_ new: [Node], before n: Node) { slots[pos(n)].insert(contentsOf: new, at: 0) }
    mutating func insert(_ new: [Node], after n: Node) { slots[pos(n)].append(contentsOf: new) }

    /// Every reader of `old` as written by `writer` (except frozen nodes) reads `new` instead; graph outputs follow.
    mutating func rename(_ old: String, to new: String, writtenBy writer: Node?) {
        guard old != new else { return }
        let (from, to) = scope(old, writer)
        renames.append((old, new, from, to))
    }

    /// Inputs of this node are final: `rename` does not apply to it.
    mutating func freeze(_ n: Node) { frozen.insert(n.id) }

    mutating func record(_ kind: ChangeKind, _ n: Node, _ detail: String) {
        changes.append(Change(kind: kind, node: n.name, nodeID: n.id, detail: detail))
    }

    /// The name a reader at input-graph position `at` should use for `v`.
    func resolve(_ v: String, at: Int) -> String {
        var cur = v
        var steps = 0
        while steps < 10_000, let r = renames.last(where: { $0.old == cur && at > $0.from && at <= $0.to }) {
            cur = r.new
            steps += 1
        }
        return cur
    }

    func finish() -> Graph {
        var nodes: [Node] = []
        nodes.reserveCapacity(slots.count)
        for (i, slot) in slots.enumerated() {
            for n in slot {
                if renames.isEmpty || frozen.contains(n.id) { nodes.append(n); continue }
                var changed = false
                let ins = n.inputs.map { s -> Slot in
                    let args = s.args.map { resolve($0, at: i) }
                    if args != s.args { changed = true }
                    return Slot(s.name, args)
                }
                nodes.append(changed ? n.with(inputs: ins) : n)
            }
        }
        let outs = outputs.map { resolve($0, at: Int.max) }
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

/// The activation fused into a conv (`activation`) or fc (`activation_type`, Paddle's name); "none" when absent.
func fusedActivation(_ n: Node) -> String {
    let a = n.type == "fc" ? n.attrs.string("activation_type", default: "") : n.attrs.string("activation", default: "none")
    return a.isEmpty ? "none" : a
}
