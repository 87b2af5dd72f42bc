import XCTest
import QtopFormat
import QtopGraph
@testable import QtopPasses

final class LowerInt8Tests: XCTestCase {
    func fq(_ b: inout GraphBuilder, _ x: String, _ out: String, _ r: Float, shape: [Int]) {
        b.op("fake_quantize", [("X", [x])], [("Out", [out])],
             [("range", .floats([r])), ("axis", .int(-1)), ("levels", .int(256)), ("round_type", .int(0)), ("bit_length", .int(8))],
             shape: shape)
    }

    func conv(_ b: inout GraphBuilder, _ x: String, _ w: String, oc: Int, ic: Int, k: Int, _ out: String, shape: [Int],
              act: String = "none", bias: Bool = true, residual: String? = nil, algo: String = "EXPLICIT", strides: [Int] = [1, 1]) {
        b.constI8(w, [oc, ic, k, k], (0..<(oc * ic * k * k)).map { Int8($0 % 7 - 3) })
        var ins: [(String, [String])] = [("Input", [x]), ("Filter", [w])]
        if bias {
            b.const("\(w).b", [oc], (0..<oc).map { Float($0) })
            ins.append(("Bias", ["\(w).b"]))
        }
        if let residual { ins.append(("ResidualData", [residual])) }
        b.op("fused_conv2d", ins, [("Output", [out])],
             [("strides", .ints(strides)), ("paddings", .ints([k / 2, k / 2])), ("dilations", .ints([1, 1])), ("groups", .int(1)),
              ("padding_algorithm", .string(algo)), ("data_format", .string("NCHW")),
              ("weight_scales", .floats((0..<oc).map { 0.5 + Float($0) })), ("weight_axis", .int(0)), ("activation", .string(act))],
             shape: shape)
    }

    /// A conv with a sigmoid-family activation lowers to qconv2d with that activation (hard_sigmoid keeps its slope
    /// and offset); sigmoid and hard_sigmoid outputs are non-negative, so a quantized reader gets u8.
    func testSigmoidFamilyEpilogues() {
        for act in ["sigmoid", "hard_sigmoid", "swish"] {
            var b = GraphBuilder()
            b.input("x", [1, 3, 8, 8])
            fq(&b, "x", "xq", 1, shape: [1, 3, 8, 8])
            conv(&b, "xq", "w1", oc: 4, ic: 3, k: 3, "c1", shape: [1, 4, 8, 8], act: act)
            fq(&b, "c1", "c1q", 2, shape: [1, 4, 8, 8])
            conv(&b, "c1q", "w2", oc: 2, ic: 4, k: 1, "c2", shape: [1, 2, 8, 8])
            var g = b.graph(outputs: ["c2"])
            if act == "hard_sigmoid" {
                g.nodes[2] = g.nodes[2].settingAttrs([("slope", .float(0.25)), ("offset", .float(0.4))])
            }
            let (out, _) = LowerInt8.apply(g)
            XCTAssertEqual(out.types(), ["feed", "quantize", "qconv2d", "qconv2d", "layout_nhwc_to_nchw", "fetch"], act + dump(out))
            let c1 = out.nodes[2]
            XCTAssertEqual(c1.attrs["activation"], .string(act))
            XCTAssertEqual(c1.attrs["out_scale"], .float(2))
            XCTAssertEqual(out.values["c1"]?.dtype, act == "swish" ? .i8 : .u8, act)
            if act == "hard_sigmoid" {
                XCTAssertEqual(c1.attrs["slope"], .float(0.25))
                XCTAssertEqual(c1.attrs["offset"], .float(0.4))
                XCTAssertEqual(try c1.spec(QConvSpec.self).epilogue.slope, 0.25)
            }
        }
    }

