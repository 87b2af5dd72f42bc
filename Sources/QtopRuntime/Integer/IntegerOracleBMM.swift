import QtopFormat
import QtopGraph

// The integer oracle of qbmm (QBMMSpec): scalar and literal, like IntegerOracle.swift. q8_bmm.c matches it bit for
// bit at every ISA.

/// qbmm: every operand element quantized as `quantize` does (s8: saturate(x · (127 / S)), round half to even,
/// NaN → 0), products summed in Int32 over k = 0..<K (wrapping, as the C kernels; K ≤ 65536 never wraps), then
/// `Float(acc) * ((S_x / 127) * (S_y / 127))`.
func qbmm(x: Tensor, y: Tensor, out: Tensor, spec: QBMMSpec) throws {
    try requireF32(x, "qbmm X")
    try requireF32(y, "qbmm Y")
    try requireF32(out, "qbmm Out")
    let (layout, why) = BatchedMatMulLayout.make(x: x.shape, y: y.shape, transX: spec.transX, transY: spec.transY)
    guard let l = layout else { throw KernelError("qbmm: \(why) (X \(x.shape), Y \(y.shape))") }
    guard out.count == l.batch * l.m * l.n else { throw KernelError("qbmm: Out \(out.shape) for \(l.batch)x\(l.m)x\(l.n)") }
    guard l.k <= 65536 else { throw KernelError("qbmm: K = \(l.k) > 65536") }
    let invX = quantInverse(spec.xScale), invY = quantInverse(spec.yScale)
    let scale = quantStep(spec.xScale) * quantStep(spec.yScale)
    let (m, k, n) = (l.m, l.k, l.n)
    let xq = (0..<x.count).map { saturate(x.f32[$0] * invX, lo: -128, hi: 127) }
    let yq = (0..<y.count).map { saturate(y.f32[$0] * invY, lo: -128, hi: 127) }
    for b in 0..<l.batch {
        let xb = Int(l.xoff[b]) * m * k, yb = Int(l.yoff[b]) * k * n
        for i in 0..<m {
            for j in 0..<n {
                var acc: Int32 = 0
                for p in 0..<k {
                    let a = l.transX ? xq[xb + p * m + i] : xq[xb + i * k + p]
                    let w = l.transY ? yq[yb + j * k + p] : yq[yb + p * n + j]
                    acc = acc &+ a &* w
                }
                out.f32[(b * m + i) * n + j] = Float(acc) * scale
            }
        }
    }
}

func registerIntegerOracleBMMKernel(_ r: KernelRegistry) {
    r.addReference("qbmm", .i8) { ctx in
        let spec = try ctx.spec(QBMMSpec.self)
        return refReady { io in try qbmm(x: try io.input("X"), y: try io.input("Y"), out: try io.output("Out"), spec: spec) }
    }
}
