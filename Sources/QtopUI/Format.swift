import Foundation
import QtopGraph
import QtopPasses
import QtopFormat
import QtopProfile

/// Glyphs for UTF-8 terminals and their ASCII fallbacks.
public struct Glyphs: Sendable {
    public let spark: [Character]
    public let barFull: Character
    public let barPartial: [Character]
    public let hLine, vLine, tl, tr, bl, br: Character
    public let ellipsis: String
    public let left, right, up, down: String
    public let times: String
    public let le: String
    public let mark: [ChangeKind: Character]

    public static let unicode = Glyphs(
        spark: Array("▁▂▃▄▅▆▇█"), barFull: "█", barPartial: Array("▏▎▍▌▋▊▉"),
        hLine: "─", vLine: "│", tl: "┌", tr: "┐", bl: "└", br: "┘", ellipsis: "…",
        left: "←", right: "→", up: "↑", down: "↓", times: "×", le: "≤",
        mark: [.removed: "−", .added: "+", .fused: "⊕", .rewritten: "~"])

    public static let ascii = Glyphs(
        spark: Array("_.-:=+*#"), barFull: "#", barPartial: [],
        hLine: "-", vLine: "|", tl: "+", tr: "+", bl: "+", br: "+", ellipsis: "~",
        left: "<-", right: "->", up: "^", down: "v", times: "x", le: "<=",
        mark: [.removed: "-", .added: "+", .fused: "*", .rewritten: "~"])

    /// A sparkline of the last `width` values, scaled between their min and max.
    public func sparkline(_ values: [Double], width: Int) -> String {
        guard width > 0, !values.isEmpty else { return "" }
        let v = Array(values.suffix(width))
        let lo = v.min()!, hi = v.max()!
        let span = hi - lo
        return String(v.map { x -> Character in
            if span <= 1e-12 { return spark[spark.count / 2] }
            let i = Int(((x - lo) / span * Double(spark.count - 1)).rounded())
            return spark[max(0, min(spark.count - 1, i))]
        })
    }

    /// A horizontal bar of `fraction` (0...1) of `width` cells, with eighth-cell precision in UTF-8.
    public func bar(_ fraction: Double, width: Int) -> String {
        guard width > 0 else { return "" }
        let f = max(0, min(1, fraction.isFinite ? fraction : 0))
        let eighths = Int((f * Double(width * 8)).rounded())
        var s = String(repeating: barFull, count: eighths / 8)
        if !barPartial.isEmpty, eighths % 8 > 0 { s.append(barPartial[eighths % 8 - 1]) }
        else if barPartial.isEmpty, eighths % 8 >= 4 { s.append(barFull) }
        return s
    }
}

/// Fixed-point text for a number (`String(format:)` with the C locale, so goldens are stable).
public func fmt(_ x: Double, _ decimals: Int) -> String {
    guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
    return String(format: "%.\(decimals)f", x)
}

/// Milliseconds with a precision that suits the magnitude.
public func fmtMs(_ ms: Double) -> String {
    if ms >= 100 { return fmt(ms, 1) }
    if ms >= 10 { return fmt(ms, 2) }
    return fmt(ms, 3)
}

/// A scale or other small float: compact, 4 significant digits.
public func fmtSci(_ x: Double) -> String {
    if x == 0 { return "0" }
    let a = abs(x)
    if a >= 0.001 && a < 10000 { return String(format: "%.4g", x) }
    return String(format: "%.3e", x)
}

public func fmtShape(_ shape: [Int]?) -> String {
    guard let s = shape else { return "?" }
    return "[" + s.map { $0 < 0 ? "?" : String($0) }.joined(separator: ",") + "]"
}

/// Short dtype names for tables.
public func fmtDType(_ d: DType?) -> String {
    guard let d else { return "?" }
    return d.rawValue
}

/// Whether a node is a quantize/dequantize op (quantize_linear, dequantize_linear, fake_quantize_*, ...).
public func isQDQ(_ type: String) -> Bool { type.contains("quantize") }

