import CQtopKernels
import Foundation
import QtopRuntime
import XCTest

/// Every int8 kernel on every ISA this machine has must match the generic C reference bit for bit,
/// and the generic reference must match a direct Swift transcription of docs/int8-semantics.md.
final class Int8KernelTests: XCTestCase {
    let pool = NativeThreadPool(threads: 2)

    struct Case {
        var d: qtop_qconv_desc
        var src: [UInt8], w: [Int8], ranges: [Float], bias: [Float]?, res: [UInt8]
    }

    /// Random weights, ranges, optional bias, input and residual (finite) for a descriptor a test has already drawn.
    func randomOperands(for d: qtop_qconv_desc, _ r: inout XorShift) -> Case {
        var d = d
        let no = Int(d.n) * Int(qtop_qconv_out_h(&d)) * Int(qtop_qconv_out_w(&d)) * Int(d.oc)
        let src = r.bytes(Int(d.n * d.h * d.w * d.ic))
        let w = r.bytes(Int(d.oc * d.ic * d.kh * d.kw)).map { Int8(bitPattern: $0) }
        let ranges = (0..<Int(d.oc)).map { _ in r.float(0.05, 2) }
        let bias: [Float]? = r.bool() ? (0..<Int(d.oc)).map { _ in r.float(-10, 10) } : nil
        let res: [UInt8] = d.res_dt == Int32(QTOP_DT_F32.rawValue)
            ? (0..<no).map { _ in r.float(-10, 10) }.withUnsafeBytes { Array($0) } : r.bytes(no)
        return Case(d: d, src: src, w: w, ranges: ranges, bias: bias, res: res)
    }

    /// The kernel qtop_qconv_query picks for d at isa, if its name starts with prefix (which path serves the shape).
    func kernelName(prefix: String, _ d: qtop_qconv_desc, isa: Int32) -> String? {
        var d = d
        var why = [CChar](repeating: 0, count: 256)
        guard qtop_qconv_query(&d, isa, isa, &why, why.count) == 1 else { return nil }
        let name = String(cString: why)
        return name.hasPrefix(prefix) ? name : nil
    }

    func randomCase(_ r: inout XorShift, kind: Int) -> Case {
        var d = qtop_qconv_desc()
        while true {
            d = qtop_qconv_desc()
            d.n = Int32(r.int(1, 2)); d.h = Int32(r.int(1, 8)); d.w = Int32(r.int(1, 8)); d.groups = 1
            switch kind {
            case 0: d.kh = 1; d.kw = 1; d.ic = Int32(r.int(1, 40)); d.oc = Int32(r.int(1, 80))
            case 1: d.kh = Int32(r.int(1, 4)); d.kw = Int32(r.int(1, 4)); d.ic = Int32(r.int(1, 20)); d.oc = Int32(r.int(1, 70))
            case 2:
                d.groups = Int32(r.int(2, 4)); d.kh = Int32(r.int(1, 3)); d.kw = Int32(r.int(1, 3))
                d.ic = d.groups * Int32(r.int(1, 6)); d.oc = d.groups * Int32(r.int(1, 20))
            default:
                d.ic = Int32(r.int(1, 40)); d.oc = d.ic; d.groups = d.ic; d.kh = Int32(r.int(1, 5)); d.kw = Int32(r.int(1, 5))
            }
            d.stride_h = Int32(r.int(1, 3)); d.stride_w = Int32(r.int(1, 3)); d.dil_h = Int32(r.int(1, 2)); d.dil_w = Int32(r.int(1, 2))
            if r.bool() { d.pad_t = Int32(r.int(0, 2)); d.pad_b = Int32(r.int(0, 2)); d.pad_l = Int32(r.int(0, 2)); d.pad_r = Int32(r.int(0, 2)) }
            if kind == 0 && r.bool() {   // the direct (no im2col) 1×1 path
                d.stride_h = 1; d.stride_w = 1; d.pad_t = 0; d.pad_b = 0; d.pad_l = 0; d.pad_r = 0; d.ic = Int32(4 * r.int(1, 12))
            }
            d.src_dt = Int32(r.int(0, 1)); d.dst_dt = Int32(r.int(0, 2)); d.res_dt = Int32(r.int(0, 3)); d.act = Int32(r.int(0, 3))
            d.in_range = r.float(0.5, 10); d.out_range = r.float(1, 100); d.res_range = r.float(1, 5)
            if qtop_qconv_out_h(&d) > 0 && qtop_qconv_out_w(&d) > 0 { break }
        }
        let oh = Int(qtop_qconv_out_h(&d)), ow = Int(qtop_qconv_out_w(&d))
        let ns = Int(d.n * d.h * d.w * d.ic), nw = Int(d.oc * (d.ic / d.groups) * d.kh * d.kw), no = Int(d.n) * oh * ow * Int(d.oc)
        var src = r.bytes(ns)
        // u8 tensors written by qtop hold 0...127 (QTOP_U8_MAX), the range the vpmaddubsw kernels serve; keep a
        // quarter of the cases at 0...255 for their exact fallback
        if d.src_dt == Int32(QTOP_DT_U8.rawValue) && r.int(0, 3) != 0 { src = src.map { $0 & 0x7F } }
        let w = r.bytes(nw).map { Int8(bitPattern: $0) }
        let ranges = (0..<Int(d.oc)).map { _ in r.float(0.05, 2) }
        let bias: [Float]? = r.int(0, 2) == 0 ? nil : (0..<Int(d.oc)).map { _ in r.float(-10, 10) }
        var res: [UInt8]
        if d.res_dt == Int32(QTOP_DT_F32.rawValue) {
            let f = (0..<no).map { _ in r.float(-10, 10) }
            res = f.withUnsafeBytes { Array($0) }
        } else {
            res = r.bytes(no)
        }
        return Case(d: d, src: src, w: w, ranges: ranges, bias: bias, res: res)
    }

