import QtopFormat

// The convolution family: Paddle's conv2d / depthwise_conv2d, qtop's fused_conv2d (float, fused epilogue).
// qtop's integer qconv2d shares `ConvGeometry` and lives in Integer.swift.

public enum ConvSpecs {
    static let specs: [any OpSpec.Type] = [ConvSpec.self, ConvTransposeSpec.self]
}

/// Paddle's padding_algorithm.
public enum PaddingAlgorithm: String, Sendable {
    case explicit = "EXPLICIT", same = "SAME", valid = "VALID"

    static func read(_ a: inout AttributeReader) throws -> PaddingAlgorithm {
        let s = try a.string("padding_algorithm", default: "EXPLICIT")
        guard let v = PaddingAlgorithm(rawValue: s.uppercased()) else {
            throw a.fail("padding_algorithm", "must be EXPLICIT, SAME or VALID, got '\(s)'")
        }
        return v
    }
}

/// Spatial geometry of a 2-D window op (convolution or pooling): strides, dilations, paddings, the padding
/// algorithm. Paddings resolve per input size (SAME / VALID) with Paddle's UpdatePaddingAndDilation.
public struct WindowGeometry: Sendable, Equatable {
    public let strides: (Int, Int)
    public let dilations: (Int, Int)
    /// [top, bottom, left, right] as written ([h, w] and [p] expanded).
    public let paddings: [Int]
    public let algorithm: PaddingAlgorithm

    public init(strides: (Int, Int), dilations: (Int, Int), paddings: [Int], algorithm: PaddingAlgorithm) {
        self.strides = strides
        self.dilations = dilations
        self.paddings = paddings
        self.algorithm = algorithm
    }

    public static func == (a: WindowGeometry, b: WindowGeometry) -> Bool {
        a.strides == b.strides && a.dilations == b.dilations && a.paddings == b.paddings && a.algorithm == b.algorithm
    }

    /// Reads strides (≥ 1), dilations (≥ 1, when the op has them), paddings (≥ 0) and padding_algorithm.
    static func read(_ a: inout AttributeReader, dilations hasDilations: Bool) throws -> WindowGeometry {
        let s = try a.ints("strides", default: [1, 1], counts: [1, 2], min: 1)
        let d = hasDilations ? try a.ints("dilations", default: [1, 1], counts: [1, 2], min: 1) : [1, 1]
        let p = try a.ints("paddings", default: [0, 0], counts: [1, 2, 4], min: 0)
        return WindowGeometry(strides: pair(s), dilations: pair(d), paddings: four(p), algorithm: try PaddingAlgorithm.read(&a))
    }

