import Foundation
import QtopFormat
import QtopGraph

// elementwise_{add,sub,mul,div,max,min,pow} with Paddle's `axis` broadcasting.

/// X's and Y's extents aligned to the output rank, exactly as `ShapeInference.broadcast` aligns them:
/// axis == -1 aligns trailing dimensions (NumPy); otherwise the smaller operand starts at `axis` of the larger
/// (trailing 1s of Y that would overhang are dropped first, as Paddle's trim_trailing_singular_dims does).
func alignForBroadcast(_ x: [Int], _ y: [Int], axis: Int) throws -> (x: [Int], y: [Int]) {
    var ax = axis
    if ax < 0 { ax = abs(x.count - y.count) }
    if x.count >= y.count {
        var yy = y
        while yy.count > 1, yy.last == 1, ax + yy.count > x.count { yy.removeLast() }
        guard ax + yy.count <= x.count else { throw KernelError("elementwise: axis \(axis) does not fit \(x) and \(y)") }
        return (x, Array(repeating: 1, count: ax) + yy + Array(repeating: 1, count: x.count - ax - yy.count))
    }
    var xx = x
    while xx.count > 1, xx.last == 1, ax + xx.count > y.count { xx.removeLast() }
    guard ax + xx.count <= y.count else { throw KernelError("elementwise: axis \(axis) does not fit \(x) and \(y)") }
    return (Array(repeating: 1, count: ax) + xx + Array(repeating: 1, count: y.count - ax - xx.count), y)
}

/// Calls `body(outIndex, xIndex, yIndex)` for every output element in row-major order, with broadcast
/// (extent-1) dimensions of X/Y mapped to index 0.
func forEachBroadcast(out: [Int], xDims: [Int], yDims: [Int], _ body: (Int, Int, Int) -> Void) throws {
    let rank = out.count
    guard xDims.count == rank, yDims.count == rank else { throw KernelError("elementwise: rank mismatch") }
    for i in 0..<rank {
        guard (xDims[i] == out[i] || xDims[i] == 1), (yDims[i] == out[i] || yDims[i] == 1) else {
            throw KernelError("elementwise: \(xDims) and \(yDims) do not broadcast to \(out)")
        }
    }
    let total = out.reduce(1, *)
    if total == 0 { return }
    let xs = rowMajorStrides(xDims).enumerated().map { xDims[$0.offset] == 1 ? 0 : $0.element }
    let ys = rowMajorStrides(yDims).enumerated().map { yDims[$0.offset] == 1 ? 0 : $0.element }
    var idx = [Int](repeating: 0, count: rank)
    var xi = 0, yi = 0
    for o in 0..<total {
        body(o, xi, yi)
        // odometer increment
        var d = rank - 1
        while d >= 0 {
            idx[d] += 1
            xi += xs[d]
            yi += ys[d]
            if idx[d] < out[d] { break }
            xi -= xs[d] * idx[d]
            yi -= ys[d] * idx[d]
            idx[d] = 0
            d -= 1
        }
    }
}

/// One binary op in Float and (for shape arithmetic on integer tensors) in Int64.
struct BinaryOp {
    let f: (Float, Float) -> Float
    let i: ((Int64, Int64) -> Int64)?
}

func elementwiseOps() -> [String: BinaryOp] { [
    "elementwise_add": BinaryOp(f: { $0 + $1 }, i: { $0 &+ $1 }),
    "elementwise_sub": BinaryOp(f: { $0 - $1 }, i: { $0 &- $1 }),
    "elementwise_mul": BinaryOp(f: { $0 * $1 }, i: { $0 &* $1 }),
    "elementwise_div": BinaryOp(f: { $0 / $1 }, i: { $1 == 0 ? 0 : $0 / $1 }),
    // Paddle MaxFunctor: a > b ? a : b; MinFunctor: a < b ? a : b.
    "elementwise_max": BinaryOp(f: { $0 > $1 ? $0 : $1 }, i: { $0 > $1 ? $0 : $1 }),
    "elementwise_min": BinaryOp(f: { $0 < $1 ? $0 : $1 }, i: { $0 < $1 ? $0 : $1 }),
    "elementwise_pow": BinaryOp(f: { Foundation.pow($0, $1) }, i: { Int64(Foundation.pow(Double($0), Double($1)).rounded()) }),
] }

@inline(__always) func loadInt64(_ t: Tensor, _ i: Int) -> Int64 {
    switch t.dtype {
    case .i64: return t.i64[i]
    case .i32: return Int64(t.i32[i])
    case .i8: return Int64(t.i8[i])
    case .u8, .bool: return Int64(t.u8[i])
    default: return Int64(loadFloat(t, i))
    }
}

@inline(__always) func storeInt64(_ t: Tensor, _ i: Int, _ v: Int64) {
    switch t.dtype {
    case .i64: t.i64[i] = v
    case .i32: t.i32[i] = Int32(truncatingIfNeeded: v)
    case .i8: t.i8[i] = Int8(truncatingIfNeeded: v)
    default: t.u8[i] = UInt8(truncatingIfNeeded: v)
    }
}

/// Runs a broadcast binary op: f32 operands in Float; integer operands in Int64.
func runBinary(_ op: BinaryOp, x: Tensor, y: Tensor, out: Tensor, axis: Int) throws {
    let (xd, yd) = try alignForBroadcast(x.shape, y.shape, axis: axis)
    if out.dtype == .f32 {
        guard x.dtype == .f32, y.dtype == .f32 else { throw KernelError("elementwise: mixed dtypes \(x.dtype) \(y.dtype)") }
        let xp = x.f32, yp = y.f32, op2 = out.f32, f = op.f
        if x.count == out.count, y.count == out.count {
            for k in 0..<out.count { op2[k] = f(xp[k], yp[k]) }
            return
        }
        try forEachBroadcast(out: out.shape, xDims: xd, yDims: yd) { o, a, b in op2[o] = f(xp[a], yp[b]) }
        return
    }
    guard let g = op.i, !out.dtype.isFloatingPoint else { throw KernelError("elementwise: unsupported dtype \(out.dtype)") }
    try forEachBroadcast(out: out.shape, xDims: xd, yDims: yd) { o, a, b in
        storeInt64(out, o, g(loadInt64(x, a), loadInt64(y, b)))
    }
}

func registerReferenceElementwiseKernels(_ r: KernelRegistry) {
    for (name, op) in elementwiseOps() {
        r.addReference(name) { ctx in
            let axis = try ctx.spec(BinarySpec.self).axis
            return refReady { io in
                try runBinary(op, x: try io.input("X"), y: try io.input("Y"), out: try io.output("Out"), axis: axis)
            }
        }
    }
}
