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

func registerReferenceShapeKernels(_ r: KernelRegistry) {
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
