import QtopFormat
import QtopGraph

/// `dequantize-folded-weights`: float ops that read an int8 weight folded by `fold-weight-dequant` (they carry
/// `weight_scales`) get an f32 constant instead, computed exactly as Paddle's dequantizer would
/// (`QuantMath.dequantizedWeights`). Integer ops (`q*`) keep their int8 weights.
///
/// Not part of a pipeline's timeline: it prepares any snapshot for execution (intermediate snapshots of the int8
/// pipeline have float convs reading int8 weights), so the runtime never needs to know about quantization math.
public enum DequantizeFoldedWeights {
    public static let name = "dequantize-folded-weights"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    public static func apply(_ g0: Graph) -> (Graph, [Change]) {
        var g = g0
        var changes: [Change] = []
        for n in g0.nodes where !n.type.hasPrefix("q") && n.attrs["weight_scales"] != nil {
            guard let slot = QuantMath.weightSlot(n), let name = n.input(slot), g.values[name]?.constant?.dtype == .i8,
                  let w = QuantMath.dequantizedWeights(of: n, in: g) else { continue }
            g.values[name]!.constant = w
            g.values[name]!.dtype = .f32
            changes.append(Change(kind: .rewritten, node: n.name, nodeID: n.id, detail: "\(slot) \(name) dequantized to f32"))
        }
        return (g, changes)
    }

    /// The graph ready for execution (what the pipeline hands to the runtime for any snapshot).
    public static func forExecution(_ g: Graph) -> Graph { apply(g).0 }
}
