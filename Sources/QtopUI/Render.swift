import QtopGraph
import QtopPasses
import QtopRuntime

/// Styles from a theme, honouring "no colour" (then only attributes are used).
public struct Painter: Sendable {
    public let theme: Theme
    public let color: Bool

    public init(theme: Theme, color: Bool) {
        self.theme = theme
        self.color = color
    }

    public func style(_ fg: ThemeKey = .main_fg, bg: ThemeKey = .main_bg, _ attrs: CellAttributes = []) -> Style {
        guard color else { return Style(attrs: attrs) }
        return Style(fg: theme[fg], bg: theme[bg], attrs: attrs)
    }

    public var base: Style { style() }

    /// The selected row: selection colours, or reverse video without colours.
    public func selected(_ s: Style) -> Style {
        guard color else { return Style(attrs: s.attrs.union(.reverse)) }
        return Style(fg: theme[.selected_fg], bg: theme[.selected_bg], attrs: s.attrs.subtracting(.dim).union(.bold))
    }
}

/// Draws the whole screen for `state`.
public func render(_ state: AppState, theme: Theme) -> CellGrid {
    let p = Painter(theme: theme, color: state.color)
    var g = CellGrid(width: state.size.width, height: state.size.height, style: p.base)
    if state.tooSmall {
        renderTooSmall(&g, state, p)
        return g
    }
    renderHeader(&g, state, p)
    if let d = state.detail {
        renderDetail(&g, state, p, d)
    } else {
        switch state.view {
        case .graph: renderGraph(&g, state, p)
        case .profile: renderProfile(&g, state, p)
        case .compare: renderCompare(&g, state, p)
        }
    }
    renderKeyBar(&g, state, p)
    if state.showHelp { renderHelp(&g, state, p) }
    return g
}

// MARK: - Pieces

typealias Seg = (String, Style)

/// Draws segments left to right from x, clipped at `maxX`; returns the x after the last one.
@discardableResult
func drawSegs(_ g: inout CellGrid, _ x: Int, _ y: Int, _ segs: [Seg], maxX: Int? = nil) -> Int {
    var cx = x
    let limit = maxX ?? g.width
    for (text, style) in segs {
        if cx >= limit { break }
        cx = g.put(cx, y, text, style, maxWidth: limit - cx)
    }
    return cx
}

func segsWidth(_ segs: [Seg]) -> Int { segs.reduce(0) { $0 + displayWidth($1.0) } }

func renderTooSmall(_ g: inout CellGrid, _ s: AppState, _ p: Painter) {
    let x = s.ascii ? "x" : "×"
    let lines = ["terminal too small (need 80\(x)24)", "current \(s.size.width)\(x)\(s.size.height) - q quits"]
    let top = max(0, s.size.height / 2 - 1)
    for (i, l) in lines.enumerated() {
        let t = truncate(l, s.size.width, ellipsis: s.glyphs.ellipsis)
        g.put(max(0, (s.size.width - displayWidth(t)) / 2), top + i, t, p.style(i == 0 ? .warning : .inactive_fg, i == 0 ? [.bold] : []))
    }
}

