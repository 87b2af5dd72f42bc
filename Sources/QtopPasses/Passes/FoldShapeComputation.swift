import QtopFormat
import QtopGraph

/// `fold-shape-computation`: sets the input shapes given in `PassOptions.inputShapes` and folds shape-computing
/// subgraphs (shape → slice → fill_constant / concat / scale / cast / integer elementwise → reshape2 Shape /
/// ShapeTensor, interp SizeTensor / OutSize …) into constants (`ShapeFolding`, the same folding every plan does
/// when it specializes), so the timeline shows which nodes disappear and what they became.
///
/// When a folded value depended on an input's shape, that input is annotated (`folded_for_shape`), and planning
/// the result for other shapes fails with a clear message instead of running stale constants.
public enum FoldShapeComputation {
    public static let name = "fold-shape-computation"
    public static let pass = Pass(name: name) { g, o in apply(g, inputShapes: o.inputShapes) }

    public static func apply(_ g0: Graph, inputShapes: [String: [Int]]) -> (Graph, [Change]) {
        var g = g0
        var changes: [Change] = []
        let feeds = Dictionary(g0.nodes.filter { $0.type == "feed" }.compactMap { n in n.output("Out").map { ($0, n) } },
                               uniquingKeysWith: { a, _ in a })
        for (name, shape) in inputShapes.sorted(by: { $0.key < $1.key }) where g.values[name] != nil && g.inputs.contains(name) {
            let old = g.values[name]?.shape
            guard old != shape else { continue }
            g.values[name]!.shape = shape
            let feed = feeds[name]
            changes.append(Change(kind: .rewritten, node: feed?.name ?? name, nodeID: feed?.id ?? -1,
                                  detail: "input \(name): \(fmtShape(old)) → \(fmtShape(shape))"))
        }
        let (folded, done) = ShapeFolding.fold(g)
        g = folded
        var readsShape = false
        for f in done {
            if f.node.type == "shape" || f.node.type == "shape64" || f.node.type.hasPrefix("fill_any_like") { readsShape = true }
            let what = f.outputs.map { "\($0.name) = \(describe($0.value))" }.joined(separator: ", ")
            changes.append(Change(kind: .removed, node: f.node.name, nodeID: f.node.id, detail: "\(f.node.type) folded: \(what)"))
        }
        if readsShape {
            for name in g.inputs { if let s = g.values[name]?.shape, !s.contains(where: { $0 < 0 }) {
                g.values[name]!.annotations[ShapeInference.foldedForShapeKey] = .ints(s)
            } }
        }
        return (g, changes)
    }

    static func fmtShape(_ s: [Int]?) -> String { s.map { "[" + $0.map(String.init).joined(separator: ",") + "]" } ?? "?" }

    /// `int32 [2] {48, 80}`; long tensors show their first values.
    static func describe(_ t: HostTensor) -> String {
        let vals: [String] = t.dtype.isFloatingPoint ? t.floatValues().prefix(8).map { fmt($0) } : t.int64Values().prefix(8).map(String.init)
        return "\(t.dtype.paddleName) \(fmtShape(t.shape)) {\(vals.joined(separator: ", "))\(t.count > 8 ? ", …" : "")}"
    }
}
