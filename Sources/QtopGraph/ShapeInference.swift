import QtopFormat

/// Output shapes and dtypes of each op from its inputs and attributes, the way Paddle's compile-time InferShape
/// does it: -1 stands for an unknown extent (usually the batch) and propagates. The rules are the ops' specs
/// (`OpSpec.inferOutputs`, Sources/QtopGraph/Ops); this walks the graph.
///
/// Ops without a spec (or whose inputs are unknown) keep the shapes the program declared, so an unknown op still
/// loads and is shown; only executing it fails.
public enum ShapeInference {
    /// Infers shapes in program order, starting from the graph's current input shapes.
    /// Returns the ids of nodes that had no rule or could not be inferred.
    @discardableResult
    public static func run(_ g: inout Graph) -> [NodeID] {
        run(&g, reasons: nil)
    }

    static func run(_ g: inout Graph, reasons: UnsafeMutablePointer<[NodeID: String]>?) -> [NodeID] {
        var skipped: [NodeID] = []
        for node in g.nodes {
            do {
                guard let outs = try infer(node, g.values) else {
                    skipped.append(node.id)
                    reasons?.pointee[node.id] = node.decoded == nil ? "qtop has no spec for op type '\(node.type)'"
                        : "its output shapes depend on run-time inputs"
                    continue
                }
                for o in outs {
                    var info = g.values[o.name] ?? ValueInfo(name: o.name, dtype: o.dtype, shape: o.shape)
                    if info.constant != nil { continue }
                    if let dt = o.dtype { info.dtype = dt }
                    info.shape = o.shape
                    g.values[o.name] = info
                }
            } catch {
                skipped.append(node.id)
                reasons?.pointee[node.id] = "\(error)"
            }
        }
        return skipped
    }

    /// Replaces the graph's input shapes (e.g. batch -1 → 1), folds shape-computing subgraphs into constants
    /// (`ShapeFolding`) and re-infers every shape. Throws when an input is unknown, a shape does not fit the input
    /// (`checkInputShapes`), the graph's shape subgraphs were already folded for other input shapes, or a node's
    /// outputs still cannot be inferred.
    public static func specialize(_ g: Graph, inputShapes: [String: [Int]]) throws -> Graph {
        var out = g
        try checkInputShapes(g, inputShapes)
        for (name, shape) in inputShapes.sorted(by: { $0.key < $1.key }) {
            if let fixed = out.values[name]?.annotations[foldedForShapeKey]?.ints, fixed != shape {
                throw ShapeError("input '\(name)': this graph's shape computations were folded for \(fmt(fixed)); run the passes again for \(fmt(shape))")
            }
            out.values[name]!.shape = shape
        }
        out = ShapeFolding.fold(out).0
        var reasons: [NodeID: String] = [:]
        let skipped = run(&out, reasons: &reasons)
        // A node that cannot be inferred with concrete inputs cannot be planned.
        if let id = skipped.first, let n = out.node(id: id), n.type != "fetch" {
            if n.decoded == nil { throw ShapeError(unknownOpMessage(n)) }
            throw ShapeError("cannot infer output shapes of \(n.type) '\(n.name)': \(reasons[id] ?? "no rule")")
        }
        return out
    }

    /// The one line for a node qtop has no spec for (it loads and shows, but cannot run).
    public static func unknownOpMessage(_ n: Node) -> String {
        "unknown op type '\(n.type)' (node '\(n.name)'): qtop can show it (graph, passes) but cannot run it"
    }

    /// The annotation on a model input whose shape the `fold-shape-computation` pass folded shape subgraphs for.
    public static let foldedForShapeKey = "folded_for_shape"

    /// Largest element count accepted for one input.
    public static let maxInputElements = 1 << 31

    /// Checks input shapes against the model: a known input name, the declared rank, every extent in 1…`maxExtent`,
    /// and at most `maxInputElements` elements.
    public static func checkInputShapes(_ g: Graph, _ shapes: [String: [Int]]) throws {
        for (name, shape) in shapes.sorted(by: { $0.key < $1.key }) {
            guard let v = g.values[name] else {
                throw ShapeError("model has no input named '\(name)'")
            }
            if let declared = v.shape {
                guard declared.count == shape.count else {
                    throw ShapeError("input '\(name)' has rank \(declared.count) (\(fmt(declared))), got \(fmt(shape))")
                }
            }
            guard shape.allSatisfy({ $0 > 0 }) else { throw ShapeError("input '\(name)': every extent must be positive, got \(fmt(shape))") }
            guard shape.allSatisfy({ $0 <= maxExtent }) else { throw ShapeError("input '\(name)': \(fmt(shape)) has an extent over \(maxExtent)") }
            guard let n = elementCount(shape), n <= maxInputElements else {
                throw ShapeError("input '\(name)': \(fmt(shape)) has more than \(maxInputElements) elements")
            }
        }
    }

    static func fmt(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ",") + "]" }

    public struct ShapeError: Error, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }

    /// Largest extent of any value: the native kernels' descriptors hold 32-bit extents, and Paddle's readers bound
    /// declared dims the same way. An empty tensor can carry any extent without any memory, so the memory plan
    /// alone cannot refuse it.
    public static let maxExtent = Int(Int32.max)

    /// The spec's rule for one node, or nil when there is none (or the outputs depend on run-time tensors).
    /// A malformed attribute throws the spec's error; an output extent past `maxExtent` throws too.
    public static func infer(_ n: Node, _ v: [String: ValueInfo]) throws -> [InferredValue]? {
        switch n.decoded {
        case nil: return nil
        case .failure(let e)?: throw e
        case .success(let d)?:
            let outs = try d.spec.inferOutputs(ShapeContext(node: n, values: v))
            if let o = outs?.first(where: { $0.shape.contains { $0 > maxExtent } }) {
                throw ShapeError("output '\(o.name)' would be \(fmt(o.shape)), an extent over \(maxExtent)")
            }
            // every inferred value's element count fits in an Int, so kernels and specs may multiply known extents
            if let o = outs?.first(where: { elementCount($0.shape) == nil }) {
                throw ShapeError("output '\(o.name)' would be \(fmt(o.shape)), more elements than an Int counts")
            }
            return outs
        }
    }

    /// The product of the known (non-negative) extents, nil when it overflows Int.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape where d >= 0 {
            let (r, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = r
        }
        return n
    }

    /// Paddle's elementwise broadcasting (see `BinarySpec.broadcast`).
    public static func broadcast(_ x: [Int], _ y: [Int], axis: Int) throws -> [Int] {
        try BinarySpec.broadcast(x, y, axis: axis)
    }
}
