import CQtopKernels
import Foundation
import QtopRuntime
import XCTest

/// The avx2_vnni row checked on a CPU without AVX-VNNI: its GEMM kernels are one template compiled twice
/// (q8_avxvnni_gemm.h), VEX vpdpbusd for the row and EVEX vpdpbusd on ymm (AVX512VL + AVX512_VNNI, the same
/// instruction semantics) for the twin, which `qtop_qconv_create_twin` runs through the same driver, tiles and
/// epilogue. On a CPU with AVX-VNNI the row itself is in `usableIsas()` and the all-ISA tests cover it.
extension Int8KernelTests {
    func runTwin(_ c: Case, threaded: Bool) -> [UInt8]? {
        runConv(c, isa: Int32(QTOP_ISA_AVX2_VNNI.rawValue), threaded: threaded, twin: true)
    }

    func requireTwin() throws {
        let vnni512 = (qtop_cpu_isa_mask() >> UInt32(QTOP_ISA_AVX512_VNNI.rawValue)) & 1 == 1
        try XCTSkipUnless(vnni512, "the avx2_vnni twin needs AVX512VL + AVX512_VNNI")
    }

    /// Random 1×1 (direct and im2col), k×k, grouped convs, u8 and s8 (shifted) activations with 0…255 bytes, every
    /// output / residual type and activation: the twin bit-exact against the generic C reference.
    func testAvx2VnniTwinConvBitExact() throws {
        try requireTwin()
        var r = XorShift(31337)
        var compared = 0
        for it in 0..<180 {
            var c = randomCase(&r, kind: it % 3)
            if it % 2 == 0 { c.src = r.bytes(c.src.count) }   // full 0…255 (and s8 -128…127): no bound on this kernel
            guard let ref = runConv(c, isa: 0, threaded: false) else { return XCTFail("generic create failed") }
            guard let got = runTwin(c, threaded: it % 2 == 1) else { return XCTFail("twin create failed case \(it) \(c.d)") }
            XCTAssertEqual(got, ref, "avx2_vnni twin case \(it) \(c.d)")
            compared += 1
        }
        XCTAssertEqual(compared, 180)
        // depthwise is not served by this row (the avx2 row below it serves it): the twin says so by returning nil
        XCTAssertNil(runTwin(randomCase(&r, kind: 3), threaded: false))
    }

    /// Shapes that walk every row count 1…6 of the 6×16 tile and channel tails (oc not a multiple of 16, of 64),
    /// long K, and the accumulator extremes 255 × -128 / 255 × 127 (u8) and -128 × -128 (s8, shifted to 0 × -128
    /// plus the correction), f32 output so every accumulator bit reaches the output.
    func testAvx2VnniTwinTilesAndExtremes() throws {
        try requireTwin()
        for (srcByte, u8) in [(UInt8(255), true), (0x80, false), (0x7F, false), (0x00, true)] {
            for wv: Int8 in [127, -128] {
                for (h, w, ic, oc, k) in [(1, 7, 256, 33, 3), (2, 5, 64, 80, 1), (1, 13, 1024, 17, 1)] {
                    var d = qtop_qconv_desc()
                    d.n = 1; d.h = Int32(h); d.w = Int32(w); d.ic = Int32(ic); d.oc = Int32(oc); d.kh = Int32(k); d.kw = Int32(k)
                    d.stride_h = 1; d.stride_w = 1; d.dil_h = 1; d.dil_w = 1; d.groups = 1
                    d.pad_t = Int32(k / 2); d.pad_b = d.pad_t; d.pad_l = d.pad_t; d.pad_r = d.pad_t
                    d.src_dt = Int32(u8 ? QTOP_DT_U8.rawValue : QTOP_DT_S8.rawValue)
                    d.dst_dt = Int32(QTOP_DT_F32.rawValue); d.res_dt = Int32(QTOP_DT_NONE.rawValue); d.in_range = 127; d.out_range = 1
                    let c = Case(d: d, src: [UInt8](repeating: srcByte, count: h * w * ic), w: [Int8](repeating: wv, count: oc * ic * k * k),
                                 ranges: [Float](repeating: 127, count: oc), bias: nil, res: [])
                    let ref = runConv(c, isa: 0, threaded: false)!
                    XCTAssertEqual(runTwin(c, threaded: true), ref, "src \(srcByte) u8 \(u8) w \(wv) shape \(h)x\(w)x\(ic)->\(oc) k\(k)")
                }
            }
        }
    }

