import XCTest
import QtopFormat
import QtopGraph
@testable import QtopRuntime

// Hand-checked cases for the integer oracle (docs/int8-semantics.md). Ranges are chosen so steps are exact:
// range 127 → step 1, range 254 → step 2, range 63.5 → step 0.5.

final class IntegerOracleTests: XCTestCase {
    func ints(_ h: HostTensor) -> [Int64] { h.int64Values() }

    // MARK: epilogue

    func testEpilogueRoundingTiesAndSaturation() {
        // scale = (127/127) * (127/127) = 1, inv_out = 127/127 = 1; bias 0.5 makes ties
        let s8 = IntegerEpilogue(inScale: 127, weightScales: [127], bias: [0.5], activation: .none, outType: .s8, outScale: 127)
        let out = HostTensor(dtype: .i8, shape: [6])
        let t = Tensor(out)
        // 2.5 → 2, 3.5 → 4, -2.5 → -2, -3.5 → -4 (half to even); 200.5 → 127; -300 + 0.5 → -128
        for (i, acc) in [Int32(2), 3, -3, -4, 200, -300].enumerated() {
            s8.store(s8.value(acc: acc, channel: 0, residual: nil), to: t, at: i)
        }
        XCTAssertEqual(ints(out), [2, 4, -2, -4, 127, -128])

        let u8 = IntegerEpilogue(inScale: 127, weightScales: [127], bias: nil, activation: .none, outType: .u8, outScale: 127)
        let outU = HostTensor(dtype: .u8, shape: [4])
        for (i, acc) in [Int32(-1), 126, 127, 300].enumerated() {
            u8.store(u8.value(acc: acc, channel: 0, residual: nil), to: Tensor(outU), at: i)
        }
        // -1 → 0, 126, 127, 300 → 127: u8 saturates where Paddle's symmetric grid ends
        XCTAssertEqual(ints(outU), [0, 126, 127, 127])

        // out_scale 254 (inv_out = 0.5): 5 → 2.5 → 2; 7 → 3.5 → 4
        let half = IntegerEpilogue(inScale: 127, weightScales: [127], bias: nil, activation: .none, outType: .s8, outScale: 254)
        XCTAssertEqual(saturate(half.value(acc: 5, channel: 0, residual: nil) * half.invOut, lo: -128, hi: 127), 2)
        XCTAssertEqual(saturate(half.value(acc: 7, channel: 0, residual: nil) * half.invOut, lo: -128, hi: 127), 4)
    }

    func testEpilogueScalesResidualActivations() {
        // scale[c] = step_x * ws[c] = (254/127) * (63.5/127) = 2 * 0.5 = 1 for c0; 2 * 2 = 4 for c1
        let e = IntegerEpilogue(inScale: 254, weightScales: [63.5, 254], bias: [1, -1], activation: .none, outType: .f32, outScale: 0)
        XCTAssertEqual(e.scale, [1, 4])
        // c1: 3*4 = 12, -1 → 11, + residual 0.5 → 11.5
        XCTAssertEqual(e.value(acc: 3, channel: 1, residual: 0.5), 11.5)
        XCTAssertEqual(EpilogueActivation.relu.apply(-3), 0)
        XCTAssertEqual(EpilogueActivation.relu.apply(.nan), 0)  // y > 0 ? y : 0
        XCTAssertEqual(EpilogueActivation.relu6.apply(10), 6)
        XCTAssertEqual(EpilogueActivation.relu6.apply(.nan), 0)
        // hard_swish(1) = 1 * (min(max(4,0),6) * (1/6)) = 4 * 0.16666667
        XCTAssertEqual(EpilogueActivation.hard_swish.apply(1), 4 * (Float(1) / 6))
        XCTAssertEqual(EpilogueActivation.hard_swish.apply(-5), -0.0)
        XCTAssertEqual(EpilogueActivation.hard_swish.apply(4), 4)
        // saturate: NaN → 0, ±inf saturate
        XCTAssertEqual(saturate(.nan, lo: -128, hi: 127), 0)
        XCTAssertEqual(saturate(.infinity, lo: -128, hi: 127), 127)
        XCTAssertEqual(saturate(-.infinity, lo: 0, hi: 255), 0)
    }

