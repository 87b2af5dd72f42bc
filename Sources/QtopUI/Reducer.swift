import QtopGraph
import QtopPasses
import QtopProfile

/// Applies an action: returns the new state and the requests to make of the feed. Pure.
public func reduce(_ state: AppState, _ action: Action) -> (AppState, [Effect]) {
    var s = state
    var effects: [Effect] = []
    switch action {
    case .resize(let size):
        s.size = size
    case .feedError(let e):
        s.feedError = e
        // The plan for newly asked shapes failed (e.g. too large for this machine): say so on the status line
        // rather than showing "recompiling" until the wait times out.
        if let e, s.pendingShapes != nil {
            s.pendingShapes = nil
            s.message = e
            s.messageTicks = 0
        }
    case .message(let m):
        s.message = m
        s.messageTicks = 0
    case .passes(let mode, let steps, let shapes):
        guard !steps.isEmpty else { break }
        s.passes = steps
        s.passesMode = mode
        s.passesShapes = shapes
        s.passIndex = steps.count - 1
        s.cursor[ViewKind.graph.rawValue] = 0
        // Node ids of different modes' histories may coincide; a detail view of the old graph would be wrong.
        s.detail = nil
    case .tick:
        s.ticks += 1
        if s.message != nil {
            s.messageTicks += 1
            if s.messageTicks > 40 { s.message = nil }
        }
        if s.recompiling {
            s.pendingTicks += 1
            // Give up waiting after ~10 s so a runner that adjusts the request cannot leave us "recompiling" forever.
            if s.pendingTicks > 100 { s.pendingMode = nil; s.pendingCap = nil; s.pendingShapes = nil }
        }
    case .snapshot(let snap):
        guard !s.frozen else { break }
        s.snapshot = snap
        if let snap {
            if let m = s.pendingMode, m == snap.mode { s.pendingMode = nil }
            if let c = s.pendingCap, c == snap.isaCap { s.pendingCap = nil }
            settleShapes(&s, snap)
            if !s.recompiling { s.pendingTicks = 0 }
        }
    case .comparison(let rows):
        guard !s.frozen else { break }
        s.comparison = rows
    case .dispatchInfo(let id, let d):
        s.dispatchNodeID = id
        s.dispatch = d
    case .key(let key):
        effects = reduceKey(&s, key)
    case .mouse(let button, let x, let y):
        effects = reduceMouse(&s, button, x, y)
    }
    clampCursors(&s)
    return (s, effects)
}

func clampCursors(_ s: inout AppState) {
    let layout = Layout(size: s.size)
    for v in ViewKind.allCases {
        let n = s.rowCount(v)
        let vis = layout.visibleRows(v)
        var c = s.cursor[v.rawValue]
        c = max(0, min(c, n - 1))
        var top = s.scroll[v.rawValue]
        if c < top { top = c }
        if c >= top + vis { top = c - vis + 1 }
        top = max(0, min(top, max(0, n - vis)))
        s.cursor[v.rawValue] = c
        s.scroll[v.rawValue] = top
    }
    s.passIndex = max(0, min(s.passIndex, s.passes.count - 1))
    if s.detail != nil {
        s.detailScroll = max(0, min(s.detailScroll, detailLineCount(s) - layout.bodyHeight))
    } else {
        s.detailScroll = 0
    }
}

func moveCursor(_ s: inout AppState, by delta: Int) {
    if s.detail != nil {
        s.detailScroll += delta
        return
    }
    s.cursor[s.view.rawValue] += delta
}

func setCursor(_ s: inout AppState, to value: Int) {
    if s.detail != nil {
        s.detailScroll = value == Int.max ? 1_000_000 : value
        return
    }
    s.cursor[s.view.rawValue] = value == Int.max ? s.rowCount(s.view) - 1 : value
}

/// Opens the detail view for the row under the cursor.
func openDetail(_ s: inout AppState) -> [Effect] {
    let c = s.cursor[s.view.rawValue]
    var target: DetailTarget?
    switch s.view {
    case .graph:
        if expandFoldUnderCursor(&s) { return [] }
        let rows = s.graphRows
        if rows.indices.contains(c) { target = DetailTarget(nodeID: rows[c].node.id, step: rows[c].step) }
    case .profile:
        let rows = s.profileRows
        // int8 runs the final pass's graph; reference and fp32 run (a variant of) the graph as loaded.
        let running = s.mode == .int8 ? max(0, s.passes.count - 1) : 0
        if rows.indices.contains(c), let (_, step) = s.node(id: rows[c].nodeID, preferStep: running) {
            target = DetailTarget(nodeID: rows[c].nodeID, step: step)
        } else if rows.indices.contains(c) {
            target = DetailTarget(nodeID: rows[c].nodeID, step: max(0, s.passes.count - 1))
        }
    case .compare:
        let rows = s.compareRows
        if rows.indices.contains(c), let (_, step) = s.node(id: rows[c].nodeID) {
            target = DetailTarget(nodeID: rows[c].nodeID, step: step)
        }
    }
    guard let t = target else { return [] }
    s.detail = t
    s.detailScroll = 0
    s.dispatch = nil
    s.dispatchNodeID = nil
    s.weightStats = []
    if let (node, step) = s.node(id: t.nodeID, preferStep: t.step) {
        let g = s.passes[step].graph
        let quantSlots: Set<String> = ["Scale", "ZeroPoint", "InScale", "Scales", "OutScale"]
        for slot in node.inputs where !(isQDQ(node.type) && quantSlots.contains(slot.name)) {
            for v in slot.args {
                if let tensor = g.constant(v) { s.weightStats.append(TensorStats(name: v, tensor: tensor)) }
            }
        }
    }
    return [.fetchDispatch(nodeID: t.nodeID)]
}

