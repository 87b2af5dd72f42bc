import QtopGraph
import QtopProfile
import QtopRuntime

/// The live runner as the TUI's `ProfileFeed`: every call reads values the runner published (never blocks on it).
public final class LiveRunnerFeed: ProfileFeed, @unchecked Sendable {
    public let runner: LiveRunner
    public let availableISAs: [ISALevel]
    public let cpuName: String
    public let detectedISA: ISALevel
    private let idByName: [String: Int]

    public init(runner: LiveRunner, original: Graph) {
        self.runner = runner
        let usable = NativeCPU.usableISAs
        availableISAs = usable.isEmpty ? [.generic] : usable.sorted()
        cpuName = NativeCPU.modelName
        detectedISA = NativeCPU.bestISA
        idByName = CompareRow.idByName(original)
    }

    public func latest() -> ProfileSnapshot? { runner.latest() }
    public func setMode(_ mode: ExecMode) { runner.setMode(mode) }
    public func setISACap(_ cap: ISALevel) { runner.setISACap(cap) }
    public func setInputShapes(_ shapes: [String: [Int]]) { runner.setInputShapes(shapes) }
    public func resetStatistics() { runner.resetStatistics() }
    public func dispatch(nodeID: Int) -> DispatchDecision? { runner.dispatch(nodeID: nodeID) }
    public var lastError: String? { runner.error }

    public func comparison() -> [CompareRow]? { runner.comparison().map { CompareRow.rows($0, idByName: idByName) } }
}

extension CompareRow {
    /// The compare view's rows for the runner's comparison: node ids of the graph as loaded, 0 ms shown as absent.
    public static func rows(_ rows: [ModeComparison], idByName: [String: Int]) -> [CompareRow] {
        rows.map { r in
            CompareRow(nodeID: idByName[r.name] ?? -1, name: r.name, layerType: r.layerType,
                       int8Ms: r.int8Ms > 0 ? r.int8Ms : nil, fp32Ms: r.fp32Ms > 0 ? r.fp32Ms : nil)
        }
    }

    /// Node ids by name in `graph` (the first node of each name).
    public static func idByName(_ graph: Graph) -> [String: Int] {
        Dictionary(graph.nodes.map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
    }
}
