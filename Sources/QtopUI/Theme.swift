import Foundation

/// Every colour a theme sets. The raw value is the key in theme files (`theme[main_fg]="#cccccc"`).
public enum ThemeKey: String, CaseIterable, Sendable {
    case main_bg, main_fg, title, hi_fg, inactive_fg, border
    case selected_bg, selected_fg
    case tab_active_bg, tab_active_fg, tab_inactive_fg
    case keybar_bg, keybar_fg, keybar_key
    case table_header
    case qdq, fused, int8, fp32
    case removed, added, rewritten
    case bar_low, bar_mid, bar_high, graph
    case frozen, warning, speedup_good, speedup_bad

    /// What the key colours (documented in default.theme and themes/README.md).
    public var doc: String {
        switch self {
        case .main_bg: return "background of the whole screen; empty = the terminal's own background"
        case .main_fg: return "ordinary text"
        case .title: return "titles: model name, section headings in the detail view, help box title"
        case .hi_fg: return "highlighted values in the header (latency, FPS, ISA)"
        case .inactive_fg: return "secondary text: hints, units, removed nodes, rows not run"
        case .border: return "box lines and separators"
        case .selected_bg: return "background of the selected row and the current pass on the timeline"
        case .selected_fg: return "text of the selected row"
        case .tab_active_bg: return "background of the active view tab"
        case .tab_active_fg: return "text of the active view tab"
        case .tab_inactive_fg: return "text of the other view tabs"
        case .keybar_bg: return "background of the key bar at the bottom"
        case .keybar_fg: return "action names in the key bar"
        case .keybar_key: return "key names in the key bar and help overlay"
        case .table_header: return "column headers of tables (the sort column is also underlined)"
        case .qdq: return "quantize_linear / dequantize_linear / fake_quantize* nodes"
        case .fused: return "nodes that stand for more than one original Paddle op"
        case .int8: return "int8 / uint8 precision and dtypes"
        case .fp32: return "float precision and dtypes"
        case .removed: return "nodes the current pass removed (shown from the previous snapshot)"
        case .added: return "nodes the current pass added"
        case .rewritten: return "nodes the current pass rewrote in place"
        case .bar_low: return "share bars and sparklines, low values"
        case .bar_mid: return "share bars, middle values"
        case .bar_high: return "share bars, high values (the hotspots)"
        case .graph: return "latency sparkline in the header and timing history in the detail view"
        case .frozen: return "the FROZEN badge"
        case .warning: return "'recompiling…' and other transient warnings"
        case .speedup_good: return "compare view: int8 faster than fp32"
        case .speedup_bad: return "compare view: int8 slower than fp32"
        }
    }

    /// Hand-picked 16-colour values of the default theme where the nearest standard colour looks wrong.
    public var default16: String? {
        switch self {
        case .selected_bg, .tab_active_bg: return "blue"
        case .keybar_bg: return "black"
        case .inactive_fg, .border: return "bright_black"
        case .main_fg, .keybar_fg: return "white"
        default: return nil
        }
    }

    /// Built-in dark default (`default.theme` mirrors it; a test checks they agree). "" = terminal default.
    public var defaultHex: String {
        switch self {
        case .main_bg: return ""
        case .main_fg: return "#c8ccd4"
        case .title: return "#ffffff"
        case .hi_fg: return "#7fdbff"
        case .inactive_fg: return "#6b717d"
        case .border: return "#4b5263"
        case .selected_bg: return "#264f78"
        case .selected_fg: return "#ffffff"
        case .tab_active_bg: return "#3e6fa8"
        case .tab_active_fg: return "#ffffff"
        case .tab_inactive_fg: return "#8b93a1"
        case .keybar_bg: return "#21252b"
        case .keybar_fg: return "#abb2bf"
        case .keybar_key: return "#61dafb"
        case .table_header: return "#56b6c2"
        case .qdq: return "#c678dd"
        case .fused: return "#e5c07b"
        case .int8: return "#98c379"
        case .fp32: return "#61afef"
        case .removed: return "#e06c75"
        case .added: return "#98c379"
        case .rewritten: return "#d19a66"
        case .bar_low: return "#98c379"
        case .bar_mid: return "#e5c07b"
        case .bar_high: return "#e06c75"
        case .graph: return "#56b6c2"
        case .frozen: return "#ff5f5f"
        case .warning: return "#e5c07b"
        case .speedup_good: return "#98c379"
        case .speedup_bad: return "#e06c75"
        }
    }
}

/// A set of colours by key. Missing keys fall back to the built-in default.
public struct Theme: Sendable, Equatable {
    public var name: String
    public var colors: [ThemeKey: Color]
    /// Problems found while parsing (bad values); unknown keys are ignored silently.
    public var warnings: [String]

