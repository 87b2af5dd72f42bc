import CQtopKernels
import QtopRuntime
import XCTest

/// f32_deconv.c (conv2d_transpose) vs a naive double-precision scatter, relative tolerance 1e-5 of the sum of
/// |terms|, on every usable ISA, serial and on two threads: both modes (exact cover, scatter-accumulate) with
/// groups, dilation, padding, output_padding-style extra extent, gaps (kernel < stride) and fused activations.
final class Float32DeconvTests: XCTestCase {
    let pool = NativeThreadPool(threads: 2)

    func testDeconvAllISAs() {
        var r = XorShift(2026)
        var runs = 0, exact = 0
        for it in 0..<80 {
            var d = qtop_fdeconv_desc()
            d.n = Int32(r.int(1, 2)); d.h = Int32(r.int(1, 9)); d.w = Int32(r.int(1, 40)); d.groups = Int32(r.int(1, 3))
            d.ic = d.groups * Int32(r.int(1, 20)); d.oc = d.groups * Int32(r.int(1, 12))
            d.stride_h = Int32(r.int(1, 3)); d.stride_w = Int32(r.int(1, 3))
            if it % 3 == 0 {
                // exact cover: kernel == stride, no padding, no dilation
                d.kh = d.stride_h; d.kw = d.stride_w; d.dil_h = 1; d.dil_w = 1
            } else {
                d.kh = Int32(r.int(1, 4)); d.kw = Int32(r.int(1, 4)); d.dil_h = Int32(r.int(1, 2)); d.dil_w = Int32(r.int(1, 2))
                if r.bool() { d.pad_t = Int32(r.int(0, 2)); d.pad_l = Int32(r.int(0, 2)) }
            }
            let base = { (i: Int32, k: Int32, s: Int32, dl: Int32, p: Int32) -> Int32 in (i - 1) * s - 2 * p + dl * (k - 1) + 1 }
            let extra = it % 3 == 0 ? Int32(0) : Int32(r.int(0, 1))
            d.oh = max(1, base(d.h, d.kh, d.stride_h, d.dil_h, d.pad_t) + extra)
            d.ow = max(1, base(d.w, d.kw, d.stride_w, d.dil_w, d.pad_l) + extra)
            d.act = Int32(r.int(0, 3))
            let (N, IC, H, W, OC, KH, KW, G) = (Int(d.n), Int(d.ic), Int(d.h), Int(d.w), Int(d.oc), Int(d.kh), Int(d.kw), Int(d.groups))
            let (OH, OW) = (Int(d.oh), Int(d.ow))
            let icg = IC / G, ocg = OC / G
            let x = (0..<N * IC * H * W).map { _ in r.float(-1, 1) }
            let w = (0..<IC * ocg * KH * KW).map { _ in r.float(-1, 1) }
            let b = (0..<OC).map { _ in r.float(-1, 1) }
            var sum = [Double](repeating: 0, count: N * OC * OH * OW), mag = sum
            for n in 0..<N { for c in 0..<IC { for iy in 0..<H { for ix in 0..<W {
                let g = c / icg
                for o in 0..<ocg { for ky in 0..<KH { for kx in 0..<KW {
                    let oy = iy * Int(d.stride_h) - Int(d.pad_t) + ky * Int(d.dil_h), ox = ix * Int(d.stride_w) - Int(d.pad_l) + kx * Int(d.dil_w)
                    if oy < 0 || oy >= OH || ox < 0 || ox >= OW { continue }
                    let p = Double(x[((n * IC + c) * H + iy) * W + ix]) * Double(w[((c * ocg + o) * KH + ky) * KW + kx])
                    let oi = ((n * OC + g * ocg + o) * OH + oy) * OW + ox
                    sum[oi] += p; mag[oi] += abs(p)
                } } }
            } } } }
            var ref = [Float](repeating: 0, count: sum.count)
            for i in 0..<sum.count {
                let o = (i / (OH * OW)) % OC
                ref[i] = act(Float(sum[i] + Double(b[o])), d.act)
                mag[i] += abs(Double(b[o])) + 1
            }
            if d.kh == d.stride_h && d.kw == d.stride_w && d.pad_t == 0 && d.pad_l == 0 && d.dil_h == 1 && d.dil_w == 1 && extra == 0 { exact += 1 }
            for isa in usableIsas() {
                if qtop_fdeconv_query(&d, isa, isa, nil, 0) == 0 { continue }
                guard let h = qtop_fdeconv_create(&d, w, b, isa) else { XCTFail("create"); continue }
                for threaded in [false, true] {
                    var out = [Float](repeating: .nan, count: ref.count)
                    qtop_fdeconv_run(h, x, &out, threaded ? pool.handle : nil)
                    runs += 1
                    for i in 0..<out.count where !(Double(abs(out[i] - ref[i])) <= 1e-5 * mag[i]) {
                        XCTFail("fdeconv isa \(isa) case \(it) [\(String(cString: qtop_fdeconv_mode(h)))] idx \(i): \(out[i]) vs \(ref[i])"); break
                    }
                }
                qtop_fdeconv_destroy(h)
            }
        }
        XCTAssertGreaterThan(exact, 20)
        XCTAssertGreaterThan(runs, 160)
    }

    func testRejectsBadDescriptors() {
        var d = qtop_fdeconv_desc()
        d.n = 1; d.ic = 4; d.h = 2; d.w = 2; d.oc = 4; d.kh = 2; d.kw = 2; d.oh = 4; d.ow = 4
        d.stride_h = 2; d.stride_w = 2; d.dil_h = 1; d.dil_w = 1; d.groups = 3
        var why = [CChar](repeating: 0, count: 128)
        XCTAssertEqual(qtop_fdeconv_query(&d, 0, 0, &why, why.count), 0)
        XCTAssertNil(qtop_fdeconv_create(&d, [Float](repeating: 0, count: 64), nil, 0))
        d.groups = 1; d.act = Int32(QTOP_ACT_SIGMOID)
        XCTAssertEqual(qtop_fdeconv_query(&d, 0, 0, &why, why.count), 0)
        XCTAssertTrue(String(cString: why).contains("activation"), String(cString: why))
    }
}
