import QtopGraph

/// `fake_quantize`: the node the qdq-to-fakequantize pass makes from a quantize→dequantize pair. It must compute
/// exactly what the pair computed in Paddle: quantize with Paddle's formula for `round_type`, then `(q * s) / qmax`.
/// Attributes: `range` (one value per tensor, or one per channel along `axis`), `bit_length`, `round_type`.
func registerReferenceFakeQuantizeKernel(_ r: KernelRegistry) {
    r.addReference("fake_quantize") { ctx in
        let spec = try ctx.spec(FakeQuantizeSpec.self)
        let ranges = spec.ranges, axis = spec.axis, roundType = spec.roundType
        guard spec.bitLength >= 2 else { return .rejected("fake_quantize bit_length \(spec.bitLength)") }
        let binCnt = Float(spec.binCount)
        return refReady { io in
            let x = try io.input("X"), y = try io.output("Out")
            try requireF32(x, "fake_quantize X")
            let ch = ranges.count == 1 ? nil : ChannelIndexer(shape: x.shape, axis: axis < 0 ? axis + x.rank : axis)
            if let ch, ch.extent != ranges.count {
                throw KernelError("fake_quantize: \(ranges.count) ranges for axis \(axis) of \(x.shape)")
            }
            for i in 0..<x.count {
                let s = ranges[ch?.channel(i) ?? 0]
                let q = paddleQuantize(x.f32[i], s: s, binCnt: binCnt, roundType: roundType)
                y.f32[i] = (q * s) / binCnt
            }
        }
    }
}