func renderHeader(_ g: inout CellGrid, _ s: AppState, _ p: Painter) {
    let w = s.size.width
    let gl = s.glyphs
    let sep: Seg = ("  ", p.base)
    // Line 0: name, inputs | CPU.
    var left: [Seg] = [(" qtop ", p.style(.title, [.bold])), (s.modelName, p.style(.title, [.bold]))]
    if let g0 = s.passes.first?.graph, !g0.inputs.isEmpty {
        let ins = g0.inputs.map { "\($0)\(fmtShape(g0.values[$0]?.shape))" }.joined(separator: " ")
        left += [sep, ("in ", p.style(.inactive_fg)), (ins, p.base)]
    }
    let leftW = segsWidth(left)
    // The CPU goes on the right; its name is shortened (or dropped) before the model name is.
    let isa = s.detectedISA.rawValue
    let fixedW = displayWidth("CPU  ()  ") + displayWidth(isa)
    let nameRoom = w - leftW - fixedW - 2
    let cpu = s.cpuName.isEmpty ? "unknown" : s.cpuName
    var right: [Seg] = [("CPU ", p.style(.inactive_fg))]
    if nameRoom >= min(12, displayWidth(cpu)) {
        right += [(truncate(cpu, nameRoom, ellipsis: gl.ellipsis), p.base), (" (", p.style(.inactive_fg)), (isa, p.style(.hi_fg)), (") ", p.style(.inactive_fg))]
    } else {
        right += [(isa, p.style(.hi_fg)), (" ", p.base)]
    }
    let rw = segsWidth(right)
    let leftEnd = drawSegs(&g, 0, 0, left, maxX: max(0, w - rw - 1))
    if leftEnd + rw + 1 <= w { drawSegs(&g, w - rw, 0, right) }

    // Line 1: mode, cap, threads, latency, fps, sparkline.
    let dim = p.style(.inactive_fg)
    var groups: [[Seg]] = [[(" mode ", dim), (s.mode.rawValue, p.style(s.mode == .int8 ? .int8 : .fp32, [.bold]))],
                           [("  cap ", dim), (gl.le + s.isaCap.rawValue, p.style(.hi_fg))]]
    if let snap = s.snapshot {
        groups += [[("  \(snap.threads)", p.base), (" thr", dim)],
                   [("  med ", dim), (fmtMs(snap.latencyMedianMs), p.style(.hi_fg, [.bold])),
                    (" p90 ", dim), (fmtMs(snap.latencyP90Ms), p.style(.hi_fg)), (" ms", dim)],
                   [("  ", p.base), (fmt(snap.fps, 1), p.style(.hi_fg, [.bold])), (" fps", dim)],
                   [("  \(snap.runs)", p.base), (" runs", dim)]]
    } else {
        groups += [[("  waiting for the first run" + gl.ellipsis, dim)]]
    }
    // Whole groups only: drop the ones that do not fit rather than cutting a number in half.
    var x = 0
    for grp in groups {
        if x + segsWidth(grp) > w { break }
        x = drawSegs(&g, x, 1, grp)
    }
    if let snap = s.snapshot, w - x - 3 >= 8 {
        g.put(x + 2, 1, gl.sparkline(snap.latencyHistory, width: w - x - 3), p.style(.graph))
    }

    // Line 2: tabs and badges.
    for (v, r) in Layout.tabs() {
        let active = v == s.view
        let st = active ? p.style(.tab_active_fg, bg: .tab_active_bg, [.bold]) : p.style(.tab_inactive_fg)
        g.put(r.lowerBound, 2, Layout.tabLabel(v), p.color || !active ? st : Style(attrs: [.reverse, .bold]))
    }
    var badges: [Seg] = []
    if s.detail != nil { badges += [("detail ", p.style(.inactive_fg))] }
    if !s.filter.isEmpty || s.filterEditing {
        badges += [("filter: ", p.style(.inactive_fg)), (s.filter + (s.filterEditing ? "_" : ""), p.style(.hi_fg, [.bold])), ("  ", p.base)]
    }
    if let e = s.feedError {
        let room = max(10, w - 40 - segsWidth(badges))
        badges += [(truncate("runner: " + e, room, ellipsis: gl.ellipsis), p.style(.removed, [.bold])), ("  ", p.base)]
    }
    if s.recompiling { badges += [("recompiling" + gl.ellipsis, p.style(.warning, [.bold])), ("  ", p.base)] }
    if s.frozen {
        let st = p.color ? Style(fg: Color(r: 0, g: 0, b: 0, ansi16: 0), bg: p.theme[.frozen], attrs: [.bold]) : Style(attrs: [.reverse, .bold])
        badges += [(" FROZEN ", st), (" ", p.base)]
    }
    let tabsEnd = Layout.tabs().last!.1.upperBound + 1
    let bw = segsWidth(badges)
    drawSegs(&g, max(tabsEnd, w - bw), 2, badges)
}

func keyBarItems(_ s: AppState) -> [(String, String)] {
    let gl = s.glyphs
    if s.filterEditing { return [("type", "filter"), ("Enter", "keep"), ("Esc", "clear"), (gl.up + gl.down, "move")] }
    if s.detail != nil {
        return [("Esc", "back"), ("j/k", "scroll"), ("m", "mode"), ("i/I", "ISA"), ("space", "freeze"), ("?", "help"), ("q", "quit")]
    }
    switch s.view {
    case .graph:
        return [("\(gl.left)/\(gl.right)", "pass"), ("Enter", "detail"), ("/", "filter"), ("m", "mode"), ("i/I", "ISA"),
                ("t", "theme"), ("Tab", "view"), ("?", "help"), ("q", "quit")]
    case .profile:
        return [("Enter", "detail"), ("</>", "sort"), ("r", "reverse"), ("/", "filter"), ("space", "freeze"), ("z", "reset"),
                ("m", "mode"), ("i/I", "ISA"), ("?", "help"), ("q", "quit")]
    case .compare:
        return [("Enter", "detail"), ("/", "filter"), ("m", "mode"), ("space", "freeze"), ("Tab", "view"), ("?", "help"), ("q", "quit")]
    }
}

