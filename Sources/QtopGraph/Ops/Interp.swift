import QtopFormat

// Resizing: nearest_interp_v2 and bilinear_interp_v2 (4-D, NCHW or NHWC).

public enum InterpSpecs {
    static let specs: [any OpSpec.Type] = [InterpSpec.self]
}

/// nearest_interp_v2 / bilinear_interp_v2. The output size is decided in Paddle's order (phi Interpolate2D):
/// a SizeTensor list wins over everything; otherwise a Scale tensor (else the `scale` attribute, when it has two
/// positive values) gives out = int(in * scale), then an OutSize tensor overrides that; `out_h` / `out_w` are
/// only the starting values. `scale` also decides the sampling ratio (1/scale instead of in/out).
public struct InterpSpec: OpSpec {
    public static let opTypes = ["nearest_interp_v2", "bilinear_interp_v2"]
    public let method: String
    public let nhwc: Bool
    public let outH: Int, outW: Int
    public let scale: [Float]
    public let alignCorners: Bool
    public let alignMode: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        nhwc = try a.string("data_layout", default: "NCHW", oneOf: ["NCHW", "NHWC", "AnyLayout"]) == "NHWC"
        _ = try a.int("out_d", default: -1)
        outH = try a.int("out_h", default: -1)
        outW = try a.int("out_w", default: -1)
        scale = try a.floats("scale", default: [])
        let own = node.type == "nearest_interp_v2" ? "nearest" : "bilinear"
        method = try a.string("interp_method", default: own, oneOf: [own])
        alignCorners = try a.bool("align_corners", default: true)
        alignMode = try a.int("align_mode", default: 1, in: 0...1)
        if scale.count > 1, scale.contains(where: { !($0 > 0) }) {
            throw a.fail("scale", "must be positive, got \(scale)")
        }
    }

    /// The scale pair the kernel uses (-1 when absent): the Scale tensor's values when given, else the attribute.
    public func scales(tensor: [Float]?) throws -> (Float, Float) {
        if let t = tensor {
            guard let h = t.first else { throw OpSpecError("interp: empty Scale tensor") }
            let w = t.count > 1 ? t[1] : h
            guard h > 0, w > 0 else { throw OpSpecError("interp: Scale must be positive, got \(t)") }
            return (h, w)
        }
        return scale.count > 1 ? (scale[0], scale[1]) : (-1, -1)
    }

    /// The output (h, w) for an input of h×w, in Paddle's precedence. `sizeTensor`: the SizeTensor list's values;
    /// `outSize`: OutSize's values; `scaleTensor`: Scale's values (each nil when the input is absent).
    public func outputSize(inH: Int, inW: Int, sizeTensor: [Int]?, outSize: [Int]?, scaleTensor: [Float]?) throws -> (Int, Int) {
        if let s = sizeTensor {
            guard s.count == 2 else { throw OpSpecError("interp: SizeTensor has \(s.count) values, expected 2") }
            return try Self.checked(s[0], s[1])
        }
        var h = outH, w = outW
        let (sh, sw) = try scales(tensor: scaleTensor)
        if sh > 0, sw > 0 {
            let fh = Float(inH) * sh, fw = Float(inW) * sw
            guard fh < Float(Int32.max), fw < Float(Int32.max) else { throw OpSpecError("interp: scaled size too large") }
            h = Int(fh)
            w = Int(fw)
        }
        if let o = outSize {
            guard o.count == 2 else { throw OpSpecError("interp: OutSize has \(o.count) values, expected 2") }
            h = o[0]
            w = o[1]
        }
        return try Self.checked(h, w)
    }

    static func checked(_ h: Int, _ w: Int) throws -> (Int, Int) {
        guard h > 0, w > 0 else { throw OpSpecError("interp: output size \(h)x\(w) must be positive") }
        guard h <= 1 << 20, w <= 1 << 20 else { throw OpSpecError("interp: output size \(h)x\(w) too large") }
        return (h, w)
    }

    /// Paddle's source-coordinate ratio for one dimension: align_corners → (in-1)/(out-1); else 1/scale when a
    /// scale is given, in/out otherwise; 0 when out ≤ 1.
    public func ratio(input: Int, output: Int, scale: Float) -> Float {
        guard output > 1 else { return 0 }
        if alignCorners { return Float(input - 1) / Float(output - 1) }
        return scale > 0 ? Float(1.0 / Double(scale)) : Float(input) / Float(output)
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        guard x.count == 4 else { throw OpSpecError("\(s.node.type): only 4-D input is supported, got rank \(x.count)") }
        func constInts(_ slot: String) -> [Int]?? {
            let names = s.node.inputs(slot)
            if names.isEmpty { return .some(nil) }
            var out: [Int] = []
            for n in names {
                guard let c = s.values[n]?.constant else { return nil }
                out += c.int64Values().map { Int(clamping: $0) }
            }
            return .some(out)
        }
        func constFloats(_ slot: String) -> [Float]?? {
            guard let n = s.node.input(slot) else { return .some(nil) }
            guard let c = s.values[n]?.constant else { return nil }
            return .some(c.floatValues())
        }
        let (h, w) = nhwc ? (x[1], x[2]) : (x[2], x[3])
        guard let sizeT = constInts("SizeTensor"), let outT = constInts("OutSize"), let scaleT = constFloats("Scale") else {
            // sizes from run-time tensors: batch and channels are still known
            let out = nhwc ? [x[0], -1, -1, x[3]] : [x[0], x[1], -1, -1]
            return s.output("Out", s.dtype("X"), out)
        }
        let scaled = sizeT == nil && outT == nil && (scaleT != nil || scale.count > 1)
        if scaled && (h < 0 || w < 0) {
            return s.output("Out", s.dtype("X"), nhwc ? [x[0], -1, -1, x[3]] : [x[0], x[1], -1, -1])
        }
        let (oh, ow) = try outputSize(inH: h, inW: w, sizeTensor: sizeT, outSize: outT, scaleTensor: scaleT)
        return s.output("Out", s.dtype("X"), nhwc ? [x[0], oh, ow, x[3]] : [x[0], x[1], oh, ow])
    }
}
