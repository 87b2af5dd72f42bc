import Foundation
import QtopFormat

/// What `qtop graph` prints, built from the graph alone (the TUI's graph view reads the same helpers).
public enum GraphListing {
    /// The quantization ops `graph` lists with their scales (the one list lives in `QuantOpNames`).
    public static var quantOpTypes: Set<String> { QuantOpNames.paddle }

    /// Scale(s), axis, bit length and observer flag of a quantization op; nil for other ops.
    public struct QuantInfo: Sendable, Equatable {
        public let scales: [Float]
        public let axis: Int
        public let bitLength: Int
        public let onlyObserver: Bool
    }

    public static func quantInfo(_ n: Node, _ g: Graph) -> QuantInfo? {
        guard quantOpTypes.contains(n.type) else { return nil }
        let scaleSlots = ["Scale", "InScale", "Scales"]
        var scales: [Float] = []
        for slot in scaleSlots {
            for name in n.inputs(slot) { if let c = g.values[name]?.constant { scales += c.floatValues() } }
        }
        let bits = n.attrs.int("bit_length", default: n.attrs.ints("quant_bits", default: [8]).first ?? 8)
        return QuantInfo(scales: scales, axis: n.attrs.int("quant_axis", default: -1), bitLength: bits,
                         onlyObserver: n.attrs.bool("only_observer", default: false))
    }

    public static func valueJSON(_ name: String, _ g: Graph) -> JSON {
        let v = g.values[name]
        return .object([
            ("name", .string(name)),
            ("shape", v?.shape.map { .array($0.map { .int($0) }) } ?? .null),
            ("dtype", v?.dtype.map { .string($0.paddleName) } ?? .null),
        ])
    }

    public static func attrJSON(_ a: AttrValue) -> JSON {
        switch a {
        case .int(let v): return .int(v)
        case .long(let v): return .int(Int(v))
        case .float(let v): return .double(Double(v))
        case .float64(let v), .scalar(let v): return .double(v)
        case .string(let v), .variable(let v): return .string(v)
        case .bool(let v): return .bool(v)
        case .ints(let v): return .array(v.map { .int($0) })
        case .longs(let v): return .array(v.map { .int(Int($0)) })
        case .floats(let v): return .array(v.map { .double(Double($0)) })
        case .float64s(let v), .scalars(let v): return .array(v.map { .double($0) })
        case .strings(let v), .variables(let v): return .array(v.map { .string($0) })
        case .bools(let v): return .array(v.map { .bool($0) })
        case .block(let v): return .int(v)
        case .blocks(let v): return .array(v.map { .int($0) })
        }
    }

    /// `{"model","inputs","outputs","ops":[{"name","type","inputs","outputs","attrs"(,"layer_path")(,"quant")}]}` — the
    /// `graph --json` contract, the same for `.pdmodel` and PIR `.json` programs (`layer_path` only when the file has one).
    public static func json(_ g: Graph, modelPath: String) -> JSON {
        var ops: [JSON] = []
        for n in g.nodes {
            var fields: [(String, JSON)] = [
                ("name", .string(n.name)),
                ("type", .string(n.type)),
                ("inputs", .object(n.inputs.map { ($0.name, .array($0.args.map { .string($0) })) })),
                ("outputs", .object(n.outputs.map { ($0.name, .array($0.args.map { .string($0) })) })),
                ("attrs", .object(n.attrs.entries.map { ($0.name, attrJSON($0.value)) })),
            ]
            if let path = n.layerPath { fields.append(("layer_path", .string(path))) }
            if let q = quantInfo(n, g) {
                fields.append(("quant", .object([
                    ("scales", .array(q.scales.map { .double(Double($0)) })),
                    ("axis", .int(q.axis)),
                    ("bit_length", .int(q.bitLength)),
                    ("only_observer", .bool(q.onlyObserver)),
                ])))
            }
            ops.append(.object(fields))
        }
        // Every variable an op reads or writes, with its shape and dtype (stored ones for parameters).
        var seen = Set<String>()
        var values: [(String, JSON)] = []
        for n in g.nodes {
            for name in n.allInputs + n.allOutputs where seen.insert(name).inserted {
                guard let v = g.values[name], v.dtype != nil || v.shape != nil else { continue }
                values.append((name, .object([
                    ("shape", v.shape.map { .array($0.map { .int($0) }) } ?? .null),
                    ("dtype", v.dtype.map { .string($0.paddleName) } ?? .null),
                    ("persistable", .bool(v.persistable)),
                ])))
            }
        }
        return .object([
            ("model", .string(modelPath)),
            ("inputs", .array(g.inputs.map { valueJSON($0, g) })),
            ("outputs", .array(g.outputs.map { valueJSON($0, g) })),
            ("ops", .array(ops)),
            ("values", .object(values)),
        ])
    }