func renderKeyBar(_ g: inout CellGrid, _ s: AppState, _ p: Painter) {
    let y = s.size.height - 1
    let bg = p.color ? p.style(.keybar_fg, bg: .keybar_bg) : Style(attrs: [.reverse])
    g.fill(x: 0, y: y, width: s.size.width, height: 1, style: bg)
    var right = s.size.width + 1
    if let hint = scrollHint(s) {
        right = s.size.width - displayWidth(hint)
        g.put(right, y, hint, p.color ? p.style(.keybar_fg, bg: .keybar_bg, [.bold]) : Style(attrs: [.reverse, .bold]))
    }
    var segs: [Seg] = [(" ", bg)]
    if let m = s.message, !s.filterEditing {
        segs.append((m, p.color ? p.style(.warning, bg: .keybar_bg, [.bold]) : Style(attrs: [.reverse, .bold])))
        drawSegs(&g, 0, y, segs, maxX: right - 1)
        return
    }
    for (k, label) in keyBarItems(s) {
        let kst = p.color ? p.style(.keybar_key, bg: .keybar_bg, [.bold]) : Style(attrs: [.reverse, .bold])
        segs += [(k, kst), (" " + label + "  ", bg)]
    }
    drawSegs(&g, 0, y, segs, maxX: right - 1)
}

// MARK: - Graph view

func graphColumnSpecs() -> [ColumnSpec] {
    [
        ColumnSpec("idx", "#", width: 3, right: true),
        ColumnSpec("mark", "", width: 1),
        ColumnSpec("type", "Op", width: 15),
        ColumnSpec("name", "Output", width: 0, minWidth: 12),
        ColumnSpec("shape", "Shape", width: 14, priority: 2),
        ColumnSpec("dtype", "DType", width: 5, priority: 1),
        ColumnSpec("quant", "Quant", width: 22, priority: 3),
        ColumnSpec("prov", "Fused", width: 5, priority: 4),
        ColumnSpec("prec", "Ran", width: 4, priority: 5),
        ColumnSpec("ms", "Avg ms", width: 7, priority: 6, right: true),
    ]
}

func renderTableHeader(_ g: inout CellGrid, _ y: Int, _ cols: [PlacedColumn], _ p: Painter, sorted: String? = nil, arrow: String = "") {
    for c in cols {
        let isSort = c.id == sorted
        let title = isSort ? c.title + arrow : c.title
        g.put(c.x, y, pad(title, c.width, right: c.right), p.style(.table_header, isSort ? [.bold, .underline] : [.bold]))
    }
}

func graphRowCells(_ row: GraphRow, index: Int, graph: Graph, cols: [PlacedColumn], _ s: AppState, _ p: Painter,
                   profile: [Int: LayerProfile] = [:]) -> [(PlacedColumn, String, Style)] {
    let n = row.node
    let outName = n.allOutputs.first
    let info = outName.flatMap { graph.values[$0] }
    let dtype = info?.dtype
    let ghost = row.ghost
    let dimmed = p.style(.inactive_fg, [.dim])
    var out: [(PlacedColumn, String, Style)] = []
    for c in cols {
        var text = ""
        var st = p.base
        switch c.id {
        case "idx": text = String(index); st = p.style(.inactive_fg)
        case "mark":
            if let k = row.change { text = String(s.glyphs.mark[k] ?? " ") }
            st = p.style(row.change.map(changeKey) ?? .main_fg, [.bold])
        case "type":
            text = n.type
            st = isQDQ(n.type) ? p.style(.qdq) : n.provenance.count > 1 ? p.style(.fused, [.bold]) : p.base
        case "name":
            text = n.name
            if let k = row.change, k != .removed { st = p.style(changeKey(k)) }
        case "shape": text = fmtShape(info?.shape)
        case "dtype":
            text = fmtDType(dtype)
            if dtype == .i8 || dtype == .u8 { st = p.style(.int8) } else if dtype?.isFloatingPoint == true { st = p.style(.fp32) }
        case "quant":
            text = quantSummary(n, graph) ?? ""
            st = p.style(.qdq)
        case "prov":
            if n.provenance.count > 1 { text = "\(s.glyphs.times)\(n.provenance.count)"; st = p.style(.fused) }
        case "prec":
            if let l = profile[n.id], l.status == .executed {
                text = l.precision
                st = p.style(l.precision.contains("8") ? .int8 : .fp32)
            }
        case "ms":
            if let l = profile[n.id], l.status == .executed { text = fmtMs(l.meanMs) }
        default: break
        }
        if ghost && c.id != "mark" { st = dimmed }
        out.append((c, text, st))
    }
    return out
}

func changeKey(_ k: ChangeKind) -> ThemeKey {
    switch k {
    case .removed: return .removed
    case .added: return .added
    case .fused: return .fused
    case .rewritten: return .rewritten
    }
}

