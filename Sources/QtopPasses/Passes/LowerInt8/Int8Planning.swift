import QtopFormat
import QtopGraph

// lower-int8, step 1: which convs / matmuls become integer ops and which values are produced as integers (and
// with which range and signedness). Pure analysis of the input graph; nothing is rewritten here.
extension LowerInt8 {
    struct Plan {
        /// Lowerable conv/matmul nodes (by id).
        var qops: Set<NodeID> = []
        /// Convs whose residual must be split back out into float ops.
        var unfuse: Set<NodeID> = []
        /// Integer values and the range they are quantized with.
        var intRange: [String: Float] = [:]
        var isU8: [String: Bool] = [:]
    }

    /// Ops that carry integer values unchanged in meaning (judged on the input graph's NCHW shapes).
    static func isTransparent(_ n: Node, _ rw: Rewriter) -> Bool {
        func shape(_ v: String?) -> [Int]? { v.flatMap { rw.base.values[$0]?.shape } }
        switch n.type {
        case "pool2d":
            guard let p = try? n.spec(PoolSpec.self), p.windows.isMax, !p.nhwc, !p.windows.adaptive || p.windows.global,
                  shape(n.input("X"))?.count == 4 else { return false }
            return true
        case "relu":
            return true
        case "concat":
            guard n.inputs("AxisTensor").isEmpty, let s = shape(n.input("X")), s.count == 4 else { return false }
            guard let ax = (try? n.spec(ConcatSpec.self))?.axis else { return false }
            return ax == 1 || ax == -3
        case "flatten_contiguous_range", "flatten2", "flatten", "reshape2", "reshape":
            guard let s = shape(n.input("X")), s.count == 4, s[2] == 1, s[3] == 1,
                  let o = shape(n.output("Out")), o.count == 2 else { return false }
            return true
        default:
            return false
        }
    }

    static func transparentInputs(_ n: Node) -> [String] { n.type == "concat" ? n.inputs("X") : n.inputs("X").prefix(1).map { $0 } }

    /// Upper bound of a value known to be non-negative (infinity when unbounded), nil when it may be negative.
    static func activationBound(_ act: String) -> Float? {
        switch act {
        case "relu": return .infinity
        case "relu6": return 6
        case "sigmoid", "hard_sigmoid": return 1
        default: return nil
        }
    }

    /// Known non-negative float value and its upper bound (for choosing u8 at a `quantize`).
    static func nonNegativeBound(_ v: String, _ rw: Rewriter, depth: Int = 0) -> Float? {
        guard depth < 64, let p = rw.producer(v) else { return nil }
        switch p.type {
        case "relu": return .infinity
        case "relu6": return (try? p.spec(UnarySpec.self))?.param("threshold")
        case "sigmoid", "hard_sigmoid", "softmax": return 1
        case "fused_conv2d", "fc", "qconv2d", "qmatmul", "conv2d_transpose", "qconv2d_transpose": return activationBound(fusedActivation(p))
        case "pool2d", "flatten_contiguous_range", "flatten2", "flatten", "reshape2", "reshape", "transpose2", "transpose",
             "concat", "split", "squeeze2", "unsqueeze2", "dropout":
            let ins = p.type == "concat" ? p.inputs("X") : Array(p.inputs("X").prefix(1))
            let bounds = ins.map { nonNegativeBound($0, rw, depth: depth + 1) }
            guard !bounds.isEmpty, bounds.allSatisfy({ $0 != nil }) else { return nil }
            return bounds.map { $0! }.max()
        default: return nil
        }
    }

    /// u8 storage for a non-negative value with upper bound `bound` quantized with range `r`. u8 clamps at 255 steps
    /// A value known non-negative is stored as u8; u8 saturates at 127 steps, exactly where Paddle's QDQ clamps.
    static func useU8(bound: Float?) -> Bool { bound != nil }

