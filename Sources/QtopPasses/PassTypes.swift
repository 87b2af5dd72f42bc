import QtopGraph

/// What a pass did to one node.
public enum ChangeKind: String, Sendable, Codable {
    case removed, added, fused, rewritten
}

public struct Change: Sendable, Equatable {
    public let kind: ChangeKind
    /// The node's display name (its first output) and stable id in the snapshot where it exists.
    public let node: String
    public let nodeID: NodeID
    public let detail: String

    public init(kind: ChangeKind, node: String, nodeID: NodeID, detail: String) {
        self.kind = kind
        self.node = node
        self.nodeID = nodeID
        self.detail = detail
    }
}

/// One step of the pass timeline: the graph after a pass and what it changed. Step 0 is the graph as loaded.
public struct PassStep: Sendable {
    public let name: String
    public let graph: Graph
    public let changes: [Change]

    public init(name: String, graph: Graph, changes: [Change]) {
        self.name = name
        self.graph = graph
        self.changes = changes
    }
}