func drawRow(_ g: inout CellGrid, y: Int, x: Int, width: Int, cells: [(PlacedColumn, String, Style)], selected: Bool, _ p: Painter, ellipsis: String) {
    if selected { g.fill(x: x, y: y, width: width, height: 1, style: p.selected(p.base)) }
    for (c, text, st) in cells {
        g.put(c.x, y, pad(text, c.width, right: c.right, ellipsis: ellipsis), selected ? p.selected(st) : st)
    }
}

func renderGraph(_ g: inout CellGrid, _ s: AppState, _ p: Painter) {
    let layout = Layout(size: s.size)
    let w = s.size.width
    let gl = s.glyphs
    guard s.passes.indices.contains(s.passIndex) else {
        g.put(1, layout.bodyY, "no graph", p.style(.inactive_fg))
        return
    }
    // Timeline.
    let ty = layout.bodyY
    g.put(0, ty, " Passes", p.style(.title, [.bold]))
    let segs = timelineSegments(s)
    if let first = segs.first, first.0 > 0 { g.put(first.1.lowerBound - 2, ty, "<", p.style(.inactive_fg)) }
    for (i, r) in segs {
        let label = " \(i) \(i == 0 ? "loaded" : s.passes[i].name) "
        let st = i == s.passIndex ? (p.color ? p.style(.selected_fg, bg: .selected_bg, [.bold]) : Style(attrs: [.reverse, .bold]))
            : p.style(i < s.passIndex ? .main_fg : .inactive_fg)
        g.put(r.lowerBound, ty, label, st)
    }
    if let last = segs.last, last.0 < s.passes.count - 1 { g.put(last.1.upperBound + 1, ty, ">", p.style(.inactive_fg)) }

    // Summary of the step.
    let step = s.passes[s.passIndex]
    var counts: [ChangeKind: Int] = [:]
    for c in step.changes { counts[c.kind, default: 0] += 1 }
    var sum: [Seg] = [(" step \(s.passIndex)/\(s.passes.count - 1) ", p.style(.inactive_fg)),
                      (s.passIndex == 0 ? "as loaded" : step.name, p.style(.title, [.bold]))]
    if s.passIndex == 0 {
        let qdq = step.graph.nodes.filter { isQDQ($0.type) }.count
        sum += [("  \(step.graph.nodes.count) nodes, ", p.base), ("\(qdq) QDQ", p.style(.qdq)), (" ops", p.base)]
    } else {
        sum += [("  ", p.base)]
        for k in [ChangeKind.removed, .added, .fused, .rewritten] {
            sum += [("\(counts[k] ?? 0) \(k.rawValue)", p.style(changeKey(k))), ("  ", p.base)]
        }
        sum += [("nodes \(s.passes[s.passIndex - 1].graph.nodes.count)\(gl.right)\(step.graph.nodes.count)", p.style(.inactive_fg))]
        if s.sideBySide { sum += [("   left: before  right: after", p.style(.inactive_fg))] }
    }
    drawSegs(&g, 0, ty + 1, sum)

    let hy = layout.tableHeaderY(.graph)
    let top = layout.firstRowY(.graph)
    let vis = layout.visibleRows(.graph)
    let rows = s.graphRows
    let cur = s.cursor[ViewKind.graph.rawValue]
    let scroll = s.scroll[ViewKind.graph.rawValue]
    let profile = Dictionary((s.snapshot?.layers ?? []).map { ($0.nodeID, $0) }, uniquingKeysWith: { a, _ in a })

    if s.sideBySide {
        let paneW = (w - 1) / 2
        let rightX = paneW + 1
        for y in hy..<(top + vis) { g.put(paneW, y, String(gl.vLine), p.style(.border)) }
        // Left: previous snapshot, with what this pass removed marked.
        let prev = s.passes[s.passIndex - 1].graph
        let currentIDs = Set(step.graph.nodes.map(\.id))
        let leftRows = prev.nodes.filter { s.matchesFilter([$0.name, $0.type]) }
            .map { GraphRow(node: $0, step: s.passIndex - 1, change: currentIDs.contains($0.id) ? nil : .removed) }
        let lcols = layoutColumns(graphColumnSpecs(), width: paneW)
        renderTableHeader(&g, hy, lcols, p)
        let selectedID = rows.indices.contains(cur) ? rows[cur].node.id : nil
        let lscroll = min(scroll, max(0, leftRows.count - vis))
        for i in 0..<vis {
            let r = lscroll + i
            guard r < leftRows.count else { break }
            var cells = graphRowCells(leftRows[r], index: r, graph: prev, cols: lcols, s, p, profile: profile)
            if leftRows[r].ghost { cells = cells.map { ($0.0, $0.1, $0.0.id == "mark" ? $0.2 : p.style(.removed, [.dim])) } }
            drawRow(&g, y: top + i, x: 0, width: paneW, cells: cells, selected: leftRows[r].node.id == selectedID, p, ellipsis: gl.ellipsis)
        }
        let rcols = layoutColumns(graphColumnSpecs(), width: w - rightX, startX: rightX)
        renderTableHeader(&g, hy, rcols, p)
        for i in 0..<vis {
            let r = scroll + i
            guard r < rows.count else { break }
            let cells = graphRowCells(rows[r], index: r, graph: step.graph, cols: rcols, s, p, profile: profile)
            drawRow(&g, y: top + i, x: rightX, width: w - rightX, cells: cells, selected: r == cur, p, ellipsis: gl.ellipsis)
        }
    } else {
        let cols = layoutColumns(graphColumnSpecs(), width: w)
        renderTableHeader(&g, hy, cols, p)
        var index = 0
        var indexFor: [Int] = []
        for r in rows { indexFor.append(r.ghost ? -1 : index); if !r.ghost { index += 1 } }
        for i in 0..<vis {
            let r = scroll + i
            guard r < rows.count else { break }
            let row = rows[r]
            let graph = row.ghost ? s.passes[s.passIndex - 1].graph : step.graph
            var cells = graphRowCells(row, index: r, graph: graph, cols: cols, s, p, profile: profile)
            cells = cells.map { c in c.0.id == "idx" ? (c.0, row.ghost ? "" : String(indexFor[r]), c.2) : c }
            drawRow(&g, y: top + i, x: 0, width: w, cells: cells, selected: r == cur, p, ellipsis: gl.ellipsis)
        }
        if rows.isEmpty {
            g.put(1, top, s.filter.isEmpty ? "empty graph" : "no nodes match '\(s.filter)'", p.style(.inactive_fg))
        }
    }
}

