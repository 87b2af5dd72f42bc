import QtopGraph
import QtopPasses
import QtopProfile

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
