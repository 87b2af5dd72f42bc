import QtopFormat

/// A spec that can compute its op's main output from constant inputs (or, for shape / fill_any_like, from its
/// input's known shape) at graph time. The runtime's reference kernels share the index math (`SliceWindow`,
/// `StackSpec.interleave`, `ElementStore`), so a folded value is bit-identical to what the kernel would write.
public protocol ConstantEvaluable {
    /// The tensors of the op's first output slot (nil: not computable yet, e.g. an input is not constant).
    func evaluate(_ e: EvalContext) throws -> [HostTensor]?
}

/// What an evaluation sees: the node and the values known so far (constants included).
public struct EvalContext {
    public let node: Node
    public let values: [String: ValueInfo]
    /// The node's outputs as shape inference gave them (name → shape), for ops whose result is a view.
    public let inferred: [String: [Int]]

    public func constant(_ slot: String) -> HostTensor? { node.input(slot).flatMap { values[$0]?.constant } }
    public func shape(_ slot: String) -> [Int]? { node.input(slot).flatMap { values[$0]?.shape } }
    public func dtype(_ slot: String) -> DType? { node.input(slot).flatMap { values[$0]?.dtype } }
    public func has(_ slot: String) -> Bool { !node.inputs(slot).isEmpty }
    /// The integer values of the constant(s) in a slot, concatenated; nil when absent or not all constant.
    public func ints(_ slot: String) -> [Int]? {
        ShapeContext(node: node, values: values).constantInts(slot)
    }
}

/// Folds shape-computing subgraphs (shape → slice → fill_constant / concat / scale / cast / integer elementwise →
/// reshape2 Shape / ShapeTensor, interp SizeTensor / OutSize …) into constants once the input shapes are known.
///
/// Walks the graph in program order, inferring shapes as `ShapeInference` does; a node whose result is computable
/// at graph time (every input constant, or only its input's shape needed), small (≤ `maxElements` per output) and
/// the only writer of its outputs becomes constants: the node is dropped and its output values carry the data,
/// so later shape rules (reshape2's ShapeTensor, interp's OutSize) see them. Used by `ShapeInference.specialize`
/// (every plan) and, to show it in the timeline, by the `fold-shape-computation` pass.
public enum ShapeFolding {
    /// Outputs larger than this stay computed at run time (a fill_constant of an activation's size is no shape).
    public static let maxElements = 4096

    /// One folded node: what it was and the constants that replace its outputs.
    public struct Folded: Sendable {
        public let node: Node
        public let outputs: [(name: String, value: HostTensor)]
    }

    /// What folds: integer / bool values (shape arithmetic) and constant sources (fill_constant, fill_any_like,
    /// assign_value) — float tensors computed from weights (a bias reshaped for broadcasting) stay nodes, so
    /// weight passes keep seeing them — or, for checking the evaluators, every small computable value.
    public enum Scope: Sendable { case shapeValues, allSmallValues }

    /// Ops that only produce a constant (no data inputs).
    static let sources: Set<String> = ["fill_constant", "fill_any_like", "fill_zeros_like", "assign_value"]

    /// The graph with every foldable node replaced by constants (shapes re-inferred), and what was folded.
    public static func fold(_ g0: Graph, scope: Scope = .shapeValues) -> (Graph, [Folded]) {
        var g = g0
        var writers: [String: Int] = [:]
        for n in g.nodes { for v in Set(n.allOutputs) { writers[v, default: 0] += 1 } }
        let inputs = Set(g.inputs)
        var read = Set(g.outputs)
        for n in g.nodes { read.formUnion(n.allInputs) }
        var kept: [Node] = []
        var folded: [Folded] = []
        for node in g.nodes {
            let outs = (try? ShapeInference.infer(node, g.values)) ?? nil
            if let outs { apply(outs, to: &g.values) }
            if let f = tryFold(node, g, outs, writers: writers, inputs: inputs, read: read),
               scope == .allSmallValues || sources.contains(node.type) || f.outputs.allSatisfy({ !$0.value.dtype.isFloatingPoint }) {
                for (name, t) in f.outputs {
                    var info = g.values[name] ?? ValueInfo(name: name, dtype: t.dtype, shape: t.shape)
                    info.dtype = t.dtype
                    info.shape = t.shape
                    info.constant = t
                    g.values[name] = info
                }
                folded.append(f)
                continue
            }
            kept.append(node)
        }
        g.nodes = kept
        return (g, folded)
    }

    static func apply(_ outs: [InferredValue], to values: inout [String: ValueInfo]) {
        for o in outs {
            var info = values[o.name] ?? ValueInfo(name: o.name, dtype: o.dtype, shape: o.shape)
            if info.constant != nil { continue }
            if let dt = o.dtype { info.dtype = dt }
            info.shape = o.shape
            values[o.name] = info
        }
    }