/// "12-40/120" when the current list or detail view scrolls, for the right end of the key bar.
func scrollHint(_ s: AppState) -> String? {
    let layout = Layout(size: s.size)
    let total: Int, top: Int, vis: Int
    if s.detail != nil {
        total = detailLineCount(s)
        vis = layout.bodyHeight
        top = min(s.detailScroll, max(0, total - vis))
    } else {
        total = s.rowCount(s.view)
        vis = layout.visibleRows(s.view)
        top = s.scroll[s.view.rawValue]
    }
    guard total > vis else { return nil }
    return " \(top + 1)-\(min(total, top + vis))/\(total) "
}

// MARK: - Profile view

func renderProfile(_ g: inout CellGrid, _ s: AppState, _ p: Painter) {
    let layout = Layout(size: s.size)
    let gl = s.glyphs
    let cols = layoutColumns(profileColumnSpecs(), width: s.size.width)
    let hy = layout.tableHeaderY(.profile)
    renderTableHeader(&g, hy, cols, p, sorted: profileColumnID(s.sortColumn), arrow: s.sortDescending ? gl.down : gl.up)
    let rows = s.profileRows
    let top = layout.firstRowY(.profile)
    let vis = layout.visibleRows(.profile)
    let cur = s.cursor[ViewKind.profile.rawValue]
    let scroll = s.scroll[ViewKind.profile.rawValue]
    let maxShare = max(1e-9, rows.map(\.percent).max() ?? 1)
    for i in 0..<vis {
        let r = scroll + i
        guard r < rows.count else { break }
        let l = rows[r]
        let notRun = l.status != .executed
        var cells: [(PlacedColumn, String, Style)] = []
        for c in cols {
            var text = ""
            var st = p.base
            switch c.id {
            case "name": text = l.name
                if l.fusedFrom.count > 1 { st = p.style(.fused) }
            case "type": text = l.layerType
                if isQDQ(l.layerType) { st = p.style(.qdq) }
            case "last": text = fmtMs(l.lastMs)
            case "avg": text = fmtMs(l.meanMs); st = p.style(.main_fg, [.bold])
            case "share": text = fmt(l.percent, 1) + "%"
            case "bar":
                text = gl.bar(l.percent / maxShare, width: c.width)
                st = p.style(l.percent >= 20 ? .bar_high : l.percent >= 5 ? .bar_mid : .bar_low)
            case "precision": text = l.precision
                let pr = l.precision.uppercased()
                st = p.style(pr.contains("8") ? .int8 : pr.contains("FP") || pr.contains("F32") ? .fp32 : .main_fg)
            case "execType": text = l.execType
            case "isa": text = l.isa
            case "status": text = l.status.rawValue
            default: break
            }
            if notRun && c.id != "name" { st = p.style(.inactive_fg) }
            cells.append((c, text, st))
        }
        drawRow(&g, y: top + i, x: 0, width: s.size.width, cells: cells, selected: r == cur, p, ellipsis: gl.ellipsis)
    }
    if rows.isEmpty {
        let msg = s.snapshot == nil ? "waiting for the first profile" + gl.ellipsis : "no layers match '\(s.filter)'"
        g.put(1, top, msg, p.style(.inactive_fg))
    }
    if let snap = s.snapshot {
        let ran = snap.layers.filter { $0.status == .executed }.count
        let dim = p.style(.inactive_fg)
        drawSegs(&g, 0, top + vis, [("total ", dim), (fmtMs(snap.totalMs), p.style(.main_fg, [.bold])), (" ms", dim),
                                    ("  cpu ", dim), (fmtMs(snap.totalCpuMs), p.base), (" ms", dim),
                                    ("  \(ran) of \(snap.layers.count) layers ran", dim),
                                    ("  latency min ", dim), (fmtMs(snap.latencyMinMs), p.base), (" max ", dim),
                                    (fmtMs(snap.latencyMaxMs), p.base), (" last ", dim), (fmtMs(snap.latencyLastMs), p.base),
                                    (" ms", dim)])
    }
}

