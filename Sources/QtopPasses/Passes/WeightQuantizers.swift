import QtopFormat
import QtopGraph

/// Part of `fold-weight-dequant`: Paddle 3's PTQ (`convert(remain_weight=True)`) keeps weights in float behind
/// their own `quantize_linear` → `dequantize_linear` pair. Such a quantizer of a float constant is evaluated once,
/// with Paddle's quantize_linear arithmetic, into an **int8 constant**; the dequantizer that reads it is then folded
/// like a PTQ weight dequantizer (integer weights + ranges), so the weights are converted to int8 exactly once.
enum WeightQuantizers {
    /// Evaluates every foldable weight quantizer of `g` into `rw` (node removed, its output now an int8 constant).
    static func evaluate(_ g: Graph, _ rw: inout Rewriter) {
        for q in g.nodes where q.type == "quantize_linear" && !rw.claimed.contains(q.id) && !DropObservers.isObserver(q) {
            guard let x = q.input("X"), let w = rw.constant(x), w.dtype == .f32, let y = q.output("Y"),
                  QuantMath.zeroPointIsZero(rw.constant(q.input("ZeroPoint"))),
                  let s = rw.constant(q.input("Scale")).map(QuantMath.scaleValues), !s.isEmpty, s.allSatisfy({ $0 > 0 && $0.isFinite }),
                  !rw.isGraphOutput(y, of: q) else { continue }
            let readers = rw.consumers(y, of: q)
            guard !readers.isEmpty, readers.allSatisfy({ $0.type == "dequantize_linear" && $0.input("X") == y }),
                  q.allOutputs.allSatisfy({ $0 == y || rw.consumers($0, of: q).isEmpty }) else { continue }
            let bits = q.attrs.int("bit_length", default: 8)
            let bin = q.attrs["qmax"]?.int.flatMap { $0 > 0 ? $0 : nil } ?? QuantMath.qmax(bits: bits)
            guard bin <= 127, let t = quantize(w, scales: s, axis: q.attrs.int("quant_axis", default: -1), bin: Float(bin),
                                                roundType: q.attrs.int("round_type", default: 0)) else { continue }
            rw.values[y] = ValueInfo(name: y, dtype: .i8, shape: t.shape, persistable: true, constant: t)
            rw.remove(q, detail: "quantize_linear of float weights \(x) evaluated once: int8 constant \(y) (\(fmtRange(s)))")
        }
    }

    /// Paddle's quantize_linear on the CPU: `inv = 1/s` (1/(s+1e-6) for s ≤ 1e-30); round_type 0:
    /// `rint((bin·inv)·x)` clamped to [-bin-1, bin]; round_type 1: x clipped to [-s, s], then rounded half away.
    /// One scale is per-tensor; C scales run along `axis`. nil when the scales do not fit the weights.
    static func quantize(_ w: HostTensor, scales: [Float], axis: Int, bin: Float, roundType: Int) -> HostTensor? {
        let shape = w.shape, vals = w.floatValues()
        var inner = vals.count, extent = 1
        if scales.count > 1 {
            guard axis >= 0, axis < shape.count, shape[axis] == scales.count else { return nil }
            inner = shape[(axis + 1)...].reduce(1, *)
            extent = shape[axis]
        }
        let out = HostTensor(dtype: .i8, shape: shape)
        let p = out.pointer(as: Int8.self)
        for i in 0..<vals.count {
            let s = scales[scales.count == 1 ? 0 : (i / max(inner, 1)) % extent]
            let inv: Float = s <= 1e-30 ? 1 / (s + 1e-6) : 1 / s
            var v: Float
            if roundType == 0 {
                v = (bin * inv * vals[i]).rounded(.toNearestOrEven)
                v = min(max(v, -bin - 1), bin)
            } else {
                let c = min(max(vals[i], -s), s)
                v = (bin * inv * c).rounded(.toNearestOrAwayFromZero)
            }
            p[i] = v.isNaN ? 0 : Int8(min(max(v, -128), 127))
        }
        return out
    }
}
