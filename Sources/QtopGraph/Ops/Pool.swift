import QtopFormat

// The pooling family: Paddle's pool2d. qtop's integer qpool2d shares `PoolWindows` (Integer.swift).

public enum PoolSpecs {
    static let specs: [any OpSpec.Type] = [PoolSpec.self]
}

/// One window extent along one dimension: the input range [start, end) it reads, and `padded`, the extent
/// Paddle divides by for non-exclusive avg pooling.
public struct PoolSpan: Sendable, Equatable {
    public var start: Int, end: Int, padded: Int
    public var count: Int { max(end - start, 0) }
}

/// pool2d's window attributes, shared by pool2d and qpool2d: the one place pooling windows are derived.
public struct PoolWindows: Sendable, Equatable {
    public let isMax: Bool
    public let kernel: (Int, Int)
    public let geometry: WindowGeometry
    public let global: Bool
    public let adaptive: Bool
    public let ceilMode: Bool
    public let exclusive: Bool

    public static func == (a: PoolWindows, b: PoolWindows) -> Bool {
        a.isMax == b.isMax && a.kernel == b.kernel && a.geometry == b.geometry && a.global == b.global
            && a.adaptive == b.adaptive && a.ceilMode == b.ceilMode && a.exclusive == b.exclusive
    }

    static func read(_ a: inout AttributeReader) throws -> PoolWindows {
        let t = try a.string("pooling_type", default: "max", oneOf: ["max", "avg"])
        let k = try a.ints("ksize", default: [1, 1], counts: [1, 2], min: 1)
        return PoolWindows(isMax: t == "max", kernel: WindowGeometry.pair(k), geometry: try WindowGeometry.read(&a, dilations: false),
                           global: try a.bool("global_pooling", default: false), adaptive: try a.bool("adaptive", default: false),
                           ceilMode: try a.bool("ceil_mode", default: false), exclusive: try a.bool("exclusive", default: true))
    }

    /// Output (h, w) for an input of h×w (-1 stays unknown).
    public func outputSize(h: Int, w: Int) -> (Int, Int) {
        if global { return (1, 1) }
        if adaptive { return kernel }
        return (out(h, k: kernel.0, pad: (geometry.paddings[0], geometry.paddings[1]), stride: geometry.strides.0),
                out(w, k: kernel.1, pad: (geometry.paddings[2], geometry.paddings[3]), stride: geometry.strides.1))
    }

    func out(_ x: Int, k: Int, pad: (Int, Int), stride: Int) -> Int {
        if x < 0 { return -1 }
        switch geometry.algorithm {
        case .same: return (x + stride - 1) / stride
        case .valid: return ceilMode ? (x - k + stride - 1) / stride + 1 : (x - k) / stride + 1
        case .explicit:
            let span = x + pad.0 + pad.1 - k
            return ceilMode ? (span + stride - 1) / stride + 1 : span / stride + 1
        }
    }

    /// Paddle's CPU Pool2dFunctor windows for an input of h×w producing oh×ow, per dimension:
    /// - global pooling: one window over everything.
    /// - adaptive: start = floor(i*in/out), end = ceil((i+1)*in/out); divisor = window size.
    /// - otherwise (after SAME/VALID resolve the padding): s = i*stride - pad_before, e = min(s + k, in + pad_before),
    ///   padded = e - s, then start = max(s, 0), end = min(e, in). Avg divides by (end-start) products when
    ///   `exclusive`, else by the `padded` products (Paddle bounds the padded window with pad_before on both sides,
    ///   so a ceil_mode window hanging past the input is not counted at full kernel size).
    public func windows(h: Int, w: Int, oh: Int, ow: Int) throws -> (rows: [PoolSpan], cols: [PoolSpan], divisor: @Sendable (PoolSpan, PoolSpan) -> Int) {
        if global {
            guard oh == 1, ow == 1 else { throw OpSpecError("global pooling into a \(oh)x\(ow) output") }
            return ([PoolSpan(start: 0, end: h, padded: h)], [PoolSpan(start: 0, end: w, padded: w)], { a, b in a.count * b.count })
        }
        guard oh >= 0, ow >= 0 else { throw OpSpecError("pooling into a \(oh)x\(ow) output") }
        if adaptive {
            guard oh > 0, ow > 0 else { throw OpSpecError("adaptive pooling into a \(oh)x\(ow) output") }
            let rows = (0..<oh).map { i in PoolSpan(start: (i * h) / oh, end: ((i + 1) * h + oh - 1) / oh, padded: 0) }
            let cols = (0..<ow).map { j in PoolSpan(start: (j * w) / ow, end: ((j + 1) * w + ow - 1) / ow, padded: 0) }
            return (rows, cols, { a, b in a.count * b.count })
        }
        let (kh, kw) = kernel
        let (sh, sw) = geometry.strides
        let ph = WindowGeometry.resolvePadding(geometry.algorithm, input: h, kernel: kh, stride: sh, explicit: (geometry.paddings[0], geometry.paddings[1]))
        let pw = WindowGeometry.resolvePadding(geometry.algorithm, input: w, kernel: kw, stride: sw, explicit: (geometry.paddings[2], geometry.paddings[3]))
        func span(_ i: Int, stride: Int, pad: Int, k: Int, n: Int) -> PoolSpan {
            let s = i * stride - pad
            let e = min(s + k, n + pad)
            return PoolSpan(start: max(s, 0), end: min(e, n), padded: e - s)
        }
        let rows = (0..<oh).map { span($0, stride: sh, pad: ph.0, k: kh, n: h) }
        let cols = (0..<ow).map { span($0, stride: sw, pad: pw.0, k: kw, n: w) }
        let exclusive = self.exclusive
        return (rows, cols, { a, b in exclusive ? a.count * b.count : a.padded * b.padded })
    }
}

/// pool2d (float, NCHW or NHWC).
public struct PoolSpec: OpSpec {
    public static let opTypes = ["pool2d"]
    public let windows: PoolWindows
    public let nhwc: Bool

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        windows = try PoolWindows.read(&a)
        nhwc = try a.string("data_format", default: "NCHW", oneOf: ["NCHW", "NHWC", "AnyLayout"]) == "NHWC"
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        guard x.count == 4 else { throw OpSpecError("pool2d expects 4-D input") }
        let (h, w) = windows.outputSize(h: nhwc ? x[1] : x[2], w: nhwc ? x[2] : x[3])
        return s.output("Out", s.dtype("X"), nhwc ? [x[0], h, w, x[3]] : [x[0], x[1], h, w])
    }
}