    public static func shapeText(_ s: [Int]?) -> String {
        guard let s else { return "?" }
        return "[" + s.map { $0 < 0 ? "?" : String($0) }.joined(separator: ",") + "]"
    }

    public static func valueText(_ name: String, _ g: Graph) -> String {
        let v = g.values[name]
        let c = v?.constant != nil ? " const" : ""
        return "\(name) \(shapeText(v?.shape)) \(v?.dtype?.paddleName ?? "?")\(c)"
    }

    static func compactScales(_ s: [Float]) -> String {
        if s.count <= 4 { return s.map { String(format: "%.6g", $0) }.joined(separator: ",") }
        let lo = s.min() ?? 0, hi = s.max() ?? 0
        return "\(s.count) ch in [\(String(format: "%.4g", lo)), \(String(format: "%.4g", hi))]"
    }

    /// Human listing: one block per op in program order. Large graphs (a 20 MB PIR program has 50k ops) are listed
    /// in runs on all cores, each run into its own string, joined in order.
    public static func text(_ g: Graph, modelPath: String) -> String {
        var head = "model: \(modelPath)\n"
        head += "inputs:  " + g.inputs.map { valueText($0, g) }.joined(separator: "; ") + "\n"
        head += "outputs: " + g.outputs.map { valueText($0, g) }.joined(separator: "; ") + "\n"
        head += "\(g.nodes.count) ops"
        let n = g.nodes.count
        let runs = n < 2048 ? 1 : min(64, ProcessInfo.processInfo.activeProcessorCount * 4)
        let texts = WorkerSlots<String>(count: runs)
        DispatchQueue.concurrentPerform(iterations: runs) { r in
            var out = ""
            for i in (n * r / runs)..<(n * (r + 1) / runs) { appendNode(i, g.nodes[i], g, to: &out) }
            texts.set(r, out)
        }
        return head + (0..<runs).map { texts.take($0) ?? "" }.joined()
    }

    /// One op's lines, each preceded by a newline.
    static func appendNode(_ i: Int, _ n: Node, _ g: Graph, to out: inout String) {
        let index = String(i)
        out += "\n" + String(repeating: " ", count: max(0, 4 - index.count)) + index + "  \(n.type)  \(n.name)"
        if let path = n.layerPath { out += "  @ " + path }
        for s in n.inputs where !s.args.isEmpty {
            out += "\n        in  \(s.name): " + s.args.map { valueText($0, g) }.joined(separator: ", ")
        }
        for s in n.outputs where !s.args.isEmpty {
            out += "\n        out \(s.name): " + s.args.map { valueText($0, g) }.joined(separator: ", ")
        }
        if let q = quantInfo(n, g) {
            out += "\n        quant scale=\(compactScales(q.scales)) axis=\(q.axis) bits=\(q.bitLength)" + (q.onlyObserver ? " observer" : "")
        }
        let attrs = n.attrs.entries.filter { !ignoredAttrs.contains($0.name) }
        if !attrs.isEmpty {
            out += "\n        attrs " + attrs.map { "\($0.name)=\(attrJSON($0.value).serialized(pretty: false))" }.joined(separator: " ")
        }
    }

    /// Bookkeeping attributes every Paddle op carries; hidden from the human listing (kept in JSON).
    public static let ignoredAttrs: Set<String> = [
        "op_role", "op_role_var", "op_namescope", "op_callstack", "op_device", "with_quant_attr", "use_mkldnn",
        "use_cudnn", "use_quantizer", "mkldnn_data_type", "is_test", "name",
    ]
}
