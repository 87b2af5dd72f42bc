import QtopFormat
import QtopGraph

// The integer oracle of qconv2d_transpose (docs/int8-semantics.md, "Integer transposed convolution"): every input
// pixel scatters its products into the output, literally; q8_deconv.c matches it bit for bit.

/// Spec step 1 for a transposed convolution: the Int32 accumulators (wrapping) in NHWC order [N, OH, OW, OC].
/// `Input` u8/s8 NHWC [N, H, W, C_in], `Filter` s8 [C_in, C_out/groups, KH, KW]; input pixel (iy, ix) adds
/// x · w[ic][o][ky][kx] to output (iy·sh - pad_t + ky·dh, ix·sw - pad_l + kx·dw) of channel g·ocg + o, products
/// landing outside the output are dropped.
func qdeconvAccumulate(x: Tensor, w: Tensor, outH oh: Int, outW ow: Int, strides: (Int, Int), pads: [Int],
                       dilations: (Int, Int), groups: Int) throws -> [Int32] {
    guard x.dtype == .u8 || x.dtype == .i8 else { throw KernelError("qconv2d_transpose: Input must be u8/s8, got \(x.dtype.paddleName)") }
    guard w.dtype == .i8, w.rank == 4, x.rank == 4 else { throw KernelError("qconv2d_transpose: expects 4-D NHWC Input and s8 Filter") }
    let (n, h, wd, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (cin, ocg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    guard cin == c, groups >= 1, c % groups == 0 else {
        throw KernelError("qconv2d_transpose: Input \(x.shape), Filter \(w.shape), groups \(groups) disagree")
    }
    let oc = ocg * groups, icg = c / groups
    var acc = [Int32](repeating: 0, count: n * oh * ow * oc)
    for ni in 0..<n {
        for iy in 0..<h {
            for ix in 0..<wd {
                for ci in 0..<c {
                    let xv = loadQ(x, ((ni * h + iy) * wd + ix) * c + ci)
                    let g = ci / icg
                    for o in 0..<ocg {
                        for ky in 0..<kh {
                            let oy = iy * strides.0 - pads[0] + ky * dilations.0
                            if oy < 0 || oy >= oh { continue }
                            for kx in 0..<kw {
                                let ox = ix * strides.1 - pads[2] + kx * dilations.1
                                if ox < 0 || ox >= ow { continue }
                                let wv = Int32(w.i8[((ci * ocg + o) * kh + ky) * kw + kx])
                                let oi = ((ni * oh + oy) * ow + ox) * oc + g * ocg + o
                                acc[oi] = acc[oi] &+ xv &* wv
                            }
                        }
                    }
                }
            }
        }
    }
    return acc
}

/// Steps 1–6 into `out`: u8/s8 NHWC [N, OH, OW, OC], or f32 NCHW [N, OC, OH, OW].
func qdeconv(x: Tensor, w: Tensor, out: Tensor, spec: ConvTransposeSpec, epilogue: IntegerEpilogue) throws {
    guard out.dtype == epilogue.outType.dtype else {
        throw KernelError("qconv2d_transpose: Output dtype \(out.dtype.paddleName) vs out_dtype \(epilogue.outType)")
    }
    guard x.rank == 4, w.rank == 4, out.rank == 4 else { throw KernelError("qconv2d_transpose: expects 4-D tensors") }
    let oc = w.shape[1] * spec.groups
    guard epilogue.scale.count == oc else { throw KernelError("qconv2d_transpose: \(epilogue.scale.count) weight scales for \(oc) channels") }
    let r = try spec.resolve(inH: x.shape[1], inW: x.shape[2], kH: w.shape[2], kW: w.shape[3])
    let (oh, ow) = r.out
    let f32 = epilogue.outType == .f32
    let want = f32 ? [x.shape[0], oc, oh, ow] : [x.shape[0], oh, ow, oc]
    guard out.shape == want else { throw KernelError("qconv2d_transpose: Output \(out.shape), geometry gives \(want)") }
    let acc = try qdeconvAccumulate(x: x, w: w, outH: oh, outW: ow, strides: spec.geometry.strides, pads: r.pads,
                                    dilations: r.dil, groups: spec.groups)
    for i in 0..<acc.count {
        let ch = i % oc
        let y = epilogue.value(acc: acc[i], channel: ch, residual: nil)
        if f32 {
            let p = i / oc, ox = p % ow, oy = (p / ow) % oh, ni = p / (ow * oh)
            out.f32[((ni * oc + ch) * oh + oy) * ow + ox] = y
        } else {
            epilogue.store(y, to: out, at: i)
        }
    }
}

extension IntegerOracle {
    /// A full qconv2d_transpose (steps 1–6) into `output` (u8/s8 NHWC or f32 NCHW), for kernel tests.
    /// `paddings` [top, bottom, left, right]; `outputPadding` as conv2d_transpose's attribute.
    public static func convTranspose(input: Tensor, filter: Tensor, output: Tensor, strides: [Int], paddings: [Int],
                                     dilations: [Int], groups: Int, outputPadding: [Int] = [],
                                     epilogue: IntegerEpilogue) throws {
        let g = try WindowGeometry.explicit(strides: strides, dilations: dilations, paddings: paddings)
        let spec = ConvTransposeSpec(geometry: g, groups: groups, outputPadding: outputPadding, outputSize: [])
        try qdeconv(x: input, w: filter, out: output, spec: spec, epilogue: epilogue)
    }
}

func registerIntegerOracleDeconv(_ r: KernelRegistry) {
    r.addReference("qconv2d_transpose", .i8) { ctx in
        let spec = try ctx.spec(QConvTransposeSpec.self)
        let fs = ctx.inputShape("Filter")
        let binding: EpilogueBinding
        switch EpilogueBinding.make(ctx, spec.epilogue, op: "qconv2d_transpose", channels: fs.count == 4 ? fs[1] * spec.deconv.groups : nil) {
        case .success(let b): binding = b
        case .failure(let why): return .rejected(why.description)
        }
        return refReady { io in
            try qdeconv(x: try io.input("Input"), w: try io.input("Filter"), out: try io.output("Output"), spec: spec.deconv,
                        epilogue: binding.epilogue(io))
        }
    }
}
