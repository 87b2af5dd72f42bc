import CQtopKernels
import Foundation
import QtopFormat
import QtopGraph
import QtopRuntime
import XCTest

/// q8_deconv.c (qconv2d_transpose) against the Swift integer oracle, bit for bit, at every ISA this machine has,
/// serial and on two threads: exact cover (kernel == stride) and scatter-accumulate (overlap, gaps, padding,
/// output_padding, dilation), groups, u8 / s8 input (every byte value), u8 / s8 / f32 output, every epilogue
/// activation.
final class Int8DeconvTests: XCTestCase {
    let pool = NativeThreadPool(threads: 2)
    static let acts: [(Int32, EpilogueActivation)] = [(0, .none), (1, .relu), (2, .relu6), (3, .hard_swish), (QTOP_ACT_SIGMOID, .sigmoid),
                                                      (QTOP_ACT_HARD_SIGMOID, .hard_sigmoid), (QTOP_ACT_SWISH, .swish)]

    struct Case {
        var d = qtop_qdeconv_desc()
        var extra = 0
        var src: [UInt8] = []
        var w: [Int8] = []
        var ranges: [Float] = []
        var bias: [Float] = []
        var act = EpilogueActivation.none
    }

    func oracle(_ c: Case) throws -> [UInt8] {
        let d = c.d
        let ocg = Int(d.oc / d.groups)
        let x = HostTensor(dtype: d.src_dt == Int32(QTOP_DT_U8.rawValue) ? .u8 : .i8, shape: [Int(d.n), Int(d.h), Int(d.w), Int(d.ic)])
        c.src.withUnsafeBytes { x.raw.copyMemory(from: $0.baseAddress!, byteCount: c.src.count) }
        let wt = HostTensor(dtype: .i8, shape: [Int(d.ic), ocg, Int(d.kh), Int(d.kw)])
        c.w.withUnsafeBytes { wt.raw.copyMemory(from: $0.baseAddress!, byteCount: c.w.count) }
        let outType: QDataType = d.dst_dt == Int32(QTOP_DT_U8.rawValue) ? .u8 : (d.dst_dt == Int32(QTOP_DT_S8.rawValue) ? .s8 : .f32)
        let (n, oc, oh, ow) = (Int(d.n), Int(d.oc), Int(d.oh), Int(d.ow))
        let out = HostTensor(dtype: outType.dtype, shape: outType == .f32 ? [n, oc, oh, ow] : [n, oh, ow, oc])
        var e = IntegerEpilogue(inScale: d.in_range, weightScales: c.ranges, bias: c.bias, activation: c.act, outType: outType,
                                outScale: d.out_range)
        e.slope = d.act_alpha
        e.offset = d.act_beta
        try IntegerOracle.convTranspose(input: Tensor(x), filter: Tensor(wt), output: Tensor(out), strides: [Int(d.stride_h), Int(d.stride_w)],
                                        paddings: [Int(d.pad_t), Int(d.pad_t), Int(d.pad_l), Int(d.pad_l)],
                                        dilations: [Int(d.dil_h), Int(d.dil_w)], groups: Int(d.groups),
                                        outputPadding: c.extra > 0 ? [c.extra, c.extra] : [], epilogue: e)
        return Array(UnsafeRawBufferPointer(start: out.raw, count: out.byteCount))
    }

    func native(_ c: Case, isa: Int32, threaded: Bool) -> [UInt8]? {
        var d = c.d
        if qtop_qdeconv_query(&d, isa, isa, nil, 0) == 0 { return nil }
        guard let h = qtop_qdeconv_create(&d, c.w, c.ranges, c.bias, isa) else { XCTFail("create"); return nil }
        defer { qtop_qdeconv_destroy(h) }
        var out = [UInt8](repeating: 0xCD, count: Int(d.n * d.oc * d.oh * d.ow) * dtSize(d.dst_dt))
        c.src.withUnsafeBytes { s in
            out.withUnsafeMutableBytes { o in qtop_qdeconv_run(h, s.baseAddress, o.baseAddress, threaded ? pool.handleForTests : nil) }
        }
        return out
    }

    func randomCase(_ r: inout XorShift, _ it: Int) -> Case {
        var c = Case()
        var d = qtop_qdeconv_desc()
        d.n = Int32(r.int(1, 2)); d.h = Int32(r.int(1, 7)); d.w = Int32(r.int(1, 23)); d.groups = Int32(it % 5 == 4 ? r.int(2, 3) : 1)
        d.ic = d.groups * Int32(r.int(1, it % 7 == 0 ? 40 : 12)); d.oc = d.groups * Int32(r.int(1, it % 6 == 0 ? 40 : 9))
        d.stride_h = Int32(r.int(1, 3)); d.stride_w = Int32(r.int(1, 3)); d.dil_h = 1; d.dil_w = 1
        if it % 3 == 0 {
            d.kh = d.stride_h; d.kw = d.stride_w   // exact cover
        } else {
            d.kh = Int32(r.int(1, 4)); d.kw = Int32(r.int(1, 4)); d.dil_h = Int32(r.int(1, 2)); d.dil_w = Int32(r.int(1, 2))
            if r.bool() { d.pad_t = Int32(r.int(0, 2)); d.pad_l = Int32(r.int(0, 2)) }
            c.extra = r.int(0, 1)
        }
        func base(_ i: Int32, _ k: Int32, _ s: Int32, _ dl: Int32, _ p: Int32) -> Int32 { (i - 1) * s - 2 * p + dl * (k - 1) + 1 }
        d.oh = base(d.h, d.kh, d.stride_h, d.dil_h, d.pad_t) + Int32(c.extra)
        d.ow = base(d.w, d.kw, d.stride_w, d.dil_w, d.pad_l) + Int32(c.extra)
        if d.oh <= 0 || d.ow <= 0 || Int32(c.extra) >= max(d.stride_h, d.dil_h) || Int32(c.extra) >= max(d.stride_w, d.dil_w) {
            d.pad_t = 0; d.pad_l = 0; c.extra = 0
            d.oh = base(d.h, d.kh, d.stride_h, d.dil_h, 0); d.ow = base(d.w, d.kw, d.stride_w, d.dil_w, 0)
        }
        let (code, act) = Self.acts[it % Self.acts.count]
        d.act = code; c.act = act
        d.src_dt = Int32(r.int(0, 1)); d.dst_dt = Int32(r.int(0, 2))
        d.in_range = r.float(0.5, 10); d.out_range = r.float(0.5, 8)
        d.act_alpha = r.bool() ? 0.2 : Float(1) / 6; d.act_beta = 0.5
        c.d = d
        c.src = r.bytes(Int(d.n * d.h * d.w * d.ic))
        c.w = r.bytes(Int(d.ic * (d.oc / d.groups) * d.kh * d.kw)).map { Int8(bitPattern: $0) }
        c.ranges = (0..<Int(d.oc)).map { _ in r.float(0.02, 1) * (r.int(0, 9) == 0 ? -1 : 1) }   // BN folds may flip signs
        c.bias = (0..<Int(d.oc)).map { _ in r.float(-6, 6) }
        return c
    }

