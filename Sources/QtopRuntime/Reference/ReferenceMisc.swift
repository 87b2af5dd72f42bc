import Foundation
import QtopFormat
import QtopGraph

// cast, cumsum, lookup_table_v2, pad3d, pixel_shuffle.

/// A float converted to an integer as x86's cvttss2si does for C++'s static_cast: toward zero, with NaN and
/// out-of-range values giving the type's minimum ("integer indefinite").
@inline(__always) func truncToInt32(_ v: Float) -> Int32 {
    v.isNaN || v >= 2147483648 || v < -2147483648 ? Int32.min : Int32(v)
}

@inline(__always) func truncToInt64(_ v: Float) -> Int64 {
    v.isNaN || v >= 9.223372e18 || v < -9.223372e18 ? Int64.min : Int64(v)
}

/// cast: float → integer truncates toward zero (8- and 16-bit targets keep the low bits of the 32-bit
/// conversion), anything → bool is `!= 0`, bool/integer → float is exact up to Float's precision.
func castElements(_ x: Tensor, _ y: Tensor) throws {
    try requireSameCount(x, y, "cast")
    let n = x.count
    switch y.dtype {
    case .f32:
        for i in 0..<n { y.f32[i] = x.dtype.isFloatingPoint ? loadFloat(x, i) : Float(loadInt64(x, i)) }
    case .f64:
        let p = y.data.assumingMemoryBound(to: Double.self)
        for i in 0..<n { p[i] = x.dtype == .f64 ? x.data.assumingMemoryBound(to: Double.self)[i]
                                  : (x.dtype.isFloatingPoint ? Double(loadFloat(x, i)) : Double(loadInt64(x, i))) }
    case .bool:
        for i in 0..<n { y.u8[i] = (x.dtype.isFloatingPoint ? loadFloat(x, i) != 0 : loadInt64(x, i) != 0) ? 1 : 0 }
    case .i64:
        for i in 0..<n { y.i64[i] = x.dtype.isFloatingPoint ? truncToInt64(loadFloat(x, i)) : loadInt64(x, i) }
    case .i32, .i16, .i8, .u8:
        for i in 0..<n {
            storeInt64(y, i, x.dtype.isFloatingPoint ? Int64(truncToInt32(loadFloat(x, i))) : loadInt64(x, i))
        }
    case .f16, .bf16:
        throw KernelError("cast to \(y.dtype.paddleName) is not supported")
    }
}

/// cumsum along `axis` of x viewed as (outer, n, inner); exclusive starts at 0 and excludes the element itself,
/// reverse runs from the end. Float sums accumulate in Float, integers in Int64 (wrapping).
func cumsum(_ x: Tensor, _ y: Tensor, spec: CumsumSpec) throws {
    try requireSameCount(x, y, "cumsum")
    guard x.dtype == y.dtype else { throw KernelError("cumsum: dtype \(x.dtype.paddleName) → \(y.dtype.paddleName)") }
    if x.count == 0 { return }
    let shape = spec.flatten || x.rank == 0 ? [x.count] : x.shape
    let axis = spec.flatten || x.rank == 0 ? 0 : normalizeAxis(spec.axis, rank: x.rank)
    guard axis >= 0, axis < shape.count else { throw KernelError("cumsum: axis \(spec.axis) for rank \(x.rank)") }
    let (outer, n, inner) = splitAround(shape, axis: axis)
    let float = x.dtype.isFloatingPoint
    if float { try requireF32(x, "cumsum") }
    for o in 0..<outer {
        for i in 0..<inner {
            var fa: Float = 0
            var ia: Int64 = 0
            for s in 0..<n {
                let k = spec.reverse ? n - 1 - s : s
                let idx = (o * n + k) * inner + i
                if float {
                    let v = x.f32[idx]
                    if spec.exclusive { y.f32[idx] = fa; fa += v } else { fa += v; y.f32[idx] = fa }
                } else {
                    let v = loadInt64(x, idx)
                    if spec.exclusive { storeInt64(y, idx, ia); ia &+= v } else { ia &+= v; storeInt64(y, idx, ia) }
                }
            }
        }
    }
}

/// lookup_table_v2: rows of W gathered by Ids (any integer shape); padding_idx rows are zeros; an id outside
/// [0, vocabulary) is an error, as in Paddle.
func lookupTable(ids: Tensor, w: Tensor, out: Tensor, paddingIdx: Int) throws {
    guard w.rank == 2, !ids.dtype.isFloatingPoint, w.dtype.byteSize == out.dtype.byteSize else {
        throw KernelError("lookup_table_v2: Ids \(ids.dtype.paddleName) \(ids.shape), W \(w.shape)")
    }
    let (vocab, dim) = (w.shape[0], w.shape[1])
    guard out.count == ids.count * dim else { throw KernelError("lookup_table_v2: output \(out.shape) for Ids \(ids.shape)") }
    let rowBytes = dim * w.dtype.byteSize
    for i in 0..<ids.count {
        let id = loadInt64(ids, i)
        let dst = out.data + i * rowBytes
        if paddingIdx != -1, id == Int64(paddingIdx) {
            dst.initializeMemory(as: UInt8.self, repeating: 0, count: rowBytes)
            continue
        }
        guard id >= 0, id < Int64(vocab) else { throw KernelError("lookup_table_v2: id \(id) outside the vocabulary of \(vocab)") }
        dst.copyMemory(from: w.data + Int(id) * rowBytes, byteCount: rowBytes)
    }
}