    func testConvPoolConvChain() {
        var b = GraphBuilder()
        b.input("x", [1, 3, 8, 8])
        fq(&b, "x", "xq", 1, shape: [1, 3, 8, 8])
        conv(&b, "xq", "w1", oc: 4, ic: 3, k: 3, "c1", shape: [1, 4, 8, 8], act: "relu")
        b.op("pool2d", [("X", ["c1"])], [("Out", ["p"])],
             [("pooling_type", .string("max")), ("ksize", .ints([2, 2])), ("strides", .ints([2, 2])), ("paddings", .ints([0, 0]))])
        fq(&b, "p", "pq", 4, shape: [1, 4, 4, 4])
        conv(&b, "pq", "w2", oc: 2, ic: 4, k: 1, "c2", shape: [1, 2, 4, 4], bias: false)
        b.op("softmax", [("X", ["c2"])], [("Out", ["y"])], [("axis", .int(1))])
        let g = b.graph(outputs: ["y"])
        let (out, changes) = LowerInt8.apply(g)
        XCTAssertEqual(out.types(), ["feed", "quantize", "qconv2d", "qpool2d", "qconv2d", "layout_nhwc_to_nchw", "softmax", "fetch"],
                       dump(out))
        let q = out.nodes[1]
        XCTAssertEqual(q.input("X"), "x")
        XCTAssertEqual(q.attrs["scale"], .float(1))
        XCTAssertEqual(q.attrs["out_dtype"], .string("s8"))
        XCTAssertEqual(out.values[q.output("Out")!]?.shape, [1, 8, 8, 3])
        XCTAssertEqual(out.values[q.output("Out")!]?.dtype, .i8)
        XCTAssertEqual(q.provenance, g.nodes[1].provenance)

        let c1 = out.nodes[2]
        XCTAssertEqual(c1.id, g.nodes[2].id)
        XCTAssertEqual(c1.inputs.map(\.name), ["Input", "Filter", "Bias"])
        XCTAssertEqual(c1.input("Input"), q.output("Out"))
        XCTAssertEqual(c1.output("Output"), "c1")
        XCTAssertEqual(c1.attrs["paddings"], .ints([1, 1, 1, 1]))
        XCTAssertEqual(c1.attrs["strides"], .ints([1, 1]))
        XCTAssertEqual(c1.attrs["dilations"], .ints([1, 1]))
        XCTAssertEqual(c1.attrs["groups"], .int(1))
        XCTAssertEqual(c1.attrs["in_scale"], .float(1))
        XCTAssertEqual(c1.attrs["weight_scales"], .floats([0.5, 1.5, 2.5, 3.5]))
        XCTAssertEqual(c1.attrs["activation"], .string("relu"))
        XCTAssertEqual(c1.attrs["out_dtype"], .string("u8"))
        XCTAssertEqual(c1.attrs["out_scale"], .float(4))
        XCTAssertEqual(out.values["c1"]?.dtype, .u8)
        XCTAssertEqual(out.values["c1"]?.shape, [1, 8, 8, 4])

        let pool = out.nodes[3]
        XCTAssertEqual(pool.input("X"), "c1")
        XCTAssertEqual(pool.attrs["in_scale"], .float(4))
        XCTAssertEqual(pool.attrs["out_scale"], .float(4))
        XCTAssertEqual(pool.attrs["out_dtype"], .string("u8"))
        XCTAssertEqual(pool.attrs["data_format"], .string("NHWC"))
        XCTAssertEqual(out.values["p"]?.shape, [1, 4, 4, 4])

        let c2 = out.nodes[4]
        XCTAssertEqual(c2.input("Input"), "p")
        XCTAssertNil(c2.input("Bias"))
        XCTAssertEqual(c2.attrs["in_scale"], .float(4))
        XCTAssertEqual(c2.attrs["out_dtype"], .string("f32"))
        XCTAssertNil(c2.attrs["out_scale"])
        XCTAssertEqual(c2.attrs["paddings"], .ints([0, 0, 0, 0]))
        XCTAssertEqual(out.values["c2"]?.shape, [1, 4, 4, 2])
        XCTAssertEqual(out.values["c2"]?.dtype, .f32)
        XCTAssertEqual(out.nodes[5].input("X"), "c2")
        XCTAssertEqual(out.nodes[5].output("Out"), "c2.nchw")
        XCTAssertEqual(out.values["c2.nchw"]?.shape, [1, 2, 4, 4])
        XCTAssertEqual(out.nodes[6].input("X"), "c2.nchw")

        XCTAssertEqual(Set(changes.filter { $0.kind == .removed }.map(\.nodeID)), [g.nodes[1].id, g.nodes[4].id])
        XCTAssertEqual(changes.filter { $0.kind == .added }.map(\.node), ["xq.quant", "c2.nchw"])
        let summary = PassSummary(steps: [PassStep(name: "loaded", graph: g, changes: []), PassStep(name: "lower-int8", graph: out, changes: changes)])
        XCTAssertEqual(summary.final.ops.map(\.precision), ["FP32", "I8", "I8", "U8", "U8", "FP32", "FP32", "FP32"])
    }

