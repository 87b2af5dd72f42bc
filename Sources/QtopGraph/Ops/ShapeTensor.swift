import Foundation
import QtopFormat

// Ops that compute or move small tensors, mostly in shape-computing subgraphs: shape, slice, strided_slice,
// fill_constant, fill_any_like, assign, assign_value, stack. Each also evaluates itself on constant inputs
// (`ConstantEvaluable`), which is how `ShapeFolding` turns shape subgraphs into constants once input shapes
// are known.

public enum ShapeTensorSpecs {
    static let specs: [any OpSpec.Type] = [ShapeOfSpec.self, SliceSpec.self, FillConstantSpec.self, FillAnyLikeSpec.self,
                                           AssignSpec.self, AssignValueSpec.self, StackSpec.self]
}

/// A Paddle dtype code attribute (`dtype`, `out_dtype`); `allowSame` accepts -1 ("the input's dtype", nil).
func dtypeAttribute(_ a: inout AttributeReader, _ name: String, default d: Int, allowSame: Bool = false) throws -> DType? {
    let code = try a.int(name, default: d)
    if allowSame && code == -1 { return nil }
    guard let t = DType(paddleCode: code) else { throw a.fail(name, "is not a known dtype code: \(code)") }
    return t
}

extension ShapeContext {
    /// The integer values of the constant(s) in an input slot, concatenated (a 1-D tensor, or a list of 1-element
    /// tensors such as ShapeTensorList): nil when the slot is absent or one of them is not (yet) a constant.
    public func constantInts(_ slot: String) -> [Int]? {
        let names = node.inputs(slot)
        guard !names.isEmpty else { return nil }
        var out: [Int] = []
        for n in names {
            guard let c = values[n]?.constant else { return nil }
            out += c.int64Values().map { Int(clamping: $0) }
        }
        return out
    }

    /// True when the slot has at least one argument.
    public func has(_ slot: String) -> Bool { !node.inputs(slot).isEmpty }
}

/// shape / shape64: the input's extents as a 1-D int32 (shape) or int64 (shape64) tensor.
public struct ShapeOfSpec: OpSpec, ConstantEvaluable {
    public static let opTypes = ["shape", "shape64"]
    public let dtype: DType

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        dtype = node.type == "shape64" ? .i64 : .i32
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        s.output("Out", dtype, [try s.shape("Input").count])
    }

    /// Needs only the input's shape, fully known.
    public func evaluate(_ e: EvalContext) throws -> [HostTensor]? {
        guard let x = e.shape("Input"), !x.contains(where: { $0 < 0 }) else { return nil }
        return [HostTensor.ints(x.map(Int64.init), dtype: dtype, shape: [x.count])]
    }
}

/// The elements one slice / strided_slice reads, per input dimension: first index, step (may be negative) and
/// count; `outShape` drops the decreased axes.
public struct SliceWindow: Sendable, Equatable {
    public let inShape: [Int]
    public let start: [Int], step: [Int], count: [Int]
    public let outShape: [Int]

    /// Copies the window of a dense row-major `src` (of `inShape`) to a dense `dst`, `size` bytes per element.
    public func gather(from src: UnsafeRawPointer, to dst: UnsafeMutableRawPointer, elementSize size: Int) {
        let total = count.reduce(1, *)
        if total == 0 { return }
        var strides = [Int](repeating: 1, count: inShape.count)
        var acc = 1
        for i in stride(from: inShape.count - 1, through: 0, by: -1) { strides[i] = acc; acc *= inShape[i] }
        let rank = inShape.count
        if rank == 0 { dst.copyMemory(from: src, byteCount: size); return }
        var idx = [Int](repeating: 0, count: rank)
        var off = zip(start, strides).reduce(0) { $0 + $1.0 * $1.1 }
        let jump = (0..<rank).map { step[$0] * strides[$0] }
        for o in 0..<total {
            (dst + o * size).copyMemory(from: src + off * size, byteCount: size)
            var d = rank - 1
            while d >= 0 {
                idx[d] += 1
                off += jump[d]
                if idx[d] < count[d] { break }
                off -= jump[d] * idx[d]
                idx[d] = 0
                d -= 1
            }
        }
    }
}