// MARK: - Compare view

func compareColumnSpecs() -> [ColumnSpec] {
    [
        ColumnSpec("name", "Layer", width: 0, minWidth: 16),
        ColumnSpec("type", "Type", width: 16, priority: 2),
        ColumnSpec("int8", "int8 ms", width: 9, right: true),
        ColumnSpec("fp32", "fp32 ms", width: 9, right: true),
        ColumnSpec("speedup", "Speedup", width: 8, right: true),
        ColumnSpec("bar", "", width: 16, priority: 1),
    ]
}

func renderCompare(_ g: inout CellGrid, _ s: AppState, _ p: Painter) {
    let layout = Layout(size: s.size)
    let gl = s.glyphs
    let cols = layoutColumns(compareColumnSpecs(), width: s.size.width)
    let hy = layout.tableHeaderY(.compare)
    renderTableHeader(&g, hy, cols, p)
    let top = layout.firstRowY(.compare)
    let vis = layout.visibleRows(.compare)
    guard s.comparison != nil else {
        g.put(1, top, "no int8/fp32 comparison yet" + gl.ellipsis, p.style(.inactive_fg))
        g.put(1, top + 1, "the runner fills this view once it has timed the model in both int8 and fp32 mode", p.style(.inactive_fg))
        return
    }
    let rows = s.compareRows
    let cur = s.cursor[ViewKind.compare.rawValue]
    let scroll = s.scroll[ViewKind.compare.rawValue]
    let maxSpeed = max(1, rows.compactMap(\.speedup).max() ?? 1)
    func cellsFor(_ name: String, _ type: String, _ a: Double?, _ b: Double?, bold: Bool) -> [(PlacedColumn, String, Style)] {
        let sp: Double? = (a != nil && b != nil && a! > 0) ? b! / a! : nil
        return cols.map { c in
            let extra: CellAttributes = bold ? [.bold] : []
            switch c.id {
            case "name": return (c, name, p.style(.main_fg, extra))
            case "type": return (c, type, isQDQ(type) ? p.style(.qdq) : p.base)
            case "int8": return (c, a.map(fmtMs) ?? "-", p.style(.int8, extra))
            case "fp32": return (c, b.map(fmtMs) ?? "-", p.style(.fp32, extra))
            case "speedup": return (c, sp.map { fmt($0, 2) + gl.times } ?? "-", p.style(sp.map { $0 >= 1 ? .speedup_good : .speedup_bad } ?? .inactive_fg, extra.union(.bold)))
            case "bar": return (c, sp.map { gl.bar($0 / maxSpeed, width: c.width) } ?? "", p.style(sp.map { $0 >= 1 ? .speedup_good : .speedup_bad } ?? .inactive_fg))
            default: return (c, "", p.base)
            }
        }
    }
    for i in 0..<vis {
        let r = scroll + i
        guard r < rows.count else { break }
        let row = rows[r]
        drawRow(&g, y: top + i, x: 0, width: s.size.width, cells: cellsFor(row.name, row.layerType, row.int8Ms, row.fp32Ms, bold: false),
                selected: r == cur, p, ellipsis: gl.ellipsis)
    }
    if rows.isEmpty { g.put(1, top, "no layers match '\(s.filter)'", p.style(.inactive_fg)) }
    // Totals over all layers (not only the filtered ones).
    let all = s.comparison ?? []
    let ta = all.compactMap(\.int8Ms).reduce(0, +), tb = all.compactMap(\.fp32Ms).reduce(0, +)
    let ty = top + vis
    g.fill(x: 0, y: ty, width: s.size.width, height: 1, style: p.base)
    drawRow(&g, y: ty, x: 0, width: s.size.width, cells: cellsFor("total (\(all.count) layers)", "", ta, tb, bold: true), selected: false, p, ellipsis: gl.ellipsis)
}

