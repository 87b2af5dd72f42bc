import CQtopKernels
import QtopRuntime
import XCTest

/// fp32 k×k convs on planes large enough for the direct path (f32_direct.c: padded phase-split bands, no im2col)
/// on the x86 rows, against a naive double-precision loop with the fp32 conv tests' tolerance (1e-5 of Σ|terms|).
/// Shapes sit at the path's edges: odd sizes, asymmetric pads, stride 2 and 3, dilation, channel counts that are
/// no multiple of the register tile, batch 2, one and two threads, residual and every fused activation.
final class Float32DirectConvTests: XCTestCase {
    let pool = NativeThreadPool(threads: 2)

    struct Shape {
        let n, ic, h, w, oc, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw: Int
        init(n: Int = 1, ic: Int, h: Int, w: Int, oc: Int, kh: Int, kw: Int, sh: Int = 1, sw: Int = 1,
             pt: Int = 0, pb: Int = 0, pl: Int = 0, pr: Int = 0, dh: Int = 1, dw: Int = 1) {
            (self.n, self.ic, self.h, self.w, self.oc, self.kh, self.kw) = (n, ic, h, w, oc, kh, kw)
            (self.sh, self.sw, self.pt, self.pb, self.pl, self.pr, self.dh, self.dw) = (sh, sw, pt, pb, pl, pr, dh, dw)
        }
    }

    let shapes: [Shape] = [
        Shape(ic: 5, h: 17, w: 23, oc: 13, kh: 3, kw: 3, pt: 1, pb: 1, pl: 1, pr: 1),          // oc 13: partial tiles
        Shape(ic: 7, h: 33, w: 37, oc: 9, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pb: 1, pl: 1, pr: 1),  // stride 2
        Shape(ic: 3, h: 41, w: 45, oc: 20, kh: 7, kw: 7, sh: 2, sw: 2, pt: 3, pb: 3, pl: 3, pr: 3), // 7×7 stem
        Shape(ic: 6, h: 24, w: 30, oc: 11, kh: 3, kw: 3, pt: 2, pb: 2, pl: 2, pr: 2, dh: 2, dw: 2), // dilation 2
        Shape(ic: 4, h: 20, w: 50, oc: 70, kh: 3, kw: 3, pt: 1, pb: 1, pl: 1, pr: 1),         // stem: any oc
        Shape(ic: 8, h: 19, w: 35, oc: 17, kh: 3, kw: 5, sh: 1, sw: 2, pt: 0, pb: 2, pl: 1, pr: 3), // asymmetric
        Shape(ic: 5, h: 50, w: 52, oc: 10, kh: 3, kw: 3, sh: 3, sw: 3, pt: 1, pb: 1, pl: 1, pr: 1), // stride 3
        Shape(ic: 12, h: 22, w: 40, oc: 24, kh: 5, kw: 5, pt: 2, pb: 2, pl: 2, pr: 2),        // 5×5, det's oc
        Shape(n: 2, ic: 6, h: 21, w: 21, oc: 8, kh: 2, kw: 2),                                 // 2×2, no pad, batch 2
        Shape(ic: 9, h: 16, w: 70, oc: 30, kh: 3, kw: 3, sh: 2, sw: 1, pt: 1, pb: 0, pl: 0, pr: 1, dh: 1, dw: 3),
        Shape(ic: 2, h: 64, w: 66, oc: 6, kh: 3, kw: 3, sh: 2, sw: 2, pt: 0, pb: 1, pl: 0, pr: 1), // odd stem pads
    ]

    func testDirectConvMatchesReference() {
        var r = XorShift(9191)
        var runs = 0
        for (si, s) in shapes.enumerated() {
            var d = qtop_fconv_desc()
            d.n = Int32(s.n); d.ic = Int32(s.ic); d.h = Int32(s.h); d.w = Int32(s.w); d.oc = Int32(s.oc)
            d.kh = Int32(s.kh); d.kw = Int32(s.kw); d.stride_h = Int32(s.sh); d.stride_w = Int32(s.sw)
            d.pad_t = Int32(s.pt); d.pad_b = Int32(s.pb); d.pad_l = Int32(s.pl); d.pad_r = Int32(s.pr)
            d.dil_h = Int32(s.dh); d.dil_w = Int32(s.dw); d.groups = 1
            d.has_residual = Int32(si % 2); d.act = Int32(si % 4)
            let oh = Int(qtop_fconv_out_h(&d)), ow = Int(qtop_fconv_out_w(&d))
            XCTAssertGreaterThan(oh * ow, 196, "shape \(si) must be a large plane")
            let x = (0..<s.n * s.ic * s.h * s.w).map { _ in r.float(-1, 1) }
            let w = (0..<s.oc * s.ic * s.kh * s.kw).map { _ in r.float(-1, 1) }
            let b = (0..<s.oc).map { _ in r.float(-1, 1) }
            let res = (0..<s.n * s.oc * oh * ow).map { _ in r.float(-1, 1) }
            runs += checkFConvEveryISA(d, x: x, w: w, b: b, res: res, pool: pool.handle, label: "fconv shape \(si)")
        }
        XCTAssertGreaterThanOrEqual(runs, 2 * shapes.count)
    }
}