    // MARK: quantize / dequantize

    func testQuantizeNCHWToNHWC() throws {
        // NCHW [1,2,1,2]: c0 = [0.5, 1.5], c1 = [-1, 300]; range 127 → inv 1
        // NHWC order (w0: c0 c1, w1: c0 c1) = [0.5, -1, 1.5, 300] → s8 [0, -1, 2, 127]
        let x = t32([1, 2, 1, 2], [0.5, 1.5, -1, 300])
        let s = try RefHarness.run("quantize", precision: .i8, inputs: [("X", [x])], outputs: [O("Out", [1, 1, 2, 2], .i8)],
                                   attrs: [("scale", .float(127)), ("out_dtype", .string("s8"))])
        XCTAssertEqual(ints(s["Out"]![0]), [0, -1, 2, 127])
        let u = try RefHarness.run("quantize", precision: .i8, inputs: [("X", [x])], outputs: [O("Out", [1, 1, 2, 2], .u8)],
                                   attrs: [("scale", .float(127)), ("out_dtype", .string("u8"))])
        XCTAssertEqual(ints(u["Out"]![0]), [0, 0, 2, 127])
        // rank 2: plain elementwise, range 254 → inv 0.5: [5, -5] → [2.5, -2.5] → [2, -2]
        let r2 = try RefHarness.run("quantize", precision: .i8, inputs: [("X", [t32([1, 2], [5, -5])])], outputs: [O("Out", [1, 2], .i8)],
                                    attrs: [("scale", .float(254)), ("out_dtype", .string("s8"))])
        XCTAssertEqual(ints(r2["Out"]![0]), [2, -2])
    }

    func testDequantizeNHWCToNCHW() throws {
        // NHWC [1,1,2,2] = (w0: c0=1, c1=2), (w1: c0=3, c1=-4); step 2 → NCHW c0 = [2, 6], c1 = [4, -8]
        let r = try RefHarness.f("dequantize", precision: .i8, inputs: [("X", [tI8([1, 1, 2, 2], [1, 2, 3, -4])])],
                                 out: O("Out", [1, 2, 1, 2]), attrs: [("scale", .float(254))])
        XCTAssertEqual(r, [2, 6, 4, -8])
        // u8 255 is 255, not -1
        let u = try RefHarness.f("dequantize", precision: .i8, inputs: [("X", [tU8([2], [255, 1])])], out: O("Out", [2]),
                                 attrs: [("scale", .float(127))])
        XCTAssertEqual(u, [255, 1])
    }

    // MARK: qconv2d

    func qconv(_ x: HostTensor, _ w: HostTensor, out: [Int], outType: DType = .f32, attrs: [(String, AttrValue)],
               extra: [(String, [HostTensor])] = []) throws -> HostTensor {
        let r = try RefHarness.run("qconv2d", precision: .i8, inputs: [("Input", [x]), ("Filter", [w])] + extra,
                                   outputs: [O("Output", out, outType)], attrs: attrs, constants: ["Filter", "Bias"])
        return r["Output"]![0]
    }

