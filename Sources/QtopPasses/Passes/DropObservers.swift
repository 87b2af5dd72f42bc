import QtopFormat
import QtopGraph

/// `drop-observers`: removes `only_observer` quantize_linear/dequantize_linear pairs (identity arithmetic in
/// Paddle) and records the range they observed on the observed value as the annotation `observed_scale`
/// (a float for a per-tensor range, floats for per-channel).
public enum DropObservers {
    public static let name = "drop-observers"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    static func isObserver(_ n: Node) -> Bool {
        (n.type == "quantize_linear" || n.type == "dequantize_linear") && (try? n.spec(QuantSpec.self))?.onlyObserver == true
    }

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for q in g.nodes where isObserver(q) && !rw.claimed.contains(q.id) {
            guard let x = q.input("X"), let y = q.output("Y") else { continue }
            // A quantize observer is normally followed by its dequantize observer.
            var parts = [q]
            var out = y
            if q.type == "quantize_linear" {
                let cons = rw.consumers(y, of: q)
                if cons.count == 1, let d = cons.first, d.type == "dequantize_linear", isObserver(d), d.input("X") == y,
                   !rw.isGraphOutput(y, of: q), let z = d.output("Y") {
                    parts.append(d)
                    out = z
                }
            }
            let scale = rw.constant(q.input("Scale")).map(QuantMath.scaleValues)
            if let s = scale, !s.isEmpty, rw.values[x]?.constant == nil {
                rw.values[x, default: ValueInfo(name: x, dtype: nil, shape: nil)].annotations["observed_scale"] =
                    s.count == 1 ? .float(s[0]) : .floats(s)
            }
            let what = parts.count == 2 ? "only_observer quantize_linear+dequantize_linear" : "only_observer \(q.type)"
            let rec = scale.map { " (range \(fmtRange($0)) recorded as observed_scale of \(x))" } ?? ""
            for p in parts { rw.remove(p, detail: "\(what): identity\(rec)") }
            rw.rename(out, to: x, writtenBy: parts.last!)
            if out != y { rw.rename(y, to: x, writtenBy: q) }
        }
        return (rw.finish(), rw.changes)
    }
}
