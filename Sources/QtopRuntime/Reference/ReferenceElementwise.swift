import Foundation
import QtopFormat
import QtopGraph

// elementwise_{add,sub,mul,div,max,min,pow,floordiv,mod} with Paddle's `axis` broadcasting; comparisons,
// logical ops, where and sum.

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
    // floordiv: floor(a / b) in float; integer division rounding toward -inf (5 // -4 = -2).
    "elementwise_floordiv": BinaryOp(f: { Foundation.floor($0 / $1) }, i: { a, b in
        guard b != 0 else { return 0 }
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }),
    // mod: Python's sign convention, res = fmod(a, b) (or a % b), plus b when res and b differ in sign.
    "elementwise_mod": BinaryOp(f: { a, b in
        var r = Foundation.fmod(a, b)
        if r != 0, (r < 0) != (b < 0) { r += b }
        return r
    }, i: { a, b in
        guard b != 0 else { return 0 }
        var r = a % b
        if r != 0, (r < 0) != (b < 0) { r += b }
        return r
    }),
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
    case .i16: t.data.assumingMemoryBound(to: Int16.self)[i] = Int16(truncatingIfNeeded: v)
    case .i8: t.i8[i] = Int8(truncatingIfNeeded: v)
    case .bool: t.u8[i] = v != 0 ? 1 : 0
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

/// Paddle's comparison functors: for floating-point operands `equal` is |a - b| < 1e-8 in double (infinities
/// compare exactly, NaN equals nothing) and `not_equal` its negation; integers compare exactly.
func compareOp(_ op: String) -> (float: (Float, Float) -> Bool, int: (Int64, Int64) -> Bool)? {
    func eq(_ a: Float, _ b: Float) -> Bool {
        if a.isInfinite || b.isInfinite { return a == b }
        if a.isNaN || b.isNaN { return false }
        return Swift.abs(Double(a - b)) < 1e-8
    }
    switch op {
    case "equal": return (eq, { $0 == $1 })
    case "not_equal": return ({ !eq($0, $1) }, { $0 != $1 })
    case "less_than": return ({ $0 < $1 }, { $0 < $1 })
    case "less_equal": return ({ $0 <= $1 }, { $0 <= $1 })
    case "greater_than": return ({ $0 > $1 }, { $0 > $1 })
    case "greater_equal": return ({ $0 >= $1 }, { $0 >= $1 })
    default: return nil
    }
}

/// A tensor element as a truth value (bool and numbers: nonzero).
@inline(__always) func loadBool(_ t: Tensor, _ i: Int) -> Bool {
    t.dtype == .bool || t.dtype == .u8 || t.dtype == .i8 ? t.u8[i] != 0 : loadFloat(t, i) != 0
}

func registerReferenceLogicKernels(_ r: KernelRegistry) {
    for op in CompareSpec.opTypes {
        guard let cmp = compareOp(op) else { continue }
        r.addReference(op) { ctx in
            let axis = try ctx.spec(CompareSpec.self).axis
            return refReady { io in
                let x = try io.input("X"), y = try io.input("Y"), out = try io.output("Out")
                guard out.dtype == .bool else { throw KernelError("\(op): output must be bool, got \(out.dtype.paddleName)") }
                let (xd, yd) = try alignForBroadcast(x.shape, y.shape, axis: axis)
                let float = x.dtype.isFloatingPoint || y.dtype.isFloatingPoint
                try forEachBroadcast(out: out.shape, xDims: xd, yDims: yd) { o, a, b in
                    let v = float ? cmp.float(loadFloat(x, a), loadFloat(y, b)) : cmp.int(loadInt64(x, a), loadInt64(y, b))
                    out.u8[o] = v ? 1 : 0
                }
            }
        }
    }
    let logical: [(String, (Bool, Bool) -> Bool)] = [("logical_and", { $0 && $1 }), ("logical_or", { $0 || $1 }),
                                                     ("logical_xor", { $0 != $1 })]
    for (op, f) in logical {
        r.addReference(op) { ctx in
            _ = try ctx.spec(LogicalSpec.self)
            return refReady { io in
                let x = try io.input("X"), y = try io.input("Y"), out = try io.output("Out")
                let (xd, yd) = try alignForBroadcast(x.shape, y.shape, axis: -1)
                try forEachBroadcast(out: out.shape, xDims: xd, yDims: yd) { o, a, b in
                    storeInt64(out, o, f(loadBool(x, a), loadBool(y, b)) ? 1 : 0)
                }
            }
        }
    }
    r.addReference("logical_not") { ctx in
        _ = try ctx.spec(LogicalSpec.self)
        return refReady { io in
            let x = try io.input("X"), out = try io.output("Out")
            try requireSameCount(x, out, "logical_not")
            for i in 0..<x.count { storeInt64(out, i, loadBool(x, i) ? 0 : 1) }
        }
    }
    // where: Condition ? X : Y with NumPy broadcasting of all three (X's dtype, moved by element size).
    r.addReference("where") { ctx in
        _ = try ctx.spec(WhereSpec.self)
        return refReady { io in
            let c = try io.input("Condition"), x = try io.input("X"), y = try io.input("Y"), out = try io.output("Out")
            guard x.dtype == y.dtype, x.dtype.byteSize == out.dtype.byteSize else { throw KernelError("where: X, Y and Out dtypes differ") }
            let rank = out.rank
            func dims(_ s: [Int]) throws -> [Int] {
                guard s.count <= rank else { throw KernelError("where: \(s) does not broadcast to \(out.shape)") }
                return Array(repeating: 1, count: rank - s.count) + s
            }
            let cd = try dims(c.shape), xd = try dims(x.shape), yd = try dims(y.shape)
            // first pass picks X or Y per element (Condition against X), the second fills from Y where not picked
            var pick = [Bool](repeating: false, count: out.count)
            try forEachBroadcast(out: out.shape, xDims: cd, yDims: xd) { o, ci, xi in
                if loadBool(c, ci) { pick[o] = true; copyElement(x, xi, out, o, out.dtype.byteSize) }
            }
            try forEachBroadcast(out: out.shape, xDims: cd, yDims: yd) { o, _, yi in
                if !pick[o] { copyElement(y, yi, out, o, out.dtype.byteSize) }
            }
        }
    }
    // sum: out = X0 + X1 + ... in input order.
    r.addReference("sum") { ctx in
        _ = try ctx.spec(SumSpec.self)
        return refReady { io in
            let xs = io.inputs["X"] ?? [], out = try io.output("Out")
            guard !xs.isEmpty else { throw KernelError("sum: no inputs") }
            for t in xs { try requireF32(t, "sum"); try requireSameCount(t, out, "sum") }
            for i in 0..<out.count {
                var acc = xs[0].f32[i]
                for t in xs.dropFirst() { acc += t.f32[i] }
                out.f32[i] = acc
            }
        }
    }
}

func registerReferenceElementwiseKernels(_ r: KernelRegistry) {
    registerReferenceLogicKernels(r)
    for (name, op) in elementwiseOps() {
        r.addReference(name) { ctx in
            let axis = try ctx.spec(BinarySpec.self).axis
            return refReady { io in
                try runBinary(op, x: try io.input("X"), y: try io.input("Y"), out: try io.output("Out"), axis: axis)
            }
        }
    }
}
