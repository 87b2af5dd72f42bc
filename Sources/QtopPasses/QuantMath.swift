import QtopFormat
import QtopGraph

/// Quantization helpers shared by the passes: reading Paddle scale tensors and weights.
public enum QuantMath {
    /// `2^(bits-1) - 1` (127 for 8 bits).
    public static func qmax(bits: Int) -> Int { (1 << (max(bits, 2) - 1)) - 1 }

    /// The values of a scale tensor (0-d, [1], [C] or [1, C] — all flattened).
    public static func scaleValues(_ t: HostTensor) -> [Float] { t.floatValues() }

    /// A zero-point tensor is absent or all zeros.
    static func zeroPointIsZero(_ t: HostTensor?) -> Bool {
        guard let t else { return true }
        return t.floatValues().allSatisfy { $0 == 0 }
    }

    /// Weights stored as integers (int8, or float holding integral values in [-128, 127]).
    static func isIntegral(_ t: HostTensor) -> Bool {
        if t.dtype == .i8 { return true }
        guard t.dtype.isFloatingPoint || t.dtype == .i32 || t.dtype == .i16 || t.dtype == .i64 else { return false }
        return t.floatValues().allSatisfy { $0.rounded() == $0 && $0 >= -128 && $0 <= 127 }
    }

    /// The same integers as an int8 tensor (shares `t` when it already is one).
    static func asInt8(_ t: HostTensor) -> HostTensor {
        if t.dtype == .i8 { return t }
        let out = HostTensor(dtype: .i8, shape: t.shape)
        let p = out.pointer(as: Int8.self)
        for (i, v) in t.floatValues().enumerated() { p[i] = Int8(max(-128, min(127, v))) }
        return out
    }

    /// Expands per-tensor / per-channel ranges to one per channel along `axis` of `shape`.
    static func perChannel(_ ranges: [Float], shape: [Int], axis: Int) -> [Float]? {
        guard axis >= 0, axis < shape.count else { return ranges.count == 1 ? ranges : nil }
        let c = shape[axis]
        if ranges.count == c { return ranges }
        if ranges.count == 1 { return Array(repeating: ranges[0], count: c) }
        return nil
    }

    /// Float weights equal to what Paddle's `dequantize_linear` computes for integer weights `q` with per-channel
    /// ranges `ranges` along `axis`: `w = Float(q) * range[c] / qmax` (multiply first, then divide, like Paddle).
    public static func dequantizedWeights(_ q: HostTensor, ranges: [Float], axis: Int, bits: Int = 8) -> HostTensor {
        let vals = q.floatValues()
        let shape = q.shape
        let r = perChannel(ranges, shape: shape, axis: axis) ?? [ranges.first ?? 1]
        let qm = Float(qmax(bits: bits))
        // Elements between consecutive steps of `axis`, and the extent of `axis`.
        let inner = axis >= 0 && axis < shape.count ? shape[(axis + 1)...].reduce(1, *) : vals.count
        let extent = axis >= 0 && axis < shape.count ? shape[axis] : 1
        var out = [Float](repeating: 0, count: vals.count)
        for i in 0..<vals.count {
            let c = r.count == 1 ? 0 : (i / max(inner, 1)) % max(extent, 1)
            out[i] = vals[i] * r[c] / qm
        }
        return HostTensor(shape: shape, floats: out)
    }

    /// Float weights of a node whose Filter/Y/W was folded by `fold-weight-dequant` (`weight_scales`, `weight_axis`),
    /// or nil when the node carries no integer weights.
    public static func dequantizedWeights(of node: Node, in graph: Graph) -> HostTensor? {
        guard let slot = weightSlot(node), let name = node.input(slot), let q = graph.constant(name),
              let ranges = node.attrs["weight_scales"]?.floats else { return nil }
        let axis = node.attrs.int("weight_axis", default: 0)
        let bits = node.attrs.int("weight_bits", default: 8)
        if let groups = convTransposeGroups(node), q.shape.count == 4, groups > 1,
           ranges.count % groups == 0, ranges.count / groups == q.shape[1] {   // == shape[1] · groups, without the product
            // one range per output channel g·ocg + o: element [ci][o] belongs to channel (ci / icg)·ocg + o
            let (ocg, kk, icg) = (q.shape[1], q.shape[2] * q.shape[3], max(q.shape[0] / groups, 1))
            let vals = q.floatValues(), qm = Float(qmax(bits: bits))
            var out = [Float](repeating: 0, count: vals.count)
            for i in 0..<vals.count { out[i] = vals[i] * ranges[(i / (ocg * kk) / icg) * ocg + (i / kk) % ocg] / qm }
            return HostTensor(shape: q.shape, floats: out)
        }
        return dequantizedWeights(q, ranges: ranges, axis: axis, bits: bits)
    }

    /// A conv2d_transpose's groups (nil for other ops). Its `weight_scales` hold one range per output channel
    /// (C_out = groups · Filter axis 1): Paddle's axis-1 ranges repeated per group.
    public static func convTransposeGroups(_ n: Node) -> Int? {
        guard ConvTransposeSpec.opTypes.contains(n.type) else { return nil }
        return (try? n.spec(ConvTransposeSpec.self))?.groups
    }

    /// The per-output-channel ranges a consumer carries as `weight_scales` for its per-axis ranges `r`.
    static func weightScales(for c: Node, _ r: [Float]) -> [Float] {
        guard let g = convTransposeGroups(c), g > 1 else { return r }
        return (0..<g).flatMap { _ in r }
    }

    /// The input slot holding a conv/matmul's weights.
    public static func weightSlot(_ n: Node) -> String? {
        switch n.type {
        case "conv2d", "depthwise_conv2d", "fused_conv2d", "qconv2d", "conv2d_transpose", "depthwise_conv2d_transpose",
             "qconv2d_transpose": return "Filter"
        case "matmul_v2", "matmul", "mul", "qmatmul": return "Y"
        case "fc": return "W"
        default: return nil
        }
    }

    /// Per-channel abs-max ranges of float weights along `axis`.
    static func absMax(_ t: HostTensor, axis: Int) -> [Float] {
        let vals = t.floatValues()
        let shape = t.shape
        guard axis >= 0, axis < shape.count else { return [vals.map { abs($0) }.max() ?? 0] }
        let inner = shape[(axis + 1)...].reduce(1, *), extent = shape[axis]
        var out = [Float](repeating: 0, count: extent)
        for i in 0..<vals.count {
            let c = (i / max(inner, 1)) % max(extent, 1)
            out[c] = max(out[c], abs(vals[i]))
        }
        return out
    }

    /// Integer weights `round(w * qmax / range[c])` (half away from zero, clamped), as Paddle's channel-wise
    /// abs-max quantizer computes them.
    static func quantizeWeights(_ t: HostTensor, ranges: [Float], axis: Int, bits: Int = 8) -> HostTensor {
        let vals = t.floatValues()
        let shape = t.shape
        let qm = Float(qmax(bits: bits))
        let inner = axis >= 0 && axis < shape.count ? shape[(axis + 1)...].reduce(1, *) : vals.count
        let extent = axis >= 0 && axis < shape.count ? shape[axis] : 1
        let out = HostTensor(dtype: .i8, shape: shape)
        let p = out.pointer(as: Int8.self)
        for i in 0..<vals.count {
            let c = ranges.count == 1 ? 0 : (i / max(inner, 1)) % max(extent, 1)
            let s = ranges[c]
            let q = s > 0 ? (vals[i] * qm / s).rounded(.toNearestOrAwayFromZero) : 0
            p[i] = Int8(max(-qm, min(qm, q)))
        }
        return out
    }
}