    func testResidualReadsF32NHWCAndConvWritesQuantOutput() {
        var b = GraphBuilder()
        b.input("x", [1, 2, 4, 4])
        fq(&b, "x", "xq", 1, shape: [1, 2, 4, 4])
        conv(&b, "xq", "wa", oc: 2, ic: 2, k: 1, "a", shape: [1, 2, 4, 4], act: "relu")
        fq(&b, "a", "aq", 2, shape: [1, 2, 4, 4])
        conv(&b, "aq", "wb", oc: 2, ic: 2, k: 3, "bo", shape: [1, 2, 4, 4], act: "relu6", residual: "a")
        let g = b.graph(outputs: ["bo"])
        let (out, _) = LowerInt8.apply(g)
        XCTAssertEqual(out.types(), ["feed", "quantize", "qconv2d", "qconv2d", "layout_nhwc_to_nchw", "fetch"], dump(out))
        let ca = out.nodes[2]
        XCTAssertEqual(ca.attrs["out_dtype"], .string("f32"))
        XCTAssertEqual(ca.output("Output"), "a")
        XCTAssertEqual(ca.output("QuantOutput"), "aq.quant")
        XCTAssertEqual(ca.attrs["quant_out_dtype"], .string("u8"))  // a is after relu
        XCTAssertEqual(ca.attrs["quant_out_scale"], .float(2))
        XCTAssertEqual(out.values["aq.quant"]?.dtype, .u8)
        XCTAssertEqual(out.values["aq.quant"]?.shape, [1, 4, 4, 2])
        let cb = out.nodes[3]
        XCTAssertEqual(cb.input("Input"), "aq.quant")
        XCTAssertEqual(cb.attrs["in_scale"], .float(2))
        XCTAssertEqual(cb.input("Residual"), "a")
        XCTAssertEqual(out.outputs, ["bo.nchw"])
    }

    func testResidualReadsF32NHWCAndQuantizeFromNCHW() {
        // round_type 1 (legacy rounding) is not what the conv epilogue computes: layout + quantize stay.
        var b = GraphBuilder()
        b.input("x", [1, 2, 4, 4])
        fq(&b, "x", "xq", 1, shape: [1, 2, 4, 4])
        conv(&b, "xq", "wa", oc: 2, ic: 2, k: 1, "a", shape: [1, 2, 4, 4], act: "relu")
        b.op("fake_quantize", [("X", ["a"])], [("Out", ["aq"])],
             [("range", .floats([2])), ("axis", .int(-1)), ("levels", .int(256)), ("round_type", .int(1)), ("bit_length", .int(8))],
             shape: [1, 2, 4, 4])
        conv(&b, "aq", "wb", oc: 2, ic: 2, k: 3, "bo", shape: [1, 2, 4, 4], act: "relu6", residual: "a")
        let g = b.graph(outputs: ["bo"])
        let (out, _) = LowerInt8.apply(g)
        XCTAssertEqual(out.types(), ["feed", "quantize", "qconv2d", "layout_nhwc_to_nchw", "quantize", "qconv2d", "layout_nhwc_to_nchw", "fetch"],
                       dump(out))
        XCTAssertEqual(out.nodes[2].attrs["out_dtype"], .string("f32"))
        XCTAssertEqual(out.nodes[4].input("X"), "a.nchw")
        XCTAssertEqual(out.nodes[4].attrs["out_dtype"], .string("u8"))  // a is after relu
        let cb = out.nodes[5]
        XCTAssertEqual(cb.input("Residual"), "a")
        XCTAssertNil(cb.input("ResidualData"))
        XCTAssertEqual(cb.attrs["activation"], .string("relu6"))
        XCTAssertEqual(out.outputs, ["bo.nchw"])
        XCTAssertEqual(out.nodes.last?.input("X"), "bo.nchw")
    }