    public init(name: String, colors: [ThemeKey: Color] = [:], warnings: [String] = []) {
        self.name = name
        self.colors = colors
        self.warnings = warnings
    }

    public subscript(key: ThemeKey) -> Color {
        colors[key] ?? Theme.builtinDefault.colors[key] ?? .terminalDefault
    }

    public static let builtinDefault: Theme = {
        var c: [ThemeKey: Color] = [:]
        for k in ThemeKey.allCases {
            var color = parseHexColor(k.defaultHex) ?? .terminalDefault
            if let n = k.default16 { color.ansi16 = parseANSI16(n) }
            c[k] = color
        }
        return Theme(name: "default", colors: c)
    }()

    /// Parses btop-style theme text: `theme[key]="#RRGGBB"` (or `""` for the terminal's colour) and
    /// `theme16[key]="bright_red"` / `"9"` for a hand-picked 16-colour value; `#` starts a comment line.
    public static func parse(_ text: String, name: String) -> Theme {
        var theme = Theme(name: name)
        var overrides16: [ThemeKey: UInt8] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let is16 = line.hasPrefix("theme16[")
            guard is16 || line.hasPrefix("theme["),
                  let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]"), open < close,
                  let eq = line[close...].firstIndex(of: "=") else {
                theme.warnings.append("line \(n + 1): expected theme[key]=\"#RRGGBB\"")
                continue
            }
            let keyName = line[line.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if let hashComment = value.range(of: "\" #") { value = String(value[..<hashComment.lowerBound]) + "\"" }
            value = value.trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
            guard let key = ThemeKey(rawValue: keyName) else { continue }
            if is16 {
                if let v = parseANSI16(value) { overrides16[key] = v } else {
                    theme.warnings.append("line \(n + 1): '\(value)' is not a 16-colour name or 0...15")
                }
            } else if let c = parseHexColor(value) {
                theme.colors[key] = c
            } else {
                theme.warnings.append("line \(n + 1): '\(value)' is not a #RRGGBB colour")
            }
        }
        for (k, v) in overrides16 {
            var c = theme.colors[k] ?? Theme.builtinDefault.colors[k] ?? .terminalDefault
            c.ansi16 = v
            theme.colors[k] = c
        }
        return theme
    }
}

/// "#RRGGBB", "#RGB" or "" (terminal default). nil when invalid.
public func parseHexColor(_ s: String) -> Color? {
    let t = s.trimmingCharacters(in: .whitespaces)
    if t.isEmpty { return .terminalDefault }
    guard t.hasPrefix("#") else { return nil }
    var hex = String(t.dropFirst())
    if hex.count == 3 { hex = hex.map { "\($0)\($0)" }.joined() }
    guard hex.count == 6, let v = UInt32(hex, radix: 16) else { return nil }
    return Color(rgb: v)
}

public let ansi16Names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
                          "bright_black", "bright_red", "bright_green", "bright_yellow", "bright_blue",
                          "bright_magenta", "bright_cyan", "bright_white"]

func parseANSI16(_ s: String) -> UInt8? {
    let t = s.lowercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
    if let i = ansi16Names.firstIndex(of: t) { return UInt8(i) }
    if t == "gray" || t == "grey" { return 8 }
    if let n = Int(t), (0...15).contains(n) { return UInt8(n) }
    return nil
}

// MARK: - Colour depth and downgrade

/// How many colours the terminal shows.
public enum ColorDepth: String, Sendable, CaseIterable {
    case none, c16, c256, truecolor
}

