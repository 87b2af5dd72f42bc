import Foundation
import QtopGraph

/// Renderings of a profile snapshot for `qtop report`: benchmark_app -pc style table, its CSV, and our JSON contract.
public enum ReportFormat {
    /// benchmark_app shows the first 15 characters of long names followed by "...".
    public static func shortName(_ s: String, width: Int = 18) -> String {
        s.count <= width ? s : String(s.prefix(width - 3)) + "..."
    }

    public static func table(_ rows: [LayerProfile], _ snap: ProfileSnapshot, withShare: Bool) -> String {
        var out: [String] = []
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
        func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
        var header = pad("layerName", 20) + pad("execStatus", 15) + pad("layerType", 26) + pad("execType", 30) + pad("outPrecision", 13)
            + lpad("realTime (ms)", 14) + lpad("cpuTime (ms)", 14)
        if withShare { header += lpad("share", 8) }
        out.append(header)
        for r in rows {
            var line = pad(shortName(r.name), 20) + pad(r.status.rawValue, 15) + pad(shortName(r.layerType, width: 24), 26)
                + pad(r.execTypeText, 30) + pad(r.outPrecisionText, 13) + lpad(String(format: "%.3f", r.meanMs), 14) + lpad(String(format: "%.3f", r.cpuMs), 14)
            if withShare { line += lpad(String(format: "%.1f%%", r.percent), 8) }
            out.append(line)
        }
        out.append(String(format: "Total time: %.3f ms", snap.totalMs))
        out.append(String(format: "Total CPU time: %.3f ms", snap.totalCpuMs))
        out.append(String(format: "Latency: median %.3f ms, min %.3f ms over %d runs (mode %@, ISA cap %@, %d threads)",
                          snap.latencyMedianMs, snap.latencyMinMs, snap.runs, snap.mode.rawValue, snap.isaCap.rawValue, snap.threads))
        return out.joined(separator: "\n")
    }

    public static func csv(_ rows: [LayerProfile]) -> String {
        var out = ["layerName;execStatus;layerType;execType;realTime (ms);cpuTime (ms)"]
        for r in rows {
            out.append("\(r.name);\(r.status.rawValue);\(r.layerType);\(r.execTypeText);" + String(format: "%.6f;%.6f", r.meanMs, r.cpuMs))
        }
        return out.joined(separator: "\n")
    }

    public static func json(_ rows: [LayerProfile], _ snap: ProfileSnapshot) -> JSON {
        .object([
            ("layers", .array(rows.map { r in
                .object([
                    ("name", .string(r.name)), ("status", .string(r.status.rawValue)), ("layer_type", .string(r.layerType)),
                    ("exec_type", .string(r.execTypeText)), ("isa", .string(r.isaText)), ("precision", .string(r.precisionText)),
                    ("out_precision", .string(r.outPrecisionText)),
                    ("real_ms", .double(r.meanMs)), ("cpu_ms", .double(r.cpuMs)), ("percent", .double(r.percent)),
                    ("fused_from", .array(r.fusedFrom.map { .string($0) })),
                ])
            })),
            ("total_ms", .double(snap.totalMs)),
            ("total_cpu_ms", .double(snap.totalCpuMs)),
            ("latency_median_ms", .double(snap.latencyMedianMs)),
            ("mode", .string(snap.mode.rawValue)),
            ("isa_cap", .string(snap.isaCap.rawValue)),
            ("threads", .int(snap.threads)),
        ])
    }

    /// Per node: what ran, and every candidate passed over with its reason (as ONEDNN_VERBOSE=dispatch).
    public static func dispatch(_ e: Executor) -> String {
        var out = ["", "Dispatch decisions:"]
        for s in e.steps where s.kernel != nil {
            out.append("\(shortName(s.node.name, width: 40))  \(s.node.type) → \(s.decision.execType)")
            for r in s.decision.rejected {
                out.append("    rejected \(r.implementation):\(r.isa.rawValue) — \(r.reason)")
            }
        }
        return out.joined(separator: "\n")
    }
}
