import QtopFormat

// Shape ops: flatten, reshape, transpose, concat, split, squeeze, unsqueeze, and mean (reductions: Reduce.swift).

public enum ShapeSpecs {
    static let specs: [any OpSpec.Type] = [FlattenRangeSpec.self, FlattenSpec.self, ReshapeSpec.self, TransposeSpec.self,
                                           ConcatSpec.self, SplitSpec.self, SqueezeSpec.self, UnsqueezeSpec.self,
                                           MeanSpec.self]
}

/// flatten_contiguous_range: dims start_axis…stop_axis become one.
public struct FlattenRangeSpec: OpSpec {
    public static let opTypes = ["flatten_contiguous_range"]
    public let startAxis: Int, stopAxis: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        startAxis = try a.int("start_axis", default: 1)
        stopAxis = try a.int("stop_axis", default: -1)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        if x.isEmpty { return s.output("Out", s.dtype("X"), [1]) + s.xshape(x) }
        let start = try ShapeMath.axis(startAxis, rank: x.count, "flatten")
        let stop = try ShapeMath.axis(stopAxis, rank: x.count, "flatten")
        guard start <= stop else { throw OpSpecError("flatten: start_axis > stop_axis") }
        let out = Array(x[..<start]) + [try ShapeMath.product(x[start...stop])] + Array(x[(stop + 1)...])
        return s.output("Out", s.dtype("X"), out) + s.xshape(x)
    }
}

/// Legacy flatten / flatten2: [prod(dims before axis), prod(dims from axis)].
public struct FlattenSpec: OpSpec {
    public static let opTypes = ["flatten2", "flatten"]
    public let axis: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        axis = try a.int("axis", default: 1, in: 0...64)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        guard axis <= x.count else { throw OpSpecError("flatten: axis \(axis) beyond rank \(x.count)") }
        let out = [try ShapeMath.product(x[..<axis]), try ShapeMath.product(x[axis...])]
        return s.output("Out", s.dtype("X"), out) + s.xshape(x)
    }
}

/// reshape / reshape2 to the `shape` attribute (0 copies the input extent, one -1 is inferred). A Shape or
/// ShapeTensor input decides at run time.
public struct ReshapeSpec: OpSpec {
    public static let opTypes = ["reshape2", "reshape"]
    public let shape: [Int]

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        shape = try a.ints("shape", default: [], min: -1)
    }

    /// The target in Paddle's precedence: the ShapeTensor list, else the Shape tensor, else the attribute
    /// (nil while the tensor is not a constant; folding shape subgraphs makes it one).
    public func targetShape(_ ints: (String) -> [Int]?, _ has: (String) -> Bool) -> [Int]? {
        if has("ShapeTensor") { return ints("ShapeTensor") }
        if has("Shape") { return ints("Shape") }
        return shape
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        guard let t = targetShape(s.constantInts, s.has) else {
            // Run-time target: the rank is known from the ShapeTensor list or a 1-D Shape's length.
            let rank = s.has("ShapeTensor") ? s.node.inputs("ShapeTensor").count
                : s.node.input("Shape").flatMap { s.values[$0]?.shape?.first } ?? -1
            return rank >= 0 ? s.output("Out", s.dtype("X"), Array(repeating: -1, count: rank)) + s.xshape(x) : nil
        }
        guard t.allSatisfy({ $0 >= -1 }) else { throw OpSpecError("reshape: bad target shape \(t)") }
        return s.output("Out", s.dtype("X"), try ReshapeSpec.target(x, t)) + s.xshape(x)
    }

    /// reshape's target: 0 copies the input extent, one -1 is inferred (unknown when the input has unknowns).
    public static func target(_ x: [Int], _ target: [Int]) throws -> [Int] {
        var out = target.enumerated().map { i, d in d == 0 && i < x.count ? x[i] : d }
        let known = try ShapeMath.product(out.filter { $0 >= 0 })
        if let unk = out.firstIndex(of: -1) {
            guard out.filter({ $0 == -1 }).count == 1 else { throw OpSpecError("reshape: more than one -1") }
            if x.contains(where: { $0 < 0 }) {
                out[unk] = -1
            } else {
                let total = try ShapeMath.product(x)
                guard known > 0, total % known == 0 else { throw OpSpecError("reshape: \(x) cannot become \(target)") }
                out[unk] = total / known
            }
        } else if !x.contains(where: { $0 < 0 }), try ShapeMath.product(x) != known {
            throw OpSpecError("reshape: \(x) cannot become \(target)")
        }
        return out
    }
}

/// transpose / transpose2 by the permutation `axis` (default: reversed).
public struct TransposeSpec: OpSpec {
    public static let opTypes = ["transpose2", "transpose"]
    /// nil: reverse the dimensions.
    public let perm: [Int]?

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        perm = a.has("axis") ? try a.ints("axis", default: []) : nil
    }

    /// The permutation for a rank-`rank` input, validated.
    public func permutation(rank: Int) throws -> [Int] {
        let p = perm ?? Array((0..<rank).reversed())
        guard p.count == rank, Set(p) == Set(0..<rank) else { throw OpSpecError("transpose: bad axis \(p) for rank \(rank)") }
        return p
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        let p = try permutation(rank: x.count)
        return s.output("Out", s.dtype("X"), p.map { x[$0] }) + s.xshape(x)
    }
}

