import CQtopKernels
import XCTest

/// The depthwise register tiles requantize in registers (the epilogue fused into the tile, q8_dw_x86.c): every
/// residual type (u8, s8, f32 with non-finite values), every activation (none, relu, relu6, hard_swish in the fused
/// form; sigmoid, hard_sigmoid, swish through the accumulator path), u8 / s8 / f32 outputs and the second quantized
/// output, on 3×3 / 5×5 at stride 1 / 2 over widths that make edge tiles, tiles of 8 and 4 and channel tails: every
/// ISA, serial and on two threads, against the generic kernel, and the generic kernel against the spec where the
/// spec transcription covers the case.
extension Int8KernelTests {
    func testDepthwiseFusedEpilogueAllISAs() {
        var r = XorShift(1311)
        let channels: [Int32] = [8, 16, 24, 13, 40, 3, 72, 33]
        let widths: [Int32] = [1, 3, 6, 11, 16, 20, 29, 40]
        var compared = 0
        for it in 0..<56 {
            var d = qtop_qconv_desc()
            let k = Int32(it % 2 == 0 ? 3 : 5)
            d.n = 1; d.h = Int32(r.int(1, 4)); d.w = widths[it % widths.count]
            d.ic = channels[(it / 2) % channels.count]; d.oc = d.ic; d.groups = d.ic; d.kh = k; d.kw = k
            d.stride_h = Int32(r.int(1, 2)); d.stride_w = Int32(1 + (it / 4) % 2); d.dil_h = 1; d.dil_w = 1
            d.pad_t = k / 2; d.pad_b = k / 2; d.pad_l = Int32(r.int(0, Int(k) - 1)); d.pad_r = Int32(r.int(0, Int(k) - 1))
            d.src_dt = Int32(r.int(0, 1)); d.dst_dt = Int32(it % 3); d.res_dt = Int32((it / 3) % 4)
            d.act = Int32(it % 7); d.act_alpha = 0.2; d.act_beta = 0.5
            d.in_range = r.float(0.5, 10); d.out_range = r.float(1, 100); d.res_range = r.float(1, 5)
            let q2 = d.dst_dt == Int32(QTOP_DT_F32.rawValue) && it % 2 == 1
            if q2 { d.has_q2 = 1; d.q2_dt = Int32(r.int(0, 1)); d.q2_range = r.float(1, 50) }
            if qtop_qconv_out_h(&d) <= 0 || qtop_qconv_out_w(&d) <= 0 { continue }
            let no = Int(qtop_qconv_out_h(&d) * qtop_qconv_out_w(&d) * d.oc)
            var src = r.bytes(Int(d.h * d.w * d.ic)), w = r.bytes(Int(d.oc * k * k)).map { Int8(bitPattern: $0) }
            if it % 5 == 2 {   // extremes: -128 / 127 weights, 0x80 / 0x7F / 0xFF inputs
                src = src.map { [0x80, 0x7F, 0xFF][Int($0) % 3] }
                w = w.map { $0 < 0 ? -128 : 127 }
            }
            let special: [Float] = [.nan, .infinity, -.infinity, 1e30]
            let res: [UInt8] = d.res_dt == Int32(QTOP_DT_F32.rawValue)
                ? (0..<no).map { i in it % 4 == 3 && i % 7 == 0 ? special[(i / 7) % special.count] : r.float(-10, 10) }
                    .withUnsafeBytes { Array($0) }
                : r.bytes(no)
            let ranges = (0..<Int(d.oc)).map { _ in r.float(0.05, 2) }
            let bias = (0..<Int(d.oc)).map { _ in r.float(-10, 10) }
            func run(_ isa: Int32, _ threaded: Bool) -> ([UInt8], [UInt8])? {
                var dd = d
                if qtop_qconv_query(&dd, isa, isa, nil, 0) == 0 { return nil }
                guard let h = qtop_qconv_create(&dd, w, ranges, bias, isa) else { return nil }
                defer { qtop_qconv_destroy(h) }
                var out = [UInt8](repeating: 0xCD, count: no * dtSize(d.dst_dt)), out2 = [UInt8](repeating: 0xCD, count: no)
                out.withUnsafeMutableBytes { o in out2.withUnsafeMutableBytes { o2 in res.withUnsafeBytes { rr in
                    qtop_qconv_run2(h, src, o.baseAddress, q2 ? o2.baseAddress : nil,
                                    d.res_dt == Int32(QTOP_DT_NONE.rawValue) ? nil : rr.baseAddress,
                                    threaded ? pool.handleForTests : nil)
                } } }
                return (out, q2 ? out2 : [])
            }
            guard let ref = run(0, false) else { return XCTFail("generic create failed, case \(it)") }
            let finite = !(d.res_dt == Int32(QTOP_DT_F32.rawValue) && it % 4 == 3)
            if d.act <= 3 && finite {
                let c = Case(d: d, src: src, w: w, ranges: ranges, bias: bias, res: res)
                XCTAssertEqual(ref.0, specConv(c), "generic vs spec, case \(it) \(d)")
            }
            for isa in usableIsas() where isa != 0 {
                for threaded in [false, true] {
                    guard let got = run(isa, threaded) else { continue }
                    XCTAssertEqual(got.0, ref.0, "isa \(isa) case \(it) threaded \(threaded) \(d)")
                    XCTAssertEqual(got.1, ref.1, "isa \(isa) case \(it) threaded \(threaded) second output \(d)")
                    compared += 1
                }
            }
        }
        if usableIsas().count > 1 { XCTAssertGreaterThan(compared, 100) }
    }
}