    func testResidualFromFloatOpIsSplitOut() {
        var b = GraphBuilder()
        b.input("x", [1, 2, 4, 4])
        fq(&b, "x", "xq", 1, shape: [1, 2, 4, 4])
        b.op("fused_conv2d", [], [], [], shape: nil)  // placeholder removed below
        b.nodes.removeLast()
        conv(&b, "xq", "w", oc: 2, ic: 2, k: 1, "y", shape: [1, 2, 4, 4], act: "hard_swish", residual: "x")
        let fusedNode = b.nodes.last!
        b.nodes[b.nodes.count - 1] = fusedNode.with(attrs: {
            var a = fusedNode.attrs
            a["residual_provenance"] = .strings(["add_0"])
            a["activation_provenance"] = .strings(["hs_0"])
            return a
        }(), provenance: ["conv_0", "bn_0", "add_0", "hs_0"])
        let g = b.graph(outputs: ["y"])
        let (out, _) = LowerInt8.apply(g)
        XCTAssertEqual(out.types(), ["feed", "quantize", "qconv2d", "layout_nhwc_to_nchw", "elementwise_add", "hard_swish", "fetch"], dump(out))
        let q = out.nodes[2]
        XCTAssertEqual(q.attrs["activation"], .string("none"))
        XCTAssertEqual(q.attrs["out_dtype"], .string("f32"))
        XCTAssertNil(q.input("Residual"))
        XCTAssertEqual(q.output("Output"), "y.conv")
        XCTAssertEqual(out.nodes[4].inputs("X") + out.nodes[4].inputs("Y"), ["y.conv.nchw", "x"])
        XCTAssertEqual(out.nodes[4].provenance, ["add_0"])
        XCTAssertEqual(out.nodes[5].provenance, ["hs_0"])
        XCTAssertEqual(out.nodes[5].output("Out"), "y")
        XCTAssertEqual(out.nodes[3].provenance, ["conv_0", "bn_0"])
        XCTAssertEqual(out.outputs, ["y"])
    }

    func testMatmulChain() {
        var b = GraphBuilder()
        b.input("x", [2, 4])
        fq(&b, "x", "xq", 1, shape: [2, 4])
        b.constI8("w1", [4, 3], Array(repeating: 1, count: 12))
        b.const("b1", [3], [0, 1, 2])
        b.op("fc", [("Input", ["xq"]), ("W", ["w1"]), ("Bias", ["b1"])], [("Out", ["h"])],
             [("in_num_col_dims", .int(1)), ("activation_type", .string("relu")), ("weight_scales", .floats([1, 2, 3])), ("weight_axis", .int(1))],
             shape: [2, 3])
        fq(&b, "h", "hq", 3, shape: [2, 3])
        b.constI8("w2", [3, 2], Array(repeating: 1, count: 6))
        b.op("matmul_v2", [("X", ["hq"]), ("Y", ["w2"])], [("Out", ["z"])], [("weight_scales", .floats([1, 1])), ("weight_axis", .int(1))])
        let g = b.graph(outputs: ["z"])
        let (out, _) = LowerInt8.apply(g)
        XCTAssertEqual(out.types(), ["feed", "quantize", "qmatmul", "qmatmul", "fetch"], dump(out))
        let m1 = out.nodes[2], m2 = out.nodes[3]
        XCTAssertEqual(m1.inputs.map(\.name), ["X", "Y", "Bias"])
        XCTAssertEqual(m1.output("Out"), "h")
        XCTAssertEqual(m1.attrs["out_dtype"], .string("u8"))
        XCTAssertEqual(m1.attrs["out_scale"], .float(3))
        XCTAssertEqual(m1.attrs["activation"], .string("relu"))
        XCTAssertEqual(m2.input("X"), "h")
        XCTAssertEqual(m2.attrs["in_scale"], .float(3))
        XCTAssertEqual(m2.attrs["out_dtype"], .string("f32"))
        XCTAssertEqual(out.values["z"]?.shape, [2, 2])
        XCTAssertEqual(out.outputs, ["z"])
    }

