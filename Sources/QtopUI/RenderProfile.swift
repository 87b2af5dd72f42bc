import QtopGraph
import QtopPasses
import QtopProfile

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
            case "precision": text = l.precisionText
                st = p.style(precisionKey(l.precision))
            case "outPrecision": text = l.outPrecisionText
                st = p.style(precisionKey(l.outPrecision))
            case "execType": text = l.execTypeText
            case "isa": text = l.isaText
            case "status": text = l.status.rawValue
            default: break
            }
            if notRun && c.id != "name" { st = p.style(.inactive_fg) }
            cells.append((c, text, st))
        }
        drawRow(&g, y: top + i, x: 0, width: s.size.width, cells: cells, selected: r == cur, p, ellipsis: gl.ellipsis)
    }
    if rows.isEmpty {
        let msg = s.snapshot == nil ? (s.shapesUnset ? "no input shapes, nothing runs: press s to set them"
                                                     : "waiting for the first profile" + gl.ellipsis) : "no layers match '\(s.filter)'"
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
