import CQtopKernels
import QtopFormat
import QtopGraph
import QtopRuntime
import XCTest

/// fp32 conv on planes large enough for the band-tiled and direct (1×1) paths (the native pool2d: Float32PoolTests).
final class Float32LargeConvPoolTests: XCTestCase {
    let pool = NativeThreadPool(threads: 2)


    /// (ic, h, w, oc, k, stride, pad, groups)
    let shapes: [(Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (70, 48, 45, 21, 1, 1, 0, 1),    // direct 1×1, plane not a multiple of 16, rows not a multiple of 8
        (130, 41, 40, 20, 1, 1, 0, 1),   // 1×1 with K ≥ 128 on a large plane: copied column bands
        (9, 41, 40, 19, 3, 1, 1, 1),     // 3×3 with per-band im2col
        (3, 90, 90, 16, 7, 2, 3, 1),     // stem-like 7×7 stride 2
        (40, 9, 9, 70, 3, 1, 1, 1),      // shared im2col, K = 360 > one K block
        (300, 7, 7, 33, 1, 1, 0, 1),     // direct 1×1, K blocks, 49 columns
        (8, 40, 44, 12, 3, 2, 1, 2),     // groups
        (520, 5, 6, 24, 1, 2, 0, 1),     // strided 1×1
        (600, 7, 7, 128, 1, 1, 0, 1),    // small plane, 64-channel panels (AVX-512), K blocks, direct
        (40, 8, 6, 64, 3, 1, 1, 1),      // small plane through im2col, 48 pixels
        (70, 13, 13, 192, 3, 2, 1, 1),   // small plane, stride 2 → 7×7, K = 630
        (30, 9, 9, 128, 1, 1, 0, 1),     // 81 pixels: above the small-plane limit
        (64, 14, 14, 64, 3, 1, 1, 1),    // k×k small plane at 14×14: 28 full 7-pixel tiles, K = 576 > one K block
        (24, 25, 25, 128, 3, 2, 1, 1),   // k×k small plane, stride 2 → 13×13 = 169 pixels, partial last tile
        (16, 15, 14, 64, 3, 1, 1, 1),    // 3×3 at 210 pixels: above the k×k small-plane limit
        (20, 28, 28, 40, 3, 1, 1, 1),    // 3×3 at 784 pixels: per-band im2col at any thread count
        (6, 9, 75, 6, 3, 1, 1, 6),       // depthwise 3×3 stride 1: 32- and 8-column vectors, scalar borders
        (6, 9, 77, 6, 3, 2, 1, 6),       // depthwise 3×3 stride 2 (even-column loads must stay inside the row)
        (4, 11, 70, 4, 5, 1, 2, 4),      // depthwise 5×5 stride 1
        (4, 11, 71, 4, 5, 2, 2, 4),      // depthwise 5×5 stride 2
        (12, 55, 57, 24, 3, 2, 1, 1),    // 3×3 stride 2 → 28×29, per-band im2col with a partial last band
        (70, 21, 23, 67, 1, 1, 0, 1),    // direct 1×1, 483 pixels, oc ≥ 64: [K][NR] panel copies (AVX2), partial strip
        (300, 7, 7, 40, 1, 1, 0, 1),     // pixel-major small plane (AVX2; oc not a multiple of 64), partial pixel panel
        (40, 9, 9, 36, 3, 2, 1, 1),      // pixel-major k×k, stride 2 → 5×5, K = 360 over several K blocks
        (30, 14, 14, 36, 3, 1, 1, 1),    // pixel-major k×k at 196 pixels (AVX2), K = 270, partial channel strip
        (40, 28, 29, 70, 1, 1, 0, 1),    // direct 1×1 with a short K on 812 pixels: 2 × 16 tiles + prefetch, residual
        (260, 13, 15, 40, 1, 1, 0, 1),   // pixel-major direct 1×1 at 195 pixels (AVX2), partial pixel panel
    ]

    func testConvLargePlanes() {
        var r = XorShift(4242)
        for (si, s) in shapes.enumerated() {
            let (IC, H, W, OC, K, S, P, G) = s
            var d = qtop_fconv_desc()
            d.n = 1; d.ic = Int32(IC); d.h = Int32(H); d.w = Int32(W); d.oc = Int32(OC); d.kh = Int32(K); d.kw = Int32(K)
            d.stride_h = Int32(S); d.stride_w = Int32(S); d.pad_t = Int32(P); d.pad_b = Int32(P); d.pad_l = Int32(P); d.pad_r = Int32(P)
            d.dil_h = 1; d.dil_w = 1; d.groups = Int32(G); d.has_residual = Int32(si % 2); d.act = Int32(si % 4)
            let oh = Int(qtop_fconv_out_h(&d)), ow = Int(qtop_fconv_out_w(&d))
            let icg = IC / G
            let x = (0..<IC * H * W).map { _ in r.float(-1, 1) }
            let w = (0..<OC * icg * K * K).map { _ in r.float(-1, 1) }
            let b = (0..<OC).map { _ in r.float(-1, 1) }
            let res = (0..<OC * oh * ow).map { _ in r.float(-1, 1) }
            checkFConvEveryISA(d, x: x, w: w, b: b, res: res, pool: pool.handle, label: "fconv shape \(si)")
        }
    }
}
