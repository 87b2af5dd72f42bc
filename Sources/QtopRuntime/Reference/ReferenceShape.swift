import Foundation
import QtopFormat
import QtopGraph

// Data-movement ops. All are dtype-agnostic: they move elements by element size (f32, int64 shapes, int8 ...).
// XShape outputs, when allocated, are left untouched (Paddle only uses them for gradients).

/// Permutes `x` into `out` with out.shape[i] = x.shape[perm[i]].
func transposeElements(_ x: Tensor, perm: [Int], into out: Tensor) throws {
    guard perm.count == x.rank, Set(perm) == Set(0..<x.rank), out.count == x.count,
          x.dtype.byteSize == out.dtype.byteSize else {
        throw KernelError("transpose: perm \(perm) for \(x.shape) into \(out.shape)")
    }
    let inStrides = rowMajorStrides(x.shape)
    let outShape = perm.map { x.shape[$0] }
    // out element o at multi-index idx reads x at Σ idx[i] * inStrides[perm[i]]
    let permStrides = perm.map { inStrides[$0] }
    let size = x.dtype.byteSize
    var idx = [Int](repeating: 0, count: outShape.count)
    var src = 0
    for o in 0..<out.count {
        copyElement(x, src, out, o, size)
        var d = outShape.count - 1
        while d >= 0 {
            idx[d] += 1
            src += permStrides[d]
            if idx[d] < outShape[d] { break }
            src -= permStrides[d] * idx[d]
            idx[d] = 0
            d -= 1
        }
    }
}

/// The integer values of the tensors in an input slot, concatenated (nil when the slot is absent).
func slotInts(_ io: KernelIO, _ slot: String) -> [Int]? {
    io.inputs[slot].map { $0.flatMap(intArray) }
}

/// Every element of `out` set to `value` (`int` exactly for integer dtypes), as the folder would set it.
func fill(_ out: Tensor, _ value: Double, int: Int64?) throws {
    guard out.dtype != .f16 else { throw KernelError("float16 output is not supported") }
    for i in 0..<out.count { ElementStore.store(out.data, out.dtype, i, value, int: int) }
}

func registerReferenceShapeTensorKernels(_ r: KernelRegistry) {
    for op in ShapeOfSpec.opTypes {
        r.addReference(op) { ctx in
            _ = try ctx.spec(ShapeOfSpec.self)
            return refReady { io in
                let x = try io.input("Input"), out = try io.output("Out")
                guard out.count == x.rank else { throw KernelError("shape: output holds \(out.count) values for rank \(x.rank)") }
                for (i, d) in x.shape.enumerated() { ElementStore.store(out.data, out.dtype, i, Double(d), int: Int64(d)) }
            }
        }
    }
    for op in SliceSpec.opTypes {
        r.addReference(op) { ctx in
            let spec = try ctx.spec(SliceSpec.self)
            return refReady { io in
                let x = try io.input("Input"), out = try io.output("Out")
                guard let w = try spec.window(x.shape, ints: { slotInts(io, $0) }, has: { !(io.inputs[$0]?.isEmpty ?? true) }) else {
                    throw KernelError("\(op): bounds not available")
                }
                guard w.outShape.reduce(1, *) == out.count, x.dtype.byteSize == out.dtype.byteSize else {
                    throw KernelError("\(op): window \(w.outShape) of \(x.shape) does not fit the output \(out.shape)")
                }
                w.gather(from: x.data, to: out.data, elementSize: x.dtype.byteSize)
            }
        }
    }
    r.addReference("fill_constant") { ctx in
        let spec = try ctx.spec(FillConstantSpec.self)
        return refReady { io in
            let out = try io.output("Out")
            if let v = io.optionalInput("ValueTensor") {
                guard v.count >= 1 else { throw KernelError("fill_constant: empty ValueTensor") }
                let isFloat = v.dtype.isFloatingPoint
                try fill(out, isFloat ? Double(loadFloat(v, 0)) : Double(loadInt64(v, 0)), int: isFloat ? nil : loadInt64(v, 0))
            } else {
                try fill(out, spec.value, int: spec.intValue)
            }
        }
    }
    for op in FillAnyLikeSpec.opTypes {
        r.addReference(op) { ctx in
            let spec = try ctx.spec(FillAnyLikeSpec.self)
            return refReady { io in try fill(try io.output("Out"), spec.value, int: nil) }
        }
    }
    r.addReference("assign_value") { ctx in
        let spec = try ctx.spec(AssignValueSpec.self)
        return refReady { io in
            let out = try io.output("Out")
            guard out.count == spec.values.count else { throw KernelError("assign_value: \(spec.values.count) values for \(out.shape)") }
            for (i, v) in spec.values.enumerated() { ElementStore.store(out.data, out.dtype, i, v, int: nil) }
        }
    }
    r.addReference("stack") { ctx in
        let spec = try ctx.spec(StackSpec.self)
        return refReady { io in
            let xs = io.inputs["X"] ?? [], out = try io.output("Y")
            guard let first = xs.first, xs.allSatisfy({ $0.shape == first.shape && $0.dtype.byteSize == out.dtype.byteSize }),
                  out.count == first.count * xs.count else { throw KernelError("stack: inputs \(xs.map(\.shape)) into \(out.shape)") }
            let ax = try spec.newAxis(rank: first.rank)
            StackSpec.interleave(xs.map { UnsafeRawPointer($0.data) }, outer: first.shape[..<ax].reduce(1, *),
                                 inner: first.shape[ax...].reduce(1, *), elementSize: first.dtype.byteSize, into: out.data)
        }
    }
}