    /// Explicit-padding geometry from attribute-style lists ([s] or [sh, sw]; [p], [ph, pw] or [t, b, l, r]).
    public static func explicit(strides: [Int], dilations: [Int], paddings: [Int]) throws -> WindowGeometry {
        guard [1, 2].contains(strides.count), [1, 2].contains(dilations.count), [1, 2, 4].contains(paddings.count),
              strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }), paddings.allSatisfy({ $0 >= 0 }) else {
            throw OpSpecError("bad window geometry: strides \(strides), dilations \(dilations), paddings \(paddings)")
        }
        return WindowGeometry(strides: pair(strides), dilations: pair(dilations), paddings: four(paddings), algorithm: .explicit)
    }

    static func pair(_ v: [Int]) -> (Int, Int) { v.count >= 2 ? (v[0], v[1]) : (v[0], v[0]) }

    static func four(_ p: [Int]) -> [Int] {
        switch p.count {
        case 4: return p
        case 2: return [p[0], p[0], p[1], p[1]]
        default: return [p[0], p[0], p[0], p[0]]
        }
    }

    /// Paddle's UpdatePaddingAndDilation for one spatial dimension: SAME pads so out = ceil(in/s) with
    /// pad_sum = max((out-1)*s + k - in, 0), top = pad_sum/2, bottom = the rest; VALID pads nothing; EXPLICIT keeps
    /// the attribute.
    public static func resolvePadding(_ algorithm: PaddingAlgorithm, input: Int, kernel: Int, stride: Int,
                                      explicit: (Int, Int)) -> (Int, Int) {
        switch algorithm {
        case .same:
            let out = (input + stride - 1) / stride
            let total = max((out - 1) * stride + kernel - input, 0)
            return (total / 2, total - total / 2)
        case .valid: return (0, 0)
        case .explicit: return explicit
        }
    }

    /// (top, bottom, left, right) for an input of h×w and a kernel of kh×kw, and the effective dilations
    /// (Paddle resets them to 1 for SAME).
    public func resolve(inH: Int, inW: Int, kH: Int, kW: Int) -> (pads: [Int], dil: (Int, Int)) {
        let ph = Self.resolvePadding(algorithm, input: inH, kernel: kH, stride: strides.0, explicit: (paddings[0], paddings[1]))
        let pw = Self.resolvePadding(algorithm, input: inW, kernel: kW, stride: strides.1, explicit: (paddings[2], paddings[3]))
        return ([ph.0, ph.1, pw.0, pw.1], algorithm == .same ? (1, 1) : dilations)
    }

    /// Output extent of a convolution along one dimension (-1 when the input extent is unknown).
    func convOut(_ x: Int, k: Int, dim: Int) -> Int {
        if x < 0 { return -1 }
        let stride = dim == 0 ? strides.0 : strides.1, dil = dim == 0 ? dilations.0 : dilations.1
        let pad = dim == 0 ? (paddings[0], paddings[1]) : (paddings[2], paddings[3])
        switch algorithm {
        case .same: return (x + stride - 1) / stride
        case .valid: return (x - (dil * (k - 1) + 1)) / stride + 1
        case .explicit: return (x + pad.0 + pad.1 - (dil * (k - 1) + 1)) / stride + 1
        }
    }

    /// Output (h, w) of a convolution over h×w with a kh×kw filter.
    public func convOutput(h: Int, w: Int, kh: Int, kw: Int) -> (Int, Int) { (convOut(h, k: kh, dim: 0), convOut(w, k: kw, dim: 1)) }
}

/// The convolution kernels qtop has, by filter shape: one classification for Swift (the C side receives it).
public enum ConvFamily: String, Sendable {
    case conv1x1, conv, dwconv

    /// Depthwise when every group has one input and one output channel; 1×1 when the filter is 1×1.
    public static func classify(groups: Int, inputChannels ic: Int, filter: [Int]) -> ConvFamily {
        if groups > 1, groups == ic, filter.count == 4, filter[0] == ic { return .dwconv }
        return filter.count == 4 && filter[2] == 1 && filter[3] == 1 ? .conv1x1 : .conv
    }
}

/// A fused activation: its name and the parameters the node carries (own names, or Paddle's fuse_alpha/fuse_beta).
public struct FusedActivation: Sendable, Equatable {
    public let name: String
    /// Parameters present on the node by name (threshold, slope, offset, alpha, beta, min, max, fuse_alpha, fuse_beta).
    public let params: [String: Float]

    public init(name: String, params: [String: Float]) {
        self.name = name
        self.params = params
    }

    static let paramNames = ["threshold", "slope", "offset", "alpha", "beta", "min", "max", "fuse_alpha", "fuse_beta"]

    /// A parameter by its own attribute name, else Paddle's fuse_alpha / fuse_beta (`fused`; ignored when zero and
    /// `nonzero`, Paddle's "unset"), else the op default. The one resolution every kernel of a fused activation uses.
    public func param(_ own: String, fused: String, nonzero: Bool = false, default d: Float) -> Float {
        if let v = params[own] { return v }
        if let v = params[fused], !nonzero || v != 0 { return v }
        return d
    }