    static func plan(_ g: Graph, _ rw: Rewriter) -> Plan {
        var p = Plan()
        // Names written more than once (non-SSA programs) are left in float.
        var writes: [String: Int] = [:]
        for n in g.nodes { for v in Set(n.allOutputs) { writes[v, default: 0] += 1 } }
        let dup = Set(writes.filter { $0.value > 1 }.keys)
        // 1. Lowerable convs / matmuls.
        for n in g.nodes where convTypes.contains(n.type) || matmulTypes.contains(n.type) || deconvTypes.contains(n.type) {
            guard let x = dataInput(n), !dup.contains(x), !n.allOutputs.contains(where: dup.contains), fqRange(rw.producer(x, before: n)) != nil, let w = rw.constant(weightInput(n)), w.dtype == .i8,
                  let ws = n.attrs["weight_scales"]?.floats, mainOutput(n) != nil,
                  intActivations.contains(fusedActivation(n)) else { continue }
            if deconvTypes.contains(n.type) {
                guard isLowerableConvTranspose(n, filter: w, scales: ws, input: x, rw) else { continue }
            } else if convTypes.contains(n.type) {
                guard w.shape.count == 4, ws.count == w.shape[0], (try? n.spec(ConvSpec.self))?.nhwc == false,
                      rw.shape(x)?.count == 4,
                      resolvedPads(n, input: rw.shape(x), kernel: [w.shape[2], w.shape[3]]) != nil else { continue }
            } else {
                // X [..., K] with every leading dim flattened into rows (ERNIE / SVTR linear layers are [B, S, K]).
                guard w.shape.count == 2, ws.count == w.shape[1], let xs = rw.shape(x), xs.count >= 2, xs.last == w.shape[0] else { continue }
                if n.type == "fc", (try? n.spec(FCSpec.self))?.inNumColDims != xs.count - 1 { continue }
                if n.type == "matmul_v2" || n.type == "matmul" {
                    guard let m = try? n.spec(MatMulSpec.self), !m.transX, !m.transY, m.alpha == 1 else { continue }
                }
                if n.type == "mul" {
                    guard let m = try? n.spec(MulSpec.self), m.xNumColDims == xs.count - 1, m.yNumColDims == 1 else { continue }
                }
            }
            p.qops.insert(n.id)
        }
        for n in g.nodes where p.qops.contains(n.id) {
            if let r = n.input("ResidualData") {
                let prod = rw.producer(r, before: n)
                if prod == nil || !p.qops.contains(prod!.id) || rw.shape(r)?.count != 4 { p.unfuse.insert(n.id) }
            }
        }
        // 2. Values that can be produced as integers, forward.
        var producible: [String: Float?] = [:]   // value → upper bound when non-negative
        for n in g.nodes {
            if p.qops.contains(n.id), !p.unfuse.contains(n.id), let o = mainOutput(n) {
                producible[o] = .some(activationBound(fusedActivation(n)))
            } else if isTransparent(n, rw), let o = n.output("Out"), !dup.contains(o) {
                let ins = transparentInputs(n)
                if !ins.isEmpty, ins.allSatisfy({ producible[$0] != nil }) {
                    let bounds = ins.map { producible[$0]! }
                    producible[o] = .some(n.type == "relu" ? (bounds.allSatisfy { $0 != nil } ? bounds.map { $0! }.max()! : .infinity)
                                          : (bounds.allSatisfy { $0 != nil } ? bounds.map { $0! }.max() : nil))
                }
            }
        }
        // 3. Keep those whose readers all quantize with one range (directly or through transparent int ops), backward.
        var cand = Set(producible.keys).subtracting(g.outputs)
        var range: [String: Float] = [:]
        var changed = true
        while changed {
            changed = false
            for n in g.nodes.reversed() {
                guard let o = (p.qops.contains(n.id) ? mainOutput(n) : (isTransparent(n, rw) ? n.output("Out") : nil)), cand.contains(o) else { continue }
                var ok = true
                var r: Float? = nil
                let cons = rw.consumers(o, of: n)
                if cons.isEmpty { ok = false }
                for c in cons {
                    var rc: Float? = nil
                    if let fr = fqRange(c), c.input("X") == o {
                        rc = fr
                    } else if isTransparent(c, rw), let co = c.output("Out"), cand.contains(co), let cr = range[co],
                              !c.allInputs.contains(where: { $0 != o && !transparentInputs(c).contains($0) }),
                              transparentInputs(c).allSatisfy({ cand.contains($0) }) {
                        rc = cr
                    }
                    guard let rc, r == nil || r == rc else { ok = false; break }
                    r = rc
                }
                // Transparent ops need all their inputs integer.
                if ok, isTransparent(n, rw), !p.qops.contains(n.id), !transparentInputs(n).allSatisfy({ cand.contains($0) }) { ok = false }
                if !ok || r == nil {
                    cand.remove(o)
                    range[o] = nil
                    changed = true
                } else if range[o] != r {
                    range[o] = r
                    changed = true
                }
            }
        }
        for v in cand {
            if let r = range[v] {
                p.intRange[v] = r
                p.isU8[v] = useU8(bound: producible[v] ?? nil)
            }
        }
        return p
    }
}
