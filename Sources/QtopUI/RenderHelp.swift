import QtopGraph
import QtopPasses
import QtopProfile

// MARK: - Help

public let helpLines: [(String, String)] = [
    ("1 2 3, Tab", "graph / profile / compare view (Shift-Tab back)"),
    ("Enter, l", "open the layer / expand a fold; Esc h Left back"),
    ("j k, Up Down", "move; g G / Home End first / last"),
    ("Ctrl-d Ctrl-u", "half page; PgUp PgDn, Ctrl-b Ctrl-f page"),
    ("Left Right, [ ]", "graph view: step through the passes"),
    ("f, + -", "graph: fold by layer path; deeper / shallower"),
    ("< > (F6), r", "profile: sort column; reverse the order"),
    ("/ (F3, F4)", "filter by name/type; Enter keeps, Esc clears"),
    ("space (F5)", "freeze: stop taking new data, keep browsing"),
    ("z (F8)", "reset the runner's statistics"),
    ("m", "cycle mode int8 -> fp32 -> reference"),
    ("i, I", "lower / raise the ISA cap (kernels re-dispatch)"),
    ("s", "input shapes: edit; Enter re-plans, Esc cancels"),
    ("t, p (F2)", "next theme; save the screen to qtop-screen-*.txt"),
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
