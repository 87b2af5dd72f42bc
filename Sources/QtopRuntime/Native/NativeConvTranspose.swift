import CQtopKernels
import QtopFormat
import QtopGraph

// conv2d_transpose (f32 NCHW) as GEMM + col2im on the native fp32 GEMM: per image and group,
// col[HW][ocg·kh·kw] = Xᵀ[HW][icg] × W_g[icg][ocg·kh·kw] (the filter slice of the group, packed once), then every
// col entry is added to its output pixel. The ISA is the GEMM's.

final class NativeConvTransposeKernel: Kernel {
    let gemms: [OpaquePointer]
    let n: Int, c: Int, h: Int, w: Int, oc: Int, oh: Int, ow: Int, groups: Int, kh: Int, kw: Int
    let strides: (Int, Int), dil: (Int, Int), padT: Int, padL: Int
    let bias: [Float]?
    private var xt: [Float], col: [Float]

    init(gemms: [OpaquePointer], n: Int, c: Int, h: Int, w: Int, oc: Int, oh: Int, ow: Int, groups: Int, kh: Int, kw: Int,
         strides: (Int, Int), dil: (Int, Int), padT: Int, padL: Int, bias: [Float]?) {
        self.gemms = gemms
        (self.n, self.c, self.h, self.w, self.oc, self.oh, self.ow) = (n, c, h, w, oc, oh, ow)
        (self.groups, self.kh, self.kw, self.strides, self.dil, self.padT, self.padL) = (groups, kh, kw, strides, dil, padT, padL)
        self.bias = bias
        xt = [Float](repeating: 0, count: h * w * (c / groups))
        col = [Float](repeating: 0, count: h * w * (oc / groups) * kh * kw)
    }

    deinit { for g in gemms { qtop_fmatmul_destroy(g) } }

    func run(_ io: KernelIO) throws {
        let x = try io.input("Input"), y = try io.output("Output")
        guard x.shape == [n, c, h, w], y.shape == [n, oc, oh, ow] else {
            throw KernelError("conv2d_transpose planned for [\(n),\(c),\(h),\(w)], got \(x.shape)")
        }
        let icg = c / groups, ocg = oc / groups, kk = kh * kw, hw = h * w, cols = ocg * kk
        let pool = nativePoolHandle(io.threads)
        let yp = y.f32
        for ni in 0..<n {
            for g in 0..<groups {
                let xg = x.f32 + (ni * c + g * icg) * hw
                xt.withUnsafeMutableBufferPointer { t in
                    for ic in 0..<icg { for p in 0..<hw { t[p * icg + ic] = xg[ic * hw + p] } }
                }
                xt.withUnsafeBufferPointer { t in
                    col.withUnsafeMutableBufferPointer { cb in qtop_fmatmul_run(gemms[g], t.baseAddress, cb.baseAddress, nil, pool) }
                }
                col.withUnsafeBufferPointer { cb in
                    let colp = cb.baseAddress!
                    let (sh, sw) = strides, (dh, dw) = dil
                    let (h, w, oh, ow, kh, kw, padT, padL, bias) = (h, w, oh, ow, kh, kw, padT, padL, bias)
                    // each output channel is written by one task: no two tasks touch the same pixel
                    parallelChunks(io.threads, ocg, grain: 1) { range in
                        for o in range {
                            let dst = yp + (ni * oc + g * ocg + o) * oh * ow
                            let b = bias?[g * ocg + o] ?? 0
                            for i in 0..<(oh * ow) { dst[i] = b }
                            for iy in 0..<h {
                                for ix in 0..<w {
                                    let src = colp + (iy * w + ix) * cols + o * kk
                                    for ky in 0..<kh {
                                        let oy = iy * sh - padT + ky * dh
                                        if oy < 0 || oy >= oh { continue }
                                        let row = dst + oy * ow
                                        for kx in 0..<kw {
                                            let ox = ix * sw - padL + kx * dw
                                            if ox >= 0 && ox < ow { row[ox] += src[ky * kw + kx] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

func makeConvTranspose(_ ctx: KernelBuildContext, isa: ISALevel) throws -> KernelBuild {
    if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    let spec = try ctx.spec(ConvTransposeSpec.self)
    if spec.nhwc { return .rejected("data_format NHWC") }
    let xs = ctx.inputShape("Input")
    guard xs.count == 4, xs.allSatisfy({ $0 > 0 }) else { return .rejected("Input must be a known 4-D NCHW shape, got \(xs)") }
    guard let f = ctx.constant("Filter"), f.dtype == .f32, f.shape.count == 4 else { return .rejected("Filter must be an f32 constant") }
    let (wc, ocg, kh, kw) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
    let groups = spec.groups
    guard wc == xs[1], wc % groups == 0 else { return .rejected("Filter \(f.shape) does not match \(xs[1]) channels, groups \(groups)") }
    let r = try spec.resolve(inH: xs[2], inW: xs[3], kH: kh, kW: kw)
    var bias: [Float]?
    if ctx.node.input("Bias") != nil {
        guard let b = ctx.constant("Bias"), b.count == ocg * groups else { return .rejected("Bias must be a constant of \(ocg * groups) values") }
        bias = b.floatValues()
    }
    let icg = wc / groups
    var d = qtop_fmatmul_desc()
    d.m = Int32(xs[2] * xs[3]); d.k = Int32(icg); d.n = Int32(ocg * kh * kw); d.act = ci(QTOP_ACT_NONE)
    var why = [CChar](repeating: 0, count: 256)
    if qtop_fmatmul_query(&d, isa.cValue, ctx.isaCap.cValue, &why, why.count) == 0 { return .rejected(whyString(why)) }
    var gemms: [OpaquePointer] = []
    let wp = UnsafePointer(f.pointer(as: Float.self))
    for g in 0..<groups {
        guard let h = qtop_fmatmul_create(&d, wp + g * icg * ocg * kh * kw, nil, isa.cValue) else {
            for h in gemms { qtop_fmatmul_destroy(h) }
            return .rejected("\(isa.rawValue): kernel creation failed")
        }
        gemms.append(h)
    }
    return .ready(NativeConvTransposeKernel(gemms: gemms, n: xs[0], c: xs[1], h: xs[2], w: xs[3], oc: ocg * groups,
                                            oh: r.out.0, ow: r.out.1, groups: groups, kh: kh, kw: kw,
                                            strides: spec.geometry.strides, dil: r.dil, padT: r.pads[0], padL: r.pads[2], bias: bias))
}

func registerNativeConvTransposeKernels(_ r: KernelRegistry) {
    for isa in [ISALevel.avx512_core, .avx2, .generic] {
        for op in ConvTransposeSpec.opTypes {
            r.register(KernelEntry(op: op, precision: .f32, implementation: "deconv", isa: isa, priority: isa == .generic ? 1 : 0) { ctx in
                try makeConvTranspose(ctx, isa: isa)
            })
        }
    }
}
