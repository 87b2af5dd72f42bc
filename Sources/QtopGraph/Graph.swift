import QtopFormat

/// One named list of arguments of an op, as Paddle's OpDesc.Var (`X: [conv2d_0.tmp_0]`).
public struct Slot: Sendable, Equatable {
    public let name: String
    public let args: [String]
    public init(_ name: String, _ args: [String]) {
        self.name = name
        self.args = args
    }
}

/// Stable identity of a node across snapshots, so passes can record provenance and the UI can follow a node.
public typealias NodeID = Int

/// An operation. Immutable: passes build new nodes, so snapshots can share unchanged ones.
public final class Node: @unchecked Sendable, CustomStringConvertible {
    public let id: NodeID
    public let type: String
    public let inputs: [Slot]
    public let outputs: [Slot]
    public let attrs: Attributes
    /// Names of the original Paddle ops this node stands for (itself for a loaded op, several after fusion).
    public let provenance: [String]
    /// Where the op sits in the model's layer tree (Paddle 3's `struct_name`, e.g. `/Sequential/Conv2D/`), when
    /// the file records it: a human grouping of nodes, nothing computes with it.
    public let layerPath: String?
    /// The node's spec, decoded on first use (see `decoded`).
    let decodedCache = DecodedCache()

    public init(id: NodeID, type: String, inputs: [Slot], outputs: [Slot], attrs: Attributes = Attributes(), provenance: [String],
                layerPath: String? = nil) {
        self.id = id
        self.type = type
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs
        self.provenance = provenance
        self.layerPath = layerPath
    }

    /// The op's name as Paddle tools show it: its first output variable.
    public var name: String { outputs.lazy.flatMap { $0.args }.first ?? "\(type)#\(id)" }

    public func inputs(_ slot: String) -> [String] { inputs.first(where: { $0.name == slot })?.args ?? [] }
    public func outputs(_ slot: String) -> [String] { outputs.first(where: { $0.name == slot })?.args ?? [] }
    public func input(_ slot: String) -> String? { inputs(slot).first }
    public func output(_ slot: String) -> String? { outputs(slot).first }

    public var allInputs: [String] { inputs.flatMap { $0.args } }
    public var allOutputs: [String] { outputs.flatMap { $0.args } }

    /// A copy with some fields replaced; the id stays unless a new one is given.
    public func with(id: NodeID? = nil, type: String? = nil, inputs: [Slot]? = nil, outputs: [Slot]? = nil,
                     attrs: Attributes? = nil, provenance: [String]? = nil, layerPath: String?? = nil) -> Node {
        Node(id: id ?? self.id, type: type ?? self.type, inputs: inputs ?? self.inputs, outputs: outputs ?? self.outputs,
             attrs: attrs ?? self.attrs, provenance: provenance ?? self.provenance, layerPath: layerPath ?? self.layerPath)
    }

    public var description: String { "\(type)(\(name))" }
}

/// What is known about a value (a Paddle variable): element type, shape (-1 = unknown, e.g. batch), and
/// its data when it is a constant.
public struct ValueInfo: Sendable {
    public var name: String
    public var dtype: DType?
    /// nil when even the rank is unknown.
    public var shape: [Int]?
    public var persistable: Bool
    public var constant: HostTensor?
    /// Facts attached by passes, e.g. the range an observer recorded (`observed_scale`).
    public var annotations: Attributes

    public init(name: String, dtype: DType?, shape: [Int]?, persistable: Bool = false, constant: HostTensor? = nil,
                annotations: Attributes = Attributes()) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.persistable = persistable
        self.constant = constant
        self.annotations = annotations
    }
}

/// A dataflow graph: nodes in a valid execution (topological) order plus the values they read and write.
public struct Graph: Sendable {
    public var nodes: [Node]
    public var values: [String: ValueInfo]
    /// Model inputs (feed targets) in feed-column order, and outputs (fetch targets) in fetch-column order.
    public var inputs: [String]
    public var outputs: [String]
    /// Next free node id; ids are never reused within one model's pass history.
    public var nextNodeID: NodeID

    public init(nodes: [Node], values: [String: ValueInfo], inputs: [String], outputs: [String], nextNodeID: NodeID? = nil) {
        self.nodes = nodes
        self.values = values
        self.inputs = inputs
        self.outputs = outputs
        self.nextNodeID = nextNodeID ?? ((nodes.map(\.id).max() ?? -1) + 1)
    }

    public mutating func makeNodeID() -> NodeID {
        defer { nextNodeID += 1 }
        return nextNodeID
    }

    public func node(id: NodeID) -> Node? { nodes.first(where: { $0.id == id }) }

    /// Nodes that read `value`, in order.
    public func consumers(of value: String) -> [Node] { nodes.filter { $0.allInputs.contains(value) } }

    /// The last node (in order) that writes `value`, if any.
    public func producer(of value: String) -> Node? { nodes.last(where: { $0.allOutputs.contains(value) }) }

    /// Producer/consumer maps built once, for passes that look up many values.
    public func index() -> GraphIndex { GraphIndex(self) }

    public func constant(_ name: String) -> HostTensor? { values[name]?.constant }

    /// Counts of nodes per op type, sorted by type (for pass summaries).
    public var opCounts: [(type: String, count: Int)] {
        var c: [String: Int] = [:]
        for n in nodes { c[n.type, default: 0] += 1 }
        return c.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

/// Producer and consumer lookups for one graph snapshot.
public struct GraphIndex: Sendable {
    public let producer: [String: NodeID]
    public let consumers: [String: [NodeID]]
    public let position: [NodeID: Int]

    public init(_ g: Graph) {
        var p: [String: NodeID] = [:]
        var c: [String: [NodeID]] = [:]
        var pos: [NodeID: Int] = [:]
        for (i, n) in g.nodes.enumerated() {
            pos[n.id] = i
            for v in n.allInputs { c[v, default: []].append(n.id) }
            for v in n.allOutputs { p[v] = n.id }
        }
        producer = p
        consumers = c
        position = pos
    }
}
