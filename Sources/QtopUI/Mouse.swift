import QtopProfile

// Mouse input: tabs, the pass timeline, profile headers (sort) and rows (select, open).
func reduceMouse(_ s: inout AppState, _ button: MouseButton, _ x: Int, _ y: Int) -> [Effect] {
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