// MARK: - Detail view

/// The detail view's lines for a node (also used to clamp its scrolling).
func detailLines(_ s: AppState, _ p: Painter, _ d: DetailTarget) -> [[Seg]] {
    let gl = s.glyphs
    guard let (node, stepIndex) = s.node(id: d.nodeID, preferStep: d.step) else {
        return [[("node #\(d.nodeID) is not in any pass snapshot", p.style(.warning))]]
    }
    let graph = s.passes[stepIndex].graph
    let h = p.style(.title, [.bold])
    let dim = p.style(.inactive_fg)
    var lines: [[Seg]] = []
    let stepName = stepIndex == 0 ? "as loaded" : s.passes[stepIndex].name
    lines.append([(node.name, h), ("  \(node.type)", isQDQ(node.type) ? p.style(.qdq, [.bold]) : p.style(.main_fg, [.bold])),
                  ("  node #\(node.id)  step \(stepIndex) (\(stepName))", dim)])
    lines.append([])
    func valueLine(_ slot: String, _ v: String) -> [Seg] {
        let info = graph.values[v]
        let const = info?.constant != nil
        let dt = info?.dtype
        let dtStyle = dt == .i8 || dt == .u8 ? p.style(.int8) : dt?.isFloatingPoint == true ? p.style(.fp32) : p.base
        return [("  " + pad(slot, 10), dim), (v, p.base), (const ? " (const)" : "", dim), ("  " + fmtDType(dt), dtStyle),
                ("  " + fmtShape(info?.shape), p.base)]
    }
    lines.append([("Timing", h)])
    if let l = s.snapshot?.layers.first(where: { $0.nodeID == node.id }) {
        lines.append([("  last ", dim), (fmtMs(l.lastMs), p.base), ("  avg ", dim), (fmtMs(l.meanMs), p.style(.main_fg, [.bold])),
                      ("  median ", dim), (fmtMs(l.medianMs), p.base), ("  min ", dim), (fmtMs(l.minMs), p.base),
                      (" ms  share ", dim), (fmt(l.percent, 1) + "%", p.style(.hi_fg)), ("  \(l.status.rawValue)", dim)])
        lines.append([("  ran as ", dim), (l.execType, p.base), ("  precision ", dim), (l.precision, p.base)])
        if !l.history.isEmpty {
            lines.append([("  history ", dim), (gl.sparkline(l.history, width: min(60, s.size.width - 30)), p.style(.graph)),
                          ("  \(l.history.count) runs", dim)])
        }
    } else {
        lines.append([("  not in the running graph (mode \(s.mode.rawValue))", dim)])
    }
    lines.append([("Dispatch", h)])
    if let dd = s.dispatch, s.dispatchNodeID == node.id {
        lines.append([("  chosen ", dim), (dd.execType, p.style(.added, [.bold])), ("  (\(dd.implementation) @ \(dd.isa.rawValue))", dim)])
        for r in dd.rejected {
            lines.append([("  rejected ", dim), ("\(r.implementation) @ \(r.isa.rawValue)", p.style(.removed)), (": " + r.reason, p.base)])
        }
        if dd.rejected.isEmpty { lines.append([("  no other candidates", dim)]) }
    } else {
        lines.append([("  no dispatch information", dim)])
    }
    lines.append([("Provenance", h)])
    if node.provenance.count > 1 {
        lines.append([("  fused from \(node.provenance.count) Paddle ops:", p.style(.fused))])
        for o in node.provenance { lines.append([("    " + o, p.base)]) }
    } else {
        lines.append([("  original Paddle op " + (node.provenance.first ?? node.name), p.base)])
    }
    lines.append([("Inputs", h)])
    for slot in node.inputs { for v in slot.args { lines.append(valueLine(slot.name, v)) } }
    lines.append([("Outputs", h)])
    for slot in node.outputs { for v in slot.args { lines.append(valueLine(slot.name, v)) } }
    // The file's attributes, then the defaults the op's spec applied (marked), from the one decoder.
    let attributes = OpSpecs.attributeListing(node)
    if !attributes.isEmpty {
        lines.append([("Attributes", h)])
        for a in attributes {
            lines.append([("  " + pad(a.name, 22), dim), (a.value.display, p.base)] + (a.isDefault ? [("  (default)", dim)] : []))
        }
    }
    if !s.weightStats.isEmpty {
        lines.append([("Weights", h)])
        for w in s.weightStats {
            lines.append([("  " + w.name, p.base), ("  \(w.dtype.rawValue) \(fmtShape(w.shape))", dim)])
            lines.append([("    min ", dim), (fmtSci(w.min), p.base), ("  max ", dim), (fmtSci(w.max), p.base),
                          ("  mean ", dim), (fmtSci(w.mean), p.base), ("  std ", dim), (fmtSci(w.std), p.base),
                          ("  n=\(w.count)", dim)])
        }
    }
    if let q = quantSummary(node, graph) {
        lines.append([("Quantization", h)])
        lines.append([("  " + q, p.style(.qdq))])
        for slot in ["Scale", "InScale", "Scales", "OutScale", "ZeroPoint"] {
            if let v = node.input(slot), let t = graph.constant(v) {
                let vals = t.floatValues()
                let shown = vals.prefix(8).map { fmtSci(Double($0)) }.joined(separator: ", ")
                lines.append([("  " + pad(slot, 10), dim), ("[" + shown + (vals.count > 8 ? ", \(gl.ellipsis) (\(vals.count))" : "") + "]", p.base)])
            }
        }
    }
    return lines
}