/// Summary of a node's quantization parameters for the graph table, e.g. `s=0.0123 b8` or `s[32] 0.001..0.02 ax0 b8`.
public func quantSummary(_ node: Node, _ graph: Graph) -> String? {
    func values(_ label: String, _ fs: [Float]) -> String {
        if fs.count == 1 { return label + "=" + fmtSci(Double(fs[0])) }
        return label + "[\(fs.count)] " + fmtSci(Double(fs.min()!)) + ".." + fmtSci(Double(fs.max()!))
    }
    var parts: [String] = []
    var perChannel = false
    if isQDQ(node.type) {
        // Scale inputs (quantize_linear, fake_*), else a scale/range attribute (qtop's own quantize ops).
        var scales: [Float] = []
        for slot in ["Scale", "InScale", "Scales", "OutScale"] {
            if let v = node.input(slot), let t = graph.constant(v) { scales = t.floatValues(); break }
        }
        if scales.isEmpty {
            for (name, value) in node.attrs where name.lowercased().contains("scale") || name == "range" {
                if let fs = value.floats, !fs.isEmpty { scales = fs; break }
            }
        }
        if !scales.isEmpty { parts.append(values("s", scales)) }
        perChannel = scales.count > 1
    } else {
        // Lowered integer ops carry their scales as attributes: input, weights (per channel), output.
        let order = ["in": 0, "w": 1, "out": 2]
        var labelled: [(String, String)] = []
        for (name, value) in node.attrs {
            let n = name.lowercased()
            guard n.contains("scale"), n != "scale", let fs = value.floats, !fs.isEmpty else { continue }
            let label = n.hasPrefix("in") ? "in" : n.hasPrefix("weight") ? "w" : n.hasPrefix("out") ? "out" : name
            labelled.append((label, values(label, fs)))
            if fs.count > 1 { perChannel = true }
        }
        parts += labelled.enumerated().sorted { a, b in
            let x = order[a.element.0] ?? 3, y = order[b.element.0] ?? 3
            return x != y ? x < y : a.offset < b.offset
        }.map(\.element.1)
    }
    if let axis = node.attrs["quant_axis"]?.int, axis >= 0, perChannel { parts.append("ax\(axis)") }
    if let bits = node.attrs["bit_length"]?.int { parts.append("b\(bits)") } else if isQDQ(node.type), !parts.isEmpty { parts.append("b8") }
    if parts.isEmpty { return nil }
    return parts.joined(separator: " ")
}

/// Statistics of a constant tensor for the detail view.
public struct TensorStats: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var count: Int
    public var min: Double
    public var max: Double
    public var mean: Double
    public var std: Double

    public init(name: String, tensor: HostTensor) {
        self.name = name
        dtype = tensor.dtype
        shape = tensor.shape
        let v = tensor.floatValues()
        count = v.count
        var lo = Double.infinity, hi = -Double.infinity, sum = 0.0
        for x in v { let d = Double(x); lo = Swift.min(lo, d); hi = Swift.max(hi, d); sum += d }
        let m = v.isEmpty ? 0 : sum / Double(v.count)
        var sq = 0.0
        for x in v { let d = Double(x) - m; sq += d * d }
        self.min = v.isEmpty ? 0 : lo
        self.max = v.isEmpty ? 0 : hi
        mean = m
        std = v.isEmpty ? 0 : (sq / Double(v.count)).squareRoot()
    }
}

extension AttrValue {
    /// Compact text for the detail view (long lists are shortened).
    public var display: String {
        func list<T>(_ xs: [T], _ f: (T) -> String) -> String {
            let shown = xs.prefix(8).map(f).joined(separator: ", ")
            return "[" + shown + (xs.count > 8 ? ", … (\(xs.count))" : "") + "]"
        }
        switch self {
        case .int(let v): return String(v)
        case .long(let v): return String(v)
        case .float(let v): return fmtSci(Double(v))
        case .float64(let v), .scalar(let v): return fmtSci(v)
        case .string(let s): return "\"\(s)\""
        case .bool(let b): return b ? "true" : "false"
        case .ints(let v): return list(v) { String($0) }
        case .longs(let v): return list(v) { String($0) }
        case .floats(let v): return list(v) { fmtSci(Double($0)) }
        case .float64s(let v), .scalars(let v): return list(v) { fmtSci($0) }
        case .strings(let v): return list(v) { "\"\($0)\"" }
        case .bools(let v): return list(v) { $0 ? "true" : "false" }
        case .block(let b): return "block \(b)"
        case .blocks(let v): return list(v) { "block \($0)" }
        case .variable(let s): return s
        case .variables(let v): return list(v) { $0 }
        }
    }
}
