import CQtopKernels
import Foundation
import QtopFormat
import QtopGraph
import QtopRuntime
import XCTest

/// The int8 epilogue's sigmoid family (sigmoid, hard_sigmoid with slope / offset, swish): the C kernels at every
/// ISA this machine has against the Swift integer oracle, bit for bit, for int8 and f32 outputs; the fixed exp
/// against Foundation's; the post-conv float helper against the same scalar definitions.
final class Int8EpilogueActivationTests: XCTestCase {
    let pool = NativeThreadPool(threads: 2)
    static let acts: [(code: Int32, e: EpilogueActivation)] = [(QTOP_ACT_SIGMOID, .sigmoid), (QTOP_ACT_HARD_SIGMOID, .hard_sigmoid),
                                                               (QTOP_ACT_SWISH, .swish)]

    func testExpAndSigmoidAreAccurate() {
        var worst: Float = 0
        var x: Float = -80
        while x <= 80 {
            let want = Foundation.exp(Double(x))
            let got = Double(EpilogueMath.exp(x))
            worst = max(worst, Float(abs(got - want) / want))
            x += 0.01713
        }
        XCTAssertLessThan(worst, 4e-7, "relative error of the epilogue's exp")
        XCTAssertEqual(EpilogueMath.sigmoid(0), 0.5)
        XCTAssertEqual(EpilogueMath.sigmoid(200), 1)
        XCTAssertEqual(EpilogueMath.sigmoid(-200), Float(1) / (1 + EpilogueMath.exp(88)), "exp clamps at 88")
        XCTAssertEqual(EpilogueMath.exp(.nan), EpilogueMath.exp(-87), "NaN takes the lower clamp, as SIMD max does")
        XCTAssertEqual(EpilogueMath.hardSigmoid(10, slope: 0.2, offset: 0.5), 1)
        XCTAssertEqual(EpilogueMath.hardSigmoid(-10, slope: 0.2, offset: 0.5), 0)
        XCTAssertEqual(EpilogueMath.hardSigmoid(1, slope: 0.2, offset: 0.5), Float(1) * 0.2 + 0.5)
        XCTAssertEqual(EpilogueActivation.swish.apply(-1), -1 * EpilogueMath.sigmoid(-1))
    }

    /// A 1×1 or k×k conv with one of the sigmoid-family activations: native output at `isa` (nil when the ISA
    /// cannot serve the desc).
    func runNative(_ d0: qtop_qconv_desc, src: [UInt8], w: [Int8], ranges: [Float], bias: [Float], isa: Int32) -> [UInt8]? {
        var d = d0
        if qtop_qconv_query(&d, isa, isa, nil, 0) == 0 { return nil }
        let no = Int(d.n) * Int(qtop_qconv_out_h(&d)) * Int(qtop_qconv_out_w(&d)) * Int(d.oc)
        var out = [UInt8](repeating: 0xCD, count: no * dtSize(d.dst_dt))
        guard let h = qtop_qconv_create(&d, w, ranges, bias, isa) else { return nil }
        defer { qtop_qconv_destroy(h) }
        src.withUnsafeBytes { s in
            out.withUnsafeMutableBytes { o in qtop_qconv_run(h, s.baseAddress, o.baseAddress, nil, pool.handleForTests) }
        }
        return out
    }

    func oracle(_ d: qtop_qconv_desc, src: [UInt8], w: [Int8], ranges: [Float], bias: [Float], act: EpilogueActivation) throws -> [UInt8] {
        var dd = d
        let oh = Int(qtop_qconv_out_h(&dd)), ow = Int(qtop_qconv_out_w(&dd))
        let sdt: DType = d.src_dt == Int32(QTOP_DT_U8.rawValue) ? .u8 : .i8
        let x = HostTensor(dtype: sdt, shape: [Int(d.n), Int(d.h), Int(d.w), Int(d.ic)])
        src.withUnsafeBytes { x.raw.copyMemory(from: $0.baseAddress!, byteCount: src.count) }
        let wt = HostTensor(dtype: .i8, shape: [Int(d.oc), Int(d.ic / d.groups), Int(d.kh), Int(d.kw)])
        w.withUnsafeBytes { wt.raw.copyMemory(from: $0.baseAddress!, byteCount: w.count) }
        let outType: QDataType = d.dst_dt == Int32(QTOP_DT_U8.rawValue) ? .u8 : (d.dst_dt == Int32(QTOP_DT_S8.rawValue) ? .s8 : .f32)
        let out = HostTensor(dtype: outType.dtype, shape: [Int(d.n), oh, ow, Int(d.oc)])
        var e = IntegerEpilogue(inScale: d.in_range, weightScales: ranges, bias: bias, activation: act, outType: outType,
                                outScale: d.out_range)
        e.slope = d.act_alpha
        e.offset = d.act_beta
        try IntegerOracle.conv2d(input: Tensor(x), filter: Tensor(wt), output: Tensor(out), strides: [Int(d.stride_h), Int(d.stride_w)],
                                 paddings: [Int(d.pad_t), Int(d.pad_b), Int(d.pad_l), Int(d.pad_r)], groups: Int(d.groups), epilogue: e)
        return Array(UnsafeRawBufferPointer(start: out.raw, count: out.byteCount))
    }