    /// Op types folded without a `ConstantEvaluable` spec (see `evaluateGeneric`).
    static let genericTypes: Set<String> = ["reshape2", "reshape", "squeeze2", "squeeze", "unsqueeze2", "unsqueeze",
                                            "flatten_contiguous_range", "concat", "scale", "cast", "elementwise_add",
                                            "elementwise_sub", "elementwise_mul", "elementwise_div", "elementwise_floordiv",
                                            "elementwise_max", "elementwise_min"]

    static func tryFold(_ node: Node, _ g: Graph, _ outs: [InferredValue]?, writers: [String: Int], inputs: Set<String>,
                        read: Set<String>) -> Folded? {
        var evaluable: ConstantEvaluable?
        if case .success(let d)? = node.decoded { evaluable = d.spec as? ConstantEvaluable }
        guard evaluable != nil || genericTypes.contains(node.type) else { return nil }
        guard let main = node.outputs.first, !main.args.isEmpty else { return nil }
        // Only the first output slot is computed; any other output (XShape, a mask) must be unread.
        for slot in node.outputs.dropFirst() { for v in slot.args where read.contains(v) { return nil } }
        for v in main.args where writers[v] != 1 || inputs.contains(v) || g.values[v]?.constant != nil { return nil }
        let inferred = Dictionary((outs ?? []).map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        let ctx = EvalContext(node: node, values: g.values, inferred: inferred)
        let result: [HostTensor]?
        do {
            if let ev = evaluable {
                result = try ev.evaluate(ctx)
            } else {
                result = try evaluateGeneric(ctx)
            }
        } catch {
            return nil  // the kernel (or the plan) reports the problem with its context
        }
        guard let result, result.count == main.args.count, result.allSatisfy({ $0.count <= maxElements }) else { return nil }
        return Folded(node: node, outputs: Array(zip(main.args, result)).map { (name: $0.0, value: $0.1) })
    }

    /// Ops whose specs live elsewhere but whose value on small constants is plain: views (reshape, squeeze,
    /// unsqueeze, flatten), concat, scale, cast, and integer elementwise arithmetic.
    static func evaluateGeneric(_ e: EvalContext) throws -> [HostTensor]? {
        let n = e.node
        // Every input must be a constant.
        for v in n.allInputs where e.values[v]?.constant == nil { return nil }
        guard let outName = n.outputs.first?.args.first else { return nil }
        switch n.type {
        case "reshape2", "reshape", "squeeze2", "squeeze", "unsqueeze2", "unsqueeze", "flatten_contiguous_range", "assign":
            guard let x = e.constant("X"), let shape = e.inferred[outName], !shape.contains(where: { $0 < 0 }),
                  shape.reduce(1, *) == x.count else { return nil }
            return [x.reshaped(shape)]
        case "concat":
            let xs = n.inputs("X").compactMap { e.values[$0]?.constant }
            guard let first = xs.first, let shape = e.inferred[outName], xs.allSatisfy({ $0.dtype == first.dtype }) else { return nil }
            let attrAxis = try n.spec(ConcatSpec.self).axis
            let axisValue = e.ints("AxisTensor")?.first ?? attrAxis
            let axis = try ShapeMath.axis(axisValue, rank: shape.count, "concat")
            let out = HostTensor(dtype: first.dtype, shape: shape)
            let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *), size = first.dtype.byteSize
            var offset = 0
            for t in xs {
                let chunk = t.shape[axis] * inner * size
                for o in 0..<outer {
                    (out.raw + (o * shape[axis] + offset) * inner * size).copyMemory(from: t.raw + o * chunk, byteCount: chunk)
                }
                offset += t.shape[axis]
            }
            return [out]
        case "scale":
            guard let x = e.constant("X") else { return nil }
            let spec = try n.spec(ScaleSpec.self)
            let s = e.constant("ScaleTensor").map { Double($0.floatValues().first ?? 1) } ?? Double(spec.scale)
            let out = HostTensor(dtype: x.dtype, shape: x.shape)
            if x.dtype.isFloatingPoint {
                guard x.dtype == .f32 else { return nil }
                let xs = x.floatValues(), sf = Float(s), b = spec.bias
                for i in 0..<x.count { out.store(i, Double(spec.biasAfterScale ? xs[i] * sf + b : (xs[i] + b) * sf), int: nil) }
            } else {
                // Paddle casts scale and bias to the element type first.
                let si = ElementStore.toInt64(s), bi = ElementStore.toInt64(Double(spec.bias))
                for (i, v) in x.int64Values().enumerated() {
                    out.store(i, 0, int: spec.biasAfterScale ? v &* si &+ bi : (v &+ bi) &* si)
                }
            }
            return [out]
        case "cast":
            guard let x = e.constant("X"), let dt = e.values[outName]?.dtype, dt != .f16, x.dtype != .f16 else { return nil }
            let out = HostTensor(dtype: dt, shape: x.shape)
            if x.dtype.isFloatingPoint {
                for (i, v) in x.floatValues().enumerated() { out.store(i, Double(v), int: nil) }
            } else {
                for (i, v) in x.int64Values().enumerated() { out.store(i, Double(v), int: v) }
            }
            return [out]
        case "elementwise_add", "elementwise_sub", "elementwise_mul", "elementwise_div", "elementwise_floordiv",
             "elementwise_max", "elementwise_min":
            guard let x = e.constant("X"), let y = e.constant("Y"), !x.dtype.isFloatingPoint, !y.dtype.isFloatingPoint,
                  let shape = e.inferred[outName] else { return nil }
            // Same shape, or one side a single element (the shapes of shape arithmetic).
            let count = shape.reduce(1, *)
            guard (x.count == count || x.count == 1), (y.count == count || y.count == 1) else { return nil }
            let xv = x.int64Values(), yv = y.int64Values()
            let out = HostTensor(dtype: e.values[outName]?.dtype ?? x.dtype, shape: shape)
            for i in 0..<count {
                let a = xv[x.count == 1 ? 0 : i], b = yv[y.count == 1 ? 0 : i]
                let r: Int64
                switch n.type {
                case "elementwise_add": r = a &+ b
                case "elementwise_sub": r = a &- b
                case "elementwise_mul": r = a &* b
                case "elementwise_max": r = a > b ? a : b
                case "elementwise_min": r = a < b ? a : b
                default:
                    guard b != 0, !(a == .min && b == -1) else { return nil }  // the kernel reports it
                    if n.type == "elementwise_div" { r = a / b } else {
                        let q = a / b
                        r = (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
                    }
                }
                out.store(i, 0, int: r)
            }
            return [out]
        default:
            return nil
        }
    }
}

/// Writing one element of any dtype from a number, the way Paddle's static_cast does it (float → integer
/// truncates toward zero, → bool is `!= 0`). Shared by the folder and the reference kernels.
public enum ElementStore {
    /// Double → Int64 truncating toward zero; NaN is 0 and out-of-range values saturate (never a trap).
    public static func toInt64(_ v: Double) -> Int64 {
        guard v.isFinite else { return v.isNaN ? 0 : (v > 0 ? .max : .min) }
        if v >= 9.223372036854775e18 { return .max }
        if v <= -9.223372036854775e18 { return .min }
        return Int64(v)
    }

