import QtopGraph
import QtopPasses
import QtopProfile

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
    if let fold = row.fold { return foldedRowCells(fold, index: index, cols: cols, s, p, profile: profile) }
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
                text = l.precisionText
                st = p.style(precisionKey(l.precision))
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

/// A folded row: the layer path, how many nodes it stands for, and their summed average time.
func foldedRowCells(_ fold: FoldGroup, index: Int, cols: [PlacedColumn], _ s: AppState, _ p: Painter,
                    profile: [Int: LayerProfile]) -> [(PlacedColumn, String, Style)] {
    let timed = fold.nodeIDs.compactMap { profile[$0] }.filter { $0.status == .executed }
    return cols.map { c in
        switch c.id {
        case "idx": return (c, String(index), p.style(.inactive_fg))
        case "mark": return (c, s.ascii ? "+" : "▸", p.style(.title, [.bold]))
        case "type": return (c, "\(fold.nodeIDs.count) nodes", p.style(.fused, [.bold]))
        case "name": return (c, fold.path, p.style(.title))
        case "ms": return (c, timed.isEmpty ? "" : fmtMs(timed.reduce(0) { $0 + $1.meanMs }), p.base)
        default: return (c, "", p.base)
        }
    }
}

/// int8 colours for 8-bit integer precisions, float colours for FP32, plain text otherwise.
func precisionKey(_ p: Precision?) -> ThemeKey {
    guard let p else { return .main_fg }
    return p.isInt8 ? .int8 : p == .f32 ? .fp32 : .main_fg
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
    if let d = s.foldDepth, !s.sideBySide { sum += [("  folded, depth \(d)", p.style(.fused))] }
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
        for r in rows { indexFor.append(r.ghost ? -1 : index); if !r.ghost { index += r.fold?.nodeIDs.count ?? 1 } }
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
