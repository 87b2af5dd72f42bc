import QtopGraph
import QtopPasses
import QtopProfile

/// The top-level views, in Tab order.
public enum ViewKind: Int, CaseIterable, Sendable {
    case graph, profile, compare

    public var title: String {
        switch self {
        case .graph: return "Graph"
        case .profile: return "Profile"
        case .compare: return "Compare"
        }
    }
}

/// A key press, already decoded by the backend.
public enum Key: Equatable, Sendable {
    case char(Character)
    case ctrl(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, backspace, tab, backTab
    case function(Int)
}

public enum MouseButton: Equatable, Sendable {
    case left, wheelUp, wheelDown
}

/// Everything that can happen to the UI.
public enum Action: Sendable {
    case key(Key)
    case mouse(MouseButton, x: Int, y: Int)
    case resize(Size)
    /// A new snapshot from the feed (ignored while frozen).
    case snapshot(ProfileSnapshot?)
    case comparison([CompareRow]?)
    case dispatchInfo(nodeID: Int, DispatchDecision?)
    /// A transient status message for the key bar (e.g. where a screenshot went).
    case message(String)
    /// The feed's current error (nil = fine).
    case feedError(String?)
    /// The pass history of the graph a mode runs (sent when the running mode changes; each mode has its own).
    case passes(ExecMode, [PassStep])
    case tick
}

/// Requests the reducer makes of the outside world; `App` carries them out.
public enum Effect: Equatable, Sendable {
    case setMode(ExecMode)
    case setISACap(ISALevel)
    case resetStatistics
    case fetchDispatch(nodeID: Int)
    /// Write the current screen as text to a file (`p`).
    case saveScreen
    case quit
}

/// Columns of the profile table; all sortable.
public enum ProfileColumn: Int, CaseIterable, Sendable {
    case name, type, last, avg, share, precision, outPrecision, execType, isa, status

    public var title: String {
        switch self {
        case .name: return "Layer"
        case .type: return "Type"
        case .last: return "Last ms"
        case .avg: return "Avg ms"
        case .share: return "Share"
        case .precision: return "Prec"
        case .outPrecision: return "Out"
        case .execType: return "Implementation"
        case .isa: return "ISA"
        case .status: return "Status"
        }
    }

    /// Numeric columns start sorted descending (largest first), text columns ascending.
    public var descendingByDefault: Bool { [.last, .avg, .share].contains(self) }
}

/// The node the detail view shows: which pass snapshot it comes from.
public struct DetailTarget: Equatable, Sendable {
    public var nodeID: Int
    public var step: Int
    public init(nodeID: Int, step: Int) {
        self.nodeID = nodeID
        self.step = step
    }
}

/// Presentation options fixed at startup.
public struct TUIOptions: Sendable {
    /// Force ASCII glyphs; nil = decide from the locale (UTF-8 or not).
    public var ascii: Bool?
    /// Theme name or path (`--theme`).
    public var theme: String
    /// Colours on/off; nil = on unless `NO_COLOR` is set.
    public var color: Bool?
    /// Milliseconds between polls of the feed.
    public var tickMs: Int
    /// The view to open with.
    public var initialView: ViewKind

    public init(ascii: Bool? = nil, theme: String = "default", color: Bool? = nil, tickMs: Int = 100, initialView: ViewKind = .profile) {
        self.ascii = ascii
        self.theme = theme
        self.color = color
        self.tickMs = tickMs
        self.initialView = initialView
    }
}

/// The whole UI state. Pure data: `reduce` changes it, `render` draws it.
public struct AppState: Sendable {
    // Static data
    public var modelName: String
    public var passes: [PassStep]
    public var cpuName: String
    public var detectedISA: ISALevel
    public var availableISAs: [ISALevel]

    // Presentation
    public var size: Size
    public var ascii: Bool
    public var color: Bool
    public var themeNames: [String]
    public var themeIndex: Int = 0

    // Navigation
    public var view: ViewKind
    public var detail: DetailTarget?
    public var detailScroll = 0
    public var showHelp = false
    public var passIndex: Int
    /// Which mode's pass history `passes` is (nil = given at startup, not tied to a mode).
    public var passesMode: ExecMode?
    public var cursor: [Int] = Array(repeating: 0, count: ViewKind.allCases.count)
    public var scroll: [Int] = Array(repeating: 0, count: ViewKind.allCases.count)

    // Profile table
    public var sortColumn: ProfileColumn = .avg
    public var sortDescending = true
    public var filter = ""
    public var filterEditing = false
    public var frozen = false