    /// Runs the case on `isa`'s row, or with `twin` on the avx2_vnni row's EVEX twin (same driver, runs on AVX-512 VNNI).
    func runConv(_ c: Case, isa: Int32, threaded: Bool, twin: Bool = false) -> [UInt8]? {
        var d = c.d
        let no = Int(d.n) * Int(qtop_qconv_out_h(&d)) * Int(qtop_qconv_out_w(&d)) * Int(d.oc)
        var out = [UInt8](repeating: 0xCD, count: no * dtSize(d.dst_dt))
        let create = twin ? qtop_qconv_create_twin : qtop_qconv_create
        let h: OpaquePointer? = c.w.withUnsafeBufferPointer { w in
            c.ranges.withUnsafeBufferPointer { rg in
                if let b = c.bias { return b.withUnsafeBufferPointer { create(&d, w.baseAddress, rg.baseAddress, $0.baseAddress, isa) } }
                return create(&d, w.baseAddress, rg.baseAddress, nil, isa)
            }
        }
        guard let h else { return nil }
        defer { qtop_qconv_destroy(h) }
        c.src.withUnsafeBytes { s in
            c.res.withUnsafeBytes { rr in
                out.withUnsafeMutableBytes { o in
                    qtop_qconv_run(h, s.baseAddress, o.baseAddress, d.res_dt == Int32(QTOP_DT_NONE.rawValue) ? nil : rr.baseAddress,
                                   threaded ? pool.handleForTests : nil)
                }
            }
        }
        return out
    }

    /// The spec, transcribed directly (Swift Float arithmetic, no FMA).
    func specConv(_ c: Case) -> [UInt8] {
        var d = c.d
        let oh = Int(qtop_qconv_out_h(&d)), ow = Int(qtop_qconv_out_w(&d))
        let (N, H, W, IC, OC) = (Int(d.n), Int(d.h), Int(d.w), Int(d.ic), Int(d.oc))
        let (KH, KW, G) = (Int(d.kh), Int(d.kw), Int(d.groups))
        let icg = IC / G, ocg = OC / G
        let s8 = d.src_dt == Int32(QTOP_DT_S8.rawValue)
        let stepX = d.in_range / 127
        let invOut = Float(127) / d.out_range
        let stepR = d.res_range / 127
        var out: [UInt8] = []
        for n in 0..<N { for oy in 0..<oh { for ox in 0..<ow { for o in 0..<OC {
            let g = o / ocg
            var acc: Int32 = 0
            for i in 0..<icg { for ky in 0..<KH { for kx in 0..<KW {
                let iy = oy * Int(d.stride_h) - Int(d.pad_t) + ky * Int(d.dil_h)
                let ix = ox * Int(d.stride_w) - Int(d.pad_l) + kx * Int(d.dil_w)
                if iy < 0 || iy >= H || ix < 0 || ix >= W { continue }
                let b = c.src[((n * H + iy) * W + ix) * IC + g * icg + i]
                let x = s8 ? Int32(Int8(bitPattern: b)) : Int32(b)
                acc += x * Int32(c.w[((o * icg + i) * KH + ky) * KW + kx])
            } } }
            let ws = c.ranges[o] / 127
            let scale = stepX * ws
            var y = Float(acc) * scale
            y = y + (c.bias?[o] ?? 0)
            let pi = ((n * oh + oy) * ow + ox) * OC + o
            switch d.res_dt {
            case Int32(QTOP_DT_U8.rawValue): y = y + Float(c.res[pi]) * stepR
            case Int32(QTOP_DT_S8.rawValue): y = y + Float(Int8(bitPattern: c.res[pi])) * stepR
            case Int32(QTOP_DT_F32.rawValue):
                y = y + c.res.withUnsafeBytes { $0.load(fromByteOffset: pi * 4, as: Float.self) }
            default: break
            }
            switch d.act {
            case 1: y = y > 0 ? y : 0
            case 2: y = min(y > 0 ? y : 0, 6)
            case 3:
                let t = y + 3
                y = y * (min(t > 0 ? t : 0, 6) * (Float(1) / 6))
            default: break
            }
            switch d.dst_dt {
            case Int32(QTOP_DT_U8.rawValue): out.append(UInt8(min(max((y * invOut).rounded(.toNearestOrEven), 0), 127)))
            case Int32(QTOP_DT_S8.rawValue): out.append(UInt8(bitPattern: Int8(min(max((y * invOut).rounded(.toNearestOrEven), -128), 127))))
            default: withUnsafeBytes(of: y) { out.append(contentsOf: $0) }
            }
        } } } }
        return out
    }

