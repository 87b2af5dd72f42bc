import QtopGraph
import QtopPasses
import QtopProfile

/// One line of the graph table: a node of the current snapshot, or a removed one shown from the previous snapshot.
public struct GraphRow: Sendable {
    public var node: Node
    public var step: Int
    public var change: ChangeKind?
    /// Set when this row stands for several nodes folded by layer path (`node` is the first of them).
    public var fold: FoldGroup?
    public var ghost: Bool { change == .removed }
}

extension AppState {
    func matchesFilter(_ fields: [String]) -> Bool {
        if filter.isEmpty { return true }
        let f = filter.lowercased()
        return fields.contains { $0.lowercased().contains(f) }
    }

    /// Rows of the graph view at the current pass: current nodes in order, with the nodes this pass removed
    /// placed after their nearest surviving predecessor (not in side-by-side mode, where the left pane shows them).
    public var graphRows: [GraphRow] {
        guard passes.indices.contains(passIndex) else { return [] }
        let step = passes[passIndex]
        var kinds: [Int: ChangeKind] = [:]
        for c in step.changes {
            if c.kind != .removed, kinds[c.nodeID] == nil { kinds[c.nodeID] = c.kind }
        }
        var ghostsAfter: [Int: [Node]] = [:]
        var leading: [Node] = []
        if passIndex > 0 && !sideBySide {
            let current = Set(step.graph.nodes.map(\.id))
            var lastSurvivor: Int?
            for n in passes[passIndex - 1].graph.nodes {
                if current.contains(n.id) { lastSurvivor = n.id; continue }
                if let s = lastSurvivor { ghostsAfter[s, default: []].append(n) } else { leading.append(n) }
            }
        }
        var rows: [GraphRow] = []
        func add(_ r: GraphRow) {
            if matchesFilter([r.node.name, r.node.type, r.node.layerPath ?? ""]) { rows.append(r) }
        }
        for g in leading { add(GraphRow(node: g, step: passIndex - 1, change: .removed)) }
        for n in step.graph.nodes {
            add(GraphRow(node: n, step: passIndex, change: kinds[n.id]))
            for g in ghostsAfter[n.id] ?? [] { add(GraphRow(node: g, step: passIndex - 1, change: .removed)) }
        }
        guard let depth = foldDepth, !sideBySide else { return rows }
        return foldRows(rows, depth: depth, expanded: expandedFolds)
    }

    /// Layers of the profile, filtered and sorted.
    public var profileRows: [LayerProfile] {
        guard let s = snapshot else { return [] }
        let rows = s.layers.filter { matchesFilter([$0.name, $0.layerType, $0.execTypeText]) }
        func less(_ a: LayerProfile, _ b: LayerProfile) -> Bool {
            switch sortColumn {
            case .name: return a.name < b.name
            case .type: return a.layerType < b.layerType
            case .last: return a.lastMs < b.lastMs
            case .avg: return a.meanMs < b.meanMs
            case .share: return a.percent < b.percent
            case .precision: return a.precisionText < b.precisionText
            case .outPrecision: return a.outPrecisionText < b.outPrecisionText
            case .execType: return a.execTypeText < b.execTypeText
            case .isa: return a.isaText < b.isaText
            case .status: return a.status.rawValue < b.status.rawValue
            }
        }
        // Stable: ties keep execution order.
        let indexed = rows.enumerated().map { ($0.offset, $0.element) }
        return indexed.sorted { x, y in
            if less(x.1, y.1) { return !sortDescending }
            if less(y.1, x.1) { return sortDescending }
            return x.0 < y.0
        }.map(\.1)
    }

    /// Compare rows, filtered, slowest fp32 first.
    public var compareRows: [CompareRow] {
        guard let c = comparison else { return [] }
        return c.enumerated().filter { matchesFilter([$0.element.name, $0.element.layerType]) }
            .sorted { a, b in
                let x = a.element.fp32Ms ?? a.element.int8Ms ?? 0, y = b.element.fp32Ms ?? b.element.int8Ms ?? 0
                return x != y ? x > y : a.offset < b.offset
            }.map(\.element)
    }

    public func rowCount(_ v: ViewKind) -> Int {
        switch v {
        case .graph: return graphRows.count
        case .profile: return profileRows.count
        case .compare: return compareRows.count
        }
    }
}