    /// Linear layers on [batch, seq, K] activations (ERNIE, SVTR): fc with in_num_col_dims 2 and matmul_v2 lower to
    /// qmatmul over the flattened rows; fc flattening elsewhere (in_num_col_dims 1 on rank 3) and trans_y stay float.
    func testRank3LinearLayers() {
        for (ncd, transY, lowered) in [(2, false, true), (1, false, false), (2, true, false)] {
            var b = GraphBuilder()
            b.input("x", [2, 5, 4])
            fq(&b, "x", "xq", 1, shape: [2, 5, 4])
            b.constI8("w1", [4, 3], Array(repeating: 1, count: 12))
            b.const("b1", [3], [0, 1, 2])
            b.op("fc", [("Input", ["xq"]), ("W", ["w1"]), ("Bias", ["b1"])], [("Out", ["h"])],
                 [("in_num_col_dims", .int(ncd)), ("weight_scales", .floats([1, 2, 3])), ("weight_axis", .int(1))],
                 shape: ncd == 2 ? [2, 5, 3] : [2, 3])
            fq(&b, "x", "xq2", 1, shape: [2, 5, 4])
            b.constI8("w2", [4, 2], Array(repeating: 1, count: 8))
            b.op("matmul_v2", [("X", ["xq2"]), ("Y", ["w2"])], [("Out", ["z"])],
                 [("trans_y", .bool(transY)), ("weight_scales", .floats([1, 1])), ("weight_axis", .int(1))], shape: [2, 5, 2])
            let g = b.graph(outputs: ["h", "z"])
            let (out, _) = LowerInt8.apply(g)
            let q = out.nodes.filter { $0.type == "qmatmul" }
            XCTAssertEqual(q.count, lowered ? 2 : 1, "ncd \(ncd) transY \(transY)" + dump(out))
            if lowered {
                XCTAssertEqual(out.values["h"]?.shape, [2, 5, 3])
                XCTAssertEqual(out.values["z"]?.dtype, .f32)
                XCTAssertEqual(q[0].attrs["in_scale"], .float(1))
            }
        }
    }

    func testSameAndValidPaddingResolved() {
        var b = GraphBuilder()
        b.input("x", [1, 1, 5, 5])
        fq(&b, "x", "xq", 1, shape: [1, 1, 5, 5])
        conv(&b, "xq", "w", oc: 1, ic: 1, k: 2, "y", shape: [1, 1, 3, 3], algo: "SAME", strides: [2, 2])
        let (out, _) = LowerInt8.apply(b.graph(outputs: ["y"]))
        // out = ceil(5/2) = 3, total pad = (3-1)*2 + 2 - 5 = 1 → top 0, bottom 1.
        XCTAssertEqual(out.nodes[2].attrs["paddings"], .ints([0, 1, 0, 1]))
    }

