import QtopFormat

// qconv2d_transpose, written by lower-int8 (LowerConvTranspose.swift) for a conv2d_transpose whose input comes
// through a per-tensor fake_quantize and whose filter Paddle's PTQ quantized per output channel along axis 1.

public enum IntegerDeconvSpecs {
    static let specs: [any OpSpec.Type] = [QConvTransposeSpec.self]
}

/// qconv2d_transpose: `Input` u8/s8 NHWC [N, H, W, C_in], `Filter` s8 constant [C_in, C_out/groups, kh, kw],
/// optional `Bias` f32 [C_out]; `Output` u8/s8 NHWC [N, OH, OW, C_out] or f32 **NCHW** [N, C_out, OH, OW] (float
/// readers take it as it is). Geometry attributes as conv2d_transpose's (`strides`, `paddings`,
/// `padding_algorithm`, `dilations`, `groups`, `output_padding`, `output_size`); the epilogue's as qconv2d's
/// (`in_scale`, `weight_scales` one range per output channel with BN folded in, `activation`, `out_dtype`,
/// `out_scale`). acc = the exact int32 sum of every product x · w reaching an output element (none: 0), then
/// docs/int8-semantics.md steps 2–6 without a residual.
public struct QConvTransposeSpec: OpSpec {
    public static let opTypes = ["qconv2d_transpose"]
    /// The float op's geometry and output-extent rule (NCHW, no activation of its own).
    public let deconv: ConvTransposeSpec
    public let epilogue: IntegerEpilogueSpec

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        let geometry = try WindowGeometry.read(&a, dilations: true)
        let groups = try a.int("groups", default: 1, in: 1...Int(Int32.max))
        let op = try a.ints("output_padding", default: [], counts: [0, 1, 2], min: 0)
        let os = try a.ints("output_size", default: [], counts: [0, 1, 2], min: 1)
        deconv = ConvTransposeSpec(geometry: geometry, groups: groups, outputPadding: op, outputSize: os)
        epilogue = try IntegerEpilogueSpec.read(&a, node)
        if node.input("Residual") != nil { throw OpSpecError("qconv2d_transpose '\(node.name)': takes no Residual") }
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("Input"), w = try s.shape("Filter")
        guard x.count == 4, w.count == 4 else { throw OpSpecError("qconv2d_transpose expects 4-D NHWC input and filter") }
        if x[3] >= 0, x[3] != w[0] { throw OpSpecError("qconv2d_transpose: Input has \(x[3]) channels, Filter \(w) expects \(w[0])") }
        let oc = try deconv.outputChannels(filter: w)
        var oh = -1, ow = -1
        if x[1] > 0, x[2] > 0, w[2] > 0, w[3] > 0 { (oh, ow) = try deconv.resolve(inH: x[1], inW: x[2], kH: w[2], kW: w[3]).out }
        let shape = epilogue.outType == .f32 ? [x[0], oc, oh, ow] : [x[0], oh, ow, oc]
        return s.output("Output", epilogue.outType.dtype, shape)
    }
}
