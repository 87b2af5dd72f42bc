import QtopFormat
import QtopGraph

/// `fuse-scale-residual`: the RSE shortcut of PP-OCR's FPN on float tensors, `elementwise_mul(x, s)` (s one value
/// per (n, c) of a channel-first x) read only by `elementwise_add` of x and that product, becomes one
/// `scale_residual` node (ScaleResidualSpec): x is read once and the result written once, instead of the product
/// being written and read back (two of the five passes over the tensor). Runs after lower-int8, so an int8 graph's
/// SE blocks on NHWC conv outputs (LowerSEBlocks) are taken first; what it matches there is float NCHW. When the
/// sum's only reader is PP-OCR's FPN step adding the upsampled coarser level, that add becomes the `Addend`.
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
            // the FPN's next step, the sum's only reader adding the upsampled coarser level z: absorbed as the Addend
            var inputs = [Slot("X", [x]), Slot("Scale", [s])], result = out, chain = [m, a]
            let outReaders = rw.consumers(out, of: a)
            if outReaders.count == 1, let b = outReaders.first, b.type == "elementwise_add", !rw.claimed.contains(b.id),
               !rw.isGraphOutput(out, of: a), b.allInputs.count == 2, (try? b.spec(BinarySpec.self))?.axis ?? 0 == -1,
               let z = b.allInputs.first(where: { $0 != out }), b.allInputs.contains(out), rw.values[z]?.dtype == .f32,
               FuseSEAdd.sameExtents(z, xs, rw), let bo = b.output("Out"), rw.shape(bo) == xs,
               [x, s].allSatisfy({ rw.producer($0, before: b)?.id == rw.producer($0, before: a)?.id }) {
                inputs.append(Slot("Addend", [z]))
                result = bo
                chain.append(b)
            }
            let last = chain.last!
            let fused = Node(id: last.id, type: "scale_residual", inputs: inputs, outputs: [Slot("Out", [result])],
                             provenance: chain.flatMap(\.provenance), layerPath: last.layerPath)
            for n in chain.dropLast() { rw.remove(n, detail: "\(n.type) fused into scale_residual \(fused.name)") }
            rw.replace(last, with: [fused])
            rw.record(.fused, fused, chain.count == 3
                      ? "elementwise_mul + elementwise_add + elementwise_add ((x + x·s) + \(inputs[2].args[0])) → scale_residual on f32 \(x) with Addend"
                      : "elementwise_mul + elementwise_add (x + x·s) → scale_residual on f32 \(x)")
        }
        return (rw.finish(), rw.changes)
    }

    /// s is [N, C, 1, …] (or [1, C, 1, …]) for x [N, C, …]: known channels, every trailing extent 1, and a batch
    /// that is x's (the same unknown extent counts: both are the batch) or 1.
    static func gateShaped(_ s: [Int], for x: [Int]) -> Bool {
        s[1] == x[1] && x[1] > 0 && s.dropFirst(2).allSatisfy { $0 == 1 } && (s[0] == x[0] || s[0] == 1)
    }
}
