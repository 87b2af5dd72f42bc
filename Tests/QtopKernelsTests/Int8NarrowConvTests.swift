import CQtopKernels
import Foundation
import XCTest

/// The narrow k×k path (q8_narrow.c: ≤ 32 output channels, padded rows of channel words, mr pixels × 8·nv channels
/// per microkernel call) against the generic C reference, bit for bit, on every ISA row that serves it and on the
/// avx2_vnni row's EVEX twin, with 1 and 2 threads: widths that leave partial pixel tiles of every kernel height,
/// 1–32 output channels (every nv and partial 8-channel vectors), odd input channels (a half-filled last word),
/// padding, stride and dilation, u8 (full 0...255) and s8 activations, every output / residual type and activation.
extension Int8KernelTests {
    private func narrowCase(_ r: inout XorShift) -> Case {
        var d = qtop_qconv_desc()
        repeat {
            d = qtop_qconv_desc()
            d.n = Int32(r.int(1, 2)); d.groups = 1
            d.h = Int32(r.int(1, 9))
            d.ic = Int32(r.int(8, 40))
            repeat { d.oc = Int32(r.int(1, 24)) } while d.oc == 16 && d.ic > 8   // 16: only with 8 input channels
            if r.int(0, 7) == 0 { d.oc = 16; d.ic = 8 }
            repeat { d.kh = Int32(r.int(1, 5)); d.kw = Int32(r.int(1, 5)) } while d.kh * d.kw < 2
            d.stride_h = Int32(r.int(1, 2)); d.stride_w = Int32(r.int(1, 2))
            if r.int(0, 3) == 0 { d.dil_h = Int32(r.int(1, 2)); d.dil_w = Int32(r.int(1, 2)) } else { d.dil_h = 1; d.dil_w = 1 }
            d.pad_t = Int32(r.int(0, 2)); d.pad_b = Int32(r.int(0, 2)); d.pad_l = Int32(r.int(0, 2)); d.pad_r = Int32(r.int(0, 2))
            // output widths every row's pixel tiles (2 … 24 pixels) cover with at most a quarter past the end, most
            // of them partially: 19…24 and 37…48
            let ow = r.bool() ? r.int(19, 24) : r.int(37, 48)
            d.w = Int32((ow - 1) * Int(d.stride_w) + Int(d.dil_w) * (Int(d.kw) - 1) + 1) - d.pad_l - d.pad_r
            d.src_dt = Int32(r.int(0, 1)); d.dst_dt = Int32(r.int(0, 2)); d.res_dt = Int32(r.int(0, 3)); d.act = Int32(r.int(0, 3))
            d.in_range = r.float(0.5, 10); d.out_range = r.float(1, 100); d.res_range = r.float(1, 5)
        } while d.w < 1 || qtop_qconv_out_h(&d) <= 0 || qtop_qconv_out_w(&d) <= 0
        return randomOperands(for: d, &r)
    }

    private var twinAvailable: Bool { (qtop_cpu_isa_mask() >> UInt32(QTOP_ISA_AVX512_VNNI.rawValue)) & 1 == 1 }

    func testNarrowAllISAsBitExactOneAndTwoThreads() {
        var r = XorShift(20261203)
        var compared: [Int32: Int] = [:], twins = 0
        let cases = 80
        for it in 0..<cases {
            let c = narrowCase(&r)
            guard let ref = runConv(c, isa: 0, threaded: false) else { return XCTFail("generic create failed") }
            if it % 16 == 0 { XCTAssertEqual(ref, specConv(c), "generic case \(it) \(c.d)") }
            for isa in usableIsas() where isa != 0 && kernelName(prefix: "q8_narrow_", c.d, isa: isa) != nil {
                for threaded in [false, true] {
                    XCTAssertEqual(runConv(c, isa: isa, threaded: threaded), ref,
                                   "isa \(String(cString: qtop_isa_name(isa))) threads \(threaded ? 2 : 1) case \(it) \(c.d)")
                }
                compared[isa, default: 0] += 1
            }
            if twinAvailable {
                XCTAssertEqual(runConv(c, isa: Int32(QTOP_ISA_AVX2_VNNI.rawValue), threaded: it % 2 == 1, twin: true), ref,
                               "avx2_vnni twin case \(it) \(c.d)")
                twins += 1
            }
        }
        for isa in [QTOP_ISA_AVX2, QTOP_ISA_AVX512_CORE, QTOP_ISA_AVX512_VNNI].map({ Int32($0.rawValue) })
        where usableIsas().contains(isa) {
            XCTAssertEqual(compared[isa, default: 0], cases, "narrow cases at \(String(cString: qtop_isa_name(isa)))")
        }
        if twinAvailable { XCTAssertEqual(twins, cases) }
    }