func registerReferenceShapeKernels(_ r: KernelRegistry) {
    registerReferenceShapeTensorKernels(r)
    // Pure reinterpretations: the output is the input's bytes under another shape.
    for op in ["reshape2", "reshape", "flatten_contiguous_range", "flatten2", "flatten", "squeeze2", "squeeze",
               "unsqueeze2", "unsqueeze", "assign"] {
        r.addReference(op) { _ in
            refReady { io in try copyElements(from: try io.input("X"), to: try io.output("Out")) }
        }
    }
    for op in ["transpose2", "transpose"] {
        r.addReference(op) { ctx in
            let spec = try ctx.spec(TransposeSpec.self)
            return refReady { io in
                let x = try io.input("X")
                let perm = try spec.permutation(rank: x.rank)
                try transposeElements(x, perm: perm, into: try io.output("Out"))
            }
        }
    }
    r.addReference("concat") { ctx in
        let axisAttr = try ctx.spec(ConcatSpec.self).axis
        return refReady { io in
            let xs = io.inputs["X"] ?? []
            let out = try io.output("Out")
            guard let first = xs.first else { throw KernelError("concat: no inputs") }
            let axisValue = io.optionalInput("AxisTensor").map { intArray($0)[0] } ?? axisAttr
            let axis = normalizeAxis(axisValue, rank: out.rank)
            guard axis >= 0, axis < out.rank else { throw KernelError("concat: axis \(axisValue) for rank \(out.rank)") }
            let outer = out.shape[..<axis].reduce(1, *)
            let inner = out.shape[(axis + 1)...].reduce(1, *)
            let size = out.dtype.byteSize
            var offset = 0  // along the axis
            for t in xs {
                guard t.rank == out.rank, t.dtype.byteSize == size else { throw KernelError("concat: input \(t.shape) vs output \(out.shape)") }
                let extent = t.shape[axis]
                let chunk = extent * inner * size
                for o in 0..<outer {
                    let src = t.data + o * chunk
                    let dst = out.data + (o * out.shape[axis] + offset) * inner * size
                    dst.copyMemory(from: src, byteCount: chunk)
                }
                offset += extent
            }
            guard offset == out.shape[axis] else { throw KernelError("concat: inputs sum to \(offset) along axis, output has \(out.shape[axis])") }
            _ = first
        }
    }
    r.addReference("split") { ctx in
        let axisAttr = try ctx.spec(SplitSpec.self).axis
        return refReady { io in
            let x = try io.input("X")
            let outs = io.outputs["Out"] ?? []
            let axisValue = io.optionalInput("AxisTensor").map { intArray($0)[0] } ?? axisAttr
            let axis = normalizeAxis(axisValue, rank: x.rank)
            guard axis >= 0, axis < x.rank else { throw KernelError("split: axis \(axisValue) for rank \(x.rank)") }
            // Output extents come from the (already inferred) output shapes, which encode `num` or `sections`.
            let outer = x.shape[..<axis].reduce(1, *)
            let inner = x.shape[(axis + 1)...].reduce(1, *)
            let size = x.dtype.byteSize
            var offset = 0
            for t in outs {
                guard t.rank == x.rank, t.dtype.byteSize == size else { throw KernelError("split: output \(t.shape) vs input \(x.shape)") }
                let extent = t.shape[axis]
                let chunk = extent * inner * size
                for o in 0..<outer {
                    let src = x.data + (o * x.shape[axis] + offset) * inner * size
                    (t.data + o * chunk).copyMemory(from: src, byteCount: chunk)
                }
                offset += extent
            }
            guard offset == x.shape[axis] else { throw KernelError("split: outputs take \(offset) of \(x.shape[axis]) along axis") }
        }
    }
}
