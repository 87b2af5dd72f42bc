/// `fake_quantize`: the node the qdq-to-fakequantize pass makes from a quantize→dequantize pair. It must compute
/// exactly what the pair computed in Paddle: quantize with Paddle's formula for `round_type`, then `(q * s) / qmax`.
/// Attributes: `range` (one value per tensor, or one per channel along `axis`), `bit_length`, `round_type`.
func registerReferenceFakeQuantizeKernel(_ r: KernelRegistry) {
    r.addReference("fake_quantize") { ctx in
        let ranges = ctx.attrs.floats("range", default: [])
        guard !ranges.isEmpty else { return .rejected("fake_quantize without a range") }
        let axis = ctx.attrs.int("axis", default: -1)
        let bits = ctx.attrs.int("bit_length", default: 8)
        guard (2...16).contains(bits) else { return .rejected("fake_quantize bit_length \(bits)") }
        let binCnt = Float((1 << (bits - 1)) - 1)
        let roundType = ctx.attrs.int("round_type", default: 0)
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
