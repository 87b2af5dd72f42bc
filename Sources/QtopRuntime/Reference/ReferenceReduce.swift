import Foundation
import QtopFormat
import QtopGraph

// softmax / log_softmax along an axis, mean, reduce_{mean,sum,max,min,prod}, arg_max / arg_min.

/// Splits a shape around `axis`: (outer, extent, inner).
func splitAround(_ shape: [Int], axis: Int) -> (Int, Int, Int) {
    (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
}

/// Softmax along `axis`: m = max, e = exp(x - m), y = e / Σe (Σ in index order). `log` gives x - m - log(Σe).
func softmax(_ x: Tensor, _ y: Tensor, axis a: Int, log: Bool) throws {
    try requireF32(x, "softmax")
    try requireSameCount(x, y, "softmax")
    if x.rank == 0 { y.f32[0] = log ? 0 : 1; return }
    let axis = normalizeAxis(a, rank: x.rank)
    guard axis >= 0, axis < x.rank else { throw KernelError("softmax: axis \(a) for rank \(x.rank)") }
    let (outer, n, inner) = splitAround(x.shape, axis: axis)
    let xp = x.f32, yp = y.f32
    for o in 0..<outer {
        for i in 0..<inner {
            let base = o * n * inner + i
            var m = -Float.infinity
            for k in 0..<n { let v = xp[base + k * inner]; m = m > v ? m : v }
            var sum: Float = 0
            for k in 0..<n {
                let e = Foundation.exp(xp[base + k * inner] - m)
                if !log { yp[base + k * inner] = e }
                sum += e
            }
            if log {
                let ls = Foundation.log(sum)
                for k in 0..<n { yp[base + k * inner] = xp[base + k * inner] - m - ls }
            } else {
                for k in 0..<n { yp[base + k * inner] = yp[base + k * inner] / sum }
            }
        }
    }
}

enum ReduceKind { case sum, mean, max, min, prod }

/// Reduces `x` over `dims` (all when `all` or `dims` is empty) into `y` (keep_dim only changes y's shape).
/// Elements are visited in row-major order of x. A floating-point output accumulates in Float in that order;
/// an integer output (integer input, or out_dtype int) accumulates in Int64 with wrapping as C++ does.
func reduce(_ x: Tensor, _ y: Tensor, dims: [Int], all: Bool, kind: ReduceKind) throws {
    let rank = x.rank
    let reduced = Set(all || dims.isEmpty ? Array(0..<rank) : dims.map { normalizeAxis($0, rank: rank) })
    guard reduced.allSatisfy({ $0 >= 0 && $0 < max(rank, 1) }) else { throw KernelError("reduce: dims \(dims) for rank \(rank)") }
    // y's index = x's multi-index with reduced dims dropped.
    let keptShape = (0..<rank).filter { !reduced.contains($0) }.map { x.shape[$0] }
    guard keptShape.reduce(1, *) == y.count else { throw KernelError("reduce: output \(y.shape) for \(x.shape) over \(reduced.sorted())") }
    let keptStrides = rowMajorStrides(keptShape)
    var yStride = [Int](repeating: 0, count: rank)
    var ki = 0
    for d in 0..<rank where !reduced.contains(d) { yStride[d] = keptStrides[ki]; ki += 1 }
    let outCount = y.count
    /// Visits x in row-major order with the y index of each element.
    func visit(_ body: (Int, Int) -> Void) {
        var idx = [Int](repeating: 0, count: rank)
        var yi = 0
        for i in 0..<x.count {
            body(i, yi)
            var d = rank - 1
            while d >= 0 {
                idx[d] += 1
                yi += yStride[d]
                if idx[d] < x.shape[d] { break }
                yi -= yStride[d] * idx[d]
                idx[d] = 0
                d -= 1
            }
        }
    }
    let n = outCount == 0 ? 1 : x.count / max(outCount, 1)
    if y.dtype.isFloatingPoint {
        try requireF32(y, "reduce output")
        let initial: Float = kind == .max ? -Float.infinity : (kind == .min ? Float.infinity : (kind == .prod ? 1 : 0))
        var acc = [Float](repeating: initial, count: outCount)
        visit { i, yi in
            let v = loadFloat(x, i)
            switch kind {
            case .sum, .mean: acc[yi] += v
            case .prod: acc[yi] *= v
            case .max: acc[yi] = acc[yi] > v ? acc[yi] : v
            case .min: acc[yi] = acc[yi] < v ? acc[yi] : v
            }
        }
        for o in 0..<outCount { y.f32[o] = kind == .mean ? acc[o] / Float(n) : acc[o] }
        return
    }
    guard !x.dtype.isFloatingPoint else { throw KernelError("reduce: float input \(x.dtype.paddleName) into \(y.dtype.paddleName)") }
    let initial: Int64 = kind == .max ? Int64.min : (kind == .min ? Int64.max : (kind == .prod ? 1 : 0))
    var acc = [Int64](repeating: initial, count: outCount)
    visit { i, yi in
        let v = loadInt64(x, i)
        switch kind {
        case .sum, .mean: acc[yi] &+= v
        case .prod: acc[yi] &*= v
        case .max: acc[yi] = Swift.max(acc[yi], v)
        case .min: acc[yi] = Swift.min(acc[yi], v)
        }
    }
    for o in 0..<outCount { storeInt64(y, o, kind == .mean ? acc[o] / Int64(n) : acc[o]) }
}

/// arg_max / arg_min along `axis` (over everything when `flatten`): the first index of the extreme value; NaN
/// never wins a comparison.
func argReduce(_ x: Tensor, _ y: Tensor, spec: ArgSpec, isMax: Bool) throws {
    let shape = spec.flatten ? [x.count] : (x.rank == 0 ? [1] : x.shape)
    let axis = spec.flatten ? 0 : (x.rank == 0 ? 0 : normalizeAxis(spec.axis, rank: x.rank))
    guard axis >= 0, axis < shape.count else { throw KernelError("arg_max: axis \(spec.axis) for rank \(x.rank)") }
    let (outer, n, inner) = splitAround(shape, axis: axis)
    guard outer * inner == y.count, n > 0 else { throw KernelError("arg_max: output \(y.shape) for \(x.shape)") }
    let float = x.dtype.isFloatingPoint
    for o in 0..<outer {
        for i in 0..<inner {
            let base = o * n * inner + i
            var best = 0
            if float {
                var bv = loadFloat(x, base)
                for k in 1..<n {
                    let v = loadFloat(x, base + k * inner)
                    if isMax ? v > bv : v < bv { bv = v; best = k }
                }
            } else {
                var bv = loadInt64(x, base)
                for k in 1..<n {
                    let v = loadInt64(x, base + k * inner)
                    if isMax ? v > bv : v < bv { bv = v; best = k }
                }
            }
            storeInt64(y, o * inner + i, Int64(best))
        }
    }
}

func registerReferenceReduceKernels(_ r: KernelRegistry) {
    r.addReference("softmax") { ctx in
        let axis = try ctx.spec(UnarySpec.self).axis
        return refReady { io in try softmax(try io.input("X"), try io.output("Out"), axis: axis, log: false) }
    }
    r.addReference("log_softmax") { ctx in
        let axis = try ctx.spec(UnarySpec.self).axis
        return refReady { io in try softmax(try io.input("X"), try io.output("Out"), axis: axis, log: true) }
    }
    r.addReference("mean") { _ in
        refReady { io in try reduce(try io.input("X"), try io.output("Out"), dims: [], all: true, kind: .mean) }
    }
    let kinds: [(String, ReduceKind)] = [("reduce_mean", .mean), ("reduce_sum", .sum), ("reduce_max", .max), ("reduce_min", .min),
                                         ("reduce_prod", .prod)]
    for (op, kind) in kinds {
        r.addReference(op) { ctx in
            let spec = try ctx.spec(ReduceSpec.self)
            let dims = spec.dims, all = spec.reduceAll
            return refReady { io in try reduce(try io.input("X"), try io.output("Out"), dims: dims, all: all, kind: kind) }
        }
    }
    for op in ArgSpec.opTypes {
        r.addReference(op) { ctx in
            let spec = try ctx.spec(ArgSpec.self)
            return refReady { io in try argReduce(try io.input("X"), try io.output("Out"), spec: spec, isMax: op == "arg_max") }
        }
    }
}