    /// The sums' extremes over a 5×5 × 40 reduction: every activation -128 (s8; stored +128 on the vpdpbusd rows) or
    /// 255 (u8) against ±127 / -128 weights, f32 output so every accumulator bit reaches the output; 24 and 20
    /// channels, a width (23) that leaves a partial tile on every row.
    func testNarrowExtremes() {
        for (srcByte, wv, s8) in [(UInt8(0x80), Int8(-128), true), (0x80, 127, true), (0x7F, -128, true),
                                  (0xFF, -128, false), (0xFF, 127, false)] as [(UInt8, Int8, Bool)] {
            for oc in [24, 20] {
                var d = qtop_qconv_desc()
                d.n = 1; d.h = 6; d.w = 23; d.ic = 40; d.oc = Int32(oc); d.kh = 5; d.kw = 5
                d.stride_h = 1; d.stride_w = 1; d.dil_h = 1; d.dil_w = 1; d.groups = 1
                d.pad_t = 2; d.pad_b = 2; d.pad_l = 2; d.pad_r = 2
                d.src_dt = Int32((s8 ? QTOP_DT_S8 : QTOP_DT_U8).rawValue); d.dst_dt = Int32(QTOP_DT_F32.rawValue)
                d.res_dt = Int32(QTOP_DT_NONE.rawValue)
                d.in_range = 127; d.out_range = 1
                let c = Case(d: d, src: [UInt8](repeating: srcByte, count: 6 * 23 * 40),
                             w: [Int8](repeating: wv, count: oc * 40 * 25), ranges: [Float](repeating: 127, count: oc),
                             bias: nil, res: [])
                let ref = runConv(c, isa: 0, threaded: false)!
                if oc == 24 && srcByte == 0x80 { XCTAssertEqual(ref, specConv(c)) }   // the slow Swift spec: twice
                for isa in usableIsas() where isa != 0 && kernelName(prefix: "q8_narrow_", d, isa: isa) != nil {
                    XCTAssertEqual(runConv(c, isa: isa, threaded: true), ref, "isa \(isa) src \(srcByte) w \(wv) oc \(oc)")
                }
                if twinAvailable {
                    XCTAssertEqual(runConv(c, isa: Int32(QTOP_ISA_AVX2_VNNI.rawValue), threaded: false, twin: true), ref,
                                   "twin src \(srcByte) w \(wv) oc \(oc)")
                }
            }
        }
    }

    /// DBNet's 3×3 96→24 takes the narrow kernel on every x86 row; 32 output channels, 16 (but with few input
    /// channels or at avx2), short output rows, groups, 1×1 and the few-channel stems do not.
    func testNarrowSelection() throws {
        let rows: [(Int32, String)] = [(Int32(QTOP_ISA_AVX2.rawValue), "q8_narrow_s16_ymm_avx2"),
                                       (Int32(QTOP_ISA_AVX512_CORE.rawValue), "q8_narrow_s16_ymm_avx512"),
                                       (Int32(QTOP_ISA_AVX512_VNNI.rawValue), "q8_narrow_u8_ymm_avx512vnni")]
        var d = qtop_qconv_desc()
        d.n = 1; d.h = 80; d.w = 80; d.ic = 96; d.oc = 24; d.kh = 3; d.kw = 3; d.pad_t = 1; d.pad_b = 1; d.pad_l = 1; d.pad_r = 1
        d.stride_h = 1; d.stride_w = 1; d.dil_h = 1; d.dil_w = 1; d.groups = 1
        d.src_dt = Int32(QTOP_DT_S8.rawValue); d.dst_dt = Int32(QTOP_DT_F32.rawValue); d.res_dt = Int32(QTOP_DT_NONE.rawValue)
        d.in_range = 1; d.out_range = 1
        var tested = 0
        for (isa, name) in rows where usableIsas().contains(isa) {
            XCTAssertEqual(kernelName(prefix: "q8_narrow_", d, isa: isa), name)
            var e = d
            e.oc = 32   // whole 16-channel GEMM blocks with 2 (or 6) pixels per narrow call: the GEMM measured faster
            XCTAssertNil(kernelName(prefix: "q8_narrow_", e, isa: isa))
            e = d
            e.oc = 16   // whole blocks: the narrow path only at avx2 (whose u8 GEMM checks every tile for bytes > 127)
            XCTAssertEqual(kernelName(prefix: "q8_narrow_", e, isa: isa) != nil, isa == Int32(QTOP_ISA_AVX2.rawValue))
            e.ic = 8
            XCTAssertEqual(kernelName(prefix: "q8_narrow_", e, isa: isa), name)
            e = d
            e.oc = 8; e.w = 14   // 14 output pixels in 24-pixel tiles (AVX-512 rows) or 2 × 12 (avx2): too much waste
            XCTAssertNil(kernelName(prefix: "q8_narrow_", e, isa: isa))
            e = d
            e.oc = 48; e.groups = 2
            XCTAssertNil(kernelName(prefix: "q8_narrow_", e, isa: isa))
            e = d
            e.kh = 1; e.kw = 1
            XCTAssertNil(kernelName(prefix: "q8_narrow_", e, isa: isa))
            e = d
            e.ic = 3
            XCTAssertNil(kernelName(prefix: "q8_narrow_", e, isa: isa))
            tested += 1
        }
        if tested == 0 { throw XCTSkip("no x86 int8 row on this CPU") }
    }
}
