import CQtopKernels
import QtopRuntime
import XCTest

/// fp32 kernels vs a naive double-precision loop, relative tolerance 1e-5 of the sum of |terms|.
final class Float32KernelTests: XCTestCase {
    let pool = NativeThreadPool(threads: 2)


    func testConvAllISAs() {
        var r = XorShift(42)
        var runs = 0
        for it in 0..<90 {
            var d = qtop_fconv_desc()
            let kind = it % 3
            repeat {
                d = qtop_fconv_desc()
                d.n = Int32(r.int(1, 2)); d.h = Int32(r.int(1, 10)); d.w = Int32(r.int(1, 10)); d.groups = 1
                if kind == 0 { d.kh = 1; d.kw = 1; d.ic = Int32(r.int(1, 300)); d.oc = Int32(r.int(1, 40)) }
                else if kind == 1 { d.kh = Int32(r.int(1, 3)); d.kw = Int32(r.int(1, 3)); d.groups = Int32(r.int(1, 2)); d.ic = d.groups * Int32(r.int(1, 24)); d.oc = d.groups * Int32(r.int(1, 20)) }
                else { d.ic = Int32(r.int(2, 10)); d.oc = d.ic; d.groups = d.ic; d.kh = Int32(r.int(1, 3)); d.kw = Int32(r.int(1, 3)) }
                d.stride_h = Int32(r.int(1, 2)); d.stride_w = Int32(r.int(1, 2)); d.dil_h = Int32(r.int(1, 2)); d.dil_w = Int32(r.int(1, 2))
                if r.bool() { d.pad_t = Int32(r.int(0, 2)); d.pad_b = Int32(r.int(0, 2)); d.pad_l = Int32(r.int(0, 2)); d.pad_r = Int32(r.int(0, 2)) }
                if kind == 0 && r.bool() { d.stride_h = 1; d.stride_w = 1; d.pad_t = 0; d.pad_b = 0; d.pad_l = 0; d.pad_r = 0 }
                d.has_residual = Int32(r.int(0, 1)); d.act = Int32(r.int(0, 3))
            } while qtop_fconv_out_h(&d) <= 0 || qtop_fconv_out_w(&d) <= 0
            let oh = Int(qtop_fconv_out_h(&d)), ow = Int(qtop_fconv_out_w(&d))
            let (N, IC, H, W, OC, KH, KW, G) = (Int(d.n), Int(d.ic), Int(d.h), Int(d.w), Int(d.oc), Int(d.kh), Int(d.kw), Int(d.groups))
            let icg = IC / G, ocg = OC / G
            let x = (0..<N * IC * H * W).map { _ in r.float(-1, 1) }
            let w = (0..<OC * icg * KH * KW).map { _ in r.float(-1, 1) }
            let b = (0..<OC).map { _ in r.float(-1, 1) }
            let res = (0..<N * OC * oh * ow).map { _ in r.float(-1, 1) }
            var ref = [Float](repeating: 0, count: res.count), mag = ref
            for n in 0..<N { for o in 0..<OC { for oy in 0..<oh { for ox in 0..<ow {
                let g = o / ocg
                var s = Double(b[o]), sa = abs(Double(b[o])) + 1
                for i in 0..<icg { for ky in 0..<KH { for kx in 0..<KW {
                    let iy = oy * Int(d.stride_h) - Int(d.pad_t) + ky * Int(d.dil_h), ix = ox * Int(d.stride_w) - Int(d.pad_l) + kx * Int(d.dil_w)
                    if iy < 0 || iy >= H || ix < 0 || ix >= W { continue }
                    let p = Double(x[((n * IC + g * icg + i) * H + iy) * W + ix]) * Double(w[((o * icg + i) * KH + ky) * KW + kx])
                    s += p; sa += abs(p)
                } } }
                let oi = ((n * OC + o) * oh + oy) * ow + ox
                if d.has_residual == 1 { s += Double(res[oi]); sa += abs(Double(res[oi])) }
                ref[oi] = act(Float(s), d.act); mag[oi] = Float(sa)
            } } } }
            for isa in usableIsas() {
                if qtop_fconv_query(&d, isa, isa, nil, 0) == 0 { continue }
                guard let h = qtop_fconv_create(&d, w, b, isa) else { XCTFail("create"); continue }
                var out = [Float](repeating: .nan, count: ref.count)
                qtop_fconv_run(h, x, &out, res, it % 2 == 0 ? pool.handle : nil)
                qtop_fconv_destroy(h)
                runs += 1
                for i in 0..<out.count where !(abs(out[i] - ref[i]) <= 1e-5 * mag[i]) {
                    XCTFail("fconv isa \(isa) case \(it) idx \(i): \(out[i]) vs \(ref[i])"); break
                }
            }
        }
        XCTAssertGreaterThan(runs, 90)
    }

    func testMatMulAllISAs() {
        var r = XorShift(77)
        for it in 0..<50 {
            var d = qtop_fmatmul_desc()
            d.m = Int32(r.int(1, 30)); d.k = Int32(r.int(1, 600)); d.n = Int32(r.int(1, 130)); d.has_residual = Int32(r.int(0, 1)); d.act = Int32(r.int(0, 3))
            let (m, k, n) = (Int(d.m), Int(d.k), Int(d.n))
            let x = (0..<m * k).map { _ in r.float(-1, 1) }, w = (0..<k * n).map { _ in r.float(-1, 1) }
            let b = (0..<n).map { _ in r.float(-1, 1) }, res = (0..<m * n).map { _ in r.float(-1, 1) }
            var ref = [Float](repeating: 0, count: m * n), mag = ref
            for i in 0..<m { for j in 0..<n {
                var s = Double(b[j]), sa = abs(Double(b[j])) + 1
                for kk in 0..<k { let p = Double(x[i * k + kk]) * Double(w[kk * n + j]); s += p; sa += abs(p) }
                if d.has_residual == 1 { s += Double(res[i * n + j]) }
                ref[i * n + j] = act(Float(s), d.act); mag[i * n + j] = Float(sa)
            } }
            for isa in usableIsas() {
                if qtop_fmatmul_query(&d, isa, isa, nil, 0) == 0 { continue }
                guard let h = qtop_fmatmul_create(&d, w, b, isa) else { XCTFail("create"); continue }
                var out = [Float](repeating: .nan, count: m * n)
                qtop_fmatmul_run(h, x, &out, res, pool.handle)
                qtop_fmatmul_destroy(h)
                for i in 0..<out.count where !(abs(out[i] - ref[i]) <= 1e-5 * mag[i]) {
                    XCTFail("fmatmul isa \(isa) case \(it) idx \(i): \(out[i]) vs \(ref[i])"); break
                }
            }
        }
    }
}