    /// hard_sigmoid's slope (own name or fuse_alpha) and offset (own name or fuse_beta), defaults 0.2 / 0.5.
    public var hardSigmoid: (slope: Float, offset: Float) {
        (param("slope", fused: "fuse_alpha", nonzero: true, default: 0.2), param("offset", fused: "fuse_beta", default: 0.5))
    }

    /// swish's beta (own name or fuse_alpha), default 1.
    public var swishBeta: Float { param("beta", fused: "fuse_alpha", nonzero: true, default: 1) }

    static func read(_ a: inout AttributeReader) throws -> FusedActivation {
        let name = a.has("activation") || !a.has("fuse_activation") ? try a.string("activation", default: "none")
            : try a.string("fuse_activation", default: "none")
        var params: [String: Float] = [:]
        for p in paramNames { if let v = try a.optionalFloat(p) { params[p] = v } }
        return FusedActivation(name: name, params: params)
    }
}

/// conv2d, depthwise_conv2d and qtop's fused_conv2d (float NCHW, or NHWC when data_format says so).
public struct ConvSpec: OpSpec {
    public static let opTypes = ["conv2d", "depthwise_conv2d", "fused_conv2d"]
    public let geometry: WindowGeometry
    public let groups: Int
    public let nhwc: Bool
    /// fused_conv2d's epilogue activation (conv2d: "none" unless Paddle fused one).
    public let activation: FusedActivation

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        geometry = try WindowGeometry.read(&a, dilations: true)
        groups = try a.int("groups", default: 1, in: 1...Int(Int32.max))
        nhwc = try a.string("data_format", default: "NCHW", oneOf: ["NCHW", "NHWC", "AnyLayout"]) == "NHWC"
        activation = node.type == "fused_conv2d" || a.has("fuse_activation") ? try FusedActivation.read(&a)
            : FusedActivation(name: "none", params: [:])
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("Input"), w = try s.shape("Filter")
        guard x.count == 4, w.count == 4 else { throw OpSpecError("conv2d expects 4-D input and filter") }
        let (h, wd) = nhwc ? (x[1], x[2]) : (x[2], x[3])
        let (oh, ow) = geometry.convOutput(h: h, w: wd, kh: w[2], kw: w[3])
        let out = nhwc ? [x[0], oh, ow, w[0]] : [x[0], w[0], oh, ow]
        return s.output("Output", s.dtype("Input"), out)
    }
}