    func testQConvPaddingU8AndS8() throws {
        // NHWC [1,2,2,1], 2x2 ones filter, pad 1 all sides → 3x3 of window sums, unit scales
        let attrs: [(String, AttrValue)] = [("strides", .ints([1, 1])), ("paddings", .ints([1, 1, 1, 1])), ("dilations", .ints([1, 1])),
                                            ("groups", .int(1)), ("in_scale", .float(127)), ("weight_scales", .floats([127])),
                                            ("out_dtype", .string("f32"))]
        let w = tI8([1, 1, 2, 2], [1, 1, 1, 1])
        // x = [[1,2],[3,4]]: [1, 1+2, 2, 1+3, 10, 2+4, 3, 3+4, 4]
        let u = try qconv(tU8([1, 2, 2, 1], [1, 2, 3, 4]), w, out: [1, 3, 3, 1], attrs: attrs)
        XCTAssertEqual(u.floatValues(), [1, 3, 2, 4, 10, 6, 3, 7, 4])
        // x = [[-1,2],[-3,4]]: [-1, 1, 2, -4, 2, 6, -3, 1, 4]
        let s = try qconv(tI8([1, 2, 2, 1], [-1, 2, -3, 4]), w, out: [1, 3, 3, 1], attrs: attrs)
        XCTAssertEqual(s.floatValues(), [-1, 1, 2, -4, 2, 6, -3, 1, 4])
        // u8 255 times weight -1 = -255 (f32), and saturates to -128 in s8 with range 127
        let one: [(String, AttrValue)] = [("in_scale", .float(127)), ("weight_scales", .floats([127]))]
        let w1 = tI8([1, 1, 1, 1], [-1])
        XCTAssertEqual(try qconv(tU8([1, 1, 1, 1], [255]), w1, out: [1, 1, 1, 1], attrs: one + [("out_dtype", .string("f32"))]).floatValues(), [-255])
        XCTAssertEqual(ints(try qconv(tU8([1, 1, 1, 1], [255]), w1, out: [1, 1, 1, 1], outType: .i8,
                                      attrs: one + [("out_dtype", .string("s8")), ("out_scale", .float(127))])), [-128])
    }

    func testQConvChannelsGroupsBiasResidual() throws {
        // IC = 2, OC = 1: 1*3 + 2*4 = 11 (OIHW filter indexing)
        let base: [(String, AttrValue)] = [("in_scale", .float(127)), ("out_dtype", .string("f32"))]
        XCTAssertEqual(try qconv(tI8([1, 1, 1, 2], [1, 2]), tI8([1, 2, 1, 1], [3, 4]), out: [1, 1, 1, 1],
                                 attrs: base + [("weight_scales", .floats([127]))]).floatValues(), [11])
        // groups 2: [3*2, 5*-1] = [6, -5]; weight steps [1, 2] → [6, -10]; bias [0.5, 0] → [6.5, -10]
        let x = tI8([1, 1, 1, 2], [3, 5]), w = tI8([2, 1, 1, 1], [2, -1])
        let g: [(String, AttrValue)] = [("groups", .int(2)), ("in_scale", .float(127)), ("weight_scales", .floats([127, 254]))]
        let bias: [(String, [HostTensor])] = [("Bias", [t32([2], [0.5, 0])])]
        // s8 out with range 127: 6.5 → 6 (tie to even), -10
        XCTAssertEqual(ints(try qconv(x, w, out: [1, 1, 1, 2], outType: .i8, attrs: g + [("out_dtype", .string("s8")), ("out_scale", .float(127))],
                                      extra: bias)), [6, -10])
        // integer residual s8 [1, -1] with range 254 (step 2) → +[2, -2]: [8.5, -12]; relu → [8.5, 0]
        let res: [(String, [HostTensor])] = bias + [("Residual", [tI8([1, 1, 1, 2], [1, -1])])]
        XCTAssertEqual(try qconv(x, w, out: [1, 1, 1, 2], attrs: g + [("out_dtype", .string("f32")), ("residual_scale", .float(254))],
                                 extra: res).floatValues(), [8.5, -12])
        XCTAssertEqual(try qconv(x, w, out: [1, 1, 1, 2], attrs: g + [("out_dtype", .string("f32")), ("residual_scale", .float(254)),
                                                                      ("activation", .string("relu"))], extra: res).floatValues(), [8.5, 0])
        // f32 residual [0.25, 0.25]: [6.75, -9.75]; u8 out range 127 with relu6: [6, 0]
        let resF: [(String, [HostTensor])] = bias + [("Residual", [t32([1, 1, 1, 2], [0.25, 0.25])])]
        XCTAssertEqual(ints(try qconv(x, w, out: [1, 1, 1, 2], outType: .u8,
                                      attrs: g + [("out_dtype", .string("u8")), ("out_scale", .float(127)), ("activation", .string("relu6"))],
                                      extra: resF)), [6, 0])
    }