    func testGenericMatchesSpec() {
        var r = XorShift(7)
        for it in 0..<60 {
            let c = randomCase(&r, kind: it % 4)
            let got = runConv(c, isa: 0, threaded: it % 2 == 1)
            XCTAssertEqual(got, specConv(c), "case \(it) \(c.d)")
        }
    }

    func testConvAllISAsBitExact() {
        var r = XorShift(12345)
        var compared = 0
        for it in 0..<240 {
            let c = randomCase(&r, kind: it % 4)
            guard let ref = runConv(c, isa: 0, threaded: false) else { return XCTFail("generic create failed") }
            for isa in usableIsas() where isa != 0 {
                var d = c.d
                if qtop_qconv_query(&d, isa, isa, nil, 0) == 0 { continue }
                let got = runConv(c, isa: isa, threaded: it % 2 == 0)
                XCTAssertEqual(got, ref, "isa \(String(cString: qtop_isa_name(isa))) case \(it) \(c.d)")
                compared += 1
            }
        }
        if usableIsas().count > 1 { XCTAssertGreaterThan(compared, 200) }
    }

    /// The optional second output (has_q2) is the f32 output quantized as a separate quantize node would
    /// (clamp(rint(y * (127 / range)))), and the f32 output is unchanged by it, on every ISA.
    func testSecondQuantizedOutputAllISAs() {
        var r = XorShift(4242)
        var compared = 0
        for it in 0..<120 {
            var c = randomCase(&r, kind: it % 4)
            c.d.dst_dt = Int32(QTOP_DT_F32.rawValue)
            if c.d.res_dt == Int32(QTOP_DT_F32.rawValue) {   // f32 residual bytes are regenerated for the new size
                let no = Int(c.d.n) * Int(qtop_qconv_out_h(&c.d)) * Int(qtop_qconv_out_w(&c.d)) * Int(c.d.oc)
                c.res = (0..<no).map { _ in r.float(-10, 10) }.withUnsafeBytes { Array($0) }
            }
            guard let ref = runConv(c, isa: 0, threaded: false) else { return XCTFail("generic create failed") }
            let q2dt = Int32(r.int(0, 1))
            let q2range = r.float(0.5, 60)
            let inv = Float(127) / q2range
            let want: [UInt8] = ref.withUnsafeBytes { b in
                b.bindMemory(to: Float.self).map { y -> UInt8 in
                    let v = (y * inv).rounded(.toNearestOrEven)
                    if q2dt == Int32(QTOP_DT_U8.rawValue) { return UInt8(v.isNaN ? 0 : min(max(v, 0), 127)) }
                    return UInt8(bitPattern: Int8(v.isNaN ? 0 : min(max(v, -128), 127)))
                }
            }
            for isa in usableIsas() {
                var d = c.d
                d.has_q2 = 1; d.q2_dt = q2dt; d.q2_range = q2range
                if qtop_qconv_query(&d, isa, isa, nil, 0) == 0 { continue }
                let no = ref.count / 4
                var out = [UInt8](repeating: 0xCD, count: ref.count)
                var out2 = [UInt8](repeating: 0xCD, count: no)
                let h: OpaquePointer? = c.w.withUnsafeBufferPointer { w in
                    c.ranges.withUnsafeBufferPointer { rg in
                        if let b = c.bias { return b.withUnsafeBufferPointer { qtop_qconv_create(&d, w.baseAddress, rg.baseAddress, $0.baseAddress, isa) } }
                        return qtop_qconv_create(&d, w.baseAddress, rg.baseAddress, nil, isa)
                    }
                }
                guard let h else { XCTFail("create failed isa \(isa)"); continue }
                c.src.withUnsafeBytes { s in
                    c.res.withUnsafeBytes { rr in
                        out.withUnsafeMutableBytes { o in
                            out2.withUnsafeMutableBytes { o2 in
                                qtop_qconv_run2(h, s.baseAddress, o.baseAddress, o2.baseAddress,
                                                d.res_dt == Int32(QTOP_DT_NONE.rawValue) ? nil : rr.baseAddress, it % 2 == 0 ? pool.handleForTests : nil)
                            }
                        }
                    }
                }
                qtop_qconv_destroy(h)
                XCTAssertEqual(out, ref, "f32 output, isa \(isa) case \(it)")
                XCTAssertEqual(out2, want, "quantized output, isa \(isa) case \(it)")
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 100)
        var d = qtop_qconv_desc()
        d.n = 1; d.h = 2; d.w = 2; d.ic = 4; d.oc = 4; d.kh = 1; d.kw = 1; d.stride_h = 1; d.stride_w = 1; d.dil_h = 1; d.dil_w = 1
        d.groups = 1; d.in_range = 1; d.out_range = 1; d.res_dt = Int32(QTOP_DT_NONE.rawValue)
        d.has_q2 = 1; d.q2_dt = Int32(QTOP_DT_U8.rawValue); d.q2_range = 1
        d.dst_dt = Int32(QTOP_DT_U8.rawValue)
        XCTAssertEqual(qtop_qconv_query(&d, 0, 0, nil, 0), 0, "second output needs an f32 main output")
        d.dst_dt = Int32(QTOP_DT_F32.rawValue)
        XCTAssertEqual(qtop_qconv_query(&d, 0, 0, nil, 0), 1)
    }

    /// Non-finite f32 residuals: every ISA agrees with the generic C kernel bit for bit, and a NaN value quantizes to 0.
    func testNonFiniteResidualAllISAs() {
        var r = XorShift(99)
        for it in 0..<48 {
            var c = randomCase(&r, kind: it % 3)
            c.d.res_dt = Int32(QTOP_DT_F32.rawValue)
            c.d.act = Int32(it % 4 == 1 ? 0 : it % 4)   // none, relu6, hard_swish keep NaN away from relu's select
            c.d.dst_dt = Int32(it % 3)
            let q2 = c.d.dst_dt == Int32(QTOP_DT_F32.rawValue)
            if q2 { c.d.has_q2 = 1; c.d.q2_dt = Int32(it % 2); c.d.q2_range = 7 }
            let no = Int(c.d.n) * Int(qtop_qconv_out_h(&c.d)) * Int(qtop_qconv_out_w(&c.d)) * Int(c.d.oc)
            let special: [Float] = [.nan, .infinity, -.infinity, 1e30, -1e30]
            let res: [Float] = (0..<no).map { i in i % 3 == 0 ? special[(i / 3) % special.count] : r.float(-10, 10) }
            c.res = res.withUnsafeBytes { Array($0) }
            func run(_ isa: Int32) -> ([UInt8], [UInt8])? {
                var d = c.d
                if qtop_qconv_query(&d, isa, isa, nil, 0) == 0 { return nil }
                var out = [UInt8](repeating: 0xCD, count: no * dtSize(d.dst_dt))
                var out2 = [UInt8](repeating: 0xCD, count: q2 ? no : 1)
                let h: OpaquePointer? = c.w.withUnsafeBufferPointer { w in
                    c.ranges.withUnsafeBufferPointer { rg in qtop_qconv_create(&d, w.baseAddress, rg.baseAddress, nil, isa) }
                }
                guard let h else { return nil }
                defer { qtop_qconv_destroy(h) }
                c.src.withUnsafeBytes { s in c.res.withUnsafeBytes { rr in out.withUnsafeMutableBytes { o in out2.withUnsafeMutableBytes { o2 in
                    qtop_qconv_run2(h, s.baseAddress, o.baseAddress, q2 ? o2.baseAddress : nil, rr.baseAddress, nil)
                } } } }
                return (out, out2)
            }
            guard let ref = run(0) else { return XCTFail("generic create failed") }
            if c.d.dst_dt != Int32(QTOP_DT_F32.rawValue) && c.d.act != 2 {   // relu6 clamps NaN to 0 before requantizing anyway
                for i in stride(from: 0, to: no, by: 15) { XCTAssertEqual(ref.0[i], 0, "NaN residual → 0, case \(it)") }
            }
            if q2 && c.d.act != 2 { for i in stride(from: 0, to: no, by: 15) { XCTAssertEqual(ref.1[i], 0, "NaN → 0 (QuantOutput), case \(it)") } }
            for isa in usableIsas() where isa != 0 {
                guard let got = run(isa) else { continue }
                XCTAssertEqual(got.0, ref.0, "isa \(isa) case \(it)")
                XCTAssertEqual(got.1, ref.1, "isa \(isa) case \(it) QuantOutput")
            }
        }
    }

    /// Largest possible accumulators: 255 × 127 and 255 × -128 over a long K, f32 output (exact as Float(acc)*scale);
    /// u8 127 × ±127/-128 is the vpmaddubsw pair-sum extreme (2·127·-128 = -32512, no saturation).
    func testExtremeAccumulators() {
        for (srcByte, u8) in [(UInt8(255), true), (0x80, false), (0x7F, false), (0x7F, true)] {
            for wv: Int8 in [127, -128, -127] {
                var d = qtop_qconv_desc()
                d.n = 1; d.h = 3; d.w = 5; d.ic = 256; d.oc = 33; d.kh = 3; d.kw = 3
                d.stride_h = 1; d.stride_w = 1; d.pad_t = 1; d.pad_b = 1; d.pad_l = 1; d.pad_r = 1; d.dil_h = 1; d.dil_w = 1
                d.groups = 1; d.src_dt = Int32(u8 ? QTOP_DT_U8.rawValue : QTOP_DT_S8.rawValue)
                d.dst_dt = Int32(QTOP_DT_F32.rawValue); d.res_dt = Int32(QTOP_DT_NONE.rawValue); d.in_range = 127; d.out_range = 1
                let c = Case(d: d, src: [UInt8](repeating: srcByte, count: 3 * 5 * 256),
                             w: [Int8](repeating: wv, count: 33 * 256 * 9), ranges: [Float](repeating: 127, count: 33), bias: nil, res: [])
                let ref = runConv(c, isa: 0, threaded: false)!
                XCTAssertEqual(ref, specConv(c))
                for isa in usableIsas() where isa != 0 {
                    XCTAssertEqual(runConv(c, isa: isa, threaded: true), ref, "isa \(isa) src \(srcByte) w \(wv)")
                }
            }
        }
    }

    /// Depthwise on rows wide enough for interior runs of several pixels beside the border pixels, channel counts
    /// around the kernels' 8/16/32-channel chunks (tails, a chunk's first half, several chunks), odd and even tap
    /// counts, strides, dilation, padding, few rows (channel slices across threads) and extreme values: the generic
    /// kernel against the spec, every ISA against the generic one.
    func testDepthwiseRunsAndTailsAllISAs() {
        var r = XorShift(2024)
        let channels: [Int32] = [1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 48, 72, 144]
        var compared = 0
        for it in 0..<48 {
            var d = qtop_qconv_desc()
            d.n = 1; d.h = Int32(r.int(1, 6)); d.w = Int32(r.int(9, 30)); d.ic = channels[it % channels.count]
            d.oc = d.ic; d.groups = d.ic
            let k = [(3, 3), (5, 5), (3, 1), (1, 3), (2, 2), (7, 7)][it % 6]
            d.kh = Int32(k.0); d.kw = Int32(k.1)
            d.stride_h = Int32(r.int(1, 2)); d.stride_w = Int32(r.int(1, 2)); d.dil_h = 1; d.dil_w = Int32(r.int(1, 2))
            d.pad_t = d.kh / 2; d.pad_b = d.kh / 2; d.pad_l = Int32(r.int(0, 3)); d.pad_r = Int32(r.int(0, 3))
            d.src_dt = Int32(it % 2); d.dst_dt = Int32(r.int(0, 2)); d.res_dt = Int32(r.int(0, 3)); d.act = Int32(r.int(0, 3))
            d.in_range = r.float(0.5, 10); d.out_range = r.float(1, 100); d.res_range = r.float(1, 5)
            if qtop_qconv_out_h(&d) <= 0 || qtop_qconv_out_w(&d) <= 0 { continue }
            let oh = Int(qtop_qconv_out_h(&d)), ow = Int(qtop_qconv_out_w(&d))
            let ns = Int(d.h * d.w * d.ic), nw = Int(d.oc * d.kh * d.kw), no = oh * ow * Int(d.oc)
            var src = r.bytes(ns), w = r.bytes(nw).map { Int8(bitPattern: $0) }
            if it % 3 == 0 {   // extremes: -128 / 127 weights, 0x80 / 0x7F / 0xFF inputs
                src = src.map { [0x80, 0x7F, 0xFF][Int($0) % 3] }
                w = w.map { $0 < 0 ? -128 : 127 }
            }
            let res = d.res_dt == Int32(QTOP_DT_F32.rawValue) ? (0..<no).map { _ in r.float(-10, 10) }.withUnsafeBytes { Array($0) } : r.bytes(no)
            let c = Case(d: d, src: src, w: w, ranges: (0..<Int(d.oc)).map { _ in r.float(0.05, 2) },
                         bias: (0..<Int(d.oc)).map { _ in r.float(-10, 10) }, res: res)
            guard let ref = runConv(c, isa: 0, threaded: false) else { return XCTFail("generic create failed") }
            XCTAssertEqual(ref, specConv(c), "generic case \(it) \(d)")
            for isa in usableIsas() where isa != 0 {
                if qtop_qconv_query(&d, isa, isa, nil, 0) == 0 { continue }
                XCTAssertEqual(runConv(c, isa: isa, threaded: it % 2 == 0), ref, "isa \(isa) case \(it) \(d)")
                compared += 1
            }
        }
        if usableIsas().count > 1 { XCTAssertGreaterThan(compared, 40) }
    }

    /// The register-tiled depthwise path (3×3 / 5×5, stride 1 / 2, no dilation): widths from narrower than the
    /// kernel to several tiles of 8 (odd ones, interiors shorter than a tile of 4, last runs of 1-7 pixels),
    /// asymmetric left / right padding (edge tiles, some left pads wider than a tile), u8 and s8 inputs at their extremes, channel counts that are and
    /// are not multiples of 8 / 16 / 32 (tail channels), serial and threaded: every ISA against the generic kernel,
    /// the generic kernel against the spec.
    func testDepthwiseTilesAllISAs() {
        var r = XorShift(7)
        let channels: [Int32] = [8, 16, 3, 24, 13, 40, 72, 21, 120]
        var compared = 0
        for it in 0..<54 {
            var d = qtop_qconv_desc()
            let k = Int32(it % 2 == 0 ? 3 : 5)
            d.n = Int32(1 + it % 2); d.h = Int32(r.int(1, 7)); d.w = Int32([1, 2, 4, 5, 7, 9, 12, 14, 17, 23, 28, 37][it % 12])
            d.ic = channels[it % channels.count]; d.oc = d.ic; d.groups = d.ic; d.kh = k; d.kw = k
            d.stride_h = Int32(r.int(1, 2)); d.stride_w = Int32(1 + (it / 2) % 2); d.dil_h = 1; d.dil_w = 1
            d.pad_t = k / 2; d.pad_b = k / 2; d.pad_r = Int32(r.int(0, Int(k) - 1))
            d.pad_l = Int32(it % 9 == 4 ? r.int(5, 9) : r.int(0, Int(k) - 1))   // some wider than a tile
            d.src_dt = Int32((it / 4) % 2); d.dst_dt = Int32(r.int(0, 2)); d.res_dt = Int32(QTOP_DT_NONE.rawValue)
            d.act = Int32(r.int(0, 3)); d.in_range = r.float(0.5, 10); d.out_range = r.float(1, 100)
            if qtop_qconv_out_h(&d) <= 0 || qtop_qconv_out_w(&d) <= 0 { continue }
            let ns = Int(d.n * d.h * d.w * d.ic), nw = Int(d.oc * d.kh * d.kw)
            var src = r.bytes(ns), w = r.bytes(nw).map { Int8(bitPattern: $0) }
            if it % 3 == 1 {   // extremes: -128 / 127 weights, 0x80 / 0x7F / 0xFF / 0 inputs
                src = src.map { [0x80, 0x7F, 0xFF, 0][Int($0) % 4] }
                w = w.map { $0 < 0 ? -128 : 127 }
            }
            let c = Case(d: d, src: src, w: w, ranges: (0..<Int(d.oc)).map { _ in r.float(0.05, 2) },
                         bias: (0..<Int(d.oc)).map { _ in r.float(-10, 10) }, res: [])
            guard let ref = runConv(c, isa: 0, threaded: false) else { return XCTFail("generic create failed") }
            XCTAssertEqual(ref, specConv(c), "generic case \(it) \(d)")
            for isa in usableIsas() where isa != 0 {
                if qtop_qconv_query(&d, isa, isa, nil, 0) == 0 { continue }
                for threaded in [false, true] {
                    XCTAssertEqual(runConv(c, isa: isa, threaded: threaded), ref, "isa \(isa) case \(it) threaded \(threaded) \(d)")
                }
                compared += 1
            }
        }
        if usableIsas().count > 1 { XCTAssertGreaterThan(compared, 50) }
    }

    func testMatMulAllISAsBitExact() {
        var r = XorShift(99)
        for it in 0..<80 {
            var d = qtop_qmatmul_desc()
            d.m = Int32(r.int(1, 20)); d.k = Int32(r.int(1, 70)); d.n = Int32(r.int(1, 150))
            d.src_dt = Int32(r.int(0, 1)); d.dst_dt = Int32(r.int(0, 2)); d.res_dt = Int32(r.int(0, 3)); d.act = Int32(r.int(0, 3))
            d.in_range = r.float(0.5, 10); d.out_range = r.float(1, 100); d.res_range = 2
            let (m, k, n) = (Int(d.m), Int(d.k), Int(d.n))
            var x = r.bytes(m * k)
            if d.src_dt == Int32(QTOP_DT_U8.rawValue) && it % 4 != 0 { x = x.map { $0 & 0x7F } }
            let w = r.bytes(k * n).map { Int8(bitPattern: $0) }
            let ranges = (0..<n).map { _ in r.float(0.05, 2) }
            let bias = (0..<n).map { _ in r.float(-5, 5) }
            let res = d.res_dt == Int32(QTOP_DT_F32.rawValue) ? (0..<m * n).map { _ in r.float(-5, 5) }.withUnsafeBytes { Array($0) } : r.bytes(m * n)
            func run(_ isa: Int32) -> [UInt8]? {
                guard let h = qtop_qmatmul_create(&d, w, ranges, bias, isa) else { return nil }
                defer { qtop_qmatmul_destroy(h) }
                var out = [UInt8](repeating: 0xCD, count: m * n * dtSize(d.dst_dt))
                out.withUnsafeMutableBytes { o in
                    res.withUnsafeBytes { rr in
                        qtop_qmatmul_run(h, x, o.baseAddress, d.res_dt == Int32(QTOP_DT_NONE.rawValue) ? nil : rr.baseAddress, pool.handleForTests)
                    }
                }
                return out
            }
            // the conv spec oracle on the equivalent 1×1 conv (weights transposed to [n][k])
            var cd = qtop_qconv_desc()
            cd.n = 1; cd.h = 1; cd.w = d.m; cd.ic = d.k; cd.oc = d.n; cd.kh = 1; cd.kw = 1; cd.stride_h = 1; cd.stride_w = 1
            cd.dil_h = 1; cd.dil_w = 1; cd.groups = 1; cd.src_dt = d.src_dt; cd.dst_dt = d.dst_dt; cd.res_dt = d.res_dt; cd.act = d.act
            cd.in_range = d.in_range; cd.out_range = d.out_range; cd.res_range = d.res_range
            var wt = [Int8](repeating: 0, count: k * n)
            for kk in 0..<k { for j in 0..<n { wt[j * k + kk] = w[kk * n + j] } }
            let spec = specConv(Case(d: cd, src: x, w: wt, ranges: ranges, bias: bias, res: res))
            for isa in usableIsas() {
                if qtop_qmatmul_query(&d, isa, isa, nil, 0) == 0 { continue }
                XCTAssertEqual(run(isa), spec, "matmul isa \(isa) case \(it)")
            }
        }
    }

    /// qpool over caller-given windows (fixed, adaptive, exclusive and not) on every ISA, against a naive loop.
    func testPoolMatchesNaive() {
        var r = XorShift(5)
        for it in 0..<60 {
            var d = qtop_qpool_desc()
            d.n = Int32(r.int(1, 2)); d.h = Int32(r.int(1, 9)); d.w = Int32(r.int(1, 9)); d.c = Int32(r.int(1, 70))
            d.is_avg = Int32(r.int(0, 1))
            let exclusive = r.int(0, 1) == 1, adaptive = it % 5 == 0
            let kh = r.int(1, 3), kw = r.int(1, 3), sh = r.int(1, 2), sw = r.int(1, 2)
            let pt = r.int(0, kh - 1), pl = r.int(0, kw - 1)
            let (H, W) = (Int(d.h), Int(d.w))
            let OH = adaptive ? r.int(1, H) : (H + 2 * pt - kh) / sh + 1
            let OW = adaptive ? r.int(1, W) : (W + 2 * pl - kw) / sw + 1
            if OH <= 0 || OW <= 0 { continue }
            d.oh = Int32(OH); d.ow = Int32(OW)
            func spans(_ o: Int, _ n: Int, _ out: Int, _ k: Int, _ s: Int, _ p: Int) -> (Int, Int, Int) {
                if adaptive { let b = o * n / out, e = ((o + 1) * n + out - 1) / out; return (b, e, e - b) }
                let st = o * s - p, b = max(st, 0), e = min(st + k, n)
                return (b, e, exclusive ? e - b : k)
            }
            let rows = (0..<OH).map { spans($0, H, OH, kh, sh, pt) }, cols = (0..<OW).map { spans($0, W, OW, kw, sw, pl) }
            d.src_dt = Int32(r.int(0, 1)); d.dst_dt = d.is_avg == 1 ? Int32(r.int(0, 2)) : d.src_dt
            d.in_range = r.float(1, 10); d.out_range = r.float(1, 10)
            let (N, C) = (Int(d.n), Int(d.c))
            let x = r.bytes(N * H * W * C)
            var exp: [UInt8] = []
            let s8 = d.src_dt == 1
            for n in 0..<N { for oy in 0..<OH { for ox in 0..<OW { for ch in 0..<C {
                let (y0, y1, dy) = rows[oy], (x0, x1, dx) = cols[ox]
                var mx = Int32.min, sum: Int32 = 0
                for iy in y0..<y1 { for ix in x0..<x1 {
                    let b = x[((n * H + iy) * W + ix) * C + ch]
                    let v = s8 ? Int32(Int8(bitPattern: b)) : Int32(b)
                    mx = max(mx, v); sum += v
                } }
                if d.is_avg == 0 { exp.append(UInt8(truncatingIfNeeded: mx)); continue }
                let y = Float(sum) * ((d.in_range / 127) / Float(dy * dx))
                let inv = Float(127) / d.out_range
                switch d.dst_dt {
                case 0: exp.append(UInt8(min(max((y * inv).rounded(.toNearestOrEven), 0), 127)))
                case 1: exp.append(UInt8(bitPattern: Int8(min(max((y * inv).rounded(.toNearestOrEven), -128), 127))))
                default: withUnsafeBytes(of: y) { exp.append(contentsOf: $0) }
                }
            } } } }
            let rs = rows.map { Int32($0.0) }, re = rows.map { Int32($0.1) }, rd = rows.map { Int32($0.2) }
            let cs = cols.map { Int32($0.0) }, ce = cols.map { Int32($0.1) }, cd = cols.map { Int32($0.2) }
            for isa in usableIsas() {
                guard let h = qtop_qpool_create(&d, rs, re, cs, ce, rd, cd, isa, nil, 0) else { continue }
                defer { qtop_qpool_destroy(h) }
                var out = [UInt8](repeating: 0, count: N * OH * OW * C * dtSize(d.dst_dt))
                out.withUnsafeMutableBytes { qtop_qpool_run(h, x, $0.baseAddress, pool.handleForTests) }
                XCTAssertEqual(out, exp, "pool case \(it) isa \(isa)")
            }
        }
        // a window reaching past the input is refused with a reason, not read
        var d = qtop_qpool_desc()
        d.n = 1; d.h = 2; d.w = 2; d.c = 1; d.oh = 1; d.ow = 1; d.src_dt = 0; d.dst_dt = 0
        var why = [CChar](repeating: 0, count: 128)
        XCTAssertNil(qtop_qpool_create(&d, [0], [3], [0], [1], [1], [1], 0, &why, why.count))
        XCTAssertTrue(String(cString: why).contains("outside"))
    }

    func testQuantizeDequantizeReorders() {
        var r = XorShift(3)
        let (n, c, h, w) = (2, 5, 3, 4)
        let x = (0..<n * c * h * w).map { _ in r.float(-12, 12) }
        let range: Float = 10
        for dt in [QTOP_DT_U8, QTOP_DT_S8] {
            var q = [UInt8](repeating: 0, count: x.count)
            q.withUnsafeMutableBytes { qtop_quantize_nchw_to_nhwc(x, $0.baseAddress, Int32(dt.rawValue), 2, 5, 3, 4, range, 0, pool.handleForTests) }
            var back = [Float](repeating: 0, count: x.count)
            qtop_dequantize_nhwc_to_nchw(q, Int32(dt.rawValue), &back, 2, 5, 3, 4, range, 0, nil)
            let inv = Float(127) / range, step = range / 127
            for ni in 0..<n { for ci in 0..<c { for yi in 0..<h { for xi in 0..<w {
                let v = x[((ni * c + ci) * h + yi) * w + xi]
                let lo: Float = dt == QTOP_DT_U8 ? 0 : -128, hi: Float = 127 // u8 saturates at QTOP_U8_MAX = 127
                let e = min(max((v * inv).rounded(.toNearestOrEven), lo), hi)
                let b = q[((ni * h + yi) * w + xi) * c + ci]
                let got = dt == QTOP_DT_U8 ? Float(b) : Float(Int8(bitPattern: b))
                XCTAssertEqual(got, e)
                XCTAssertEqual(back[((ni * c + ci) * h + yi) * w + xi], e * step)
            } } } }
        }
        var nhwc = [Float](repeating: 0, count: x.count)
        for i in 0..<x.count { nhwc[i] = Float(i) }
        var nchw = [Float](repeating: -1, count: x.count)
        qtop_reorder_nhwc_to_nchw_f32(nhwc, &nchw, 2, 5, 3, 4, pool.handleForTests)
        for ni in 0..<n { for ci in 0..<c { for yi in 0..<h { for xi in 0..<w {
            XCTAssertEqual(nchw[((ni * c + ci) * h + yi) * w + xi], Float(((ni * h + yi) * w + xi) * c + ci))
        } } } }
    }

    struct Handle: @unchecked Sendable { let h: OpaquePointer; let pool: OpaquePointer? }
    struct Bytes: @unchecked Sendable { let p: UnsafeMutableRawPointer }

    /// One prepared kernel run from two streams at once (throughput mode): scratch is per OS thread.
    func testSameHandleConcurrentStreams() {
        var r = XorShift(31)
        let c = randomCase(&r, kind: 1)
        for isa in usableIsas() {
            var d = c.d
            if qtop_qconv_query(&d, isa, isa, nil, 0) == 0 { continue }
            guard let ref = runConv(c, isa: isa, threaded: false) else { return XCTFail("create") }
            let h: OpaquePointer = c.w.withUnsafeBufferPointer { w in
                c.ranges.withUnsafeBufferPointer { rg in qtop_qconv_create(&d, w.baseAddress, rg.baseAddress, c.bias, isa)! }
            }
            let src = Bytes(p: UnsafeMutableRawPointer.allocate(byteCount: c.src.count, alignment: 64))
            src.p.copyMemory(from: c.src, byteCount: c.src.count)
            let res = Bytes(p: UnsafeMutableRawPointer.allocate(byteCount: max(c.res.count, 1), alignment: 64))
            res.p.copyMemory(from: c.res, byteCount: c.res.count)
            let outs = (0..<2).map { _ in Bytes(p: UnsafeMutableRawPointer.allocate(byteCount: ref.count, alignment: 64)) }
            let hh = Handle(h: h, pool: pool.handle)
            let hasRes = d.res_dt != Int32(QTOP_DT_NONE.rawValue)
            DispatchQueue.concurrentPerform(iterations: 2) { k in
                for _ in 0..<20 { qtop_qconv_run(hh.h, src.p, outs[k].p, hasRes ? res.p : nil, k == 0 ? hh.pool : nil) }
            }
            for o in outs {
                XCTAssertEqual(Array(UnsafeRawBufferPointer(start: o.p, count: ref.count)), ref, "isa \(isa)")
                o.p.deallocate()
            }
            src.p.deallocate(); res.p.deallocate()
            qtop_qconv_destroy(h)
        }
    }

    func testQueryReasons() {
        var d = qtop_qconv_desc()
        d.n = 1; d.h = 4; d.w = 4; d.ic = 8; d.oc = 8; d.kh = 3; d.kw = 3; d.stride_h = 1; d.stride_w = 1
        d.dil_h = 1; d.dil_w = 1; d.groups = 1; d.src_dt = 0; d.dst_dt = 0; d.res_dt = 3; d.in_range = 1; d.out_range = 1
        var why = [CChar](repeating: 0, count: 256)
        let vnni = Int32(ISALevel.avx512_vnni.rank)
        XCTAssertEqual(qtop_qconv_query(&d, vnni, Int32(ISALevel.avx2.rank), &why, 256), 0)
        let reason = String(decoding: why.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if NativeCPU.isaSet.contains(.avx512_vnni) {
            XCTAssertTrue(reason.contains("capped by --isa avx2"), reason)
        } else {
            XCTAssertTrue(reason.contains("lacks") || reason.contains("build"), reason)
        }
        XCTAssertEqual(qtop_qconv_query(&d, 0, 0, &why, 256), 1)
        XCTAssertNil(qtop_qconv_create(&d, [Int8](repeating: 1, count: 8 * 8 * 9), [Float](repeating: 1, count: 8), nil,
                                       Int32(ISALevel.neon_dotprod.rank)))
        d.groups = 8
        XCTAssertEqual(String(cString: qtop_qconv_impl_name(&d)), "dwconv")
        // depthwise has vpdpwssd tiles at avx512_vnni, none at avx2_vnni (the avx2 row below serves it)
        XCTAssertEqual(qtop_qconv_query(&d, vnni, vnni, &why, 256), NativeCPU.isaSet.contains(.avx512_vnni) ? 1 : 0)
        let avx2vnni = Int32(ISALevel.avx2_vnni.rank)
        XCTAssertEqual(qtop_qconv_query(&d, avx2vnni, avx2vnni, &why, 256), 0)
    }
}

extension NativeThreadPool {
    var handleForTests: OpaquePointer? { handle }
}