/// xterm's standard 16-colour palette, used to pick the nearest of 16.
public let xterm16: [(Int, Int, Int)] = [
    (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
    (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
]

/// Nearest xterm-256 index: the grey ramp (232...255) when r≈g≈b, else the 6×6×6 cube (16...231).
public func rgbTo256(_ r: Int, _ g: Int, _ b: Int) -> Int {
    if max(r, g, b) - min(r, g, b) < 12 {
        let grey = (r + g + b) / 3
        if grey < 4 { return 16 }
        if grey > 246 { return 231 }
        return 232 + min(23, max(0, Int((Double(grey - 8) / 10).rounded())))
    }
    func level(_ v: Int) -> Int { v < 48 ? 0 : v < 115 ? 1 : min(5, (v - 35) / 40) }
    return 16 + 36 * level(r) + 6 * level(g) + level(b)
}

/// Nearest of the 16 standard colours by squared RGB distance.
public func rgbTo16(_ r: Int, _ g: Int, _ b: Int) -> Int {
    var best = 0
    var bestD = Int.max
    for (i, c) in xterm16.enumerated() {
        let d = (r - c.0) * (r - c.0) + (g - c.1) * (g - c.1) + (b - c.2) * (b - c.2)
        if d < bestD { bestD = d; best = i }
    }
    return best
}

extension Color {
    /// The colour as the terminal numbers it at `depth`: packed 0xRRGGBB for truecolor, a palette index otherwise,
    /// nil for the terminal default (or when colours are off). A theme's 16-colour override wins at depth 16.
    public func resolved(_ depth: ColorDepth) -> Int? {
        guard let c = components else { return nil }
        // A 16-colour value whose RGB is exactly xterm's standard for it means "that palette entry" (the 16color
        // theme): use the terminal's own palette on 256-colour terminals too (and for 0...7 on direct-colour ones).
        if let a = ansi16, Int(a) < xterm16.count, xterm16[Int(a)] == (c.r, c.g, c.b) {
            if depth == .c256 || depth == .c16 || (depth == .truecolor && a < 8) { return Int(a) }
        }
        switch depth {
        case .none: return nil
        case .truecolor: return Int(rgb!)
        case .c256: return rgbTo256(c.r, c.g, c.b)
        case .c16: return Int(ansi16 ?? UInt8(rgbTo16(c.r, c.g, c.b)))
        }
    }
}

// MARK: - Finding theme files

public enum ThemeLoader {
    /// Directories searched in order: `$XDG_CONFIG_HOME/qtop/themes` (or `~/.config/qtop/themes`), then the bundled
    /// `themes/` next to the executable, in `../share/qtop/themes`, in a parent directory of it (a build tree inside the
    /// repository), and finally the source tree this file was built from.
    public static func searchDirectories(environment: [String: String] = ProcessInfo.processInfo.environment,
                                         executablePath: String? = CommandLine.arguments.first) -> [String] {
        var dirs: [String] = []
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            dirs.append(xdg + "/qtop/themes")
        } else if let home = environment["HOME"], !home.isEmpty {
            dirs.append(home + "/.config/qtop/themes")
        }
        if let exe = executablePath, !exe.isEmpty {
            let url = URL(fileURLWithPath: exe).resolvingSymlinksInPath().deletingLastPathComponent()
            dirs.append(url.appendingPathComponent("themes").path)
            dirs.append(url.deletingLastPathComponent().appendingPathComponent("share/qtop/themes").path)
            var up = url
            for _ in 0..<5 {
                up = up.deletingLastPathComponent()
                dirs.append(up.appendingPathComponent("themes").path)
            }
        }
        dirs.append(bundledSourceDirectory)
        var seen = Set<String>()
        return dirs.filter { seen.insert(URL(fileURLWithPath: $0).standardizedFileURL.path).inserted }
    }

    /// `themes/` in the source tree this module was compiled from.
    public static var bundledSourceDirectory: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("themes").path
    }

    /// Theme names (file names without `.theme`) found in the search directories, `default` first.
    public static func available(in dirs: [String] = searchDirectories()) -> [String] {
        var names = Set<String>(["default"])
        for d in dirs {
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: d) else { continue }
            for f in files where f.hasSuffix(".theme") && !f.hasPrefix(".") { names.insert(String(f.dropLast(6))) }
        }
        return ["default"] + names.subtracting(["default"]).sorted()
    }

    /// Loads a theme by name (searched) or by path (contains `/` or ends in `.theme`). The built-in default is
    /// used for `default` when no file is found.
    public static func load(_ nameOrPath: String, dirs: [String] = searchDirectories()) throws -> Theme {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".theme") {
            guard let text = try? String(contentsOfFile: nameOrPath, encoding: .utf8) else {
                throw ThemeError.notFound(nameOrPath, searched: [])
            }
            let name = (((nameOrPath as NSString).lastPathComponent) as NSString).deletingPathExtension
            return Theme.parse(text, name: name)
        }
        for d in dirs {
            let p = d + "/" + nameOrPath + ".theme"
            if let text = try? String(contentsOfFile: p, encoding: .utf8) { return Theme.parse(text, name: nameOrPath) }
        }
        if nameOrPath == "default" { return Theme.builtinDefault }
        throw ThemeError.notFound(nameOrPath, searched: dirs)
    }
}

public enum ThemeError: Error, CustomStringConvertible, Equatable {
    case notFound(String, searched: [String])

    public var description: String {
        switch self {
        case .notFound(let n, let dirs):
            if dirs.isEmpty { return "theme file '\(n)' not found" }
            return "theme '\(n)' not found (searched \(dirs.joined(separator: ", ")))"
        }
    }
}