    func testEveryISAMatchesTheOracle() throws {
        var r = XorShift(2026)
        var compared = 0
        for it in 0..<90 {
            let (code, act) = Self.acts[it % 3]
            var d = qtop_qconv_desc()
            d.n = 1; d.h = Int32(r.int(1, 6)); d.w = Int32(r.int(1, 9)); d.groups = 1
            switch it % 3 {
            case 0: d.kh = 1; d.kw = 1; d.ic = Int32(4 * r.int(1, 10)); d.oc = Int32(r.int(1, 70))   // direct 1×1
            case 1: d.kh = 3; d.kw = 3; d.ic = Int32(r.int(1, 12)); d.oc = Int32(r.int(1, 40)); d.pad_t = 1; d.pad_b = 1; d.pad_l = 1; d.pad_r = 1
            default: d.kh = 3; d.kw = 3; d.ic = Int32(r.int(1, 33)); d.oc = d.ic; d.groups = d.ic; d.pad_t = 1; d.pad_b = 1; d.pad_l = 1; d.pad_r = 1
            }
            d.stride_h = 1; d.stride_w = 1; d.dil_h = 1; d.dil_w = 1
            d.src_dt = Int32(r.int(0, 1)); d.dst_dt = Int32(r.int(0, 2)); d.res_dt = Int32(QTOP_DT_NONE.rawValue); d.act = code
            d.in_range = r.float(0.5, 10); d.out_range = r.float(0.5, 8)
            d.act_alpha = r.bool() ? 0.2 : Float(1) / 6; d.act_beta = 0.5
            let ns = Int(d.n * d.h * d.w * d.ic), nw = Int(d.oc * (d.ic / d.groups) * d.kh * d.kw)
            var src = r.bytes(ns)
            if d.src_dt == Int32(QTOP_DT_U8.rawValue) { src = src.map { $0 & 0x7F } }
            let w = r.bytes(nw).map { Int8(bitPattern: $0) }
            let ranges = (0..<Int(d.oc)).map { _ in r.float(0.05, 2) }
            let bias = (0..<Int(d.oc)).map { _ in r.float(-6, 6) }
            let want = try oracle(d, src: src, w: w, ranges: ranges, bias: bias, act: act)
            for isa in usableIsas() {
                guard let got = runNative(d, src: src, w: w, ranges: ranges, bias: bias, isa: isa) else { continue }
                XCTAssertEqual(got, want, "\(act) isa \(String(cString: qtop_isa_name(isa))) case \(it) \(d)")
                compared += 1
            }
        }
        XCTAssertGreaterThanOrEqual(compared, 90)
    }

    /// qmatmul carries the activation and its parameters through to the same epilogue.
    func testMatMulHardSigmoidMatchesTheOracle() throws {
        var r = XorShift(99)
        let (m, k, n) = (13, 24, 37)
        let xs = r.bytes(m * k).map { $0 & 0x7F }
        let w = r.bytes(k * n).map { Int8(bitPattern: $0) }
        let ranges = (0..<n).map { _ in r.float(0.05, 2) }
        let xt = HostTensor(dtype: .u8, shape: [m, k]), wt = HostTensor(dtype: .i8, shape: [k, n]), ot = HostTensor(dtype: .i8, shape: [m, n])
        xs.withUnsafeBytes { xt.raw.copyMemory(from: $0.baseAddress!, byteCount: xs.count) }
        w.withUnsafeBytes { wt.raw.copyMemory(from: $0.baseAddress!, byteCount: w.count) }
        var e = IntegerEpilogue(inScale: 3, weightScales: ranges, bias: nil, activation: .hard_sigmoid, outType: .s8, outScale: 1.1)
        e.slope = 0.25
        e.offset = 0.4
        try IntegerOracle.matmul(x: Tensor(xt), y: Tensor(wt), output: Tensor(ot), epilogue: e)
        let want = Array(UnsafeRawBufferPointer(start: ot.raw, count: m * n))
        var d = qtop_qmatmul_desc()
        d.m = Int32(m); d.k = Int32(k); d.n = Int32(n)
        d.src_dt = Int32(QTOP_DT_U8.rawValue); d.dst_dt = Int32(QTOP_DT_S8.rawValue); d.res_dt = Int32(QTOP_DT_NONE.rawValue)
        d.act = QTOP_ACT_HARD_SIGMOID; d.act_alpha = 0.25; d.act_beta = 0.4
        d.in_range = 3; d.out_range = 1.1
        for isa in usableIsas() where qtop_qmatmul_query(&d, isa, isa, nil, 0) != 0 {
            guard let h = qtop_qmatmul_create(&d, w, ranges, nil, isa) else { return XCTFail("create failed") }
            var out = [UInt8](repeating: 0xCD, count: m * n)
            xs.withUnsafeBytes { x in out.withUnsafeMutableBytes { qtop_qmatmul_run(h, x.baseAddress, $0.baseAddress, nil, nil) } }
            qtop_qmatmul_destroy(h)
            XCTAssertEqual(out, want, "isa \(String(cString: qtop_isa_name(isa)))")
        }
    }

    /// qtop_act_apply_f32 (after fp32 convs whose epilogue lacks the activation) computes the same scalar functions.
    func testFloatPostActivationMatchesTheDefinitions() {
        var r = XorShift(5)
        let xs = (0..<40_000).map { _ in r.float(-30, 30) }
        for (code, act) in Self.acts {
            var y = xs
            y.withUnsafeMutableBufferPointer { qtop_act_apply_f32($0.baseAddress, Int64($0.count), code, 0.2, 0.5, pool.handleForTests) }
            XCTAssertEqual(y.map(\.bitPattern), xs.map { act.apply($0, slope: 0.2, offset: 0.5).bitPattern }, "\(act)")
        }
    }
}
