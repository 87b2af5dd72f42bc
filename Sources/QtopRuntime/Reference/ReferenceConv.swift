import Foundation
import QtopFormat
import QtopGraph

// conv2d / depthwise_conv2d / fused_conv2d (NCHW, direct loops), conv2d_transpose and inference batch_norm.

/// Convolution geometry as the loops use it: the spec's window geometry and groups.
struct ConvAttrs {
    let geometry: WindowGeometry
    let groups: Int
    var strides: (Int, Int) { geometry.strides }

    init(geometry: WindowGeometry, groups: Int) {
        self.geometry = geometry
        self.groups = groups
    }

    init(_ spec: ConvSpec) { self.init(geometry: spec.geometry, groups: spec.groups) }
    init(_ spec: QConvSpec) { self.init(geometry: spec.geometry, groups: spec.groups) }

    /// Paddle's UpdatePaddingAndDilation: (top, bottom, left, right) and the effective dilations.
    func resolve(inH: Int, inW: Int, kH: Int, kW: Int) -> (pads: [Int], dil: (Int, Int)) {
        geometry.resolve(inH: inH, inW: inW, kH: kH, kW: kW)
    }
}

/// Activations fusable into conv: fused_conv2d's `activation` (qtop's passes) or `fuse_activation` (Paddle's
/// own oneDNN fuse passes). Parameters come from the activation's own attribute names when the node carries them
/// (`threshold`, `slope`, `offset`, `alpha`, `beta`, `min`, `max`), else from Paddle's `fuse_alpha` / `fuse_beta`
/// (Paddle maps relu6 threshold, hard_sigmoid slope, leaky_relu alpha, swish beta and clip min to fuse_alpha;
/// hard_sigmoid offset and clip max to fuse_beta), else the op defaults.
func fusedActivation(_ act: FusedActivation) throws -> (Float) -> Float {
    let name = act.name
    let alpha = act.params["fuse_alpha"], beta = act.params["fuse_beta"]
    func param(_ own: String, _ fused: Float?, _ d: Float) -> Float { act.params[own] ?? fused ?? d }
    switch name {
    case "", "none", "identity": return { $0 }
    case "relu": return reluF
    case "relu6":
        let t = param("threshold", (alpha ?? 0) > 0 ? alpha : nil, 6)
        return { relu6F($0, t) }
    case "hard_swish", "hardswish": return { hardSwishF($0) }
    case "sigmoid": return sigmoidF
    case "hard_sigmoid":
        let (slope, offset) = act.hardSigmoid
        return { hardSigmoidF($0, slope: slope, offset: offset) }
    case "leaky_relu":
        let al = param("alpha", alpha, 0.02)
        return { leakyReluF($0, al) }
    case "swish":
        let b = act.swishBeta
        return { x in x / (1 + Foundation.exp(-b * x)) }
    case "tanh": return { Foundation.tanh($0) }
    case "abs": return { Swift.abs($0) }
    case "sqrt": return { $0.squareRoot() }
    case "gelu": return { x in x * 0.5 * (1 + Foundation.erf(x * Float(1.0 / 2.0.squareRoot()))) }
    case "mish": return { mishF($0, threshold: 20) }
    case "clip":
        let lo = param("min", alpha, -Float.greatestFiniteMagnitude), hi = param("max", beta, Float.greatestFiniteMagnitude)
        return { v in v < lo ? lo : (v > hi ? hi : v) }
    default: throw KernelError("unsupported fused activation '\(name)'")
    }
}

