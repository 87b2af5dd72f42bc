import QtopGraph

// Scalar references of the SE-block boundary ops (docs/int8-semantics.md, "SE blocks on f32 NHWC tensors");
// the C rows of every ISA match them bit for bit.

func registerSEBoundaryReferenceKernels(_ r: KernelRegistry) {
    // global_avg_pool_nhwc: per channel, the pixels summed in order from +0, then one division by H·W.
    r.addReference("global_avg_pool_nhwc") { _ in
        refReady { io in
            let x = try io.input("X"), y = try io.output("Out")
            guard x.dtype == .f32, y.dtype == .f32, x.rank == 4 else { throw KernelError("global_avg_pool_nhwc: f32 NHWC only") }
            let (n, hw, c) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
            guard y.count == n * c else { throw KernelError("global_avg_pool_nhwc: Out \(y.shape) for X \(x.shape)") }
            let count = Float(hw)
            for ni in 0..<n {
                for ch in 0..<c {
                    var sum: Float = 0
                    for p in 0..<hw { sum += x.f32[(ni * hw + p) * c + ch] }
                    y.f32[ni * c + ch] = sum / count
                }
            }
        }
    }
    // scale_channels_nhwc: y = x * s (then x + y when residual, then + Addend, read at (h / f, w / f) when it is f times
    // smaller); f32 NCHW out, or requantized u8/s8 NHWC.
    r.addReference("scale_channels_nhwc") { ctx in
        let spec = try ctx.spec(ScaleChannelsNHWCSpec.self)
        let inv = spec.outScale.map(quantInverse) ?? 1
        let (lo, hi) = spec.outDType.bounds
        return refReady { io in
            let x = try io.input("X"), s = try io.input("Scale"), y = try io.output("Out")
            guard x.dtype == .f32, s.dtype == .f32, x.rank == 4, y.dtype == spec.outDType.dtype else {
                throw KernelError("scale_channels_nhwc: X, Scale f32 NHWC; Out \(spec.outDType)")
            }
            let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            guard s.count == n * c, y.count == x.count else { throw KernelError("scale_channels_nhwc: Scale \(s.shape), Out \(y.shape) for X \(x.shape)") }
            let z = io.optionalInput("Addend")
            let f = spec.addendUpsample, (zh, zw) = (h / f, w / f)
            if let z {
                guard z.dtype == .f32, h % f == 0, w % f == 0, z.shape == [n, c, zh, zw] else {
                    throw KernelError("scale_channels_nhwc: Addend \(z.shape) for X \(x.shape) (addend_upsample \(f))")
                }
            }
            let hw = h * w
            for ni in 0..<n {
                for p in 0..<hw {
                    for ch in 0..<c {
                        let v = x.f32[(ni * hw + p) * c + ch]
                        var o = v * s.f32[ni * c + ch]
                        if spec.residual { o = v + o }
                        if let z { o = o + z.f32[(ni * c + ch) * zh * zw + (p / w / f) * zw + p % w / f] }
                        if spec.outDType == .f32 {
                            y.f32[(ni * c + ch) * hw + p] = o
                        } else {
                            storeQ(y, (ni * hw + p) * c + ch, saturate(o * inv, lo: lo, hi: hi))
                        }
                    }
                }
            }
        }
    }
    // qnearest_interp: Paddle's nearest indices (nearestIndices) on u8/s8 NHWC; elements are copied unchanged.
    r.addReference("qnearest_interp", .i8) { ctx in
        let spec = try ctx.spec(QNearestInterpSpec.self)
        return refReady { io in
            let x = try io.input("X"), y = try io.output("Out")
            guard x.dtype == .u8 || x.dtype == .i8, y.dtype == x.dtype else { throw KernelError("qnearest_interp: u8/s8 only") }
            let p = try interpPlan(spec.interp, io, x: x)
            guard y.shape == [p.n, p.outH, p.outW, p.c] else { throw KernelError("qnearest_interp: Out \(y.shape) for X \(x.shape)") }
            let rows = nearestIndices(out: p.outH, ratio: p.ratioH, alignCorners: spec.interp.alignCorners, input: p.inH)
            let cols = nearestIndices(out: p.outW, ratio: p.ratioW, alignCorners: spec.interp.alignCorners, input: p.inW)
            let same = p.inH == p.outH && p.inW == p.outW   // Paddle copies the input when the size does not change
            for n in 0..<p.n { for k in 0..<p.outH { for l in 0..<p.outW { for ch in 0..<p.c {
                let (sy, sx) = same ? (k, l) : (rows[k], cols[l])
                storeQ(y, ((n * p.outH + k) * p.outW + l) * p.c + ch, loadQ(x, ((n * p.inH + sy) * p.inW + sx) * p.c + ch))
            } } } }
        }
    }
}