    func testQConvQuantOutputIsQuantizedF32Output() throws {
        // groups 2 as above: f32 [6.5, -10]; QuantOutput s8 with range 254 (inv 0.5): [3.25 → 3, -5]; u8: [3, 0]
        let x = tI8([1, 1, 1, 2], [3, 5]), w = tI8([2, 1, 1, 1], [2, -1])
        let a: [(String, AttrValue)] = [("groups", .int(2)), ("in_scale", .float(127)), ("weight_scales", .floats([127, 254])),
                                        ("out_dtype", .string("f32")), ("quant_out_scale", .float(254))]
        for (dt, name, want) in [(DType.i8, "s8", [Int64(3), -5]), (.u8, "u8", [3, 0])] {
            let r = try RefHarness.run("qconv2d", precision: .i8, inputs: [("Input", [x]), ("Filter", [w]), ("Bias", [t32([2], [0.5, 0])])],
                                       outputs: [O("Output", [1, 1, 1, 2], .f32), O("QuantOutput", [1, 1, 1, 2], dt)],
                                       attrs: a + [("quant_out_dtype", .string(name))], constants: ["Filter", "Bias"])
            XCTAssertEqual(r["Output"]![0].floatValues(), [6.5, -10])
            XCTAssertEqual(ints(r["QuantOutput"]![0]), want)
        }
    }

    func testQConvStrideDilation() throws {
        // 1x4 row [1,2,3,4] (u8), 1x2 filter [1,1] dilation 2 stride 2: out0 = x0+x2 = 4; out1 = x2 + (x4 = pad 0)? no: stride 2,
        // width 4, dilated extent 3 → out = (4-3)/2+1 = 1 → [4]
        let a: [(String, AttrValue)] = [("strides", .ints([2, 2])), ("dilations", .ints([2, 2])), ("in_scale", .float(127)),
                                        ("weight_scales", .floats([127])), ("out_dtype", .string("f32"))]
        XCTAssertEqual(try qconv(tU8([1, 1, 4, 1], [1, 2, 3, 4]), tI8([1, 1, 1, 2], [1, 1]), out: [1, 1, 1, 1], attrs: a).floatValues(), [4])
    }

    func testPublicOracleEntryPointsAndPerTensorWeights() throws {
        // Tensor is a non-owning view: keep the HostTensors alive across the calls.
        // accumulators of the padded 2x2-ones conv on [[1,2],[3,4]] (see testQConvPaddingU8AndS8)
        let x = tU8([1, 2, 2, 1], [1, 2, 3, 4]), w = tI8([1, 1, 2, 2], [1, 1, 1, 1])
        // depthwise 3x3 with pad 1 on a 1x1 image of 2 channels: only the centre tap counts: [2*5, 3*-7]
        let dwX = tI8([1, 1, 1, 2], [2, 3]), dw = tI8([2, 1, 3, 3], [0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, -7, 0, 0, 0, 0])
        // 255 * -128 + 1 * 127 (u8 operand stays 255)
        let mx = tU8([1, 2], [255, 1]), my = tI8([2, 1], [-128, 127])
        // public quantize/dequantize: range 254 (inv 0.5): [3, -3, 1000] → s8 [2, -2, 127] (1.5 → 2, -1.5 → -2)
        let qf = t32([3], [3, -3, 1000]), qo = HostTensor(dtype: .i8, shape: [3]), df = HostTensor(dtype: .f32, shape: [3])
        try withExtendedLifetime([qf, qo, df]) {
            try IntegerOracle.quantize(Tensor(qf), into: Tensor(qo), scale: 254)
            XCTAssertEqual(ints(qo), [2, -2, 127])
            try IntegerOracle.dequantize(Tensor(qo), into: Tensor(df), scale: 254)
            XCTAssertEqual(df.floatValues(), [4, -4, 254])
        }
        try withExtendedLifetime([x, w, dwX, dw, mx, my]) {
            XCTAssertEqual(try IntegerOracle.conv2dAccumulators(input: Tensor(x), filter: Tensor(w), outputShape: [1, 3, 3, 1],
                                                                paddings: [1, 1, 1, 1]), [1, 3, 2, 4, 10, 6, 3, 7, 4])
            XCTAssertEqual(try IntegerOracle.conv2dAccumulators(input: Tensor(dwX), filter: Tensor(dw), outputShape: [1, 1, 1, 2],
                                                                paddings: [1, 1], groups: 2), [10, -21])
            XCTAssertEqual(try IntegerOracle.matmulAccumulators(x: Tensor(mx), y: Tensor(my)), [255 * -128 + 127])
        }
        // one weight range for two output channels is broadcast: (range 254 → step 2) → [2*1*2, 2*-1*2] f32
        let r = try RefHarness.f("qconv2d", precision: .i8, inputs: [("Input", [tI8([1, 1, 1, 1], [2])]), ("Filter", [tI8([2, 1, 1, 1], [1, -1])])],
                                 out: O("Output", [1, 1, 1, 2]),
                                 attrs: [("in_scale", .float(127)), ("weight_scales", .floats([254])), ("out_dtype", .string("f32"))],
                                 constants: ["Filter"])
        XCTAssertEqual(r, [4, -4])
    }