    // Live data
    public var snapshot: ProfileSnapshot?
    public var comparison: [CompareRow]?
    public var dispatch: DispatchDecision?
    public var dispatchNodeID: Int?
    public var weightStats: [TensorStats] = []
    public var pendingMode: ExecMode?
    public var pendingCap: ISALevel?
    public var pendingTicks = 0
    public var ticks = 0
    public var message: String?
    public var feedError: String?
    public var messageTicks = 0
    public var quit = false

    public init(modelName: String, passes: [PassStep], cpuName: String = "", detectedISA: ISALevel = .generic,
                availableISAs: [ISALevel] = [], size: Size = Size(width: 100, height: 30), ascii: Bool = false,
                color: Bool = true, themeNames: [String] = ["default"], view: ViewKind = .profile) {
        self.modelName = modelName
        self.passes = passes
        self.cpuName = cpuName
        self.detectedISA = detectedISA
        self.availableISAs = availableISAs
        self.size = size
        self.ascii = ascii
        self.color = color
        self.themeNames = themeNames
        self.view = view
        self.passIndex = max(0, passes.count - 1)
    }

    public var glyphs: Glyphs { ascii ? .ascii : .unicode }

    /// Mode and ISA cap as the user last asked for them (or as running).
    public var mode: ExecMode { pendingMode ?? snapshot?.mode ?? .int8 }
    public var isaCap: ISALevel { pendingCap ?? snapshot?.isaCap ?? detectedISA }
    public var recompiling: Bool { pendingMode != nil || pendingCap != nil }

    public static let minimumSize = Size(width: 80, height: 24)
    public var tooSmall: Bool { size.width < AppState.minimumSize.width || size.height < AppState.minimumSize.height }

    /// Whether the graph view shows before/after panes side by side.
    public var sideBySide: Bool { size.width >= 160 && passIndex > 0 }

    /// The graph the running profile refers to: the final pass for int8, the loaded graph otherwise.
    public func node(id: Int, preferStep: Int? = nil) -> (Node, Int)? {
        if let s = preferStep, passes.indices.contains(s), let n = passes[s].graph.node(id: id) { return (n, s) }
        for s in passes.indices.reversed() { if let n = passes[s].graph.node(id: id) { return (n, s) } }
        return nil
    }
}

// MARK: - Rows

/// One line of the graph table: a node of the current snapshot, or a removed one shown from the previous snapshot.
public struct GraphRow: Sendable {
    public var node: Node
    public var step: Int
    public var change: ChangeKind?
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
            if matchesFilter([r.node.name, r.node.type]) { rows.append(r) }
        }
        for g in leading { add(GraphRow(node: g, step: passIndex - 1, change: .removed)) }
        for n in step.graph.nodes {
            add(GraphRow(node: n, step: passIndex, change: kinds[n.id]))
            for g in ghostsAfter[n.id] ?? [] { add(GraphRow(node: g, step: passIndex - 1, change: .removed)) }
        }
        return rows
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

// MARK: - Layout shared by render and reduce (mouse hit-testing)

public struct Layout: Sendable {
    /// Screen rows: 0...1 header, 2 tabs, then the body, the key bar on the last row.
    public static let headerRows = 3
    public var size: Size

    public var keyBarY: Int { size.height - 1 }
    public var bodyY: Int { Layout.headerRows }
    public var bodyHeight: Int { max(0, size.height - Layout.headerRows - 1) }

    /// Y of the table header line in a view (graph view has the pass timeline and a summary line above it).
    public func tableHeaderY(_ v: ViewKind) -> Int { v == .graph ? bodyY + 2 : bodyY }
    public func firstRowY(_ v: ViewKind) -> Int { tableHeaderY(v) + 1 }
    /// Rows of data visible in a view (profile and compare keep their last line for totals).
    public func visibleRows(_ v: ViewKind) -> Int {
        let n = keyBarY - firstRowY(v) - (v == .graph ? 0 : 1)
        return max(1, n)
    }

    /// Tabs on the tab line: the view and its x range.
    public static func tabs() -> [(ViewKind, Range<Int>)] {
        var x = 1
        var out: [(ViewKind, Range<Int>)] = []
        for v in ViewKind.allCases {
            let label = tabLabel(v)
            out.append((v, x..<(x + label.count)))
            x += label.count + 1
        }
        return out
    }