    func testFakeQuantizeOverIntegerValueWithFloatReaderBecomesDequantize() {
        var b = GraphBuilder()
        b.input("x", [2, 4])
        fq(&b, "x", "xq", 1, shape: [2, 4])
        b.constI8("w1", [4, 3], Array(repeating: 1, count: 12))
        b.op("matmul_v2", [("X", ["xq"]), ("Y", ["w1"])], [("Out", ["h"])], [("weight_scales", .floats([1, 1, 1])), ("weight_axis", .int(1))])
        fq(&b, "h", "hq", 3, shape: [2, 3])
        b.constI8("w2", [3, 2], Array(repeating: 1, count: 6))
        b.op("matmul_v2", [("X", ["hq"]), ("Y", ["w2"])], [("Out", ["z"])], [("weight_scales", .floats([1, 1])), ("weight_axis", .int(1))])
        b.op("relu", [("X", ["hq"])], [("Out", ["r"])])
        let g = b.graph(outputs: ["z", "r"])
        let (out, _) = LowerInt8.apply(g)
        XCTAssertEqual(out.types(), ["feed", "quantize", "qmatmul", "dequantize", "qmatmul", "relu", "fetch", "fetch"], dump(out))
        XCTAssertEqual(out.nodes[2].attrs["out_dtype"], .string("s8"))
        XCTAssertEqual(out.nodes[3].input("X"), "h")
        XCTAssertEqual(out.nodes[3].output("Out"), "hq")
        XCTAssertEqual(out.nodes[3].attrs["scale"], .float(3))
        XCTAssertEqual(out.nodes[5].input("X"), "hq")
    }

    func testUnquantizedInputFallsBackToFloatWeights() {
        var b = GraphBuilder()
        b.input("x", [1, 2, 4, 4])
        conv(&b, "x", "w", oc: 2, ic: 2, k: 1, "y", shape: [1, 2, 4, 4])
        let g = b.graph(outputs: ["y"])
        let (out, changes) = LowerInt8.apply(g)
        XCTAssertEqual(out.types(), ["feed", "fused_conv2d", "fetch"])
        let f = out.nodes[1]
        XCTAssertEqual(f.input("Filter"), "w.f32")
        XCTAssertNil(f.attrs["weight_scales"])
        XCTAssertEqual(out.values["w.f32"]?.constant?.dtype, .f32)
        XCTAssertEqual(out.values["w.f32"]?.constant?.floatValues()[0], Float(-3) * 0.5 / 127)
        XCTAssertEqual(changes.map(\.kind), [.rewritten])
    }

    func testFloatOnlyFakeQuantizeBecomesQuantizeDequantize() {
        var b = GraphBuilder()
        b.input("x", [1, 2, 2, 2])
        fq(&b, "x", "xq", 2, shape: [1, 2, 2, 2])
        b.op("relu", [("X", ["xq"])], [("Out", ["r"])])
        let g = b.graph(outputs: ["r"])
        let (out, _) = LowerInt8.apply(g)
        XCTAssertEqual(out.types(), ["feed", "quantize", "dequantize", "relu", "fetch"], dump(out))
        XCTAssertEqual(out.nodes[1].attrs["out_dtype"], .string("s8"))
        XCTAssertEqual(out.nodes[2].output("Out"), "xq")
        XCTAssertEqual(out.nodes[2].id, g.nodes[1].id)
        XCTAssertEqual(out.values[out.nodes[1].output("Out")!]?.shape, [1, 2, 2, 2])
    }

    func testNonNegativeValuesAreU8WhateverTheRange() {
        func graph(act: String, range: Float) -> Graph {
            var b = GraphBuilder()
            b.input("x", [1, 2, 4, 4])
            fq(&b, "x", "xq", 1, shape: [1, 2, 4, 4])
            conv(&b, "xq", "w1", oc: 2, ic: 2, k: 1, "c1", shape: [1, 2, 4, 4], act: act)
            fq(&b, "c1", "c1q", range, shape: [1, 2, 4, 4])
            conv(&b, "c1q", "w2", oc: 2, ic: 2, k: 1, "c2", shape: [1, 2, 4, 4])
            return b.graph(outputs: ["c2"])
        }
        XCTAssertEqual(LowerInt8.apply(graph(act: "relu", range: 3)).0.nodes[2].attrs["out_dtype"], .string("u8"))
        XCTAssertEqual(LowerInt8.apply(graph(act: "relu6", range: 3)).0.nodes[2].attrs["out_dtype"], .string("u8"))
        XCTAssertEqual(LowerInt8.apply(graph(act: "none", range: 3)).0.nodes[2].attrs["out_dtype"], .string("s8"))
    }