    /// Cross-check of two independent implementations: qconv2d (NHWC, Int32) with unit steps and f32 output must equal
    /// the fp32 reference conv2d (NCHW, Float) on the same small integers (sums stay far below 2^24, so Float is exact),
    /// over groups, strides, dilations and asymmetric paddings.
    func testQConvMatchesFloatConvOnIntegers() throws {
        var seed: UInt32 = 12345
        func next() -> Int8 {
            seed = seed &* 1_103_515_245 &+ 12345
            return Int8(truncatingIfNeeded: Int((seed >> 16) % 31) - 15)
        }
        let (n, c, h, w) = (2, 4, 5, 6)
        let configs: [(groups: Int, k: (Int, Int), s: [Int], d: [Int], p: [Int])] = [
            (1, (3, 3), [1, 1], [1, 1], [1, 1, 1, 1]),
            (2, (3, 3), [2, 1], [1, 2], [0, 2, 1, 0]),
            (4, (3, 3), [2, 2], [1, 1], [1, 1, 1, 1]),
            (1, (1, 3), [1, 2], [2, 1], [2, 0, 0, 1]),
        ]
        for cfg in configs {
            let oc = 4, icg = c / cfg.groups
            let xs = (0..<(n * c * h * w)).map { _ in next() }  // NCHW order
            let ws = (0..<(oc * icg * cfg.k.0 * cfg.k.1)).map { _ in next() }
            let oh = (h + cfg.p[0] + cfg.p[1] - (cfg.d[0] * (cfg.k.0 - 1) + 1)) / cfg.s[0] + 1
            let ow = (w + cfg.p[2] + cfg.p[3] - (cfg.d[1] * (cfg.k.1 - 1) + 1)) / cfg.s[1] + 1
            let geo: [(String, AttrValue)] = [("strides", .ints(cfg.s)), ("dilations", .ints(cfg.d)), ("paddings", .ints(cfg.p)),
                                              ("groups", .int(cfg.groups))]
            let ref = try RefHarness.f("conv2d", inputs: [("Input", [t32([n, c, h, w], xs.map { Float($0) })]),
                                                          ("Filter", [t32([oc, icg, cfg.k.0, cfg.k.1], ws.map { Float($0) })])],
                                       out: O("Output", [n, oc, oh, ow]), attrs: geo)
            var nhwc = [Int8](repeating: 0, count: xs.count)
            for ni in 0..<n { for ci in 0..<c { for y in 0..<h { for x in 0..<w {
                nhwc[((ni * h + y) * w + x) * c + ci] = xs[((ni * c + ci) * h + y) * w + x]
            } } } }
            let q = try RefHarness.f("qconv2d", precision: .i8,
                                     inputs: [("Input", [tI8([n, h, w, c], nhwc)]), ("Filter", [tI8([oc, icg, cfg.k.0, cfg.k.1], ws)])],
                                     out: O("Output", [n, oh, ow, oc]),
                                     attrs: geo + [("in_scale", .float(127)), ("weight_scales", .floats([127])), ("out_dtype", .string("f32"))],
                                     constants: ["Filter"])
            for ni in 0..<n { for o in 0..<oc { for y in 0..<oh { for x in 0..<ow {
                XCTAssertEqual(q[((ni * oh + y) * ow + x) * oc + o], ref[((ni * oc + o) * oh + y) * ow + x], "config \(cfg)")
            } } } }
        }
    }

