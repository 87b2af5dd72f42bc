import QtopFormat
import QtopGraph

/// `fuse-scale-residual`: the RSE shortcut of PP-OCR's FPN on float tensors, `elementwise_mul(x, s)` (s one value
/// per (n, c) of a channel-first x) read only by `elementwise_add` of x and that product, becomes one
/// `scale_residual` node (ScaleResidualSpec): x is read once and the result written once, instead of the product
/// being written and read back (two of the five passes over the tensor). Runs after lower-int8, so an int8 graph's
/// SE blocks on NHWC conv outputs (LowerSEBlocks) are taken first; what it matches there is float NCHW.
public enum FuseScaleResidual {
    public static let name = "fuse-scale-residual"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for m in g.nodes where m.type == "elementwise_mul" && !rw.claimed.contains(m.id) {
            guard let x = m.input("X"), let s = m.input("Y"), m.allInputs.count == 2, let p = m.output("Out"),
                  (try? m.spec(BinarySpec.self))?.axis ?? 0 == -1,
                  rw.values[x]?.dtype == .f32, rw.values[s]?.dtype == .f32, rw.values[p]?.dtype == .f32,
                  let xs = rw.shape(x), let ss = rw.shape(s), xs.count >= 3, ss.count == xs.count,
                  gateShaped(ss, for: xs), rw.shape(p) == xs else { continue }
            let readers = rw.consumers(p, of: m)
            guard readers.count == 1, let a = readers.first, a.type == "elementwise_add", !rw.claimed.contains(a.id),
                  !rw.isGraphOutput(p, of: m), a.allInputs.count == 2, Set(a.allInputs) == Set([x, p]),
                  (try? a.spec(BinarySpec.self))?.axis ?? 0 == -1, let out = a.output("Out"), rw.shape(out) == xs,
                  rw.producer(x, before: a)?.id == rw.producer(x, before: m)?.id else { continue }
            let fused = Node(id: a.id, type: "scale_residual", inputs: [Slot("X", [x]), Slot("Scale", [s])],
                             outputs: [Slot("Out", [out])], provenance: m.provenance + a.provenance, layerPath: a.layerPath)
            rw.remove(m, detail: "elementwise_mul fused into scale_residual \(fused.name)")
            rw.replace(a, with: [fused])
            rw.record(.fused, fused, "elementwise_mul + elementwise_add (x + x·s) → scale_residual on f32 \(x)")
        }
        return (rw.finish(), rw.changes)
    }

    /// s is [N, C, 1, …] (or [1, C, 1, …]) for x [N, C, …]: known channels, every trailing extent 1, and a batch
    /// that is x's (the same unknown extent counts: both are the batch) or 1.
    static func gateShaped(_ s: [Int], for x: [Int]) -> Bool {
        s[1] == x[1] && x[1] > 0 && s.dropFirst(2).allSatisfy { $0 == 1 } && (s[0] == x[0] || s[0] == 1)
    }
}
