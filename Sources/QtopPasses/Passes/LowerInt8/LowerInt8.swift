import QtopFormat
import QtopGraph

/// `lower-int8`: convs and matmuls with int8 weights whose input comes through a per-tensor `fake_quantize`
/// become integer ops; integer values flow through max pool, relu, channel concat and 1×1 flatten/reshape.
///
/// Contract (what the kernels implement):
/// - `qconv2d`: inputs `Input` (u8/s8 NHWC), `Filter` (s8 constant [OC, IC/groups, KH, KW]), optional `Bias`
///   (f32 [OC]), optional `Residual` (f32 NHWC — see below); output `Output` (NHWC). Attributes `strides` [2],
///   `paddings` [4] top, bottom, left, right (SAME/VALID resolved; SAME resets dilations to 1 as Paddle does),
///   `dilations` [2], `groups`, `in_scale`, `weight_scales` [OC] (ranges, BN folded in), `activation`
///   ("none" | "relu" | "relu6" | "hard_swish" | "sigmoid" | "hard_sigmoid" with `slope`, `offset` | "swish"),
///   `out_dtype` ("u8" | "s8" | "f32"), `out_scale` (only for u8/s8).
///   Optional second output `QuantOutput` (u8/s8 NHWC) with an f32 `Output`: the same values quantized with
///   `quant_out_scale` into `quant_out_dtype`. Used when an f32 conv output (read as a residual) is otherwise only
///   read through `fake_quantize`s of one range (round_type 0): no layout + quantize round trip is needed.
/// - `qconv2d_transpose` (LowerConvTranspose.swift): conv2d_transpose's geometry on u8/s8 NHWC `Input`, s8 `Filter`
///   [C_in, C_out/groups, KH, KW] with `weight_scales` [C_out], optional `Bias`, qconv2d's epilogue attributes (no
///   residual); `Output` u8/s8 NHWC, or f32 NCHW for float readers (no layout node).
/// - `qmatmul`: `X` (u8/s8 [..., K], leading dims flattened into rows: fc with in_num_col_dims = rank - 1, matmul_v2
///   without transposes, mul with x_num_col_dims = rank - 1), `Y` (s8 constant [K, N]), optional `Bias` [N]; output
///   `Out` [..., N];
///   attributes `in_scale`, `weight_scales` [N], `activation`, `out_dtype`, `out_scale`.
/// - `quantize`: `X` f32 NCHW → `Out` u8/s8 NHWC; attributes `scale` (range), `out_dtype`.
/// - `dequantize`: `X` u8/s8 NHWC → `Out` f32 NCHW; attribute `scale`.
/// - `layout_nhwc_to_nchw`: `X` f32 NHWC → `Out` f32 NCHW.
/// - `qpool2d` (max only; pool2d attributes with `data_format` = "NHWC", plus `in_scale`, `out_scale`,
///   `out_dtype`), `qrelu` (`in_scale`, `out_scale`, `out_dtype` "u8"),
///   `qconcat` (`axis` = 3, `in_scales`, `out_scale`, `out_dtype`); flatten/reshape keep their type and
///   read/write the integer tensor (H = W = 1), without the XShape output.
/// - After lowering, SE blocks on an f32 NHWC conv output become `global_avg_pool_nhwc` / `scale_channels_nhwc`
///   (LowerSEBlocks.swift), and a quantized channel concat of nearest-upsampled float tensors becomes per-source
///   quantization + `qnearest_interp` + `qconcat` (LowerQuantizedConcat.swift); specs in Ops/IntegerSE.swift.
/// 2-D tensors (matmul operands) have no layout: NHWC and NCHW coincide.
///
/// Precision choice — exactness first: a value is produced as u8/s8 only when, in the loaded graph, every
/// reader quantizes it with the same range (directly through `fake_quantize`, or after max pool / relu / concat /
/// flatten, which commute with quantization). Then the producer requantizes to that range in its epilogue
/// (`out_scale`) and the `fake_quantize` disappears. Any other int8 op output is **`out_dtype` "f32" (NHWC)**,
/// followed by a `layout_nhwc_to_nchw` node when float ops read it; a fused residual reads that f32 NHWC tensor
/// directly. A residual whose producer is not an integer op is split back out into float `elementwise_add` (+
/// activation) after the conv. Float values feeding an integer op get a `quantize` node (u8 when known
/// non-negative; u8 saturates at 127 steps like Paddle's quantize/dequantize, see docs/int8-semantics.md). A `fake_quantize` over an integer value that
/// float ops also read becomes `dequantize`; one that only float ops read becomes `quantize` (s8) + `dequantize`
/// (no per-tensor `fake_quantize` survives: it has no kernel). `quantize` carries `round_type` when the source
/// used Paddle's round_type 1 (legacy: clip, then round half away from zero).
public enum LowerInt8 {
    public static let name = "lower-int8"
    public static let pass = Pass(name: name) { g, _ in apply(g) }