func cycleMode(_ s: inout AppState) -> [Effect] {
    let order: [ExecMode] = [.int8, .fp32, .reference]
    let i = order.firstIndex(of: s.mode) ?? 0
    let next = order[(i + 1) % order.count]
    s.pendingMode = next
    s.pendingTicks = 0
    return [.setMode(next)]
}

func stepISA(_ s: inout AppState, up: Bool) -> [Effect] {
    let levels = s.availableISAs.isEmpty ? [s.detectedISA] : s.availableISAs.sorted()
    let cur = s.isaCap
    let idx = levels.lastIndex(where: { $0 <= cur }) ?? 0
    let ni = max(0, min(levels.count - 1, idx + (up ? 1 : -1)))
    let next = levels[ni]
    guard next != cur else { return [] }
    s.pendingCap = next
    s.pendingTicks = 0
    return [.setISACap(next)]
}

func sortBy(_ s: inout AppState, _ c: ProfileColumn) {
    if s.sortColumn == c { s.sortDescending.toggle() } else {
        s.sortColumn = c
        s.sortDescending = c.descendingByDefault
    }
}

func reduceKey(_ s: inout AppState, _ key: Key) -> [Effect] {
    if key == .char("q") && !s.filterEditing && s.shapePrompt == nil || key == .function(10) { s.quit = true; return [.quit] }
    if s.showHelp {
        s.showHelp = false
        return []
    }
    if s.tooSmall { return [] }
    if s.shapePrompt != nil { return reduceShapePromptKey(&s, key) }
    let page = max(1, Layout(size: s.size).visibleRows(s.view))

    if s.filterEditing {
        switch key {
        case .char(let c):
            s.filter.append(c)
            s.cursor[s.view.rawValue] = 0
            return []
        case .backspace:
            if !s.filter.isEmpty { s.filter.removeLast() }
            return []
        case .enter:
            s.filterEditing = false
            return []
        case .escape:
            s.filter = ""
            s.filterEditing = false
            return []
        case .up, .down, .pageUp, .pageDown, .home, .end:
            break // navigation still works while typing
        default:
            return []
        }
    }

    switch key {
    case .char("?"), .function(1):
        s.showHelp = true
    case .tab:
        s.detail = nil
        s.view = ViewKind(rawValue: (s.view.rawValue + 1) % ViewKind.allCases.count)!
    case .backTab:
        s.detail = nil
        s.view = ViewKind(rawValue: (s.view.rawValue + ViewKind.allCases.count - 1) % ViewKind.allCases.count)!
    case .char("1"), .char("2"), .char("3"):
        if case .char(let c) = key, let n = c.wholeNumberValue {
            s.detail = nil
            s.view = ViewKind(rawValue: n - 1)!
        }
    case .char("j"), .down: moveCursor(&s, by: 1)
    case .char("k"), .up: moveCursor(&s, by: -1)
    case .char("g"), .home: setCursor(&s, to: 0)
    case .char("G"), .end: setCursor(&s, to: Int.max)
    case .ctrl("d"): moveCursor(&s, by: page / 2)
    case .ctrl("u"): moveCursor(&s, by: -(page / 2))
    case .pageDown, .ctrl("f"): moveCursor(&s, by: page)
    case .pageUp, .ctrl("b"): moveCursor(&s, by: -page)
    case .enter, .char("l"):
        if s.detail == nil { return openDetail(&s) }
    case .right:
        if s.detail == nil {
            if s.view == .graph {
                if !expandFoldUnderCursor(&s) { s.passIndex += 1 }
            } else {
                return openDetail(&s)
            }
        }
    case .escape, .char("h"), .backspace:
        if s.detail != nil { s.detail = nil } else if key == .escape && !s.filter.isEmpty { s.filter = "" }
    case .left:
        if s.detail != nil { s.detail = nil } else if s.view == .graph { s.passIndex -= 1 }
    case .char("]"): if s.detail == nil { s.passIndex += 1 }
    case .char("["): if s.detail == nil { s.passIndex -= 1 }
    case .char("/"), .function(3), .function(4):
        if s.detail == nil { s.filterEditing = true }
    case .char(" "), .function(5):
        s.frozen.toggle()
    case .char("z"), .function(8):
        return [.resetStatistics]
    case .char(">"), .char("."), .function(6):
        s.sortColumn = ProfileColumn(rawValue: (s.sortColumn.rawValue + 1) % ProfileColumn.allCases.count)!
        s.sortDescending = s.sortColumn.descendingByDefault
    case .char("<"), .char(","):
        let n = ProfileColumn.allCases.count
        s.sortColumn = ProfileColumn(rawValue: (s.sortColumn.rawValue + n - 1) % n)!
        s.sortDescending = s.sortColumn.descendingByDefault
    case .char("r"):
        s.sortDescending.toggle()
    case .char("m"):
        return cycleMode(&s)
    case .char("s"):
        openShapePrompt(&s)
    case .char("f"):
        if s.view == .graph && s.detail == nil { toggleFolding(&s) }
    case .char("+"), .char("="):
        if s.view == .graph && s.detail == nil { changeFoldDepth(&s, by: 1) }
    case .char("-"), .char("_"):
        if s.view == .graph && s.detail == nil { changeFoldDepth(&s, by: -1) }
    case .char("i"):
        return stepISA(&s, up: false)
    case .char("I"):
        return stepISA(&s, up: true)
    case .char("p"), .function(2):
        return [.saveScreen]
    case .char("t"):
        if !s.themeNames.isEmpty {
            s.themeIndex = (s.themeIndex + 1) % s.themeNames.count
            s.message = "theme \(s.themeNames[s.themeIndex])"
            s.messageTicks = 0
        }
    default:
        break
    }
    return []
}