/// slice (stride 1) and strided_slice: `axes` with `starts` / `ends` (/ `strides`); negative bounds count from
/// the end and out-of-range bounds clamp, as in Paddle; `decrease_axis` drops those (size-1) axes (all of them:
/// a 0-D result). StartsTensor / EndsTensor (/ StridesTensor), else the …TensorList inputs, else the attributes.
/// `infer_flags` -1 on an axis that is decreased with start -1 and end 0 (how Paddle writes `x[-1]` when the
/// extent is unknown) selects one element: the last for slice and for a negative stride, the first for
/// strided_slice with a positive stride (what paddlepaddle 3.3.1's CPU kernel returns; fixtures check both).
public struct SliceSpec: OpSpec, ConstantEvaluable {
    public static let opTypes = ["slice", "strided_slice"]
    public let axes: [Int], starts: [Int], ends: [Int], strides: [Int]
    public let decreaseAxis: [Int]
    public let inferFlags: [Int]
    public let strided: Bool

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        axes = try a.ints("axes", default: [])
        starts = try a.ints("starts", default: [])
        ends = try a.ints("ends", default: [])
        strides = node.type == "strided_slice" ? try a.ints("strides", default: []) : Array(repeating: 1, count: axes.count)
        decreaseAxis = try a.ints("decrease_axis", default: [])
        inferFlags = try a.ints("infer_flags", default: [])
        strided = node.type == "strided_slice"
        guard Set(axes).count == axes.count else { throw a.fail("axes", "repeats an axis: \(axes)") }
        if node.inputs("StartsTensor").isEmpty && node.inputs("StartsTensorList").isEmpty && starts.count != axes.count {
            throw a.fail("starts", "has \(starts.count) values for \(axes.count) axes")
        }
        if node.inputs("EndsTensor").isEmpty && node.inputs("EndsTensorList").isEmpty && ends.count != axes.count {
            throw a.fail("ends", "has \(ends.count) values for \(axes.count) axes")
        }
        if strides.contains(0) { throw a.fail("strides", "must not contain 0: \(strides)") }
    }

    /// One bound list: the 1-D tensor, else the tensor list, else the attribute (nil: not known yet).
    func bounds(_ s: (String) -> [Int]?, _ has: (String) -> Bool, _ name: String, _ attr: [Int]) -> [Int]? {
        if has("\(name)Tensor") { return s("\(name)Tensor") }
        if has("\(name)TensorList") { return s("\(name)TensorList") }
        return attr
    }

    /// The window for an input of `x` with these bounds (unknown extents give -1 in `outShape`).
    public func window(_ x: [Int], starts st: [Int], ends en: [Int], strides sd: [Int]) throws -> SliceWindow {
        guard st.count == axes.count, en.count == axes.count, sd.count == axes.count else {
            throw OpSpecError("slice: \(axes.count) axes with \(st.count) starts, \(en.count) ends, \(sd.count) strides")
        }
        var start = [Int](repeating: 0, count: x.count), step = [Int](repeating: 1, count: x.count), count = x
        let dec = try Set(decreaseAxis.map { try ShapeMath.axis($0, rank: x.count, "slice decrease_axis") })
        for (i, a) in axes.enumerated() {
            let ax = try ShapeMath.axis(a, rank: x.count, "slice")
            let dim = x[ax]
            guard sd[i] != 0 else { throw OpSpecError("slice: stride 0") }
            if dim < 0 { count[ax] = -1; continue }
            if i < inferFlags.count, inferFlags[i] == -1, st[i] == -1, en[i] == 0, dec.contains(ax), dim > 0 {
                count[ax] = 1
                start[ax] = strided && sd[i] > 0 ? 0 : dim - 1
                continue
            }
            // Negative bounds count from the end; bounds far out of range clamp (never overflow).
            func norm(_ v: Int) -> Int { v < 0 ? Swift.max(v, -dim - 1) + dim : Swift.min(v, dim) }
            var s = norm(st[i]), e = norm(en[i])
            if sd[i] > 0 {
                s = Swift.min(Swift.max(s, 0), dim)
                e = Swift.min(Swift.max(e, 0), dim)
                count[ax] = e > s ? (e - s + sd[i] - 1) / sd[i] : 0
            } else {
                s = Swift.min(Swift.max(s, -1), dim - 1)
                e = Swift.min(Swift.max(e, -1), dim - 1)
                count[ax] = s > e ? (s - e - sd[i] - 1) / -sd[i] : 0
            }
            start[ax] = count[ax] > 0 ? s : 0
            step[ax] = sd[i]
        }
        for d in dec where count[d] != 1 && count[d] >= 0 {
            throw OpSpecError("slice: decrease_axis \(d) has extent \(count[d]), not 1")
        }
        let out = count.enumerated().filter { !dec.contains($0.offset) }.map(\.element)
        return SliceWindow(inShape: x, start: start, step: step, count: count, outShape: out)
    }

    /// The window with bounds from the node's inputs given by `ints` (slot → values, nil when not known).
    public func window(_ x: [Int], ints: (String) -> [Int]?, has: (String) -> Bool) throws -> SliceWindow? {
        guard let st = bounds(ints, has, "Starts", starts), let en = bounds(ints, has, "Ends", ends),
              let sd = bounds(ints, has, "Strides", strides) else { return nil }
        return try window(x, starts: st, ends: en, strides: sd)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("Input")
        if let w = try window(x, ints: s.constantInts, has: s.has) {
            return s.output("Out", s.dtype("Input"), w.outShape)
        }
        // Bounds from run-time tensors: the sliced axes are unknown, decreased ones gone.
        let dec = Set(decreaseAxis.map { ShapeMath.normAxis($0, x.count) })
        let sliced = Set(axes.map { ShapeMath.normAxis($0, x.count) })
        let out = x.enumerated().filter { !dec.contains($0.offset) }.map { sliced.contains($0.offset) ? -1 : $0.element }
        return s.output("Out", s.dtype("Input"), out)
    }

    public func evaluate(_ e: EvalContext) throws -> [HostTensor]? {
        guard let x = e.constant("Input"), let w = try window(x.shape, ints: e.ints, has: e.has) else { return nil }
        let out = HostTensor(dtype: x.dtype, shape: w.outShape)
        w.gather(from: x.raw, to: out.raw, elementSize: x.dtype.byteSize)
        return [out]
    }
}