    static let convTypes: Set<String> = ["conv2d", "depthwise_conv2d", "fused_conv2d"]
    static let deconvTypes = Set(ConvTransposeSpec.opTypes)
    static let matmulTypes: Set<String> = ["fc", "matmul_v2", "matmul", "mul"]
    static let intActivations: Set<String> = ["none", "relu", "relu6", "hard_swish", "sigmoid", "hard_sigmoid", "swish"]

    /// A per-tensor 8-bit fake_quantize's range.
    static func fqRange(_ n: Node?) -> Float? {
        guard let n, n.type == "fake_quantize", let f = try? n.spec(FakeQuantizeSpec.self), f.bitLength == 8,
              f.ranges.count == 1, f.ranges[0] > 0 else { return nil }
        return f.ranges[0]
    }

    static func dataInput(_ n: Node) -> String? {
        convTypes.contains(n.type) || deconvTypes.contains(n.type) || n.type == "fc" ? n.input("Input") : n.input("X")
    }
    static func weightInput(_ n: Node) -> String? { QuantMath.weightSlot(n).flatMap { n.input($0) } }
    static func mainOutput(_ n: Node) -> String? { convTypes.contains(n.type) || deconvTypes.contains(n.type) ? n.output("Output") : n.output("Out") }

    /// A conv's geometry for qconv2d (from its spec): explicit [top, bottom, left, right] pads, dilations, strides
    /// and groups, or nil when SAME needs an unknown size or the conv's attributes do not decode.
    static func resolvedPads(_ n: Node, input: [Int]?, kernel: [Int]) -> (pads: [Int], dil: [Int], strides: [Int], groups: Int)? {
        guard let spec = try? n.spec(ConvSpec.self) else { return nil }
        let g = spec.geometry
        if g.algorithm == .same { guard let x = input, x.count == 4, x[2] > 0, x[3] > 0 else { return nil } }
        let (pads, dil) = g.resolve(inH: input?[2] ?? 0, inW: input?[3] ?? 0, kH: kernel[0], kW: kernel[1])
        return (pads, [dil.0, dil.1], [g.strides.0, g.strides.1], spec.groups)
    }

    public static func apply(_ g: Graph) -> (Graph, [Change]) {
        let rw = Rewriter(g)
        var l = Lowering(rw: rw, plan: plan(g, rw))
        for n in g.nodes {
            if fqRange(n) != nil, let x = n.input("X"), let z = n.output("Out") {
                l.lowerFakeQuantize(n, x: x, z: z)
            } else if l.plan.qops.contains(n.id) {
                if deconvTypes.contains(n.type) { l.lowerConvTranspose(n) } else { l.lowerConvOrMatMul(n) }
            } else if let o = n.output("Out"), l.plan.intRange[o] != nil, isTransparent(n, l.rw) {
                l.lowerTransparent(n, out: o)
            } else if let (fx, fy, m) = actMatMulOperands(n, l) {
                l.lowerActMatMul(n, x: fx, y: fy, spec: m)
            } else {
                l.runInFloatIfNotLowered(n, g)
            }
        }
        let (se, seChanges) = lowerSEBlocks(l.rw.finish())
        let (cat, catChanges) = lowerQuantizedConcats(se)
        return (cat, l.rw.changes + seChanges + catChanges)
    }
}
