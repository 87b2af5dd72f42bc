import CQtopKernels
import Foundation
import XCTest

/// The stem path (q8_stem.c: 1–4 input channels, output pixels along the lanes, padded rows of channel words)
/// against the generic C reference, bit for bit, on every ISA row that has a stem kernel, with 1 and 2 threads:
/// odd widths and heights (partial pixel blocks), padding, stride 1–3, dilation (per-tap words) and stride × ic
/// even without it (flat s16 pairs), 1–4 input channels, output channels that are not a multiple of 16 (partial
/// 8-channel chunks), u8 (full 0...255) and s8 activations.
extension Int8KernelTests {
    private func stemCase(_ r: inout XorShift, wide: Bool) -> Case {
        var d = qtop_qconv_desc()
        repeat {
            d = qtop_qconv_desc()
            d.n = Int32(r.int(1, 2)); d.groups = 1
            d.h = Int32(2 * r.int(0, wide ? 12 : 6) + 1); d.w = Int32(2 * r.int(0, wide ? 24 : 9) + 1)
            if r.int(0, 3) == 0 { d.w += 1 }
            d.ic = Int32(r.int(1, 4))
            repeat { d.oc = Int32(r.int(1, 70)) } while d.oc % 16 == 0
            repeat { d.kh = Int32(r.int(1, 7)); d.kw = Int32(r.int(1, 7)) } while d.kh * d.kw < 2   // 1×1 stays a GEMM
            d.stride_h = Int32(r.int(1, 3)); d.stride_w = Int32(r.int(1, 3))
            if r.int(0, 3) == 0 { d.dil_h = 2; d.dil_w = Int32(r.int(1, 2)) } else { d.dil_h = 1; d.dil_w = 1 }
            d.pad_t = Int32(r.int(0, 3)); d.pad_b = Int32(r.int(0, 3)); d.pad_l = Int32(r.int(0, 3)); d.pad_r = Int32(r.int(0, 3))
            d.src_dt = Int32(r.int(0, 1)); d.dst_dt = Int32(r.int(0, 2)); d.res_dt = Int32(r.int(0, 3)); d.act = Int32(r.int(0, 3))
            d.in_range = r.float(0.5, 10); d.out_range = r.float(1, 100); d.res_range = r.float(1, 5)
        } while qtop_qconv_out_h(&d) <= 0 || qtop_qconv_out_w(&d) <= 0
        return randomOperands(for: d, &r)
    }

    func testStemAllISAsBitExactOneAndTwoThreads() {
        var r = XorShift(20261202)
        var compared: [Int32: Int] = [:]
        for it in 0..<90 {
            let c = stemCase(&r, wide: it % 3 == 0)
            guard let ref = runConv(c, isa: 0, threaded: false) else { return XCTFail("generic create failed") }
            if it % 10 == 0 { XCTAssertEqual(ref, specConv(c), "generic case \(it) \(c.d)") }
            for isa in usableIsas() where isa != 0 {
                guard kernelName(prefix: "q8_stem_", c.d, isa: isa) != nil else { continue }
                for threaded in [false, true] {
                    XCTAssertEqual(runConv(c, isa: isa, threaded: threaded), ref,
                                   "isa \(String(cString: qtop_isa_name(isa))) threads \(threaded ? 2 : 1) case \(it) \(c.d)")
                }
                compared[isa, default: 0] += 1
            }
        }
        for isa in [QTOP_ISA_AVX2, QTOP_ISA_AVX512_CORE, QTOP_ISA_AVX512_VNNI].map({ Int32($0.rawValue) })
        where usableIsas().contains(isa) {
            XCTAssertEqual(compared[isa, default: 0], 90, "stem cases at \(String(cString: qtop_isa_name(isa)))")
        }
    }