    // MARK: qmatmul

    func testQMatMul() throws {
        // X u8 [[1,2],[3,4]] · Y s8 [[1,-1],[1,1]] = [[3,1],[7,1]]; steps [1,2] → [[3,2],[7,2]]; bias [0,0.5] → [[3,2.5],[7,2.5]]
        // u8 out range 127: [3, 2, 7, 2]
        let r = try RefHarness.run("qmatmul", precision: .i8,
                                   inputs: [("X", [tU8([2, 2], [1, 2, 3, 4])]), ("Y", [tI8([2, 2], [1, -1, 1, 1])]), ("Bias", [t32([2], [0, 0.5])])],
                                   outputs: [O("Out", [2, 2], .u8)],
                                   attrs: [("in_scale", .float(127)), ("weight_scales", .floats([127, 254])), ("out_dtype", .string("u8")),
                                           ("out_scale", .float(127))], constants: ["Y", "Bias"])
        XCTAssertEqual(ints(r["Out"]![0]), [3, 2, 7, 2])
        let f = try RefHarness.f("qmatmul", precision: .i8, inputs: [("X", [tI8([1, 2], [-1, 2])]), ("Y", [tI8([2, 1], [3, 4])])],
                                 out: O("Out", [1, 1]), attrs: [("in_scale", .float(63.5)), ("weight_scales", .floats([127]))])
        // (-3 + 8) * 0.5 = 2.5
        XCTAssertEqual(f, [2.5])
    }

    // MARK: qpool2d, qrelu, qconcat, layout

    func testQPool() throws {
        let k: [(String, AttrValue)] = [("ksize", .ints([2, 2])), ("strides", .ints([2, 2])), ("in_scale", .float(127))]
        // max of [-5,3,7,-1] = 7, same range
        let m = try RefHarness.run("qpool2d", precision: .i8, inputs: [("X", [tI8([1, 2, 2, 1], [-5, 3, 7, -1])])],
                                   outputs: [O("Out", [1, 1, 1, 1], .i8)],
                                   attrs: k + [("pooling_type", .string("max")), ("out_scale", .float(127)), ("out_dtype", .string("s8"))])
        XCTAssertEqual(ints(m["Out"]![0]), [7])
        // max requantized to range 254: 7 * 0.5 = 3.5 → 4
        let m2 = try RefHarness.run("qpool2d", precision: .i8, inputs: [("X", [tI8([1, 2, 2, 1], [-5, 3, 7, -1])])],
                                    outputs: [O("Out", [1, 1, 1, 1], .i8)],
                                    attrs: k + [("pooling_type", .string("max")), ("out_scale", .float(254)), ("out_dtype", .string("s8"))])
        XCTAssertEqual(ints(m2["Out"]![0]), [4])
        // avg of [1,2,3,4] (u8): 10 * (1/4) = 2.5 → 2 in s8; f32 out 2.5
        let avg = k + [("pooling_type", .string("avg")), ("out_scale", .float(127))]
        let a = try RefHarness.run("qpool2d", precision: .i8, inputs: [("X", [tU8([1, 2, 2, 1], [1, 2, 3, 4])])],
                                   outputs: [O("Out", [1, 1, 1, 1], .i8)], attrs: avg + [("out_dtype", .string("s8"))])
        XCTAssertEqual(ints(a["Out"]![0]), [2])
        XCTAssertEqual(try RefHarness.f("qpool2d", precision: .i8, inputs: [("X", [tU8([1, 2, 2, 1], [1, 2, 3, 4])])],
                                        out: O("Out", [1, 1, 1, 1]), attrs: avg + [("out_dtype", .string("f32"))]), [2.5])
        // NHWC channels pooled independently: 2 channels, global avg → [(1+3)/2, (2+4)/2]
        XCTAssertEqual(try RefHarness.f("qpool2d", precision: .i8, inputs: [("X", [tI8([1, 1, 2, 2], [1, 2, 3, 4])])],
                                        out: O("Out", [1, 1, 1, 2]),
                                        attrs: [("pooling_type", .string("avg")), ("global_pooling", .bool(true)), ("in_scale", .float(127)),
                                                ("out_dtype", .string("f32"))]), [2, 3])
    }

