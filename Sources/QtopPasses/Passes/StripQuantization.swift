import QtopFormat
import QtopGraph

/// `strip-quantization` (fp32 pipeline): weights are dequantized once into f32 constants (exactly as the
/// dequantizer computes them), and every activation quantize/dequantize (QDQ pairs, observers, legacy fake-quant
/// ops, `fake_quantize`) is removed, its readers rewired to the unquantized value.
public enum StripQuantization {
    public static let name = "strip-quantization"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    /// Ops that quantize only (their output holds integers) and need their dequantizer removed with them.
    static var quantizeOnly: Set<String> { QuantOpNames.quantizeOnly }
    static var dequantizeOnly: Set<String> { QuantOpNames.dequantizeOnly }
    /// Ops whose output is the (float) fake-quantized input.
    static var quantDequant: Set<String> { QuantOpNames.quantDequant }

    static func mainOut(_ n: Node) -> String? { n.output("Y") ?? n.output("Out") }

    public static func apply(_ g0: Graph) -> (Graph, [Change]) {
        // Normalize legacy layouts first (frozen conv + post-dequantizer), then strip.
        let (g1, c1) = QDQToFakeQuantize.apply(g0)
        let (g, c2) = FoldWeightDequant.apply(g1)
        var rw = Rewriter(g)
        rw.changes = (c1 + c2).filter { $0.kind == .removed }
        for n in g.nodes where !rw.claimed.contains(n.id) {
            if let slot = QuantMath.weightSlot(n), let w = n.input(slot), n.attrs["weight_scales"] != nil,
               let f = QuantMath.dequantizedWeights(of: n, in: g) {
                let fname = w + ".f32"
                if rw.values[fname] == nil {
                    rw.values[fname] = ValueInfo(name: fname, dtype: .f32, shape: f.shape, persistable: true, constant: f)
                }
                let nn = n.replacingInput(slot, [fname]).settingAttrs([("weight_scales", nil), ("weight_axis", nil)])
                rw.replace(n, with: [nn])
                rw.record(.rewritten, nn, "weights dequantized to f32 constant \(fname)")
                continue
            }
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
                rw.remove(n, detail: "\(n.type) (\(n.provenance.joined(separator: "+"))) removed (float model)")
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
