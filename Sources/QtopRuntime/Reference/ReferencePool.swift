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

/// One output position's window: [start, end) rows/cols and the divisor for avg pooling.
struct PoolWindow {
    var h0: Int, h1: Int, w0: Int, w1: Int, divisor: Int
}

/// Paddle's Pool2dFunctor windows for an input of h×w producing oh×ow.
/// - global pooling: one window over everything (kernel = input, no padding).
/// - adaptive: start = floor(i*in/out), end = ceil((i+1)*in/out); divisor = window size.
/// - otherwise: start = i*stride - pad_before, end = min(start + k, in), start = max(start, 0);
///   divisor = window size when `exclusive`, else kh*kw. SAME/VALID resolve the padding first.
func poolWindows(_ p: PoolAttrs, h: Int, w: Int, oh: Int, ow: Int) -> (rows: [(Int, Int)], cols: [(Int, Int)], divisor: (Int, Int) -> Int) {
    if p.global {
        return ([(0, h)], [(0, w)], { _, _ in h * w })
    }
    if p.adaptive {
        let rows = (0..<oh).map { i in ((i * h) / oh, ((i + 1) * h + oh - 1) / oh) }
        let cols = (0..<ow).map { j in ((j * w) / ow, ((j + 1) * w + ow - 1) / ow) }
        return (rows, cols, { a, b in a * b })
    }
    let (kh, kw) = p.kernel
    let (sh, sw) = p.strides
    let ph = resolvePadding(algorithm: p.algorithm, input: h, kernel: kh, stride: sh, explicit: (p.paddings[0], p.paddings[1]))
    let pw = resolvePadding(algorithm: p.algorithm, input: w, kernel: kw, stride: sw, explicit: (p.paddings[2], p.paddings[3]))
    let rows = (0..<oh).map { i -> (Int, Int) in
        let s = i * sh - ph.0
        return (max(s, 0), min(s + kh, h))
    }
    let cols = (0..<ow).map { j -> (Int, Int) in
        let s = j * sw - pw.0
        return (max(s, 0), min(s + kw, w))
    }
    let exclusive = p.exclusive
    return (rows, cols, { a, b in exclusive ? a * b : kh * kw })
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
            let (rows, cols, divisor) = poolWindows(p, h: h, w: w, oh: oh, ow: ow)
            for plane in 0..<(n * c) {
                let xp = x.f32 + plane * h * w, yp = y.f32 + plane * oh * ow
                for i in 0..<oh {
                    let (h0, h1) = rows[i]
                    for j in 0..<ow {
                        let (w0, w1) = cols[j]
                        if p.isMax {
                            // Paddle MaxPool: initial -FLT_MAX, y = y > x ? y : x.
                            var m = -Float.greatestFiniteMagnitude
                            for a in h0..<max(h1, h0) { for b in w0..<max(w1, w0) { let v = xp[a * w + b]; m = m > v ? m : v } }
                            yp[i * ow + j] = m
                        } else {
                            var s: Float = 0
                            for a in h0..<max(h1, h0) { for b in w0..<max(w1, w0) { s += xp[a * w + b] } }
                            yp[i * ow + j] = s / Float(divisor(max(h1 - h0, 0), max(w1 - w0, 0)))
                        }
                    }
                }
            }
        }
    }
}