    /// A conv large enough for the driver's other loop order (serial: 9 row tiles, 415 KB of packed weights, above
    /// the 384 KB bound, so channel groups outer and row tiles inner) and, on two threads, for output-channel
    /// splits, with an f32 residual and f32 output: the twin against the generic reference.
    func testAvx2VnniTwinChannelsOuterLoop() throws {
        try requireTwin()
        var r = XorShift(77)
        var d = qtop_qconv_desc()
        d.n = 1; d.h = 14; d.w = 14; d.ic = 64; d.oc = 720; d.kh = 3; d.kw = 3
        d.stride_h = 1; d.stride_w = 1; d.dil_h = 1; d.dil_w = 1; d.groups = 1
        d.pad_t = 1; d.pad_b = 1; d.pad_l = 1; d.pad_r = 1
        d.src_dt = Int32(QTOP_DT_U8.rawValue); d.dst_dt = Int32(QTOP_DT_F32.rawValue); d.res_dt = Int32(QTOP_DT_F32.rawValue)
        d.act = Int32(QTOP_ACT_RELU.rawValue); d.in_range = 3; d.out_range = 1
        let no = 14 * 14 * 720
        let c = Case(d: d, src: r.bytes(14 * 14 * 64), w: r.bytes(720 * 64 * 9).map { Int8(bitPattern: $0) },
                     ranges: (0..<720).map { _ in r.float(0.05, 2) }, bias: (0..<720).map { _ in r.float(-5, 5) },
                     res: (0..<no).map { _ in r.float(-10, 10) }.withUnsafeBytes { Array($0) })
        guard let ref = runConv(c, isa: 0, threaded: true) else { return XCTFail("generic create failed") }
        XCTAssertEqual(runTwin(c, threaded: false), ref, "serial")
        XCTAssertEqual(runTwin(c, threaded: true), ref, "threaded")
    }
}

/// The row in dispatch: compiled into every x86-64 build, chosen under `--isa avx2_vnni` (or a higher cap) only on a
/// CPU with AVX-VNNI; elsewhere that cap serves the avx2 kernels, as before the row existed.
extension RegistryTests {
    func testAvx2VnniRowDispatchUnderItsCap() throws {
        #if arch(x86_64)
        let bit = UInt32(QTOP_ISA_AVX2_VNNI.rawValue)
        XCTAssertEqual((qtop_compiled_isa_mask() >> bit) & 1, 1, "avx2_vnni row compiled in")
        let cpuHas = NativeCPU.isaSet.contains(.avx2_vnni)
        XCTAssertEqual(NativeCPU.usableISAs.contains(.avx2_vnni), cpuHas, "usable (UI's ISA list) exactly when the CPU has it")
        try XCTSkipUnless(NativeCPU.isaSet.contains(.avx2), "needs AVX2")
        let reg = KernelRegistry()
        registerNativeKernels(reg)
        for (kh, groups, ic, oc, fam) in [(1, 1, 16, 24, "conv1x1"), (3, 1, 5, 20, "conv"), (3, 12, 12, 12, "dwconv")] {
            let (g, node, x) = qconvGraph(kh: kh, groups: groups, ic: ic, oc: oc, residual: false)
            let (kRef, _, _) = try choose(reg, node, g, cap: .generic)
            let ref = try runNode(kRef, x, oc, threads: .serial)
            let (k, t, _) = try choose(reg, node, g, cap: .avx2_vnni)
            XCTAssertEqual(t, "\(fam):\(cpuHas && fam != "dwconv" ? "avx2_vnni" : "avx2"):i8")
            XCTAssertEqual(try runNode(k, x, oc, threads: .serial), ref, t)
        }
        var d = qtop_qconv_desc()
        d.n = 1; d.h = 2; d.w = 2; d.ic = 8; d.oc = 16; d.kh = 1; d.kw = 1; d.stride_h = 1; d.stride_w = 1; d.dil_h = 1; d.dil_w = 1
        d.groups = 1; d.dst_dt = Int32(QTOP_DT_U8.rawValue); d.res_dt = Int32(QTOP_DT_NONE.rawValue); d.in_range = 1; d.out_range = 1
        var why = [CChar](repeating: 0, count: 256)
        let ok = qtop_qconv_query(&d, Int32(bit), Int32(bit), &why, why.count)
        let note = String(decoding: why.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        XCTAssertEqual(ok, cpuHas ? 1 : 0, note)
        XCTAssertEqual(note, cpuHas ? "q8_gemm_u8_6x16c4_avx2vnni" : "avx2_vnni: cpu lacks avx2_vnni")
        #endif
    }
}