func renderDetail(_ g: inout CellGrid, _ s: AppState, _ p: Painter, _ d: DetailTarget) {
    let layout = Layout(size: s.size)
    let lines = detailLines(s, p, d)
    let vis = layout.bodyHeight
    let scroll = min(s.detailScroll, max(0, lines.count - vis))
    for i in 0..<vis {
        let r = scroll + i
        guard r < lines.count else { break }
        drawSegs(&g, 1, layout.bodyY + i, lines[r], maxX: s.size.width - 1)
    }
}

/// Number of lines in the detail view (for clamping scroll).
public func detailLineCount(_ s: AppState) -> Int {
    guard let d = s.detail else { return 0 }
    return detailLines(s, Painter(theme: .builtinDefault, color: false), d).count
}

// MARK: - Help

public let helpLines: [(String, String)] = [
    ("1 2 3, Tab", "graph / profile / compare view (Shift-Tab back)"),
    ("Enter, l", "open the layer under the cursor; Esc, h, Left back"),
    ("j k, Up Down", "move; g G / Home End first / last"),
    ("Ctrl-d Ctrl-u", "half page; PgUp PgDn, Ctrl-b Ctrl-f page"),
    ("Left Right, [ ]", "graph view: step through the passes"),
    ("< > (F6), r", "profile: sort column; reverse the order"),
    ("/ (F3, F4)", "filter by name/type; Enter keeps, Esc clears"),
    ("space (F5)", "freeze: stop taking new data, keep browsing"),
    ("z (F8)", "reset the runner's statistics"),
    ("m", "cycle mode int8 -> fp32 -> reference"),
    ("i, I", "lower / raise the ISA cap (kernels re-dispatch)"),
    ("t", "next theme"),
    ("p (F2)", "save the screen as text (qtop-screen-*.txt)"),
    ("mouse", "click tabs, rows (twice: open), headers (sort)"),
    ("Ctrl-l", "redraw the screen"),
    ("?, F1", "this help; any key closes it"),
    ("q, F10", "quit"),
]

func renderHelp(_ g: inout CellGrid, _ s: AppState, _ p: Painter) {
    let gl = s.glyphs
    let keyW = 17
    let boxW = min(s.size.width - 4, 72)
    let boxH = min(s.size.height - 2, helpLines.count + 4)
    let x0 = (s.size.width - boxW) / 2
    let y0 = (s.size.height - boxH) / 2
    let border = p.style(.border)
    g.fill(x: x0, y: y0, width: boxW, height: boxH, style: p.base)
    g.put(x0, y0, String(gl.tl) + String(repeating: String(gl.hLine), count: boxW - 2) + String(gl.tr), border)
    g.put(x0, y0 + boxH - 1, String(gl.bl) + String(repeating: String(gl.hLine), count: boxW - 2) + String(gl.br), border)
    for y in (y0 + 1)..<(y0 + boxH - 1) {
        g.put(x0, y, String(gl.vLine), border)
        g.put(x0 + boxW - 1, y, String(gl.vLine), border)
    }
    g.put(x0 + 2, y0, " qtop help ", p.style(.title, [.bold]))
    let theme = s.themeNames.indices.contains(s.themeIndex) ? s.themeNames[s.themeIndex] : "default"
    g.put(x0 + 2, y0 + 1, "theme \(theme)  \(s.ascii ? "ascii" : "utf-8")  \(s.color ? "colour" : "no colour")", p.style(.inactive_fg), maxWidth: boxW - 4)
    for (i, (k, d)) in helpLines.prefix(max(0, boxH - 4)).enumerated() {
        let y = y0 + 2 + i
        g.put(x0 + 2, y, pad(k, keyW), p.style(.keybar_key, [.bold]))
        g.put(x0 + 2 + keyW, y, d, p.base, maxWidth: boxW - keyW - 4)
    }
}
