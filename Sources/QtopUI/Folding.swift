import QtopGraph

// Folding the graph view by layer path (Paddle 3's struct_name, `Node.layerPath`): consecutive nodes whose paths
// share the first `depth` components collapse into one row showing the path, the node count and their summed time.
// Pure functions of the rows, so they are tested on a hand-made graph.

/// Several consecutive graph rows shown as one.
public struct FoldGroup: Equatable, Sendable {
    /// The shared layer-path prefix, e.g. `/ResNet/Sequential_1`.
    public var path: String
    public var nodeIDs: [Int]
    /// Identifies the group across re-renders (the prefix and the first node), for expanding it.
    public var key: String { "\(path)#\(nodeIDs.first ?? -1)" }
}

/// The first `depth` components of a layer path (`/a/b/c` at depth 2 → `/a/b`); nil without a path.
public func layerPathPrefix(_ path: String?, depth: Int) -> String? {
    guard let path, !path.isEmpty else { return nil }
    let parts = path.split(separator: "/", omittingEmptySubsequences: true)
    guard !parts.isEmpty else { return nil }
    let prefix = parts.prefix(max(1, depth)).joined(separator: "/")
    return path.hasPrefix("/") ? "/" + prefix : prefix
}

/// How many components the deepest layer path has (the largest useful depth).
public func maxLayerPathDepth(_ nodes: [Node]) -> Int {
    nodes.compactMap { $0.layerPath?.split(separator: "/").count }.max() ?? 0
}

/// Rows with runs of two or more consecutive nodes sharing a prefix folded, except the groups in `expanded`.
/// Removed (ghost) rows and nodes without a layer path are never folded and end a run.
func foldRows(_ rows: [GraphRow], depth: Int, expanded: Set<String>) -> [GraphRow] {
    var out: [GraphRow] = []
    var i = 0
    while i < rows.count {
        let r = rows[i]
        guard !r.ghost, let prefix = layerPathPrefix(r.node.layerPath, depth: depth) else {
            out.append(r)
            i += 1
            continue
        }
        var j = i + 1
        while j < rows.count, !rows[j].ghost, layerPathPrefix(rows[j].node.layerPath, depth: depth) == prefix { j += 1 }
        let group = FoldGroup(path: prefix, nodeIDs: rows[i..<j].map(\.node.id))
        if j - i >= 2 && !expanded.contains(group.key) {
            var folded = r
            folded.fold = group
            folded.change = rows[i..<j].compactMap(\.change).first
            out.append(folded)
        } else {
            out.append(contentsOf: rows[i..<j])
        }
        i = j
    }
    return out
}

/// `f`: folding on (at depth 1, or the depth used before) or off; expansions are forgotten either way.
func toggleFolding(_ s: inout AppState) {
    let deepest = maxLayerPathDepth(s.passes.indices.contains(s.passIndex) ? s.passes[s.passIndex].graph.nodes : [])
    if s.foldDepth != nil {
        s.foldDepth = nil
        s.message = "folding off"
    } else if deepest == 0 {
        s.message = "no layer paths in this model (Paddle 3 programs record them)"
    } else {
        s.foldDepth = min(s.lastFoldDepth, deepest)
        s.message = "folded by layer path, depth \(s.foldDepth!) (+/- change)"
    }
    s.messageTicks = 0
    s.expandedFolds = []
    s.cursor[ViewKind.graph.rawValue] = 0
}

/// `+` / `-`: fold at a deeper or shallower layer-path prefix.
func changeFoldDepth(_ s: inout AppState, by delta: Int) {
    guard let d = s.foldDepth else { return toggleFolding(&s) }
    let deepest = max(1, maxLayerPathDepth(s.passes.indices.contains(s.passIndex) ? s.passes[s.passIndex].graph.nodes : []))
    let next = max(1, min(deepest, d + delta))
    s.foldDepth = next
    s.lastFoldDepth = next
    s.expandedFolds = []
    s.message = "layer-path depth \(next) of \(deepest)"
    s.messageTicks = 0
}

/// Enter / → on a folded row: show its nodes. Returns false when the cursor is not on a folded row.
func expandFoldUnderCursor(_ s: inout AppState) -> Bool {
    guard s.view == .graph, s.foldDepth != nil else { return false }
    let rows = s.graphRows
    let c = s.cursor[ViewKind.graph.rawValue]
    guard rows.indices.contains(c), let group = rows[c].fold else { return false }
    s.expandedFolds.insert(group.key)
    return true
}
