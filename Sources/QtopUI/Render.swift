import QtopGraph
import QtopPasses
import QtopProfile

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
    let shown = s.shownInputShapes
    if !shown.isEmpty {
        let ins = shown.map { "\($0.0)\(fmtShape($0.1))" }.joined(separator: " ")
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
    } else if s.shapesUnset {
        groups += [[("  no input shapes: ", p.style(.warning, [.bold])), ("s", p.style(.keybar_key, [.bold])), (" sets them", dim)]]
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

/// The shape prompt on the key bar line: what is asked, the text being typed, then the error or the keys.
func renderShapePrompt(_ g: inout CellGrid, _ s: AppState, _ p: Painter, _ prompt: ShapePrompt, y: Int, bg: Style) {
    let declared = s.declaredInputs
    let key = p.color ? p.style(.keybar_key, bg: .keybar_bg, [.bold]) : Style(attrs: [.reverse, .bold])
    let question = declared.count == 1 ? "shape of \(declared[0].name)\(fmtShape(declared[0].shape)): " : "input shapes: "
    var segs: [Seg] = [(" ", bg), (question, key), (prompt.text, p.color ? p.style(.hi_fg, bg: .keybar_bg, [.bold]) : Style(attrs: [.reverse, .bold])),
                       ("_", key), ("  ", bg)]
    if let e = prompt.error {
        segs.append((e, p.color ? p.style(.warning, bg: .keybar_bg, [.bold]) : Style(attrs: [.reverse, .bold])))
    } else {
        for (k, label) in [("Enter", "run"), ("Esc", s.shapesUnset || s.requestedShapes == nil && s.shapesNeeded ? "leave unset" : "cancel"),
                           ("Ctrl-u", "clear")] {
            segs += [(k, key), (" " + label + "  ", bg)]
        }
    }
    drawSegs(&g, 0, y, segs, maxX: s.size.width)
}

func keyBarItems(_ s: AppState) -> [(String, String)] {
    let gl = s.glyphs
    if s.filterEditing { return [("type", "filter"), ("Enter", "keep"), ("Esc", "clear"), (gl.up + gl.down, "move")] }
    if s.detail != nil {
        return [("Esc", "back"), ("j/k", "scroll"), ("m", "mode"), ("i/I", "ISA"), ("space", "freeze"), ("?", "help"), ("q", "quit")]
    }
    switch s.view {
    case .graph:
        return [("\(gl.left)/\(gl.right)", "pass"), ("Enter", "detail"), ("/", "filter"), ("f", "fold"), ("s", "shape"), ("m", "mode"),
                ("i/I", "ISA"), ("?", "help"), ("q", "quit")]
    case .profile:
        return [("Enter", "detail"), ("</>", "sort"), ("r", "reverse"), ("/", "filter"), ("space", "freeze"), ("z", "reset"),
                ("m", "mode"), ("i/I", "ISA"), ("s", "shape"), ("?", "help"), ("q", "quit")]
    case .compare:
        return [("Enter", "detail"), ("/", "filter"), ("m", "mode"), ("space", "freeze"), ("Tab", "view"), ("?", "help"), ("q", "quit")]
    }
}

func renderKeyBar(_ g: inout CellGrid, _ s: AppState, _ p: Painter) {
    let y = s.size.height - 1
    let bg = p.color ? p.style(.keybar_fg, bg: .keybar_bg) : Style(attrs: [.reverse])
    g.fill(x: 0, y: y, width: s.size.width, height: 1, style: bg)
    if let prompt = s.shapePrompt {
        renderShapePrompt(&g, s, p, prompt, y: y, bg: bg)
        return
    }
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
