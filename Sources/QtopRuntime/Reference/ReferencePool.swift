import Foundation
import QtopFormat
import QtopGraph

// pool2d (NCHW) with Paddle's window rules; the window logic is shared with the integer qpool2d.

/// The windows of a pool2d / qpool2d output (the spec derives them: `PoolWindows.windows`).
func poolWindows(_ p: PoolWindows, h: Int, w: Int, oh: Int, ow: Int) throws -> (rows: [PoolSpan], cols: [PoolSpan], divisor: (PoolSpan, PoolSpan) -> Int) {
    do {
        let r = try p.windows(h: h, w: w, oh: oh, ow: ow)
        return (r.rows, r.cols, r.divisor)
    } catch { throw KernelError("\(error)") }
}

func registerReferencePoolKernels(_ r: KernelRegistry) {
    r.addReference("pool2d") { ctx in
        let spec = try ctx.spec(PoolSpec.self)
        if spec.nhwc { return .rejected("NHWC data_format not supported") }
        let p = spec.windows
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