/// conv2d_transpose / depthwise_conv2d_transpose: Filter [C_in, C_out/groups, kh, kw]. Along each dimension
/// out = (in - 1) * stride - pad_before - pad_after + dilation * (k - 1) + 1 + output_padding, or `output_size`
/// when given (Paddle accepts it in [that - output_padding, that - output_padding + stride)). SAME / VALID resolve
/// the paddings on the input extent as conv does (SAME also resets the dilations to 1).
public struct ConvTransposeSpec: OpSpec {
    public static let opTypes = ["conv2d_transpose", "depthwise_conv2d_transpose"]
    public let geometry: WindowGeometry
    public let groups: Int
    public let nhwc: Bool
    public let outputPadding: [Int]
    public let outputSize: [Int]
    /// The activation fuse-activation moved into the node ("none" unless it did).
    public let activation: FusedActivation

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        geometry = try WindowGeometry.read(&a, dilations: true)
        groups = try a.int("groups", default: 1, in: 1...Int(Int32.max))
        nhwc = try a.string("data_format", default: "NCHW", oneOf: ["NCHW", "NHWC", "AnyLayout"]) == "NHWC"
        outputPadding = try a.ints("output_padding", default: [], counts: [0, 1, 2], min: 0)
        outputSize = try a.ints("output_size", default: [], counts: [0, 1, 2], min: 1)
        activation = a.has("activation") ? try FusedActivation.read(&a) : FusedActivation(name: "none", params: [:])
        if !node.inputs("OutputSize").isEmpty { throw OpSpecError("\(node.type) '\(node.name)': an OutputSize tensor input is not supported") }
    }

    /// The geometry alone (NCHW, no activation): what qconv2d_transpose (IntegerDeconv.swift) resolves with.
    public init(geometry: WindowGeometry, groups: Int, outputPadding: [Int], outputSize: [Int]) {
        self.geometry = geometry
        self.groups = groups
        self.outputPadding = outputPadding
        self.outputSize = outputSize
        nhwc = false
        activation = FusedActivation(name: "none", params: [:])
    }

    /// The resolved geometry for an input of h×w and a kh×kw filter: (top, bottom, left, right) paddings,
    /// effective dilations and the output (h, w); throws when output_size / output_padding do not fit.
    public func resolve(inH: Int, inW: Int, kH: Int, kW: Int) throws -> (pads: [Int], dil: (Int, Int), out: (Int, Int)) {
        let (pads, dil) = geometry.resolve(inH: inH, inW: inW, kH: kH, kW: kW)
        func dim(_ i: Int, _ input: Int, _ k: Int, _ stride: Int, _ d: Int, _ p0: Int, _ p1: Int) throws -> Int {
            let (a, o1) = (input - 1).multipliedReportingOverflow(by: stride)
            let (b, o2) = d.multipliedReportingOverflow(by: k - 1)
            guard !o1, !o2, input >= 1, p0 <= Int(Int32.max), p1 <= Int(Int32.max), b < Int.max / 2, a < Int.max / 2 else {
                throw OpSpecError("conv2d_transpose: extent overflow")
            }
            let base = a - p0 - p1 + b + 1
            let op = outputPadding.isEmpty ? 0 : outputPadding[outputPadding.count == 1 ? 0 : i]
            if !outputSize.isEmpty {
                let want = outputSize[outputSize.count == 1 ? 0 : i]
                guard want >= base, want < base + stride else {
                    throw OpSpecError("conv2d_transpose: output_size \(want) must be in [\(base), \(base + stride))")
                }
                return want
            }
            guard op < stride || op < d else {
                throw OpSpecError("conv2d_transpose: output_padding \(op) must be smaller than the stride or the dilation")
            }
            guard base + op > 0 else { throw OpSpecError("conv2d_transpose: output extent \(base + op) must be positive") }
            return base + op
        }
        let oh = try dim(0, inH, kH, geometry.strides.0, dil.0, pads[0], pads[1])
        let ow = try dim(1, inW, kW, geometry.strides.1, dil.1, pads[2], pads[3])
        return (pads, dil, (oh, ow))
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("Input"), w = try s.shape("Filter")
        guard x.count == 4, w.count == 4 else { throw OpSpecError("conv2d_transpose expects 4-D input and filter") }
        let c = nhwc ? x[3] : x[1]
        if c >= 0, c != w[0] { throw OpSpecError("conv2d_transpose: Input has \(c) channels, Filter \(w) expects \(w[0])") }
        let (ih, iw) = nhwc ? (x[1], x[2]) : (x[2], x[3])
        let oc = try outputChannels(filter: w)
        var oh = -1, ow = -1
        if ih > 0, iw > 0, w[2] > 0, w[3] > 0 { (oh, ow) = try resolve(inH: ih, inW: iw, kH: w[2], kW: w[3]).out }
        return s.output("Output", s.dtype("Input"), nhwc ? [x[0], oh, ow, oc] : [x[0], oc, oh, ow])
    }

    /// C_out = Filter's dim 1 (C_out / groups) × groups, -1 while that dim is unknown; both from the file, so the
    /// product is checked rather than trusted.
    public func outputChannels(filter w: [Int]) throws -> Int {
        guard w.count == 4, w[1] >= 0 else { return -1 }
        let (oc, over) = w[1].multipliedReportingOverflow(by: groups)
        if over { throw OpSpecError("conv2d_transpose: Filter \(w) × \(groups) groups overflows the channel count") }
        return oc
    }
}
