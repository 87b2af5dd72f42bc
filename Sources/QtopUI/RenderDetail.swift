import QtopGraph
import QtopPasses
import QtopProfile

// MARK: - Detail view

func renderDetail(_ g: inout CellGrid, _ s: AppState, _ p: Painter, _ d: DetailTarget) {
    let layout = Layout(size: s.size)
    let lines = detailLines(s, d).map { line in line.map { ($0.text, p.style($0.style.fg, $0.style.attrs)) } }
    let vis = layout.bodyHeight
    let scroll = min(s.detailScroll, max(0, lines.count - vis))
    for i in 0..<vis {
        let r = scroll + i
        guard r < lines.count else { break }
        drawSegs(&g, 1, layout.bodyY + i, lines[r], maxX: s.size.width - 1)
    }
}