    func testEveryISAMatchesTheOracle() throws {
        var r = XorShift(1313)
        var compared = 0, exact = 0, general = 0
        for it in 0..<72 {
            let c = randomCase(&r, it)
            let want = try oracle(c)
            for isa in usableIsas() {
                for threaded in [false, true] {
                    guard let got = native(c, isa: isa, threaded: threaded) else { continue }
                    XCTAssertEqual(got, want, "case \(it) isa \(String(cString: qtop_isa_name(isa))) threads \(threaded ? 2 : 1) \(c.d) extra \(c.extra)")
                    compared += 1
                }
            }
            let isExact = c.d.kh == c.d.stride_h && c.d.kw == c.d.stride_w && c.d.dil_h == 1 && c.d.dil_w == 1 && c.d.pad_t == 0 && c.d.pad_l == 0 && c.extra == 0
            if isExact { exact += 1 } else { general += 1 }
        }
        XCTAssertGreaterThan(exact, 20)
        XCTAssertGreaterThan(general, 30)
        XCTAssertGreaterThanOrEqual(compared, 144)
    }

    /// DBNet's head shapes (2×2 / stride 2, u8 in, u8 out with relu, then f32 out): both modes give the same bits.
    func testDBNetHeadShapes() throws {
        var r = XorShift(7)
        for (ic, oc, dst) in [(24, 6, QTOP_DT_U8), (6, 1, QTOP_DT_F32)] {
            var c = Case()
            var d = qtop_qdeconv_desc()
            d.n = 1; d.h = 10; d.w = 13; d.ic = Int32(ic); d.oc = Int32(oc); d.kh = 2; d.kw = 2; d.oh = 20; d.ow = 26
            d.stride_h = 2; d.stride_w = 2; d.dil_h = 1; d.dil_w = 1; d.groups = 1
            d.src_dt = Int32(QTOP_DT_U8.rawValue); d.dst_dt = Int32(dst.rawValue); d.act = dst == QTOP_DT_U8 ? 1 : 0
            d.in_range = 3.6; d.out_range = 5.2
            c.d = d
            c.act = dst == QTOP_DT_U8 ? .relu : .none
            c.src = r.bytes(Int(d.h * d.w * d.ic)).map { $0 & 0x7F }
            c.w = r.bytes(ic * oc * 4).map { Int8(bitPattern: $0 == 0x80 ? 0x81 : $0) }
            c.ranges = (0..<oc).map { _ in r.float(0.1, 0.6) }
            c.bias = (0..<oc).map { _ in r.float(-1, 1) }
            let want = try oracle(c)
            for isa in usableIsas() {
                var dd = c.d
                guard qtop_qdeconv_query(&dd, isa, isa, nil, 0) == 1, let h = qtop_qdeconv_create(&dd, c.w, c.ranges, c.bias, isa) else { continue }
                XCTAssertEqual(String(cString: qtop_qdeconv_mode(h)), "exact-cover")
                qtop_qdeconv_destroy(h)
                XCTAssertEqual(native(c, isa: isa, threaded: true), want, "isa \(isa) dst \(dst)")
            }
        }
    }

    func testRejectsBadDescriptors() {
        var d = qtop_qdeconv_desc()
        d.n = 1; d.ic = 4; d.h = 2; d.w = 2; d.oc = 4; d.kh = 2; d.kw = 2; d.oh = 4; d.ow = 4
        d.stride_h = 2; d.stride_w = 2; d.dil_h = 1; d.dil_w = 1; d.groups = 3; d.in_range = 1; d.out_range = 1
        var why = [CChar](repeating: 0, count: 128)
        XCTAssertEqual(qtop_qdeconv_query(&d, 0, 0, &why, why.count), 0)
        XCTAssertNil(qtop_qdeconv_create(&d, [Int8](repeating: 0, count: 64), [Float](repeating: 1, count: 4), nil, 0))
        d.groups = 1; d.in_range = 0
        XCTAssertEqual(qtop_qdeconv_query(&d, 0, 0, &why, why.count), 0)
        XCTAssertTrue(String(cString: why).contains("range"), String(cString: why))
        d.in_range = 1; d.src_dt = Int32(QTOP_DT_F32.rawValue)
        XCTAssertEqual(qtop_qdeconv_query(&d, 0, 0, &why, why.count), 0)
    }
}
