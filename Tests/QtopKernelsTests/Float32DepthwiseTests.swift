import CQtopKernels
import QtopRuntime
import XCTest

/// fp32 depthwise (f32_dw.c: stride-phase planes + the per-ISA flat microkernel) against a double-precision loop on
/// the shapes mobile nets use — 7×7 and 14×14 planes (one partial 64-output block), 3×3 / 5×5 at stride 1 and 2,
/// every fused activation with and without a residual — plus strips (planes too big for one L1 strip), stride 3,
/// dilation and asymmetric padding, at every ISA, threaded (2 threads) and serial; and the row-group kernel's edges:
/// widths around the vector width, 1-column and 3-column planes, stride 2 at odd sizes.
final class Float32DepthwiseTests: XCTestCase {
    let pool = NativeThreadPool(threads: 2)

    /// (channels, h, w, k, stride, pad top, bottom, left, right, dilation)
    let shapes: [(Int, Int, Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (5, 7, 7, 3, 1, 1, 1, 1, 1, 1),        // 7×7 plane: 63 flat outputs, one block
        (5, 14, 14, 3, 2, 1, 1, 1, 1, 1),      // 14×14 → 7×7, four phases
        (4, 14, 14, 5, 1, 2, 2, 2, 2, 1),      // 5×5 at 14×14
        (3, 28, 28, 5, 2, 2, 2, 2, 2, 1),      // 5×5 stride 2 → 14×14
        (3, 13, 11, 3, 2, 0, 1, 0, 1, 1),      // asymmetric (SAME-style) padding, odd sizes
        (2, 90, 70, 3, 1, 1, 1, 1, 1, 1),      // several row strips
        (2, 81, 100, 3, 2, 1, 1, 1, 1, 1),     // strips with four phases, gathered stride-2 rows
        (3, 9, 20, 3, 1, 2, 2, 2, 2, 2),       // dilation 2
        (3, 1, 1, 3, 1, 1, 1, 1, 1, 1),        // 1×1 plane: only the centre tap sees the image
        (2, 23, 19, 7, 3, 3, 3, 3, 3, 1),      // stride 3: nine phases
        (3, 20, 33, 1, 1, 0, 0, 0, 0, 1),      // 1×1 kernel (one tap)
        // row-group kernel edges: widths around the vector (8 / 16), short rows spilling into the next row,
        // edge tiles on both sides of one vector, groups of 8 and 4 rows with remainders, stride 2 at odd sizes
        (3, 9, 9, 3, 1, 1, 1, 1, 1, 1),        // ow 9: one vector + an overlapping last one (AVX2)
        (3, 17, 17, 5, 1, 2, 2, 2, 2, 1),      // ow 17: the same around a zmm
        (4, 5, 3, 3, 1, 1, 1, 1, 1, 1),        // 3 columns: several rows per vector
        (3, 2, 1, 5, 1, 2, 2, 2, 2, 1),        // 1 column, 5×5: taps past both edges
        (2, 33, 40, 3, 1, 1, 1, 1, 1, 1),      // wide rows (groups of 4), 33 rows: a remainder group of 1
        (3, 15, 15, 3, 2, 1, 1, 1, 1, 1),      // stride 2, odd size → 8×8
        (3, 13, 27, 5, 2, 2, 2, 2, 2, 1),      // 5×5 stride 2, odd sizes → 7×14
        (2, 1, 1, 3, 2, 1, 1, 1, 1, 1),        // 1×1 plane at stride 2
        (3, 12, 21, 3, 1, 0, 2, 2, 0, 1),      // asymmetric padding, all of it on one side per axis
        (2, 11, 19, 5, 2, 1, 2, 2, 1, 1),      // 5×5 stride 2, asymmetric padding
        // row-reuse tiles: 5×5 on wide rows read in place (masked edges, an overlapping last tile), tall planes of
        // short rows (too tall for the padded copy: masked, in place), a padded 28-wide plane (two vectors)
        (2, 20, 37, 5, 1, 2, 2, 2, 2, 1),
        (2, 70, 20, 3, 1, 1, 1, 1, 1, 1),
        (3, 28, 28, 3, 1, 1, 1, 1, 1, 1),
    ]

    func testDepthwiseAgainstDoubleLoop() {
        var r = XorShift(1107)
        var runs = 0
        for (si, s) in shapes.enumerated() {
            for a in 0..<4 {
                let (C, H, W, K, S, pt, pb, pl, pr, D) = s
                var d = qtop_fconv_desc()
                d.n = si % 3 == 0 ? 2 : 1
                d.ic = Int32(C); d.oc = Int32(C); d.groups = Int32(C); d.h = Int32(H); d.w = Int32(W)
                d.kh = Int32(K); d.kw = Int32(K); d.stride_h = Int32(S); d.stride_w = Int32(S)
                d.pad_t = Int32(pt); d.pad_b = Int32(pb); d.pad_l = Int32(pl); d.pad_r = Int32(pr)
                d.dil_h = Int32(D); d.dil_w = Int32(D)
                d.has_residual = Int32((si + a) % 2); d.act = Int32(a)
                let N = Int(d.n), oh = Int(qtop_fconv_out_h(&d)), ow = Int(qtop_fconv_out_w(&d))
                XCTAssertGreaterThan(oh * ow, 0)
                // values around ±3 so relu6 / hard_swish see both of their kinks
                let x = (0..<N * C * H * W).map { _ in r.float(-4, 4) }
                let w = (0..<C * K * K).map { _ in r.float(-1, 1) }
                let b = (0..<C).map { _ in r.float(-2, 2) }
                let res = (0..<N * C * oh * ow).map { _ in r.float(-3, 3) }
                runs += checkFConvEveryISA(d, x: x, w: w, b: b, res: res, pool: pool.handle, label: "dw shape \(si) act \(a)")
            }
        }
        XCTAssertGreaterThanOrEqual(runs, shapes.count * 4 * 2)
    }
}