    func testQRelu() throws {
        let r = try RefHarness.run("qrelu", precision: .i8, inputs: [("X", [tI8([3], [-3, 0, 5])])], outputs: [O("Out", [3], .u8)])
        XCTAssertEqual(ints(r["Out"]![0]), [0, 0, 5])
    }

    func testQConcatRequantizes() throws {
        // in0 range 127 (step 1) → out range 254 (step 2): ratio 0.5: [5, 7] → [2.5, 3.5] → [2, 4]
        // in1 range 254: ratio 1: [3, -100] unchanged (s8) / [3, 0] (u8)
        let inputs: [(String, [HostTensor])] = [("X", [tI8([1, 1, 1, 2], [5, 7]), tI8([1, 1, 1, 2], [3, -100])])]
        let attrs: [(String, AttrValue)] = [("in_scales", .floats([127, 254])), ("out_scale", .float(254))]
        let s = try RefHarness.run("qconcat", precision: .i8, inputs: inputs, outputs: [O("Out", [1, 1, 1, 4], .i8)], attrs: attrs)
        XCTAssertEqual(ints(s["Out"]![0]), [2, 4, 3, -100])
        let u = try RefHarness.run("qconcat", precision: .i8, inputs: inputs, outputs: [O("Out", [1, 1, 1, 4], .u8)], attrs: attrs)
        XCTAssertEqual(ints(u["Out"]![0]), [2, 4, 3, 0])
        // two pixels: rows interleave correctly
        let p = try RefHarness.run("qconcat", precision: .i8,
                                   inputs: [("X", [tI8([1, 1, 2, 1], [1, 2]), tI8([1, 1, 2, 2], [10, 11, 20, 21])])],
                                   outputs: [O("Out", [1, 1, 2, 3], .i8)], attrs: [("in_scales", .floats([127, 127])), ("out_scale", .float(127))])
        XCTAssertEqual(ints(p["Out"]![0]), [1, 10, 11, 2, 20, 21])
    }

    func testLayoutOps() throws {
        let nhwc = try RefHarness.f("layout_nchw_to_nhwc", inputs: [("X", [t32([1, 2, 1, 2], [1, 2, 3, 4])])], out: O("Out", [1, 1, 2, 2]))
        XCTAssertEqual(nhwc, [1, 3, 2, 4])
        let back = try RefHarness.f("layout_nhwc_to_nchw", inputs: [("X", [t32([1, 1, 2, 2], nhwc)])], out: O("Out", [1, 2, 1, 2]))
        XCTAssertEqual(back, [1, 2, 3, 4])
    }

    func testIntegerOpsRegistered() {
        for op in ["quantize", "dequantize", "qconv2d", "qmatmul", "qpool2d", "qrelu", "qconcat"] {
            XCTAssertTrue(RefHarness.registry.candidates(for: op).contains { $0.implementation == "ref" && $0.precision == .i8 }, op)
        }
        // rejection reasons instead of crashes for missing attributes
        let (build, _, _) = RefHarness.make("qconv2d", precision: .i8, inputs: [("Input", [tI8([1, 1, 1, 1], [1])]), ("Filter", [tI8([1, 1, 1, 1], [1])])],
                                            outputs: [O("Output", [1, 1, 1, 1], .i8)], attrs: [("in_scale", .float(1)), ("out_dtype", .string("s8"))],
                                            constants: [])
        if case .ready = build { XCTFail("s8 output without out_scale must be rejected") }
    }
}
