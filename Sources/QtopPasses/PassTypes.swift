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

/// Which graph the pipeline produces.
public enum PassTarget: String, Sendable, Codable, CaseIterable {
    /// Full lowering: integer convolutions/matmuls with fused epilogues, explicit quantize/dequantize boundaries.
    case int8
    /// Quantization stripped (weights dequantized to f32 constants), then float fusions.
    case fp32
    /// No passes: the graph as loaded (QDQ ops executed in float with Paddle's semantics).
    case reference
}

public struct PassOptions: Sendable {
    public var target: PassTarget
    /// Stop after the pass with this name (inclusive); nil runs the whole pipeline.
    public var stopAfter: String?
    /// Keep `only_observer` quantize/dequantize pairs (drop-observers is skipped).
    public var keepObservers: Bool
    /// Input shapes to specialize for (`--shape x=[1,3,640,640]`), applied by `fold-shape-computation`, the first
    /// pass of every pipeline; empty keeps the declared shapes (only shape-independent computations fold).
    /// Check them first with `ShapeInference.checkInputShapes` (a pass cannot fail; unknown names are skipped).
    public var inputShapes: [String: [Int]]

    public init(target: PassTarget = .int8, stopAfter: String? = nil, keepObservers: Bool = false,
                inputShapes: [String: [Int]] = [:]) {
        self.target = target
        self.stopAfter = stopAfter
        self.keepObservers = keepObservers
        self.inputShapes = inputShapes
    }
}

/// One named graph transformation. `run` returns the new graph and what changed; it never mutates shared
/// nodes or constants, so the input graph stays a valid snapshot.
public struct Pass: Sendable {
    public let name: String
    public let run: @Sendable (Graph, PassOptions) -> (Graph, [Change])

    public init(name: String, run: @escaping @Sendable (Graph, PassOptions) -> (Graph, [Change])) {
        self.name = name
        self.run = run
    }
}
