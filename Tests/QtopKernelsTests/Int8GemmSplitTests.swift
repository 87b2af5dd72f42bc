import CQtopKernels
import Foundation
import XCTest

/// The int8 GEMM driver's task shapes (q8_conv.c): row tiles shared by several output-channel splits (the im2col /
/// s16 widening built once per run and read by every split, per group), and epilogue calls spanning many rows
/// (small K, narrow outputs) or few (wide f32 outputs with an f32 residual): every ISA against the generic
/// kernel, serial and on two threads.
extension Int8KernelTests {
    func testGemmSplitsAndEpilogueChunksAllISAs() {
        var r = XorShift(606)
        // (h, w, ic, oc, k, stride, groups, src s8, out: 0 u8 / 1 s8 / 2 f32 + f32 residual)
        let shapes: [(Int32, Int32, Int32, Int32, Int32, Int32, Int32, Bool, Int)] = [
            (5, 5, 24, 200, 3, 1, 1, false, 0),    // k×k, few rows, many channels: channel splits share the im2col
            (4, 4, 16, 260, 3, 1, 2, false, 1),    // grouped, > 64 channels per group: shared A per group
            (6, 3, 20, 150, 3, 2, 1, true, 0),     // s8 activations (s16 or s8 kernels), strided
            (4, 5, 40, 150, 1, 1, 1, true, 2),     // 1×1 s8: the widened run shared by the splits
            (20, 20, 8, 40, 1, 1, 1, false, 0),    // small K, narrow output: long epilogue chunks
            (14, 14, 24, 300, 1, 1, 1, false, 2),  // wide f32 output + residual: short epilogue chunks
            (9, 9, 12, 96, 3, 1, 1, false, 2),
        ]
        var compared = 0
        for (it, s) in shapes.enumerated() {
            var d = qtop_qconv_desc()
            d.n = 1; d.h = s.0; d.w = s.1; d.ic = s.2; d.oc = s.3; d.kh = s.4; d.kw = s.4
            d.stride_h = s.5; d.stride_w = s.5; d.dil_h = 1; d.dil_w = 1; d.groups = s.6
            d.pad_t = s.4 / 2; d.pad_b = s.4 / 2; d.pad_l = s.4 / 2; d.pad_r = s.4 / 2
            d.src_dt = Int32(s.7 ? QTOP_DT_S8.rawValue : QTOP_DT_U8.rawValue)
            d.act = Int32(QTOP_ACT_RELU.rawValue); d.res_dt = Int32(QTOP_DT_NONE.rawValue)
            d.dst_dt = Int32([QTOP_DT_U8, QTOP_DT_S8, QTOP_DT_F32][s.8].rawValue)
            if s.8 == 2 { d.res_dt = Int32(QTOP_DT_F32.rawValue) }
            d.in_range = r.float(0.5, 10); d.out_range = r.float(1, 100)
            let no = Int(qtop_qconv_out_h(&d) * qtop_qconv_out_w(&d) * d.oc)
            var src = r.bytes(Int(d.h * d.w * d.ic))
            if !s.7 { src = src.map { $0 & 0x7F } }
            // no -128 weights, so the s8-reading kernels serve the s8 cases where a row has them
            let w = r.bytes(Int(d.oc * (d.ic / d.groups) * d.kh * d.kw)).map { $0 == 0x80 ? Int8(-127) : Int8(bitPattern: $0) }
            let res = s.8 == 2 ? (0..<no).map { _ in r.float(-10, 10) }.withUnsafeBytes { Array($0) } : []
            let c = Case(d: d, src: src, w: w, ranges: (0..<Int(d.oc)).map { _ in r.float(0.05, 2) },
                         bias: (0..<Int(d.oc)).map { _ in r.float(-5, 5) }, res: res)
            guard let ref = runConv(c, isa: 0, threaded: false) else { return XCTFail("generic create failed") }
            XCTAssertEqual(ref, specConv(c), "generic case \(it)")
            for isa in usableIsas() where isa != 0 {
                if qtop_qconv_query(&d, isa, isa, nil, 0) == 0 { continue }
                for threaded in [false, true] {
                    XCTAssertEqual(runConv(c, isa: isa, threaded: threaded), ref, "isa \(isa) case \(it) threaded \(threaded)")
                }
                compared += 1
            }
        }
        if usableIsas().count > 1 { XCTAssertGreaterThan(compared, 7) }
    }
}
