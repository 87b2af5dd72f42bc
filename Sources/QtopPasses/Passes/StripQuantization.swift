import QtopFormat
import QtopGraph

/// `strip-quantization` (fp32 pipeline): weights are dequantized once into f32 constants (exactly as the
/// dequantizer computes them), and every activation quantize/dequantize (QDQ pairs, observers, legacy fake-quant
/// ops, `fake_quantize`) is removed, its readers rewired to the unquantized value.
public enum StripQuantization {
    public static let name = "strip-quantization"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    /// Ops that quantize only (their output holds integers) and need their dequantizer removed with them.
    static let quantizeOnly: Set<String> = ["quantize_linear", "fake_quantize_range_abs_max",
                                            "fake_quantize_moving_average_abs_max", "fake_quantize_abs_max"]
    static let dequantizeOnly: Set<String> = ["dequantize_linear", "fake_dequantize_max_abs", "fake_channel_wise_dequantize_max_abs"]
    /// Ops whose output is the (float) fake-quantized input.
    static let quantDequant: Set<String> = ["fake_quantize", "fake_quantize_dequantize_moving_average_abs_max",
                                            "fake_quantize_dequantize_abs_max", "fake_channel_wise_quantize_dequantize_abs_max"]

    static func mainOut(_ n: Node) -> String? { n.output("Y") ?? n.output("Out") }

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        var rw = Rewriter(g)
        for n in g.nodes where !rw.claimed.contains(n.id) {
            guard quantizeOnly.contains(n.type) || dequantizeOnly.contains(n.type) || quantDequant.contains(n.type) else { continue }
            guard let x = n.input("X"), let y = mainOut(n) else { continue }
            // Weights: evaluate the dequantizer once.
            if rw.constant(x) != nil {
                guard let (_, f) = FoldWeightDequant.read(n, rw) else { continue }
                let dq = QuantMath.dequantizedWeights(f.int8, ranges: f.ranges, axis: f.axis, bits: f.bits)
                rw.values[y] = ValueInfo(name: y, dtype: .f32, shape: dq.shape, persistable: true, constant: dq)
                rw.remove(n, detail: "weights \(x) dequantized to f32 constant \(y) (\(fmtRange(f.ranges)))")
                continue
            }
            if quantDequant.contains(n.type) || DropObservers.isObserver(n) {
                rw.remove(n, detail: "\(n.type) removed (float model)")
                rw.rename(y, to: x, writtenBy: n)
                continue
            }
            if quantizeOnly.contains(n.type) {
                let cons = rw.consumers(y, of: n)
                guard cons.count == 1, let d = cons.first, dequantizeOnly.contains(d.type), d.input("X") == y,
                      d.inputs("Scales").count <= 1, !rw.isGraphOutput(y, of: n), let z = mainOut(d) else { continue }
                rw.remove(n, detail: "\(n.type)+\(d.type) removed (float model)")
                rw.remove(d, detail: "\(n.type)+\(d.type) removed (float model)")
                rw.rename(z, to: x, writtenBy: d)
            }
        }
        return (rw.finish(), rw.changes)
    }
}