/// Source index for output index `o` of a padded dimension (nil: the constant value).
@inline(__always) func padSource(_ o: Int, before: Int, size: Int, mode: String) -> Int? {
    let i = o - before
    if i >= 0 && i < size { return i }
    switch mode {
    case "reflect":
        var j = i < 0 ? -i : i
        if j >= size { j = 2 * (size - 1) - j }
        return j
    case "replicate": return i < 0 ? 0 : size - 1
    case "circular": return ((i % size) + size) % size
    default: return nil
    }
}

func pad3d(_ x: Tensor, _ y: Tensor, spec: Pad3dSpec, paddings: [Int]) throws {
    try requireF32(x, "pad3d")
    let expect: [Int]
    do { expect = try spec.outputShape(x.shape, paddings: paddings) } catch { throw KernelError("\(error)") }
    guard y.shape == expect else { throw KernelError("pad3d: output \(y.shape), expected \(expect)") }
    let cl = spec.channelLast
    let (n, c) = (x.shape[0], cl ? x.shape[4] : x.shape[1])
    let (d, h, w) = cl ? (x.shape[1], x.shape[2], x.shape[3]) : (x.shape[2], x.shape[3], x.shape[4])
    let (od, oh, ow) = cl ? (y.shape[1], y.shape[2], y.shape[3]) : (y.shape[2], y.shape[3], y.shape[4])
    func offset(_ ni: Int, _ ci: Int, _ z: Int, _ yy: Int, _ xx: Int, _ dd: Int, _ hh: Int, _ ww: Int) -> Int {
        cl ? (((ni * dd + z) * hh + yy) * ww + xx) * c + ci : (((ni * c + ci) * dd + z) * hh + yy) * ww + xx
    }
    for ni in 0..<n { for ci in 0..<c { for z in 0..<od {
        let sz = padSource(z, before: paddings[4], size: d, mode: spec.mode)
        for yy in 0..<oh {
            let sy = padSource(yy, before: paddings[2], size: h, mode: spec.mode)
            for xx in 0..<ow {
                let sx = padSource(xx, before: paddings[0], size: w, mode: spec.mode)
                var v = spec.value
                if let sz, let sy, let sx { v = x.f32[offset(ni, ci, sz, sy, sx, d, h, w)] }
                y.f32[offset(ni, ci, z, yy, xx, od, oh, ow)] = v
            }
        }
    } } }
}

func pixelShuffle(_ x: Tensor, _ y: Tensor, spec: PixelShuffleSpec) throws {
    guard x.rank == 4, y.count == x.count, x.dtype.byteSize == y.dtype.byteSize else {
        throw KernelError("pixel_shuffle: \(x.shape) → \(y.shape)")
    }
    let r = spec.factor, nhwc = spec.nhwc
    let (n, c, h, w) = nhwc ? (x.shape[0], x.shape[3], x.shape[1], x.shape[2]) : (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    guard c % (r * r) == 0 else { throw KernelError("pixel_shuffle: \(c) channels not divisible by \(r)²") }
    let oc = c / (r * r), oh = h * r, ow = w * r
    let size = x.dtype.byteSize
    for ni in 0..<n { for o in 0..<oc { for yy in 0..<oh { for xx in 0..<ow {
        let ci = o * r * r + (yy % r) * r + (xx % r), iy = yy / r, ix = xx / r
        let src = nhwc ? ((ni * h + iy) * w + ix) * c + ci : ((ni * c + ci) * h + iy) * w + ix
        let dst = nhwc ? ((ni * oh + yy) * ow + xx) * oc + o : ((ni * oc + o) * oh + yy) * ow + xx
        copyElement(x, src, y, dst, size)
    } } } }
}

func registerReferenceMiscKernels(_ r: KernelRegistry) {
    r.addReference("cast") { ctx in
        _ = try ctx.spec(CastSpec.self)
        return refReady { io in try castElements(try io.input("X"), try io.output("Out")) }
    }
    r.addReference("cumsum") { ctx in
        let spec = try ctx.spec(CumsumSpec.self)
        return refReady { io in try cumsum(try io.input("X"), try io.output("Out"), spec: spec) }
    }
    r.addReference("lookup_table_v2") { ctx in
        let spec = try ctx.spec(LookupTableSpec.self)
        return refReady { io in
            try lookupTable(ids: try io.input("Ids"), w: try io.input("W"), out: try io.output("Out"), paddingIdx: spec.paddingIdx)
        }
    }
    r.addReference("pad3d") { ctx in
        let spec = try ctx.spec(Pad3dSpec.self)
        return refReady { io in
            let p = io.optionalInput("Paddings").map(intArray) ?? spec.paddings
            try pad3d(try io.input("X"), try io.output("Out"), spec: spec, paddings: p)
        }
    }
    r.addReference("pixel_shuffle") { ctx in
        let spec = try ctx.spec(PixelShuffleSpec.self)
        return refReady { io in try pixelShuffle(try io.input("X"), try io.output("Out"), spec: spec) }
    }
}