    /// The sums' extremes: every activation -128 (s8, stored +128 on the vpdpbusd row) or 255 (u8) against ±127 /
    /// -128 weights over a 7×7 × 4 reduction, with f32 output so the int32 accumulator stays visible.
    func testStemExtremes() {
        for (srcByte, wv, s8) in [(UInt8(0x80), Int8(-128), true), (0x80, 127, true), (0x7F, -128, true),
                                  (0xFF, -128, false), (0xFF, 127, false)] as [(UInt8, Int8, Bool)] {
            var d = qtop_qconv_desc()
            d.n = 1; d.h = 9; d.w = 21; d.ic = 4; d.oc = 24; d.kh = 7; d.kw = 7
            d.stride_h = 2; d.stride_w = 2; d.dil_h = 1; d.dil_w = 1; d.groups = 1
            d.pad_t = 3; d.pad_b = 3; d.pad_l = 3; d.pad_r = 3
            d.src_dt = Int32((s8 ? QTOP_DT_S8 : QTOP_DT_U8).rawValue); d.dst_dt = Int32(QTOP_DT_F32.rawValue)
            d.res_dt = Int32(QTOP_DT_NONE.rawValue)
            d.in_range = 127; d.out_range = 1
            let c = Case(d: d, src: [UInt8](repeating: srcByte, count: 9 * 21 * 4),
                         w: [Int8](repeating: wv, count: 24 * 4 * 49), ranges: [Float](repeating: 127, count: 24),
                         bias: nil, res: [])
            let ref = runConv(c, isa: 0, threaded: false)!
            XCTAssertEqual(ref, specConv(c))
            for isa in usableIsas() where isa != 0 && kernelName(prefix: "q8_stem_", d, isa: isa) != nil {
                XCTAssertEqual(runConv(c, isa: isa, threaded: true), ref, "isa \(isa) src \(srcByte) w \(wv)")
            }
        }
    }

    /// Convs with 1–4 input channels and one group (resnet's 7×7 3→64 too) take the stem kernel on every x86 row;
    /// 5 channels or groups do not.
    func testStemSelection() throws {
        let rows: [(Int32, String)] = [(Int32(QTOP_ISA_AVX2.rawValue), "q8_stem_s16_8px_avx2"),
                                       (Int32(QTOP_ISA_AVX512_CORE.rawValue), "q8_stem_s16_16px_avx512"),
                                       (Int32(QTOP_ISA_AVX512_VNNI.rawValue), "q8_stem_u8_16px_avx512vnni")]
        var d = qtop_qconv_desc()
        d.n = 1; d.h = 32; d.w = 32; d.ic = 3; d.oc = 8; d.kh = 3; d.kw = 3; d.pad_t = 1; d.pad_b = 1; d.pad_l = 1; d.pad_r = 1
        d.stride_h = 2; d.stride_w = 2; d.dil_h = 1; d.dil_w = 1; d.groups = 1
        d.src_dt = Int32(QTOP_DT_S8.rawValue); d.dst_dt = Int32(QTOP_DT_F32.rawValue); d.res_dt = Int32(QTOP_DT_NONE.rawValue)
        d.in_range = 1; d.out_range = 1
        var tested = 0
        for (isa, name) in rows where usableIsas().contains(isa) {
            XCTAssertEqual(kernelName(prefix: "q8_stem_", d, isa: isa), name)
            var e = d
            e.ic = 5
            XCTAssertNil(kernelName(prefix: "q8_stem_", e, isa: isa))
            e = d
            e.ic = 4; e.oc = 4; e.groups = 2
            XCTAssertNil(kernelName(prefix: "q8_stem_", e, isa: isa))
            e = d
            e.kh = 1; e.kw = 1   // no window: the GEMM (q8_deconv.c's inner 1×1 relies on its packing)
            XCTAssertNil(kernelName(prefix: "q8_stem_", e, isa: isa))
            e = d
            e.kh = 7; e.kw = 7; e.oc = 64
            XCTAssertEqual(kernelName(prefix: "q8_stem_", e, isa: isa), name)
            tested += 1
        }
        if tested == 0 { throw XCTSkip("no x86 int8 row on this CPU") }
    }
}
