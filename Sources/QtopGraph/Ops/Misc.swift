import QtopFormat

// Ops without a larger family: cast, cumsum, lookup_table_v2 (embedding), pad3d, pixel_shuffle.

public enum MiscSpecs {
    static let specs: [any OpSpec.Type] = [CastSpec.self, CumsumSpec.self, LookupTableSpec.self, Pad3dSpec.self,
                                           PixelShuffleSpec.self]
}

/// Reads a Paddle dtype code attribute.
func readDType(_ a: inout AttributeReader, _ name: String, default d: DType) throws -> DType {
    let code = try a.int(name, default: d.paddleCode)
    guard let t = DType(paddleCode: code) else { throw a.fail(name, "is not a known dtype code: \(code)") }
    return t
}

/// cast to `out_dtype` (float → integer truncates toward zero, as C++ static_cast; → bool is `!= 0`).
public struct CastSpec: OpSpec {
    public static let opTypes = ["cast"]
    public let inDType: DType, outDType: DType

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        inDType = try readDType(&a, "in_dtype", default: .f32)
        outDType = try readDType(&a, "out_dtype", default: .f32)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? { s.output("Out", outDType, try s.shape("X")) }
}

/// cumsum along `axis` (over the flattened tensor when `flatten`); `exclusive` shifts by one, `reverse` sums from
/// the end.
public struct CumsumSpec: OpSpec {
    public static let opTypes = ["cumsum"]
    public let axis: Int
    public let flatten: Bool, exclusive: Bool, reverse: Bool

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        axis = try a.int("axis", default: -1)
        flatten = try a.bool("flatten", default: false)
        exclusive = try a.bool("exclusive", default: false)
        reverse = try a.bool("reverse", default: false)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        if flatten { return s.output("Out", s.dtype("X"), [try ShapeMath.product(x)]) }
        if !x.isEmpty { _ = try ShapeMath.axis(axis, rank: x.count, "cumsum") }
        return s.output("Out", s.dtype("X"), x)
    }
}

/// lookup_table_v2: Out[..., :] = W[Ids[...], :] for integer Ids of any shape; rows equal to `padding_idx`
/// (-1 = none) are zeros.
public struct LookupTableSpec: OpSpec {
    public static let opTypes = ["lookup_table_v2"]
    public let paddingIdx: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        paddingIdx = try a.int("padding_idx", default: -1)
        _ = try a.bool("is_sparse", default: false)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let ids = try s.shape("Ids"), w = try s.shape("W")
        guard w.count == 2 else { throw OpSpecError("lookup_table_v2: W must be 2-D, got \(w)") }
        return s.output("Out", s.dtype("W"), ids + [w[1]])
    }
}

/// pad3d of a 5-D tensor: `paddings` [left, right, top, bottom, front, back] (a Paddings tensor overrides), mode
/// constant (with `value`), reflect, replicate or circular.
public struct Pad3dSpec: OpSpec {
    public static let opTypes = ["pad3d"]
    public let paddings: [Int]
    public let mode: String
    public let value: Float
    public let channelLast: Bool

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        paddings = try a.ints("paddings", default: [0, 0, 0, 0, 0, 0], counts: [6])
        mode = try a.string("mode", default: "constant", oneOf: ["constant", "reflect", "replicate", "circular"])
        value = try a.float("value", default: 0)
        channelLast = try a.string("data_format", default: "NCDHW", oneOf: ["NCDHW", "NDHWC"]) == "NDHWC"
    }

    /// The output shape for an input shape and paddings, validated as Paddle does (reflect needs pad < extent,
    /// circular pad ≤ extent, no negative result).
    public func outputShape(_ x: [Int], paddings p: [Int]) throws -> [Int] {
        guard x.count == 5 else { throw OpSpecError("pad3d expects a 5-D input, got \(x)") }
        guard p.count == 6 else { throw OpSpecError("pad3d: paddings must have 6 values, got \(p.count)") }
        let spatial = channelLast ? [1, 2, 3] : [2, 3, 4]
        var out = x
        // paddings pair k (0: W, 1: H, 2: D) pads spatial dim 2 - k
        for k in 0..<3 {
            let d = spatial[2 - k]
            let before = p[2 * k], after = p[2 * k + 1]
            if x[d] < 0 { out[d] = -1; continue }
            if mode == "reflect", before >= x[d] || after >= x[d] {
                throw OpSpecError("pad3d: reflect padding \(before), \(after) must be smaller than the extent \(x[d])")
            }
            if mode == "circular", before > x[d] || after > x[d] {
                throw OpSpecError("pad3d: circular padding \(before), \(after) must not exceed the extent \(x[d])")
            }
            if mode != "constant", x[d] == 0 { throw OpSpecError("pad3d: \(mode) padding of an empty dimension") }
            let (s1, o1) = x[d].addingReportingOverflow(before)
            let (s2, o2) = s1.addingReportingOverflow(after)
            guard !o1, !o2, s2 >= 0, s2 <= Int(Int32.max) else { throw OpSpecError("pad3d: bad padded extent for \(x) and \(p)") }
            out[d] = s2
        }
        return out
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        if let t = s.node.input("Paddings") {
            guard let c = s.values[t]?.constant else { return nil }
            return s.output("Out", s.dtype("X"), try outputShape(x, paddings: c.int64Values().map { Int(clamping: $0) }))
        }
        return s.output("Out", s.dtype("X"), try outputShape(x, paddings: paddings))
    }
}

/// pixel_shuffle: [N, C·r², H, W] → [N, C, H·r, W·r], out[n, c, h·r + i, w·r + j] = in[n, c·r² + i·r + j, h, w].
public struct PixelShuffleSpec: OpSpec {
    public static let opTypes = ["pixel_shuffle"]
    public let factor: Int
    public let nhwc: Bool

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        factor = try a.int("upscale_factor", default: 1, in: 1...4096)
        nhwc = try a.string("data_format", default: "NCHW", oneOf: ["NCHW", "NHWC"]) == "NHWC"
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        guard x.count == 4 else { throw OpSpecError("pixel_shuffle expects a 4-D input, got \(x)") }
        let r = factor, c = nhwc ? x[3] : x[1]
        if c >= 0, c % (r * r) != 0 { throw OpSpecError("pixel_shuffle: \(c) channels not divisible by \(r)²") }
        func up(_ v: Int) throws -> Int {
            if v < 0 { return -1 }
            let (p, o) = v.multipliedReportingOverflow(by: r)
            if o { throw OpSpecError("pixel_shuffle: extent \(v) × \(r) overflows") }
            return p
        }
        let oc = c < 0 ? -1 : c / (r * r)
        return s.output("Out", s.dtype("X"), nhwc ? [x[0], try up(x[1]), try up(x[2]), oc] : [x[0], oc, try up(x[2]), try up(x[3])])
    }
}
