import QtopFormat

// The f32 NHWC boundary ops of an int8 graph, written by lower-int8's SE-block step (LowerSEBlocks.swift): they
// read an integer conv's f32 NHWC output directly, so it need not be reordered to NCHW for its float readers.
// Semantics: docs/int8-semantics.md, "SE blocks on f32 NHWC tensors".

public enum IntegerSESpecs {
    static let specs: [any OpSpec.Type] = [GlobalAvgPoolNHWCSpec.self, ScaleChannelsNHWCSpec.self, QNearestInterpSpec.self]
}

/// global_avg_pool_nhwc: `X` f32 NHWC [N, H, W, C] → `Out` f32 [N, C, 1, 1], the mean over H·W per channel
/// (pixels summed in order from +0, then one division by H·W).
public struct GlobalAvgPoolNHWCSpec: OpSpec {
    public static let opTypes = ["global_avg_pool_nhwc"]

    public init(_ node: Node, _ a: inout AttributeReader) throws {}

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        guard x.count == 4 else { throw OpSpecError("global_avg_pool_nhwc: X must be rank 4 (NHWC), got \(x)") }
        return s.output("Out", .f32, [x[0], x[3], 1, 1])
    }
}

/// scale_channels_nhwc: `X` f32 NHWC [N, H, W, C] times `Scale` ([N, C, 1, 1] or [N, 1, 1, C]):
/// `y = x * s[n][c]`, then `y = x + y` when `residual` (an RSE shortcut), then `y = y + z` when the optional
/// `Addend` z (f32 NCHW [N, C, H, W]: the FPN's upsampled coarser level) is given; each step rounded to Float.
/// `addend_upsample` f (default 1) gives z at 1/f of X's extents, [N, C, H/f, W/f] with H and W multiples of f,
/// and pixel (h, w) adds z's (h / f, w / f): a nearest f-times upsample folded into the add (fuse-se-upsample).
/// `out_dtype` f32 (default) writes `Out` as f32 NCHW [N, C, H, W]; u8 / s8 write it NHWC, requantized with
/// `out_scale` (required then).
public struct ScaleChannelsNHWCSpec: OpSpec {
    public static let opTypes = ["scale_channels_nhwc"]
    public let residual: Bool
    public let outDType: QDataType
    public let outScale: Float?
    public let addendUpsample: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        residual = try a.bool("residual", default: false)
        outDType = try QDataType.read(&a, "out_dtype", default: .f32)!
        outScale = try outDType == .f32 ? nil : positiveRange(&a, "out_scale")
        addendUpsample = try a.int("addend_upsample", default: 1, in: 1...64)
    }

    /// The Addend's extents for X [N, H, W, C] (NCHW, H and W divided by `addend_upsample`); nil when a known H or
    /// W is not a multiple of it.
    public func addendShape(x: [Int]) -> [Int]? {
        let f = addendUpsample, nchw = LayoutSpec.toNCHW(x)
        guard f > 1 else { return nchw }
        guard nchw[2...].allSatisfy({ $0 < 0 || $0 % f == 0 }) else { return nil }
        return [nchw[0], nchw[1]] + nchw[2...].map { $0 < 0 ? $0 : $0 / f }
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X"), sc = try s.shape("Scale")
        guard x.count == 4 else { throw OpSpecError("scale_channels_nhwc: X must be rank 4 (NHWC), got \(x)") }
        guard sc == [x[0], x[3], 1, 1] || sc == [x[0], 1, 1, x[3]] else {
            throw OpSpecError("scale_channels_nhwc: Scale \(sc) is not one value per (n, channel) of X \(x)")
        }
        if s.node.input("Addend") != nil {
            let z = try s.shape("Addend")
            guard let want = addendShape(x: x) else {
                throw OpSpecError("scale_channels_nhwc: X \(x) is not a multiple of addend_upsample \(addendUpsample)")
            }
            guard s.dtype("Addend") == .f32 || s.dtype("Addend") == nil, z == want else {
                throw OpSpecError("scale_channels_nhwc: Addend \(z) must be f32 NCHW \(want)")
            }
        }
        return s.output("Out", outDType.dtype, outDType == .f32 ? LayoutSpec.toNCHW(x) : x)
    }
}

/// qnearest_interp: nearest_interp_v2 (its attributes, `data_layout` "NHWC") on a u8/s8 NHWC tensor: every output
/// element is a copy of the input element Paddle's nearest rule picks, so the range and type are unchanged. Sizes
/// come from the attributes only (no SizeTensor / OutSize / Scale inputs).
public struct QNearestInterpSpec: OpSpec {
    public static let opTypes = ["qnearest_interp"]
    public let interp: InterpSpec

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        interp = try InterpSpec(node.with(type: "nearest_interp_v2"), &a)
        guard interp.nhwc else { throw a.fail("data_layout", "must be NHWC") }
        guard node.inputs("SizeTensor").isEmpty, node.inputs("OutSize").isEmpty, node.inputs("Scale").isEmpty else {
            throw OpSpecError("qnearest_interp: sizes come from the attributes only")
        }
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        guard s.dtype("X") == .u8 || s.dtype("X") == .i8 || s.dtype("X") == nil else { throw OpSpecError("qnearest_interp: X must be u8 or s8") }
        return try interp.inferOutputs(s)
    }
}
