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

    /// Replaces the graph's input shapes (e.g. batch -1 → 1) and re-infers every shape.
    public static func specialize(_ g: Graph, inputShapes: [String: [Int]]) throws -> Graph {
        var out = g
        for (name, shape) in inputShapes {
            guard out.values[name] != nil else { throw ShapeError("model has no input named '\(name)'") }
            out.values[name]!.shape = shape
        }
        var reasons: [NodeID: String] = [:]
        let skipped = run(&out, reasons: &reasons)
        // A node that cannot be inferred with concrete inputs cannot be planned.
        if let id = skipped.first, let n = out.node(id: id), n.type != "fetch" {
            throw ShapeError("cannot infer output shapes of \(n.type) '\(n.name)': \(reasons[id] ?? "no rule")")
        }
        return out
    }

    public struct ShapeError: Error, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }

    /// The spec's rule for one node, or nil when there is none (or the outputs depend on run-time tensors).
    /// A malformed attribute throws the spec's error.
    public static func infer(_ n: Node, _ v: [String: ValueInfo]) throws -> [InferredValue]? {
        switch n.decoded {
        case nil: return nil
        case .failure(let e)?: throw e
        case .success(let d)?: return try d.spec.inferOutputs(ShapeContext(node: n, values: v))
        }
    }

    /// Paddle's elementwise broadcasting (see `BinarySpec.broadcast`).
    public static func broadcast(_ x: [Int], _ y: [Int], axis: Int) throws -> [Int] {
        try BinarySpec.broadcast(x, y, axis: axis)
    }
}
