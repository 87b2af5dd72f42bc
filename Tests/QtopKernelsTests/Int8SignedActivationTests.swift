import CQtopKernels
import Foundation
import XCTest

/// s8 activations on a kernel that reads them as they are (the avx512_core row's vpmaddubsw kernel: |a| times the
/// weight with a's sign): bit-exact against the generic C reference on every ISA, threaded and serial. Weights here
/// avoid -128 (as Paddle's symmetric weights do), which is what lets create pick that kernel; a -128 weight sends the
/// conv to the s16 kernel instead, also exact.
extension Int8KernelTests {
    private func signedCase(_ r: inout XorShift, oneByOne: Bool) -> Case {
        var c = randomCase(&r, kind: oneByOne ? 0 : 1)
        var d = c.d
        d.src_dt = Int32(QTOP_DT_S8.rawValue)
        d.ic = Int32(oneByOne && r.bool() ? 4 * r.int(2, 24) : r.int(8, 70))   // ≥ the kernel's min_icg (8)
        if oneByOne && r.bool() {   // the direct path: 1×1, stride 1, no padding, ic % 4 == 0
            d.stride_h = 1; d.stride_w = 1; d.pad_t = 0; d.pad_b = 0; d.pad_l = 0; d.pad_r = 0; d.ic = Int32(4 * r.int(2, 24))
        }
        d.oc = Int32(r.int(1, 90))
        if qtop_qconv_out_h(&d) <= 0 || qtop_qconv_out_w(&d) <= 0 { d.pad_b = 2; d.pad_r = 2; d.stride_h = 1; d.stride_w = 1 }
        let oh = Int(qtop_qconv_out_h(&d)), ow = Int(qtop_qconv_out_w(&d))
        let no = Int(d.n) * oh * ow * Int(d.oc)
        c.d = d
        c.src = r.bytes(Int(d.n * d.h * d.w * d.ic))
        c.w = r.bytes(Int(d.oc * d.ic * d.kh * d.kw)).map { $0 == 0x80 ? -127 : Int8(bitPattern: $0) }
        c.ranges = (0..<Int(d.oc)).map { _ in r.float(0.05, 2) }
        c.bias = r.bool() ? (0..<Int(d.oc)).map { _ in r.float(-10, 10) } : nil
        if d.res_dt == Int32(QTOP_DT_F32.rawValue) {
            c.res = (0..<no).map { _ in r.float(-10, 10) }.withUnsafeBytes { Array($0) }
        } else {
            c.res = r.bytes(no)
        }
        return c
    }

    func testSignedActivationKernelAllISAsBitExact() {
        var r = XorShift(1103)
        for it in 0..<80 {
            let c = signedCase(&r, oneByOne: it % 3 != 0)
            guard let ref = runConv(c, isa: 0, threaded: false) else { return XCTFail("generic create failed") }
            for isa in usableIsas() where isa != 0 {
                var d = c.d
                if qtop_qconv_query(&d, isa, isa, nil, 0) == 0 { continue }
                XCTAssertEqual(runConv(c, isa: isa, threaded: it % 2 == 0), ref, "isa \(isa) case \(it) \(c.d)")
            }
        }
    }

    /// The pair-sum extremes of |a| · (±w): -128 activations (|a| = 128, the one value whose magnitude is not an s8)
    /// against ±127 weights over a long K (2·128·127 = 32512 per pair), mixed signs, and a single -128 weight (the
    /// s16 fallback); f32 output keeps the int32 accumulator visible.
    func testSignedActivationExtremes() {
        for (srcByte, wv) in [(UInt8(0x80), Int8(127)), (0x80, -127), (0x7F, -127), (0x81, 127)] as [(UInt8, Int8)] {
            for minusOneWeight in [false, true] {
                var d = qtop_qconv_desc()
                d.n = 1; d.h = 3; d.w = 7; d.ic = 256; d.oc = 40; d.kh = 1; d.kw = 1
                d.stride_h = 1; d.stride_w = 1; d.dil_h = 1; d.dil_w = 1; d.groups = 1
                d.src_dt = Int32(QTOP_DT_S8.rawValue); d.dst_dt = Int32(QTOP_DT_F32.rawValue); d.res_dt = Int32(QTOP_DT_NONE.rawValue)
                d.in_range = 127; d.out_range = 1
                var src = [UInt8](repeating: srcByte, count: 3 * 7 * 256)
                for i in stride(from: 0, to: src.count, by: 5) { src[i] = 0x80 }
                var w = [Int8](repeating: wv, count: 40 * 256)
                for i in stride(from: 1, to: w.count, by: 7) { w[i] = -wv }
                if minusOneWeight { w[w.count / 2] = -128 }
                let c = Case(d: d, src: src, w: w, ranges: [Float](repeating: 127, count: 40), bias: nil, res: [])
                let ref = runConv(c, isa: 0, threaded: false)!
                XCTAssertEqual(ref, specConv(c))
                for isa in usableIsas() where isa != 0 {
                    XCTAssertEqual(runConv(c, isa: isa, threaded: true), ref, "isa \(isa) src \(srcByte) w \(wv) -128 \(minusOneWeight)")
                }
            }
        }
    }

    /// At avx512_core, s8 activations with enough input channels take the signed-activation kernel; the 3-channel stem
    /// takes the stem kernel (q8_stem.c), and 5 channels (below the kernel's min_icg) the s16 GEMM.
    func testSignedActivationKernelSelection() throws {
        let core = Int32(QTOP_ISA_AVX512_CORE.rawValue)
        guard usableIsas().contains(core) else { throw XCTSkip("no avx512_core on this CPU") }
        var d = qtop_qconv_desc()
        d.n = 1; d.h = 8; d.w = 8; d.ic = 32; d.oc = 64; d.kh = 1; d.kw = 1
        d.stride_h = 1; d.stride_w = 1; d.dil_h = 1; d.dil_w = 1; d.groups = 1
        d.src_dt = Int32(QTOP_DT_S8.rawValue); d.dst_dt = Int32(QTOP_DT_U8.rawValue); d.res_dt = Int32(QTOP_DT_NONE.rawValue)
        d.in_range = 1; d.out_range = 1
        var why = [CChar](repeating: 0, count: 256)
        XCTAssertEqual(qtop_qconv_query(&d, core, core, &why, why.count), 1)
        XCTAssertEqual(String(cString: why), "q8_gemm_s8_5x64c4_avx512bw")
        d.ic = 3; d.kh = 7; d.kw = 7
        XCTAssertEqual(qtop_qconv_query(&d, core, core, &why, why.count), 1)
        XCTAssertEqual(String(cString: why), "q8_stem_s16_16px_avx512")
        d.ic = 5
        XCTAssertEqual(qtop_qconv_query(&d, core, core, &why, why.count), 1)
        XCTAssertEqual(String(cString: why), "q8_gemm_s16_6x64c2_avx512")
        d.src_dt = Int32(QTOP_DT_U8.rawValue); d.ic = 32
        XCTAssertEqual(qtop_qconv_query(&d, core, core, &why, why.count), 1)
        XCTAssertEqual(String(cString: why), "q8_gemm_u8_6x64c4_avx512")
    }
}