/// Direct NCHW convolution. For every output element: acc = Σ_{ic, kh, kw} x * w in that order (Float),
/// padded taps skipped; then `acc + bias[oc]`, then `+ residual`, then the activation.
func conv2dNCHW(x: Tensor, w: Tensor, out: Tensor, attrs: ConvAttrs, bias: Tensor?, residual: Tensor?,
                activation: ((Float) -> Float)?, filterValues: [Float]? = nil) throws {
    try requireF32(x, "conv2d Input")
    try requireF32(out, "conv2d Output")
    guard x.rank == 4, w.rank == 4, out.rank == 4 else { throw KernelError("conv2d: expects 4-D Input, Filter, Output") }
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (oc, icg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let (oh, ow) = (out.shape[2], out.shape[3])
    let g = attrs.groups
    guard out.shape[0] == n, out.shape[1] == oc, c == icg * g, oc % g == 0 else {
        throw KernelError("conv2d: Input \(x.shape), Filter \(w.shape), groups \(g), Output \(out.shape) disagree")
    }
    let (pads, dil) = attrs.resolve(inH: h, inW: wd, kH: kh, kW: kw)
    let (sh, sw) = attrs.strides
    let expectH = (h + pads[0] + pads[1] - (dil.0 * (kh - 1) + 1)) / sh + 1
    let expectW = (wd + pads[2] + pads[3] - (dil.1 * (kw - 1) + 1)) / sw + 1
    guard expectH == oh, expectW == ow else {
        throw KernelError("conv2d: output \(oh)x\(ow) but geometry gives \(expectH)x\(expectW)")
    }
    // the filter as Float values (it may be stored as int8); decoded once at make time when it is a constant
    let wf = filterValues.flatMap { $0.count == w.count ? $0 : nil } ?? floatArray(w)
    let b = bias.map(floatArray)
    if let b, b.count != oc { throw KernelError("conv2d: Bias has \(b.count) values for \(oc) channels") }
    if let residual {
        try requireF32(residual, "conv2d ResidualData")
        guard residual.count == out.count else { throw KernelError("conv2d: ResidualData \(residual.shape) vs \(out.shape)") }
    }
    let ocg = oc / g
    let xp = x.f32, yp = out.f32
    // Taps that land in the padding are skipped; the valid ones form a contiguous range per output row/column,
    // so precomputing the ranges keeps the summation order (ic, kh, kw) unchanged.
    let kyRanges = (0..<oh).map { validTaps($0, stride: sh, pad: pads[0], dilation: dil.0, kernel: kh, size: h) }
    let kxRanges = (0..<ow).map { validTaps($0, stride: sw, pad: pads[2], dilation: dil.1, kernel: kw, size: wd) }
    wf.withUnsafeBufferPointer { wbuf in
        let wp = wbuf.baseAddress!
        for ni in 0..<n {
            for o in 0..<oc {
                let group = o / ocg
                for y in 0..<oh {
                    let kys = kyRanges[y]
                    for xo in 0..<ow {
                        let kxs = kxRanges[xo]
                        let ix0 = xo * sw - pads[2]
                        var acc: Float = 0
                        for ic in 0..<icg {
                            let xPlane = xp + (ni * c + group * icg + ic) * h * wd
                            let wTap = wp + (o * icg + ic) * kh * kw
                            for ky in kys {
                                let xRow = xPlane + (y * sh - pads[0] + ky * dil.0) * wd + ix0
                                let wRow = wTap + ky * kw
                                for kx in kxs { acc += xRow[kx * dil.1] * wRow[kx] }
                            }
                        }
                        let oi = ((ni * oc + o) * oh + y) * ow + xo
                        var v = acc
                        if let b { v += b[o] }
                        if let residual { v += residual.f32[oi] }
                        if let activation { v = activation(v) }
                        yp[oi] = v
                    }
                }
            }
        }
    }
}

/// The kernel taps k (0..<kernel) whose input index `o*stride - pad + k*dilation` lies in [0, size).
func validTaps(_ o: Int, stride: Int, pad: Int, dilation: Int, kernel: Int, size: Int) -> Range<Int> {
    var lo = 0, hi = kernel
    while lo < kernel, o * stride - pad + lo * dilation < 0 { lo += 1 }
    while hi > lo, o * stride - pad + (hi - 1) * dilation >= size { hi -= 1 }
    return lo..<hi
}

/// conv2d_transpose (NCHW or NHWC): every input pixel scatters x · W[ic, oc, ky, kx] to output
/// (iy·sh - pad_t + ky·dh, ix·sw - pad_l + kx·dw). Computed per output element as Paddle's GEMM + col2im orders it:
/// for each tap (ky, kx) that maps an input pixel onto it, Σ_ic x·w, the taps added in (ky, kx) order.
/// Then `+ bias[oc]`, then the fused activation (spec.activation, "none" unless fuse-activation set it).
func conv2dTranspose(x: Tensor, w: Tensor, out: Tensor, spec: ConvTransposeSpec, bias: Tensor?, filterValues: [Float]? = nil) throws {
    try requireF32(x, "conv2d_transpose Input")
    try requireF32(out, "conv2d_transpose Output")
    guard x.rank == 4, w.rank == 4, out.rank == 4 else { throw KernelError("conv2d_transpose: expects 4-D Input, Filter, Output") }
    let nhwc = spec.nhwc
    let (n, c, h, wd) = nhwc ? (x.shape[0], x.shape[3], x.shape[1], x.shape[2]) : (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (wc, ocg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let g = spec.groups
    guard wc == c, c % g == 0 else { throw KernelError("conv2d_transpose: Input \(x.shape) vs Filter \(w.shape), groups \(g)") }
    let icg = c / g, oc = ocg * g
    let r: (pads: [Int], dil: (Int, Int), out: (Int, Int))
    do { r = try spec.resolve(inH: h, inW: wd, kH: kh, kW: kw) } catch { throw KernelError("\(error)") }
    let (oh, ow) = r.out
    let expect = nhwc ? [n, oh, ow, oc] : [n, oc, oh, ow]
    guard out.shape == expect else { throw KernelError("conv2d_transpose: output \(out.shape), geometry gives \(expect)") }
    let wf = filterValues.flatMap { $0.count == w.count ? $0 : nil } ?? floatArray(w)
    let b = bias.map(floatArray)
    if let b, b.count != oc { throw KernelError("conv2d_transpose: Bias has \(b.count) values for \(oc) channels") }
    let act = spec.activation.name == "none" ? nil : try fusedActivation(spec.activation)
    let (sh, sw) = spec.geometry.strides
    let (dh, dw) = r.dil
    let padT = r.pads[0], padL = r.pads[2]
    let xp = x.f32, yp = out.f32
    // input element (n, c, y, x) and output element offsets for both layouts
    let (xsN, xsC, xsH, xsW) = nhwc ? (h * wd * c, 1, wd * c, c) : (c * h * wd, h * wd, wd, 1)
    let (ysN, ysC, ysH, ysW) = nhwc ? (oh * ow * oc, 1, ow * oc, oc) : (oc * oh * ow, oh * ow, ow, 1)
    // for each output row: the (ky, iy) pairs with iy*sh - padT + ky*dh == row
    func taps(_ o: Int, stride: Int, pad: Int, dil: Int, k: Int, size: Int) -> [(Int, Int)] {
        var t: [(Int, Int)] = []
        for ky in 0..<k {
            let num = o + pad - ky * dil
            if num >= 0, num % stride == 0, num / stride < size { t.append((ky, num / stride)) }
        }
        return t
    }
    let rowTaps = (0..<oh).map { taps($0, stride: sh, pad: padT, dil: dh, k: kh, size: h) }
    let colTaps = (0..<ow).map { taps($0, stride: sw, pad: padL, dil: dw, k: kw, size: wd) }
    for ni in 0..<n {
        for o in 0..<oc {
            let grp = o / ocg, oo = o % ocg
            for y in 0..<oh {
                for xo in 0..<ow {
                    var acc: Float = 0
                    for (ky, iy) in rowTaps[y] {
                        for (kx, ix) in colTaps[xo] {
                            var dot: Float = 0
                            for ic in 0..<icg {
                                let ci = grp * icg + ic
                                dot += xp[ni * xsN + ci * xsC + iy * xsH + ix * xsW] * wf[((ci * ocg + oo) * kh + ky) * kw + kx]
                            }
                            acc += dot
                        }
                    }
                    if let b { acc += b[o] }
                    if let act { acc = act(acc) }
                    yp[ni * ysN + o * ysC + y * ysH + xo * ysW] = acc
                }
            }
        }
    }
}

func registerReferenceConvKernels(_ r: KernelRegistry) {
    for op in ConvTransposeSpec.opTypes {
        r.addReference(op) { ctx in
            let spec = try ctx.spec(ConvTransposeSpec.self)
            let wConst = ctx.constant("Filter")?.floatValues()
            return refReady { io in
                try conv2dTranspose(x: try io.input("Input"), w: try io.input("Filter"), out: try io.output("Output"),
                                    spec: spec, bias: io.optionalInput("Bias"), filterValues: wConst)
            }
        }
    }
    for op in ["conv2d", "depthwise_conv2d"] {
        r.addReference(op) { ctx in
            let spec = try ctx.spec(ConvSpec.self)
            if spec.nhwc { return .rejected("NHWC data_format not supported") }
            let attrs = ConvAttrs(spec)
            let wConst = ctx.constant("Filter")?.floatValues()
            return refReady { io in
                // Paddle's conv2d has an optional Bias input in some exported programs; honour it if present.
                try conv2dNCHW(x: try io.input("Input"), w: try io.input("Filter"), out: try io.output("Output"),
                               attrs: attrs, bias: io.optionalInput("Bias"), residual: nil, activation: nil, filterValues: wConst)
            }
        }
    }
    r.addReference("fused_conv2d") { ctx in
        let spec = try ctx.spec(ConvSpec.self)
        if spec.nhwc { return .rejected("NHWC data_format not supported") }
        let attrs = ConvAttrs(spec)
        let act: (Float) -> Float
        do { act = try fusedActivation(spec.activation) } catch { return .rejected("\(error)") }
        let wConst = ctx.constant("Filter")?.floatValues()
        return refReady { io in
            try conv2dNCHW(x: try io.input("Input"), w: try io.input("Filter"), out: try io.output("Output"),
                           attrs: attrs, bias: io.optionalInput("Bias"), residual: io.optionalInput("ResidualData"),
                           activation: act, filterValues: wConst)
        }
    }
    // Inference batch_norm exactly as Paddle's CPU kernel: inv_std = 1/sqrt(var + eps),
    // new_scale = inv_std * scale, new_bias = bias - mean * inv_std * scale, y = x * new_scale + new_bias.
    r.addReference("batch_norm") { ctx in
        let spec = try ctx.spec(BatchNormSpec.self)
        let eps = spec.epsilon, nhwc = spec.nhwc
        return refReady { io in
            let x = try io.input("X"), y = try io.output("Y")
            try requireF32(x, "batch_norm")
            try requireSameCount(x, y, "batch_norm")
            guard x.rank >= 2 else { throw KernelError("batch_norm: rank \(x.rank) input") }
            let scale = floatArray(try io.input("Scale")), bias = floatArray(try io.input("Bias"))
            let mean = floatArray(try io.input("Mean")), variance = floatArray(try io.input("Variance"))
            let channelLast = nhwc || x.rank == 2
            let c = channelLast ? x.shape[x.rank - 1] : x.shape[1]
            guard scale.count == c, bias.count == c, mean.count == c, variance.count == c else {
                throw KernelError("batch_norm: parameter sizes do not match \(c) channels")
            }
            var newScale = [Float](repeating: 0, count: c), newBias = [Float](repeating: 0, count: c)
            for k in 0..<c {
                let invStd = 1 / (variance[k] + eps).squareRoot()
                newScale[k] = invStd * scale[k]
                newBias[k] = bias[k] - mean[k] * invStd * scale[k]
            }
            let inner = channelLast ? 1 : x.count / (x.shape[0] * c)
            for i in 0..<x.count {
                let k = (i / inner) % c
                y.f32[i] = x.f32[i] * newScale[k] + newBias[k]
            }
        }
    }
}