    /// Stores `v` (or `int` exactly, for integer dtypes, when given) as element `i` of `dtype` at `p`.
    /// float16 is not stored (the specs reject it).
    public static func store(_ p: UnsafeMutableRawPointer, _ dtype: DType, _ i: Int, _ v: Double, int: Int64?) {
        let iv = int ?? toInt64(v)
        switch dtype {
        case .f32: p.assumingMemoryBound(to: Float.self)[i] = int.map { Float($0) } ?? Float(v)
        case .f64: p.assumingMemoryBound(to: Double.self)[i] = int.map { Double($0) } ?? v
        case .bf16:
            let f = int.map { Float($0) } ?? Float(v)
            p.assumingMemoryBound(to: UInt16.self)[i] = UInt16(truncatingIfNeeded: f.bitPattern >> 16)
        case .f16: break
        case .i64: p.assumingMemoryBound(to: Int64.self)[i] = iv
        case .i32: p.assumingMemoryBound(to: Int32.self)[i] = Int32(truncatingIfNeeded: iv)
        case .i16: p.assumingMemoryBound(to: Int16.self)[i] = Int16(truncatingIfNeeded: iv)
        case .i8: p.assumingMemoryBound(to: Int8.self)[i] = Int8(truncatingIfNeeded: iv)
        case .u8: p.assumingMemoryBound(to: UInt8.self)[i] = UInt8(truncatingIfNeeded: iv)
        case .bool: p.assumingMemoryBound(to: UInt8.self)[i] = (int.map { $0 != 0 } ?? (v != 0)) ? 1 : 0
        }
    }
}

extension HostTensor {
    /// A new tensor of integers.
    public static func ints(_ v: [Int64], dtype: DType, shape: [Int]) -> HostTensor {
        let t = HostTensor(dtype: dtype, shape: shape)
        for (i, x) in v.enumerated() { t.store(i, Double(x), int: x) }
        return t
    }

    /// A new tensor with every element `value` (`int` exactly for integer dtypes when given).
    public static func filled(_ value: Double, int: Int64?, dtype: DType, shape: [Int]) -> HostTensor {
        let t = HostTensor(dtype: dtype, shape: shape)
        for i in 0..<t.count { t.store(i, value, int: int) }
        return t
    }

    public func store(_ i: Int, _ v: Double, int: Int64?) { ElementStore.store(raw, dtype, i, v, int: int) }
}
