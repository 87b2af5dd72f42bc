/// A 24-bit colour, with an optional hand-picked 16-colour (ANSI 0...15) value used on 16-colour terminals.
/// `rgb == nil` means "the terminal's own colour" (its default foreground or background).
public struct Color: Hashable, Sendable, CustomStringConvertible {
    public var rgb: UInt32?
    public var ansi16: UInt8?

    public init(rgb: UInt32?, ansi16: UInt8? = nil) {
        self.rgb = rgb
        self.ansi16 = ansi16
    }

    public static let terminalDefault = Color(rgb: nil)

    public init(r: UInt8, g: UInt8, b: UInt8, ansi16: UInt8? = nil) {
        self.init(rgb: UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b), ansi16: ansi16)
    }

    public var components: (r: Int, g: Int, b: Int)? {
        guard let v = rgb else { return nil }
        return (Int(v >> 16 & 0xff), Int(v >> 8 & 0xff), Int(v & 0xff))
    }

    public var description: String {
        guard let c = components else { return "default" }
        return "#" + [c.r, c.g, c.b].map { hex2($0) }.joined()
    }
}

func hex2(_ v: Int) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[(v >> 4) & 15], digits[v & 15]])
}

/// Text attributes of a cell; the backend maps them to curses attributes.
public struct CellAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = CellAttributes(rawValue: 1)
    public static let dim = CellAttributes(rawValue: 2)
    public static let underline = CellAttributes(rawValue: 4)
    public static let reverse = CellAttributes(rawValue: 8)
    public static let italic = CellAttributes(rawValue: 16)
}

/// Foreground, background and attributes of a run of text.
public struct Style: Hashable, Sendable {
    public var fg: Color
    public var bg: Color
    public var attrs: CellAttributes

    public init(fg: Color = .terminalDefault, bg: Color = .terminalDefault, attrs: CellAttributes = []) {
        self.fg = fg
        self.bg = bg
        self.attrs = attrs
    }

    public func with(fg: Color? = nil, bg: Color? = nil, adding extra: CellAttributes = []) -> Style {
        Style(fg: fg ?? self.fg, bg: bg ?? self.bg, attrs: attrs.union(extra))
    }
}

/// One screen cell. A double-width character occupies its cell and the next one, whose `char` is nil.
public struct Cell: Hashable, Sendable {
    public var char: Character?
    public var style: Style

    public init(_ char: Character? = " ", style: Style = Style()) {
        self.char = char
        self.style = style
    }
}

/// Terminal size in cells.
public struct Size: Hashable, Sendable {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}

/// A rectangle of cells: what `render` produces and a backend presents.
public struct CellGrid: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int, style: Style = Style()) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Cell(" ", style: style), count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            cells[y * width + x] = newValue
        }
    }

    /// Writes `text` at (x, y) clipped to `maxWidth` columns (and the grid); returns the column after the text.
    /// Control characters are shown as `?` so model-supplied names cannot move the cursor.
    @discardableResult
    public mutating func put(_ x: Int, _ y: Int, _ text: String, _ style: Style, maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < height else { return x }
        let limit = min(width, x + (maxWidth ?? width))
        var cx = x
        for ch in text {
            let w = displayWidth(ch)
            if cx + w > limit { break }
            let safe: Character = ch.unicodeScalars.first.map { $0.value < 32 || $0.value == 127 } == true ? "?" : ch
            if cx >= 0 {
                self[cx, y] = Cell(safe, style: style)
                if w == 2 { self[cx + 1, y] = Cell(nil, style: style) }
            }
            cx += w
        }
        return cx
    }

    /// Fills a rectangle with spaces in `style`.
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, style: Style) {
        for yy in max(0, y)..<min(height, y + h) {
            for xx in max(0, x)..<min(width, x + w) { self[xx, yy] = Cell(" ", style: style) }
        }
    }

    /// Changes only the style of a rectangle (keeping characters), e.g. to highlight a row.
    public mutating func restyle(x: Int, y: Int, width w: Int, _ transform: (Style) -> Style) {
        guard y >= 0, y < height else { return }
        for xx in max(0, x)..<min(width, x + w) { cells[y * width + xx].style = transform(cells[y * width + xx].style) }
    }

    /// The grid as plain text, one line per row, trailing spaces trimmed (for golden tests and `print`).
    public var lines: [String] {
        (0..<height).map { y in
            var s = ""
            for x in 0..<width { if let c = cells[y * width + x].char { s.append(c) } }
            while s.last == " " { s.removeLast() }
            return s
        }
    }

    public var text: String { lines.joined(separator: "\n") + "\n" }
}

/// Columns a character occupies: 2 for East Asian wide/fullwidth and most emoji, else 1.
public func displayWidth(_ ch: Character) -> Int {
    guard let v = ch.unicodeScalars.first?.value else { return 1 }
    switch v {
    case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
         0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
         0x1F900...0x1F9FF, 0x20000...0x3FFFD:
        return 2
    default:
        return 1
    }
}

/// Display width of a string.
public func displayWidth(_ s: String) -> Int { s.reduce(0) { $0 + displayWidth($1) } }

/// `s` cut to `width` columns, ending in an ellipsis when cut.
public func truncate(_ s: String, _ width: Int, ellipsis: String = "…") -> String {
    guard width > 0 else { return "" }
    if displayWidth(s) <= width { return s }
    var out = ""
    var w = 0
    let ew = displayWidth(ellipsis)
    for ch in s {
        let cw = displayWidth(ch)
        if w + cw > width - ew { break }
        out.append(ch)
        w += cw
    }
    return out + ellipsis
}

/// Left- or right-aligned text padded to exactly `width` columns.
public func pad(_ s: String, _ width: Int, right: Bool = false, ellipsis: String = "…") -> String {
    let t = truncate(s, width, ellipsis: ellipsis)
    let fill = String(repeating: " ", count: max(0, width - displayWidth(t)))
    return right ? fill + t : t + fill
}
