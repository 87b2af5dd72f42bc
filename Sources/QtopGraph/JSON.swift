import Foundation

/// A JSON value with ordered object keys, so `--json` output reads in a natural order and diffs cleanly.
public indirect enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool { a.serialized() == b.serialized() }

    public func serialized(pretty: Bool = true) -> String {
        var out = ""
        write(&out, indent: pretty ? 0 : nil)
        return out
    }

    private func write(_ out: inout String, indent: Int?) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            // JSON has no NaN/Infinity; null says "no number" without breaking parsers.
            if d.isFinite {
                out += d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)"
            } else {
                out += "null"
            }
        case .string(let s): JSON.escape(s, into: &out)
        case .array(let xs):
            if xs.isEmpty { out += "[]"; return }
            let scalar = xs.allSatisfy { if case .array = $0 { return false }; if case .object = $0 { return false }; return true }
            if scalar || indent == nil {
                out += "["
                for (i, x) in xs.enumerated() { if i > 0 { out += indent == nil ? "," : ", " }; x.write(&out, indent: nil) }
                out += "]"
                return
            }
            out += "[\n"
            for (i, x) in xs.enumerated() {
                out += String(repeating: "  ", count: indent! + 1)
                x.write(&out, indent: indent! + 1)
                out += i + 1 < xs.count ? ",\n" : "\n"
            }
            out += String(repeating: "  ", count: indent!) + "]"
        case .object(let kv):
            if kv.isEmpty { out += "{}"; return }
            guard let ind = indent else {
                out += "{"
                for (i, (k, v)) in kv.enumerated() {
                    if i > 0 { out += "," }
                    JSON.escape(k, into: &out)
                    out += ":"
                    v.write(&out, indent: nil)
                }
                out += "}"
                return
            }
            out += "{\n"
            for (i, (k, v)) in kv.enumerated() {
                out += String(repeating: "  ", count: ind + 1)
                JSON.escape(k, into: &out)
                out += ": "
                v.write(&out, indent: ind + 1)
                out += i + 1 < kv.count ? ",\n" : "\n"
            }
            out += String(repeating: "  ", count: ind) + "}"
        }
    }

    static func escape(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        out += "\""
    }
}