/// concat along `axis` (an AxisTensor input decides at run time).
public struct ConcatSpec: OpSpec {
    public static let opTypes = ["concat"]
    public let axis: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        axis = try a.int("axis", default: 0)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        var axis = self.axis
        if s.has("AxisTensor") {
            guard let a = s.constantInts("AxisTensor")?.first else { return nil }
            axis = a
        }
        let xs = try s.node.inputs("X").map { name -> [Int] in
            guard let shape = s.values[name]?.shape else { throw OpSpecError("concat: unknown input shape") }
            return shape
        }
        guard let first = xs.first else { throw OpSpecError("concat: no inputs") }
        let ax = try ShapeMath.axis(axis, rank: first.count, "concat")
        guard xs.allSatisfy({ $0.count == first.count }) else { throw OpSpecError("concat: inputs of different ranks") }
        var out = first
        if xs.contains(where: { $0[ax] < 0 }) {
            out[ax] = -1
        } else {
            var sum = 0
            for x in xs {
                let (r, o) = sum.addingReportingOverflow(x[ax])
                if o { throw OpSpecError("concat: extent overflow") }
                sum = r
            }
            out[ax] = sum
        }
        return s.output("Out", s.node.input("X").flatMap { s.values[$0]?.dtype }, out)
    }
}

/// split along `axis` into `sections` (one -1 inferred) or `num` equal parts.
public struct SplitSpec: OpSpec {
    public static let opTypes = ["split"]
    public let axis: Int
    public let sections: [Int]
    public let num: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        axis = try a.int("axis", default: 0)
        sections = try a.ints("sections", default: [], min: -1)
        num = try a.int("num", default: 0, in: 0...Int(Int32.max))
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        var axis = self.axis, secs = sections
        if s.has("AxisTensor") {
            guard let a = s.constantInts("AxisTensor")?.first else { return nil }
            axis = a
        }
        if s.has("SectionsTensorList") {
            guard let t = s.constantInts("SectionsTensorList") else { return nil }
            secs = t
        }
        let ax = try ShapeMath.axis(axis, rank: x.count, "split")
        let outs = s.node.outputs("Out")
        if secs.isEmpty {
            let parts = num > 0 ? num : outs.count
            // Checked before the section list is built: a `num` from a file can be ~2^31.
            guard parts == outs.count else { throw OpSpecError("split: num \(num) differs from the \(outs.count) outputs") }
            if x[ax] >= 0, parts > 0, x[ax] % parts != 0 {
                throw OpSpecError("split: extent \(x[ax]) of axis \(ax) is not divisible by num \(parts)")
            }
            secs = Array(repeating: x[ax] < 0 ? -1 : x[ax] / max(parts, 1), count: parts)
        } else if let unk = secs.firstIndex(of: -1), x[ax] >= 0 {
            guard secs.filter({ $0 == -1 }).count == 1 else { throw OpSpecError("split: more than one -1 in sections \(secs)") }
            secs[unk] = x[ax] - secs.filter { $0 >= 0 }.reduce(0, +)
            guard secs[unk] >= 0 else { throw OpSpecError("split: sections \(sections) exceed extent \(x[ax])") }
        }
        if x[ax] >= 0, !secs.contains(-1), secs.reduce(0, +) != x[ax] {
            throw OpSpecError("split: sections \(secs) do not sum to extent \(x[ax])")
        }
        guard secs.count == outs.count else { throw OpSpecError("split: section count differs from outputs") }
        return zip(outs, secs).map { name, n in
            var o = x
            o[ax] = n
            return InferredValue(name, s.dtype("X"), o)
        }
    }
}

/// squeeze / squeeze2: removes the size-1 dims in `axes` (all size-1 dims when empty).
public struct SqueezeSpec: OpSpec {
    public static let opTypes = ["squeeze2", "squeeze"]
    public let axes: [Int]

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        axes = try a.ints("axes", default: [])
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        let ax = x.isEmpty ? [] : try axes.map { try ShapeMath.axis($0, rank: x.count, "squeeze") }
        var out: [Int] = []
        for (i, d) in x.enumerated() where !(ax.isEmpty ? d == 1 : (ax.contains(i) && d == 1)) { out.append(d) }
        return s.output("Out", s.dtype("X"), out) + s.xshape(x)
    }
}

/// unsqueeze / unsqueeze2: inserts size-1 dims at `axes`, in order (AxesTensor inputs decide at run time).
public struct UnsqueezeSpec: OpSpec {
    public static let opTypes = ["unsqueeze2", "unsqueeze"]
    public let axes: [Int]

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        axes = try a.ints("axes", default: [])
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        var axes = self.axes
        if s.has("AxesTensor") || s.has("AxesTensorList") {
            guard let a = s.constantInts("AxesTensor") ?? s.constantInts("AxesTensorList") else { return nil }
            axes = a
        }
        let x = try s.shape("X")
        var out = x
        for ax in axes {
            let p = ax < 0 ? ax + out.count + 1 : ax
            guard p >= 0, p <= out.count else { throw OpSpecError("unsqueeze: bad axis \(ax)") }
            out.insert(1, at: p)
        }
        return s.output("Out", s.dtype("X"), out) + s.xshape(x)
    }
}

/// mean: the mean of all elements, 0-D.
public struct MeanSpec: OpSpec {
    public static let opTypes = ["mean"]
    public init(_ node: Node, _ a: inout AttributeReader) throws {}
    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? { s.output("Out", s.dtype("X"), []) }
}
