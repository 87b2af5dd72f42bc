import Foundation
import QtopFormat
import QtopGraph

// pool2d (NCHW) with Paddle's window rules; the window logic is shared with the integer qpool2d.

/// Pooling attributes as Paddle's pool2d reads them.
struct PoolAttrs {
    var isMax: Bool
    var kernel: (Int, Int)
    var strides: (Int, Int)
    var paddings: [Int]
    var algorithm: String
    var global: Bool
    var adaptive: Bool
    var ceilMode: Bool
    var exclusive: Bool

    init(_ a: Attributes) throws {
        let t = a.string("pooling_type", default: "max")
        guard t == "max" || t == "avg" else { throw KernelError("pool2d: pooling_type '\(t)'") }
        isMax = t == "max"
        kernel = pair(a.ints("ksize", default: [1, 1]), default: 1)
        strides = pair(a.ints("strides", default: [1, 1]), default: 1)
        paddings = fourPaddings(a.ints("paddings", default: [0, 0]))
        algorithm = a.string("padding_algorithm", default: "EXPLICIT")
        global = a.bool("global_pooling", default: false)
        adaptive = a.bool("adaptive", default: false)
        ceilMode = a.bool("ceil_mode", default: false)
        exclusive = a.bool("exclusive", default: true)
    }
}

/// One window extent along one dimension: the input range [start, end) it reads, and `padded`, the extent
/// Paddle divides by for non-exclusive avg pooling.
struct PoolSpan {
    var start: Int, end: Int, padded: Int
    var count: Int { max(end - start, 0) }
}

/// Paddle's CPU Pool2dFunctor windows for an input of h×w producing oh×ow, per dimension:
/// - global pooling: one window over everything.
/// - adaptive: start = floor(i*in/out), end = ceil((i+1)*in/out); divisor = window size.
/// - otherwise (after SAME/VALID resolve the padding): s = i*stride - pad_before, e = min(s + k, in + pad_before),
///   padded = e - s, then start = max(s, 0), end = min(e, in). Avg divides by (end-start) products when
///   `exclusive`, else by the `padded` products (Paddle bounds the padded window with pad_before on both sides,
///   so a ceil_mode window hanging past the input is not counted at full kernel size).
func poolWindows(_ p: PoolAttrs, h: Int, w: Int, oh: Int, ow: Int) throws -> (rows: [PoolSpan], cols: [PoolSpan], divisor: (PoolSpan, PoolSpan) -> Int) {
    if p.global {
        guard oh == 1, ow == 1 else { throw KernelError("global pooling into a \(oh)x\(ow) output") }
        return ([PoolSpan(start: 0, end: h, padded: h)], [PoolSpan(start: 0, end: w, padded: w)], { a, b in a.count * b.count })
    }
    if p.adaptive {
        let rows = (0..<oh).map { i in PoolSpan(start: (i * h) / oh, end: ((i + 1) * h + oh - 1) / oh, padded: 0) }
        let cols = (0..<ow).map { j in PoolSpan(start: (j * w) / ow, end: ((j + 1) * w + ow - 1) / ow, padded: 0) }
        return (rows, cols, { a, b in a.count * b.count })
    }
    let (kh, kw) = p.kernel
    let (sh, sw) = p.strides
    let ph = resolvePadding(algorithm: p.algorithm, input: h, kernel: kh, stride: sh, explicit: (p.paddings[0], p.paddings[1]))
    let pw = resolvePadding(algorithm: p.algorithm, input: w, kernel: kw, stride: sw, explicit: (p.paddings[2], p.paddings[3]))
    func span(_ i: Int, stride: Int, pad: Int, k: Int, n: Int) -> PoolSpan {
        let s = i * stride - pad
        let e = min(s + k, n + pad)
        return PoolSpan(start: max(s, 0), end: min(e, n), padded: e - s)
    }
    let rows = (0..<oh).map { span($0, stride: sh, pad: ph.0, k: kh, n: h) }
    let cols = (0..<ow).map { span($0, stride: sw, pad: pw.0, k: kw, n: w) }
    let exclusive = p.exclusive
    return (rows, cols, { a, b in exclusive ? a.count * b.count : a.padded * b.padded })
}

func registerReferencePoolKernels(_ r: KernelRegistry) {
    r.addReference("pool2d") { ctx in
        if ctx.attrs.string("data_format", default: "NCHW") == "NHWC" { return .rejected("NHWC data_format not supported") }
        let p: PoolAttrs
        do { p = try PoolAttrs(ctx.attrs) } catch { return .rejected("\(error)") }
        return refReady { io in
            let x = try io.input("X"), y = try io.output("Out")
            try requireF32(x, "pool2d")
            guard x.rank == 4, y.rank == 4, x.shape[0] == y.shape[0], x.shape[1] == y.shape[1] else {
                throw KernelError("pool2d: Input \(x.shape) Output \(y.shape)")
            }
            let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            let (oh, ow) = (y.shape[2], y.shape[3])
            let (rows, cols, divisor) = try poolWindows(p, h: h, w: w, oh: oh, ow: ow)
            for plane in 0..<(n * c) {
                let xp = x.f32 + plane * h * w, yp = y.f32 + plane * oh * ow
                for i in 0..<oh {
                    let r = rows[i]
                    for j in 0..<ow {
                        let cs = cols[j]
                        if p.isMax {
                            // Paddle MaxPool: initial -FLT_MAX, y = y > x ? y : x.
                            var m = -Float.greatestFiniteMagnitude
                            for a in r.start..<max(r.end, r.start) {
                                for b in cs.start..<max(cs.end, cs.start) { let v = xp[a * w + b]; m = m > v ? m : v }
                            }
                            yp[i * ow + j] = m
                        } else {
                            var s: Float = 0
                            for a in r.start..<max(r.end, r.start) { for b in cs.start..<max(cs.end, cs.start) { s += xp[a * w + b] } }
                            yp[i * ow + j] = s / Float(divisor(r, cs))
                        }
                    }
                }
            }
        }
    }
}
