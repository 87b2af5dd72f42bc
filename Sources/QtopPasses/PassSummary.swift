import QtopFormat
import QtopGraph

/// What `qtop passes --json` prints: per pass the node counts and changes, and the final graph's ops.
///
/// JSON: `{"passes":[{"name","nodes_before","nodes_after","counts_before","counts_after",
/// "changes":[{"kind","node","node_id","detail"}]}],"final":{"ops":[{"name","type","precision","fused_from":[...]}]}}`
/// (`counts_*` map op type → count; `node_id` is -1 for a removed constant).
public struct PassSummary: Sendable, Codable, Equatable {
    public struct ChangeEntry: Sendable, Codable, Equatable {
        public let kind: String
        public let node: String
        public let nodeID: Int
        public let detail: String
        enum CodingKeys: String, CodingKey { case kind, node, nodeID = "node_id", detail }
    }

    public struct PassEntry: Sendable, Codable, Equatable {
        public let name: String
        public let nodesBefore: Int
        public let nodesAfter: Int
        public let countsBefore: [String: Int]
        public let countsAfter: [String: Int]
        public let changes: [ChangeEntry]
        enum CodingKeys: String, CodingKey {
            case name, nodesBefore = "nodes_before", nodesAfter = "nodes_after", countsBefore = "counts_before",
                 countsAfter = "counts_after", changes
        }
    }

    public struct OpEntry: Sendable, Codable, Equatable {
        public let name: String
        public let type: String
        public let precision: String
        public let fusedFrom: [String]
        enum CodingKeys: String, CodingKey { case name, type, precision, fusedFrom = "fused_from" }
    }

    public struct Final: Sendable, Codable, Equatable {
        public let ops: [OpEntry]
    }

    public let passes: [PassEntry]
    public let final: Final

    /// Summarizes a pass timeline (`steps[0]` is the loaded graph).
    public init(steps: [PassStep]) {
        var entries: [PassEntry] = []
        for i in steps.indices.dropFirst() {
            let before = steps[i - 1].graph, after = steps[i].graph
            entries.append(PassEntry(
                name: steps[i].name, nodesBefore: before.nodes.count, nodesAfter: after.nodes.count,
                countsBefore: PassSummary.counts(before), countsAfter: PassSummary.counts(after),
                changes: steps[i].changes.map { ChangeEntry(kind: $0.kind.rawValue, node: $0.node, nodeID: $0.nodeID, detail: $0.detail) }))
        }
        passes = entries
        let g = steps.last?.graph
        final = Final(ops: g.map { g in
            g.nodes.map { OpEntry(name: $0.name, type: $0.type, precision: PassSummary.precision(of: $0, in: g), fusedFrom: $0.provenance) }
        } ?? [])
    }

    public static func counts(_ g: Graph) -> [String: Int] {
        var c: [String: Int] = [:]
        for n in g.nodes { c[n.type, default: 0] += 1 }
        return c
    }

    static func precisionName(_ d: DType?) -> String {
        switch d {
        case .u8?: return "U8"
        case .i8?: return "I8"
        case .f32?: return "FP32"
        case .f16?: return "FP16"
        case .bf16?: return "BF16"
        case .f64?: return "FP64"
        case .i32?: return "I32"
        case .i64?: return "I64"
        case .i16?: return "I16"
        case .bool?: return "BOOL"
        case nil: return "FP32"
        }
    }

    /// The precision a node computes in, as benchmark_app shows it: integer ops by their integer input
    /// (`U8`/`I8`), `quantize` by what it produces, everything else by its first input or output value.
    public static func precision(of n: Node, in g: Graph) -> String {
        func dtype(_ v: String?) -> DType? { v.flatMap { g.values[$0]?.dtype } }
        switch n.type {
        case "qconv2d": return precisionName(dtype(n.input("Input")))
        case "qmatmul", "qpool2d", "qrelu", "qconcat", "dequantize": return precisionName(dtype(n.input("X")))
        case "quantize": return precisionName(dtype(n.output("Out")))
        case "qbmm": return "I8"   // f32 operands, quantized inside: s8 × s8 products
        case "feed": return precisionName(dtype(n.output("Out")))
        case "fetch": return precisionName(dtype(n.input("X")))
        default:
            // An op reading integer activations (flatten/reshape in an integer chain) runs in that precision.
            if let x = n.input("X"), let d = dtype(x), d == .u8 || d == .i8, g.values[x]?.constant == nil { return precisionName(d) }
            let firstData = n.allInputs.first { g.values[$0]?.constant == nil }
            return precisionName(dtype(n.allOutputs.first) ?? dtype(firstData))
        }
    }
}