    /// Integer values flow through relu, channel concat, global max pool and a 1×1 flatten into an integer matmul.
    func testPropagationThroughReluConcatPoolFlatten() {
        var b = GraphBuilder()
        b.input("x", [1, 2, 4, 4])
        fq(&b, "x", "xq", 1, shape: [1, 2, 4, 4])
        conv(&b, "xq", "wa", oc: 2, ic: 2, k: 1, "a", shape: [1, 2, 4, 4], act: "relu")
        conv(&b, "xq", "wb", oc: 3, ic: 2, k: 1, "bo", shape: [1, 3, 4, 4])
        b.op("relu", [("X", ["bo"])], [("Out", ["br"])])
        b.op("concat", [("X", ["a", "br"])], [("Out", ["cat"])], [("axis", .int(1))])
        b.op("pool2d", [("X", ["cat"])], [("Out", ["p"])],
             [("pooling_type", .string("max")), ("global_pooling", .bool(true)), ("ksize", .ints([1, 1]))])
        b.op("flatten_contiguous_range", [("X", ["p"])], [("Out", ["fl"]), ("XShape", ["fls"])], [("start_axis", .int(1)), ("stop_axis", .int(3))])
        fq(&b, "fl", "flq", 5, shape: [1, 5])
        b.constI8("w", [5, 2], Array(repeating: 1, count: 10))
        b.op("matmul_v2", [("X", ["flq"]), ("Y", ["w"])], [("Out", ["y"])], [("weight_scales", .floats([1, 1])), ("weight_axis", .int(1))])
        let g = b.graph(outputs: ["y"])
        let (out, _) = LowerInt8.apply(g)
        XCTAssertEqual(out.types(), ["feed", "quantize", "qconv2d", "qconv2d", "qrelu", "qconcat", "qpool2d", "flatten_contiguous_range",
                                     "qmatmul", "fetch"], dump(out))
        XCTAssertEqual(out.nodes[2].attrs["out_dtype"], .string("u8"))
        XCTAssertEqual(out.nodes[3].attrs["out_dtype"], .string("s8"))
        XCTAssertEqual(out.nodes[3].attrs["out_scale"], .float(5))
        XCTAssertEqual(out.nodes[4].attrs["out_dtype"], .string("u8"))
        let cat = out.nodes[5]
        XCTAssertEqual(cat.inputs("X"), ["a", "br"])
        XCTAssertEqual(cat.attrs["axis"], .int(3))
        XCTAssertEqual(cat.attrs["in_scales"], .floats([5, 5]))
        XCTAssertEqual(cat.attrs["out_dtype"], .string("u8"))
        XCTAssertEqual(out.values["cat"]?.shape, [1, 4, 4, 5])
        XCTAssertEqual(out.values["p"]?.shape, [1, 1, 1, 5])
        XCTAssertEqual(out.nodes[7].outputs.map(\.name), ["Out"])
        XCTAssertEqual(out.values["fl"]?.dtype, .u8)
        XCTAssertEqual(out.values["fl"]?.shape, [1, 5])
        XCTAssertEqual(out.nodes[8].input("X"), "fl")
        XCTAssertEqual(out.nodes[8].attrs["in_scale"], .float(5))
        XCTAssertEqual(PassSummary(steps: [PassStep(name: "loaded", graph: out, changes: [])]).final.ops[7].precision, "U8")
    }
}