    public static func tabLabel(_ v: ViewKind) -> String { " \(v.rawValue + 1) \(v.title) " }
}

/// A placed table column.
public struct PlacedColumn: Sendable {
    public var id: String
    public var title: String
    public var x: Int
    public var width: Int
    public var right: Bool
}

/// A column request: fixed `width` (0 = takes the remaining space, at least `minWidth`), dropped from the right
/// priority-wise (higher `priority` goes first) when the screen is too narrow.
public struct ColumnSpec: Sendable {
    public var id: String
    public var title: String
    public var width: Int
    public var minWidth: Int
    public var priority: Int
    public var right: Bool

    public init(_ id: String, _ title: String, width: Int, minWidth: Int = 0, priority: Int = 0, right: Bool = false) {
        self.id = id
        self.title = title
        self.width = width
        self.minWidth = minWidth
        self.priority = priority
        self.right = right
    }
}

/// Lays out columns in `width` cells with one space between them, dropping low-priority columns that do not fit.
public func layoutColumns(_ specs: [ColumnSpec], width: Int, startX: Int = 0) -> [PlacedColumn] {
    var kept = specs
    func need(_ s: [ColumnSpec]) -> Int { s.reduce(0) { $0 + ($1.width == 0 ? $1.minWidth : $1.width) } + max(0, s.count - 1) }
    while need(kept) > width, let drop = kept.indices.filter({ kept[$0].width > 0 }).max(by: { kept[$0].priority < kept[$1].priority }),
          kept[drop].priority > 0 {
        kept.remove(at: drop)
    }
    let fixed = kept.reduce(0) { $0 + $1.width } + max(0, kept.count - 1)
    let flexCount = kept.filter { $0.width == 0 }.count
    let flex = flexCount > 0 ? max(0, width - fixed) / flexCount : 0
    var x = startX
    var out: [PlacedColumn] = []
    for s in kept {
        let w = s.width == 0 ? max(s.minWidth, flex) : s.width
        out.append(PlacedColumn(id: s.id, title: s.title, x: x, width: w, right: s.right))
        x += w + 1
    }
    return out
}

public func profileColumnSpecs() -> [ColumnSpec] {
    [
        ColumnSpec("name", ProfileColumn.name.title, width: 0, minWidth: 16),
        ColumnSpec("type", ProfileColumn.type.title, width: 14, priority: 2),
        ColumnSpec("last", ProfileColumn.last.title, width: 8, priority: 3, right: true),
        ColumnSpec("avg", ProfileColumn.avg.title, width: 8, right: true),
        ColumnSpec("share", ProfileColumn.share.title, width: 6, right: true),
        ColumnSpec("bar", "", width: 10, priority: 5),
        ColumnSpec("precision", ProfileColumn.precision.title, width: 4, priority: 4),
        ColumnSpec("outPrecision", ProfileColumn.outPrecision.title, width: 4, priority: 8),
        ColumnSpec("execType", ProfileColumn.execType.title, width: 26, priority: 1),
        ColumnSpec("isa", ProfileColumn.isa.title, width: 11, priority: 6),
        ColumnSpec("status", ProfileColumn.status.title, width: 13, priority: 7),
    ]
}

public func profileColumnID(_ c: ProfileColumn) -> String {
    switch c {
    case .name: return "name"
    case .type: return "type"
    case .last: return "last"
    case .avg: return "avg"
    case .share: return "share"
    case .precision: return "precision"
    case .outPrecision: return "outPrecision"
    case .execType: return "execType"
    case .isa: return "isa"
    case .status: return "status"
    }
}

// MARK: - Reducer

/// Applies an action: returns the new state and the requests to make of the feed. Pure.
public func reduce(_ state: AppState, _ action: Action) -> (AppState, [Effect]) {
    var s = state
    var effects: [Effect] = []
    switch action {
    case .resize(let size):
        s.size = size
    case .feedError(let e):
        s.feedError = e
    case .message(let m):
        s.message = m
        s.messageTicks = 0
    case .passes(let mode, let steps):
        guard !steps.isEmpty else { break }
        s.passes = steps
        s.passesMode = mode
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
            if s.pendingTicks > 100 { s.pendingMode = nil; s.pendingCap = nil }
        }
    case .snapshot(let snap):
        guard !s.frozen else { break }
        s.snapshot = snap
        if let snap {
            if let m = s.pendingMode, m == snap.mode { s.pendingMode = nil }
            if let c = s.pendingCap, c == snap.isaCap { s.pendingCap = nil }
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

private func clampCursors(_ s: inout AppState) {
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

private func moveCursor(_ s: inout AppState, by delta: Int) {
    if s.detail != nil {
        s.detailScroll += delta
        return
    }
    s.cursor[s.view.rawValue] += delta
}

private func setCursor(_ s: inout AppState, to value: Int) {
    if s.detail != nil {
        s.detailScroll = value == Int.max ? 1_000_000 : value
        return
    }
    s.cursor[s.view.rawValue] = value == Int.max ? s.rowCount(s.view) - 1 : value
}

/// Opens the detail view for the row under the cursor.
private func openDetail(_ s: inout AppState) -> [Effect] {
    let c = s.cursor[s.view.rawValue]
    var target: DetailTarget?
    switch s.view {
    case .graph:
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

private func cycleMode(_ s: inout AppState) -> [Effect] {
    let order: [ExecMode] = [.int8, .fp32, .reference]
    let i = order.firstIndex(of: s.mode) ?? 0
    let next = order[(i + 1) % order.count]
    s.pendingMode = next
    s.pendingTicks = 0
    return [.setMode(next)]
}

private func stepISA(_ s: inout AppState, up: Bool) -> [Effect] {
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

private func sortBy(_ s: inout AppState, _ c: ProfileColumn) {
    if s.sortColumn == c { s.sortDescending.toggle() } else {
        s.sortColumn = c
        s.sortDescending = c.descendingByDefault
    }
}

private func reduceKey(_ s: inout AppState, _ key: Key) -> [Effect] {
    if key == .char("q") && !s.filterEditing || key == .function(10) { s.quit = true; return [.quit] }
    if s.showHelp {
        s.showHelp = false
        return []
    }
    if s.tooSmall { return [] }
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
            if s.view == .graph { s.passIndex += 1 } else { return openDetail(&s) }
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

private func reduceMouse(_ s: inout AppState, _ button: MouseButton, _ x: Int, _ y: Int) -> [Effect] {
    if s.showHelp {
        s.showHelp = false
        return []
    }
    if s.tooSmall { return [] }
    switch button {
    case .wheelUp: moveCursor(&s, by: -3); return []
    case .wheelDown: moveCursor(&s, by: 3); return []
    case .left: break
    }
    let layout = Layout(size: s.size)
    if y == 2 {
        for (v, r) in Layout.tabs() where r.contains(x) {
            s.detail = nil
            s.view = v
        }
        return []
    }
    guard s.detail == nil else { return [] }
    if s.view == .graph && y == layout.bodyY {
        // Pass timeline: click a step.
        for (i, r) in timelineSegments(s) where r.contains(x) { s.passIndex = i }
        return []
    }
    if s.view == .profile && y == layout.tableHeaderY(.profile) {
        for col in layoutColumns(profileColumnSpecs(), width: s.size.width) where x >= col.x && x <= col.x + col.width {
            let id = col.id == "bar" ? "share" : col.id
            if let c = ProfileColumn.allCases.first(where: { profileColumnID($0) == id }) { sortBy(&s, c) }
        }
        return []
    }
    let first = layout.firstRowY(s.view)
    if y >= first && y < first + layout.visibleRows(s.view) {
        let row = s.scroll[s.view.rawValue] + (y - first)
        if row < s.rowCount(s.view) {
            if s.cursor[s.view.rawValue] == row { return openDetail(&s) }
            s.cursor[s.view.rawValue] = row
        }
    }
    return []
}

/// The pass timeline's items as drawn (x ranges per step), shared by render and mouse hit-testing.
public func timelineSegments(_ s: AppState) -> [(Int, Range<Int>)] {
    let labels = s.passes.enumerated().map { i, p in " \(i) \(i == 0 ? "loaded" : p.name) " }
    let startX = 8
    let avail = s.size.width - startX - 3
    // Window of steps around the current one that fits.
    var lo = s.passIndex, hi = s.passIndex
    guard s.passes.indices.contains(s.passIndex) else { return [] }
    var used = labels[s.passIndex].count
    while true {
        var grew = false
        if hi + 1 < labels.count, used + labels[hi + 1].count + 1 <= avail { hi += 1; used += labels[hi].count + 1; grew = true }
        if lo - 1 >= 0, used + labels[lo - 1].count + 1 <= avail { lo -= 1; used += labels[lo].count + 1; grew = true }
        if !grew { break }
    }
    var x = startX + (lo > 0 ? 2 : 0)
    var out: [(Int, Range<Int>)] = []
    for i in lo...hi {
        out.append((i, x..<(x + labels[i].count)))
        x += labels[i].count + 1
    }
    return out
}
