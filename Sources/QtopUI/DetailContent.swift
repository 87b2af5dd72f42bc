import QtopGraph
import QtopProfile

/// A piece of text and the theme role it is drawn with (resolved to colours only by the renderer's Painter).
public typealias Span = (text: String, style: SpanStyle)

/// A theme foreground role plus attributes.
public struct SpanStyle: Sendable, Equatable {
    public var fg: ThemeKey
    public var attrs: CellAttributes
}

/// Builds span styles with the same call shape as `Painter.style`, so content code reads like drawing code.
struct SpanStyles {
    func style(_ fg: ThemeKey = .main_fg, _ attrs: CellAttributes = []) -> SpanStyle { SpanStyle(fg: fg, attrs: attrs) }
    var base: SpanStyle { style() }
}

/// The detail view's lines for a node: text with theme roles, not yet colours, so the reducer can clamp scrolling
/// and the renderer can paint them from the same content.
func detailLines(_ s: AppState, _ d: DetailTarget) -> [[Span]] {
    let p = SpanStyles()
    let gl = s.glyphs
    guard let (node, stepIndex) = s.node(id: d.nodeID, preferStep: d.step) else {
        return [[("node #\(d.nodeID) is not in any pass snapshot", p.style(.warning))]]
    }
    let graph = s.passes[stepIndex].graph
    let h = p.style(.title, [.bold])
    let dim = p.style(.inactive_fg)
    var lines: [[Span]] = []
    let stepName = stepIndex == 0 ? "as loaded" : s.passes[stepIndex].name
    lines.append([(node.name, h), ("  \(node.type)", isQDQ(node.type) ? p.style(.qdq, [.bold]) : p.style(.main_fg, [.bold])),
                  ("  node #\(node.id)  step \(stepIndex) (\(stepName))", dim)])
    lines.append([])
    func valueLine(_ slot: String, _ v: String) -> [Span] {
        let info = graph.values[v]
        let const = info?.constant != nil
        let dt = info?.dtype
        let dtStyle = dt == .i8 || dt == .u8 ? p.style(.int8) : dt?.isFloatingPoint == true ? p.style(.fp32) : p.base
        return [("  " + pad(slot, 10), dim), (v, p.base), (const ? " (const)" : "", dim), ("  " + fmtDType(dt), dtStyle),
                ("  " + fmtShape(info?.shape), p.base)]
    }
    lines.append([("Timing", h)])
    if let l = s.snapshot?.layers.first(where: { $0.nodeID == node.id }) {
        lines.append([("  last ", dim), (fmtMs(l.lastMs), p.base), ("  avg ", dim), (fmtMs(l.meanMs), p.style(.main_fg, [.bold])),
                      ("  median ", dim), (fmtMs(l.medianMs), p.base), ("  min ", dim), (fmtMs(l.minMs), p.base),
                      (" ms  share ", dim), (fmt(l.percent, 1) + "%", p.style(.hi_fg)), ("  \(l.status.rawValue)", dim)])
        lines.append([("  ran as ", dim), (l.execTypeText, p.base), ("  precision ", dim), (l.precisionText, p.base),
                      ("  output ", dim), (l.outPrecisionText, p.base)])
        if !l.history.isEmpty {
            lines.append([("  history ", dim), (gl.sparkline(l.history, width: min(60, s.size.width - 30)), p.style(.graph)),
                          ("  \(l.history.count) runs", dim)])
        }
    } else {
        lines.append([("  not in the running graph (mode \(s.mode.rawValue))", dim)])
    }
    lines.append([("Dispatch", h)])
    if let dd = s.dispatch, s.dispatchNodeID == node.id {
        lines.append([("  chosen ", dim), (dd.execType.description, p.style(.added, [.bold])), ("  (\(dd.implementation) @ \(dd.isa.rawValue))", dim)])
        for r in dd.rejected {
            lines.append([("  rejected ", dim), ("\(r.implementation) @ \(r.isa.rawValue)", p.style(.removed)), (": " + r.reason, p.base)])
        }
        if dd.rejected.isEmpty { lines.append([("  no other candidates", dim)]) }
    } else {
        lines.append([("  no dispatch information", dim)])
    }
    lines.append([("Provenance", h)])
    if let path = node.layerPath { lines.append([("  layer path ", dim), (path, p.style(.title))]) }
    if node.provenance.count > 1 {
        lines.append([("  fused from \(node.provenance.count) Paddle ops:", p.style(.fused))])
        for o in node.provenance { lines.append([("    " + o, p.base)]) }
    } else {
        lines.append([("  original Paddle op " + (node.provenance.first ?? node.name), p.base)])
    }
    lines.append([("Inputs", h)])
    for slot in node.inputs { for v in slot.args { lines.append(valueLine(slot.name, v)) } }
    lines.append([("Outputs", h)])
    for slot in node.outputs { for v in slot.args { lines.append(valueLine(slot.name, v)) } }
    // The file's attributes, then the defaults the op's spec applied (marked), from the one decoder.
    let attributes = OpSpecs.attributeListing(node)
    if !attributes.isEmpty {
        lines.append([("Attributes", h)])
        for a in attributes {
            lines.append([("  " + pad(a.name, 22), dim), (a.value.display, p.base)] + (a.isDefault ? [("  (default)", dim)] : []))
        }
    }
    if !s.weightStats.isEmpty {
        lines.append([("Weights", h)])
        for w in s.weightStats {
            lines.append([("  " + w.name, p.base), ("  \(w.dtype.rawValue) \(fmtShape(w.shape))", dim)])
            lines.append([("    min ", dim), (fmtSci(w.min), p.base), ("  max ", dim), (fmtSci(w.max), p.base),
                          ("  mean ", dim), (fmtSci(w.mean), p.base), ("  std ", dim), (fmtSci(w.std), p.base),
                          ("  n=\(w.count)", dim)])
        }
    }
    if let q = quantSummary(node, graph) {
        lines.append([("Quantization", h)])
        lines.append([("  " + q, p.style(.qdq))])
        for slot in ["Scale", "InScale", "Scales", "OutScale", "ZeroPoint"] {
            if let v = node.input(slot), let t = graph.constant(v) {
                let vals = t.floatValues()
                let shown = vals.prefix(8).map { fmtSci(Double($0)) }.joined(separator: ", ")
                lines.append([("  " + pad(slot, 10), dim), ("[" + shown + (vals.count > 8 ? ", \(gl.ellipsis) (\(vals.count))" : "") + "]", p.base)])
            }
        }
    }
    return lines
}

/// Number of lines in the detail view (for clamping scroll).
public func detailLineCount(_ s: AppState) -> Int {
    guard let d = s.detail else { return 0 }
    return detailLines(s, d).count
}