/// fill_constant: a tensor of `shape` (ShapeTensor, else ShapeTensorList, else the attribute) and `dtype`, every
/// element `value` (ValueTensor, else `str_value` when set, else `value`).
public struct FillConstantSpec: OpSpec, ConstantEvaluable {
    public static let opTypes = ["fill_constant"]
    public let shape: [Int]
    public let dtype: DType
    /// The value as a double, and exactly as an integer when `str_value` spells one (int64 beyond 2^53).
    public let value: Double
    public let intValue: Int64?

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        shape = try a.ints("shape", default: [], min: -1)
        dtype = try dtypeAttribute(&a, "dtype", default: DType.f32.paddleCode) ?? .f32
        guard dtype != .f16 else { throw a.fail("dtype", "float16 is not supported") }
        let f = try a.float("value", default: 0)
        let str = try a.string("str_value", default: "")
        _ = try a.bool("force_cpu", default: false)
        if str.isEmpty {
            value = Double(node.attrs["value"]?.double ?? Double(f))
            intValue = nil
        } else {
            let t = str.trimmingCharacters(in: .whitespaces).lowercased()
            switch t {
            case "inf", "+inf", "infinity": value = .infinity
            case "-inf", "-infinity": value = -.infinity
            case "nan": value = .nan
            default:
                guard let d = Double(t) else { throw a.fail("str_value", "is not a number: '\(str)'") }
                value = d
            }
            intValue = Int64(t)
        }
    }

    func outShape(_ ints: (String) -> [Int]?, _ has: (String) -> Bool) -> [Int]? {
        if has("ShapeTensor") { return ints("ShapeTensor") }
        if has("ShapeTensorList") { return ints("ShapeTensorList") }
        return shape
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        guard let sh = outShape(s.constantInts, s.has) else {
            let n = s.has("ShapeTensorList") ? s.node.inputs("ShapeTensorList").count : -1
            return n >= 0 ? s.output("Out", dtype, Array(repeating: -1, count: n)) : nil
        }
        guard sh.allSatisfy({ $0 >= -1 }) else { throw OpSpecError("fill_constant: bad shape \(sh)") }
        _ = try ShapeMath.product(sh)
        return s.output("Out", dtype, sh)
    }

    public func evaluate(_ e: EvalContext) throws -> [HostTensor]? {
        guard let sh = outShape(e.ints, e.has), !sh.contains(where: { $0 < 0 }) else { return nil }
        if e.has("ValueTensor") {
            guard let v = e.constant("ValueTensor"), v.count >= 1 else { return nil }
            return [HostTensor.filled(v.dtype.isFloatingPoint ? Double(v.floatValues()[0]) : Double(v.int64Values()[0]),
                                      int: v.dtype.isFloatingPoint ? nil : v.int64Values()[0], dtype: dtype, shape: sh)]
        }
        return [HostTensor.filled(value, int: intValue, dtype: dtype, shape: sh)]
    }
}

/// fill_any_like: X's shape, `dtype` (-1: X's dtype), every element `value`.
public struct FillAnyLikeSpec: OpSpec, ConstantEvaluable {
    public static let opTypes = ["fill_any_like", "fill_zeros_like"]
    public let value: Double
    /// nil: the input's dtype.
    public let dtype: DType?

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        let isZeros = node.type == "fill_zeros_like"
        let f = isZeros ? 0 : try a.float("value", default: 0)
        value = isZeros ? 0 : node.attrs["value"]?.double ?? Double(f)
        dtype = isZeros ? nil : try dtypeAttribute(&a, "dtype", default: -1, allowSame: true)
        if dtype == .f16 { throw a.fail("dtype", "float16 is not supported") }
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        s.output("Out", dtype ?? s.dtype("X"), try s.shape("X"))
    }

    /// Needs only X's shape and dtype.
    public func evaluate(_ e: EvalContext) throws -> [HostTensor]? {
        guard let x = e.shape("X"), !x.contains(where: { $0 < 0 }), let dt = dtype ?? e.dtype("X") else { return nil }
        return [HostTensor.filled(value, int: nil, dtype: dt, shape: x)]
    }
}

