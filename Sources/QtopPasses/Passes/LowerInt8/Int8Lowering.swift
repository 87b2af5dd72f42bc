import QtopFormat
import QtopGraph

extension LowerInt8 {
    /// lower-int8, step 2: the rewrite state shared by the per-op lowerings (each in its own file).
    struct Lowering {
        var rw: Rewriter
        let plan: Plan
        // Int8 versions of float values made by `quantize` nodes, per fake_quantize output.
        var quantized: [String: (name: String, dtype: DType, scale: Float)] = [:]
        // Names of f32 NHWC tensors written by integer ops (for residuals), by their float value.
        var nhwcF32: Set<String> = []
        // fake_quantize outputs whose integer version a qconv2d already writes as its `QuantOutput`.
        var prequantized: Set<String> = []

        init(rw: Rewriter, plan: Plan) {
            self.rw = rw
            self.plan = plan
        }

        func dt(_ u8: Bool) -> DType { u8 ? .u8 : .i8 }
        func dtName(_ d: DType) -> String { d == .u8 ? "u8" : (d == .i8 ? "s8" : "f32") }
        mutating func setInt(_ v: String, _ d: DType, from: String) {
            var info = rw.values[from] ?? ValueInfo(name: v, dtype: nil, shape: nil)
            info.name = v
            info.dtype = d
            info.shape = nhwc(info.shape)
            info.constant = nil
            info.persistable = false
            rw.values[v] = info
        }

        /// A conv / matmul that reads folded int8 weights but is not lowered runs in float with dequantized weights.
        mutating func runInFloatIfNotLowered(_ n: Node, _ g: Graph) {
            guard let ws = LowerInt8.weightInput(n), rw.constant(ws)?.dtype == .i8, n.attrs["weight_scales"] != nil,
                  let f = QuantMath.dequantizedWeights(of: n, in: g) else { return }
            let slot = QuantMath.weightSlot(n)!
            let fname = ws + ".f32"
            if rw.values[fname] == nil {
                rw.values[fname] = ValueInfo(name: fname, dtype: .f32, shape: f.shape, persistable: true, constant: f)
            }
            let nn = n.replacingInput(slot, [fname]).settingAttrs([("weight_scales", nil), ("weight_axis", nil)])
            rw.replace(n, with: [nn])
            rw.record(.rewritten, nn, "input not quantized: runs in float with dequantized weights \(fname)")
        }
    }
}