/// assign: a copy of X.
public struct AssignSpec: OpSpec, ConstantEvaluable {
    public static let opTypes = ["assign"]
    public init(_ node: Node, _ a: inout AttributeReader) throws {}
    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? { try s.same() }
    public func evaluate(_ e: EvalContext) throws -> [HostTensor]? { e.constant("X").map { [$0] } }
}

/// assign_value: a constant written into the program (`shape`, `dtype` and the values attribute of its dtype).
public struct AssignValueSpec: OpSpec, ConstantEvaluable {
    public static let opTypes = ["assign_value"]
    public let shape: [Int]
    public let dtype: DType
    public let values: [Double]

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        shape = try a.ints("shape", default: [], min: 0)
        dtype = try dtypeAttribute(&a, "dtype", default: DType.f32.paddleCode) ?? .f32
        guard dtype != .f16 else { throw a.fail("dtype", "float16 is not supported") }
        var v: [Double] = []
        for name in ["fp32_values", "int32_values", "int64_values", "bool_values", "fp64_values", "values"] {
            guard let raw = node.attrs[name] else { continue }
            switch raw {
            case .floats(let f): if !f.isEmpty { v = f.map(Double.init) }
            case .float64s(let d), .scalars(let d): if !d.isEmpty { v = d }
            case .ints(let i): if !i.isEmpty { v = i.map(Double.init) }
            case .longs(let l): if !l.isEmpty { v = l.map(Double.init) }
            case .bools(let b): if !b.isEmpty { v = b.map { $0 ? 1 : 0 } }
            default: throw a.fail(name, "must be a list of numbers, got \(raw)")
            }
        }
        values = v
        let n = try ShapeMath.product(shape)
        guard n == values.count else { throw a.fail("shape", "\(shape) holds \(n) values, the attribute has \(values.count)") }
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? { s.output("Out", dtype, shape) }

    public func evaluate(_ e: EvalContext) throws -> [HostTensor]? {
        let t = HostTensor(dtype: dtype, shape: shape)
        for (i, v) in values.enumerated() { t.store(i, v, int: nil) }
        return [t]
    }
}

/// stack: the X inputs (all of one shape) along a new axis `axis` of the output Y.
public struct StackSpec: OpSpec, ConstantEvaluable {
    public static let opTypes = ["stack"]
    public let axis: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        axis = try a.int("axis", default: 0)
    }

    /// The new axis for inputs of rank `rank`, normalized.
    public func newAxis(rank: Int) throws -> Int {
        guard axis >= -(rank + 1), axis <= rank else { throw OpSpecError("stack: axis \(axis) out of range for rank \(rank)") }
        return axis < 0 ? axis + rank + 1 : axis
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let xs = try s.node.inputs("X").map { n -> [Int] in
            guard let sh = s.values[n]?.shape else { throw OpSpecError("stack: unknown input shape") }
            return sh
        }
        guard let first = xs.first else { throw OpSpecError("stack: no inputs") }
        guard xs.allSatisfy({ $0.count == first.count }) else { throw OpSpecError("stack: inputs of different ranks") }
        var out = first
        out.insert(xs.count, at: try newAxis(rank: first.count))
        return s.output("Y", s.dtype("X"), out)
    }

    /// Interleaves `parts` (each `outer × inner` elements of `size` bytes) into `dst` as [outer, parts, inner].
    public static func interleave(_ parts: [UnsafeRawPointer], outer: Int, inner: Int, elementSize size: Int,
                                  into dst: UnsafeMutableRawPointer) {
        let chunk = inner * size
        for o in 0..<outer {
            for (p, src) in parts.enumerated() {
                (dst + (o * parts.count + p) * chunk).copyMemory(from: src + o * chunk, byteCount: chunk)
            }
        }
    }

    public func evaluate(_ e: EvalContext) throws -> [HostTensor]? {
        let names = e.node.inputs("X")
        let xs = names.compactMap { e.values[$0]?.constant }
        guard xs.count == names.count, let first = xs.first, xs.allSatisfy({ $0.shape == first.shape && $0.dtype == first.dtype })
        else { return nil }
        let ax = try newAxis(rank: first.shape.count)
        var shape = first.shape
        shape.insert(xs.count, at: ax)
        let out = HostTensor(dtype: first.dtype, shape: shape)
        StackSpec.interleave(xs.map { UnsafeRawPointer($0.raw) }, outer: first.shape[..<ax].reduce(1, *),
                             inner: first.shape[ax...].reduce(1, *), elementSize: first.dtype.byteSize, into: out.raw)
        return [out]
    }
}
