import XCTest
import QtopFormat
import QtopGraph
@testable import QtopPasses

final class FoldBatchNormTests: XCTestCase {
    func testFloatConvBiasBN() throws {
        var b = GraphBuilder()
        b.input("x", [1, 2, 3, 3])
        b.const("w", [2, 2, 1, 1], [1, 2, 3, 4])
        b.conv("x", "w", "c", pads: [0, 0])
        b.const("bias", [2], [0.5, -1])
        b.op("elementwise_add", [("X", ["c"]), ("Y", ["bias"])], [("Out", ["cb"])], [("axis", .int(1))])
        b.bn("cb", "y", channels: 2)
        let g = b.graph(outputs: ["y"])
        let (out, changes) = FoldBatchNorm.apply(g)
        XCTAssertEqual(out.types(), ["feed", "fused_conv2d", "fetch"])
        let f = out.nodes[1]
        XCTAssertEqual(f.id, 1)
        XCTAssertEqual(f.inputs.map(\.name), ["Input", "Filter", "Bias"])
        XCTAssertEqual(f.output("Output"), "y")
        XCTAssertEqual(f.attrs["activation"], .string("none"))
        XCTAssertEqual(f.provenance, ["c", "cb", "y"])
        // m = gamma / sqrt(var + eps); bias' = (b - mean) * m + beta.
        let m0 = Float(0.5 / (1.0 + 1e-5).squareRoot()), m1 = Float(0.75 / (1.5 + 1e-5).squareRoot())
        let bias = out.values[f.input("Bias")!]!.constant!.floatValues()
        XCTAssertEqual(bias[0], (0.5 - 0) * m0 + (-0.2), accuracy: 1e-6)
        XCTAssertEqual(bias[1], (-1 - 0.05) * m1 + (-0.1), accuracy: 1e-6)
        let fw = out.values[f.input("Filter")!]!.constant!.floatValues()
        XCTAssertEqual(fw[0], 1 * m0, accuracy: 1e-6)
        XCTAssertEqual(fw[3], 4 * m1, accuracy: 1e-6)
        XCTAssertEqual(changes.map(\.kind), [.fused, .removed, .removed])
    }

    func testInt8ConvFoldsIntoWeightScales() {
        var b = GraphBuilder()
        b.input("x", [1, 2, 3, 3])
        b.constI8("w", [2, 2, 1, 1], [1, 2, 3, 4])
        b.op("conv2d", [("Input", ["x"]), ("Filter", ["w"])], [("Output", ["c"])],
             [("strides", .ints([1, 1])), ("paddings", .ints([0, 0])), ("groups", .int(1)), ("weight_scales", .floats([1, 2])),
              ("weight_axis", .int(0))])
        b.bn("c", "y", channels: 2)
        let g = b.graph(outputs: ["y"])
        let (out, _) = FoldBatchNorm.apply(g)
        let f = out.nodes[1]
        XCTAssertEqual(f.input("Filter"), "w")
        let ws = f.attrs["weight_scales"]!.floats!
        XCTAssertEqual(ws[0], 1 * Float(0.5 / (1.0 + 1e-5).squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(ws[1], 2 * Float(0.75 / (1.5 + 1e-5).squareRoot()), accuracy: 1e-6)
    }

    func testMatmulBiasBecomesFC() {
        var b = GraphBuilder()
        b.input("x", [2, 3])
        b.const("w", [3, 4], Array(repeating: 1, count: 12))
        b.const("bias", [4], [1, 2, 3, 4])
        b.op("matmul_v2", [("X", ["x"]), ("Y", ["w"])], [("Out", ["m"])])
        b.op("elementwise_add", [("X", ["m"]), ("Y", ["bias"])], [("Out", ["y"])], [("axis", .int(-1))])
        let g = b.graph(outputs: ["y"])
        let (out, _) = FoldBatchNorm.apply(g)
        XCTAssertEqual(out.types(), ["feed", "fc", "fetch"])
        let fc = out.nodes[1]
        XCTAssertEqual(fc.inputs.map(\.name), ["Input", "W", "Bias"])
        XCTAssertEqual(fc.input("W"), "w")
        XCTAssertEqual(fc.attrs["in_num_col_dims"], .int(1))
        XCTAssertEqual(fc.attrs["activation_type"], .string(""))
        XCTAssertEqual(fc.output("Out"), "y")
        XCTAssertEqual(fc.provenance, ["m", "y"])
    }

    /// Paddle's Conv2D with bias: elementwise_add(conv, reshape2(b, [1, C, 1, 1])).
    func testBiasThroughReshape() {
        var b = GraphBuilder()
        b.input("x", [1, 2, 3, 3])
        b.const("w", [2, 2, 1, 1], [1, 2, 3, 4])
        b.conv("x", "w", "c", pads: [0, 0])
        b.const("b", [2], [0.5, -1])
        b.op("reshape2", [("X", ["b"])], [("Out", ["br"]), ("XShape", ["bs"])], [("shape", .ints([1, 2, 1, 1]))])
        b.op("elementwise_add", [("X", ["c"]), ("Y", ["br"])], [("Out", ["y"])], [("axis", .int(-1))])
        let g = b.graph(outputs: ["y"])
        let (out, _) = FoldBatchNorm.apply(g)
        XCTAssertEqual(out.types(), ["feed", "reshape2", "fused_conv2d", "fetch"])
        XCTAssertEqual(out.values[out.nodes[2].input("Bias")!]?.constant?.floatValues(), [0.5, -1])
        XCTAssertEqual(out.nodes[2].provenance, ["c", "y", "br"])
        XCTAssertEqual(DeadCode.apply(out).0.types(), ["feed", "fused_conv2d", "fetch"])
    }

    func testConvWithTwoReadersIsNotFolded() {
        var b = GraphBuilder()
        b.input("x", [1, 2, 3, 3])
        b.const("w", [2, 2, 1, 1], [1, 2, 3, 4])
        b.conv("x", "w", "c", pads: [0, 0])
        b.bn("c", "y", channels: 2)
        b.op("relu", [("X", ["c"])], [("Out", ["r"])])
        let g = b.graph(outputs: ["y", "r"])
        XCTAssertEqual(FoldBatchNorm.apply(g).0.types(), g.types())
    }
}

final class FuseResidualAddTests: XCTestCase {
    func testAddIntoConv() {
        var b = GraphBuilder()
        b.input("x", [1, 2, 3, 3])
        b.const("w", [2, 2, 1, 1], [1, 2, 3, 4])
        b.conv("x", "w", "c", pads: [0, 0])
        b.op("elementwise_add", [("X", ["x"]), ("Y", ["c"])], [("Out", ["s"])], [("axis", .int(-1))])
        b.op("relu", [("X", ["s"])], [("Out", ["r"])])
        let g = b.graph(outputs: ["r"])
        let (out, changes) = FuseResidualAdd.apply(g)
        XCTAssertEqual(out.types(), ["feed", "fused_conv2d", "relu", "fetch"])
        let f = out.nodes[1]
        XCTAssertEqual(f.id, 1)
        XCTAssertEqual(f.input("ResidualData"), "x")
        XCTAssertEqual(f.output("Output"), "s")
        XCTAssertEqual(f.provenance, ["c", "s"])
        XCTAssertEqual(changes.map(\.kind), [.fused, .removed])
        // Then the activation after the add.
        let (out2, _) = FuseActivation.apply(out)
        XCTAssertEqual(out2.types(), ["feed", "fused_conv2d", "fetch"])
        XCTAssertEqual(out2.nodes[1].attrs["activation"], .string("relu"))
        XCTAssertEqual(out2.nodes[1].output("Output"), "r")
        XCTAssertEqual(out2.nodes[1].provenance, ["c", "s", "r"])
    }

    func testBroadcastAddIsNotFused() {
        var b = GraphBuilder()
        b.input("x", [1, 2, 3, 3])
        b.const("w", [2, 2, 1, 1], [1, 2, 3, 4])
        b.conv("x", "w", "c", pads: [0, 0])
        b.const("k", [1, 2, 1, 1], [1, 1])
        b.op("elementwise_add", [("X", ["c"]), ("Y", ["k"])], [("Out", ["s"])])
        let g = b.graph(outputs: ["s"])
        XCTAssertEqual(FuseResidualAdd.apply(g).0.types(), g.types())
    }
}

final class FuseActivationTests: XCTestCase {
    func testActivationsByTarget() {
        for (act, attrs, int8ok) in [("relu", [(String, AttrValue)](), true), ("relu6", [("threshold", .float(6))], true),
                                     ("hard_swish", [], true), ("leaky_relu", [("alpha", .float(0.1))], false),
                                     ("sigmoid", [], true), ("hard_sigmoid", [("slope", .float(0.2)), ("offset", .float(0.5))], true),
                                     ("swish", [], true)] {
            var b = GraphBuilder()
            b.input("x", [1, 2, 3, 3])
            b.const("w", [2, 2, 1, 1], [1, 2, 3, 4])
            b.conv("x", "w", "c", pads: [0, 0])
            b.op(act, [("X", ["c"])], [("Out", ["r"])], attrs)
            let g = b.graph(outputs: ["r"])
            let (i8, _) = FuseActivation.apply(g, target: .int8)
            let (f32, ch) = FuseActivation.apply(g, target: .fp32)
            XCTAssertEqual(i8.types().count, int8ok ? 3 : 4, act)
            XCTAssertEqual(f32.types(), ["feed", "fused_conv2d", "fetch"], act)
            XCTAssertEqual(f32.nodes[1].attrs["activation"], .string(act))
            XCTAssertEqual(f32.nodes[1].attrs["activation_provenance"], .strings(["r"]))
            XCTAssertEqual(ch.first?.detail, "conv2d+\(act) → fused_conv2d(activation=\(act))")
            if act == "leaky_relu" { XCTAssertEqual(f32.nodes[1].attrs["alpha"], .float(0.1)) }
        }
    }

    /// SiLU spelled out (YOLOv5 via X2Paddle): conv → sigmoid and elementwise_mul(conv, sigmoid) becomes one
    /// fused_conv2d with activation swish, for both targets; with a third reader of the conv output it stays.
    func testSiLUPatternBecomesSwish() {
        for extraReader in [false, true] {
            var b = GraphBuilder()
            b.input("x", [1, 2, 3, 3])
            b.const("w", [2, 2, 1, 1], [1, 2, 3, 4])
            b.conv("x", "w", "c", pads: [0, 0])
            b.op("sigmoid", [("X", ["c"])], [("Out", ["s"])])
            b.op("elementwise_mul", [("X", ["s"]), ("Y", ["c"])], [("Out", ["m"])], [("axis", .int(-1))])
            if extraReader { b.op("relu", [("X", ["c"])], [("Out", ["r"])]) }
            let g = b.graph(outputs: extraReader ? ["m", "r"] : ["m"])
            for target in [PassTarget.int8, .fp32] {
                let (out, ch) = FuseActivation.apply(g, target: target)
                if extraReader {
                    XCTAssertTrue(out.types().contains("elementwise_mul"), "\(target)")
                    continue
                }
                XCTAssertEqual(out.types(), ["feed", "fused_conv2d", "fetch"], "\(target)")
                XCTAssertEqual(out.nodes[1].attrs["activation"], .string("swish"))
                XCTAssertEqual(out.nodes[1].output("Output"), "m")
                XCTAssertEqual(out.nodes[1].attrs["activation_provenance"], .strings(["s", "m"]))
                XCTAssertEqual(ch.first?.detail, "conv2d+sigmoid+elementwise_mul (SiLU) → fused_conv2d(activation=swish)")
            }
        }
    }

    func testNotFusedWhenConvHasOtherReaders() {
        var b = GraphBuilder()
        b.input("x", [1, 2, 3, 3])
        b.const("w", [2, 2, 1, 1], [1, 2, 3, 4])
        b.conv("x", "w", "c", pads: [0, 0])
        b.op("relu", [("X", ["c"])], [("Out", ["r"])])
        let g = b.graph(outputs: ["r", "c"])
        XCTAssertEqual(FuseActivation.apply(g).0.types(), g.types())
    }

    func testReluIntoFC() {
        var b = GraphBuilder()
        b.input("x", [2, 3])
        b.const("w", [3, 4], Array(repeating: 1, count: 12))
        b.const("bias", [4], [1, 2, 3, 4])
        b.op("fc", [("Input", ["x"]), ("W", ["w"]), ("Bias", ["bias"])], [("Out", ["y"])],
             [("in_num_col_dims", .int(1)), ("activation_type", .string(""))], shape: [2, 4])
        b.op("relu", [("X", ["y"])], [("Out", ["r"])])
        let (out, _) = FuseActivation.apply(b.graph(outputs: ["r"]))
        XCTAssertEqual(out.types(), ["feed", "fc", "fetch"])
        XCTAssertEqual(out.nodes[1].attrs["activation_type"], .string("relu"))
        XCTAssertNil(out.nodes[1].attrs["activation"])
    }

    func testHardSigmoidKeepsItsParameters() {
        var b = GraphBuilder()
        b.input("x", [1, 2, 3, 3])
        b.const("w", [2, 2, 1, 1], [1, 2, 3, 4])
        b.conv("x", "w", "c", pads: [0, 0])
        b.op("hard_sigmoid", [("X", ["c"])], [("Out", ["r"])], [("slope", .float(0.1666667)), ("offset", .float(0.5))])
        let (out, _) = FuseActivation.apply(b.graph(outputs: ["r"]), target: .fp32)
        XCTAssertEqual(out.nodes[1].attrs["slope"], .float(0.1666667))
        XCTAssertEqual(out.nodes[1].attrs["offset"], .float(0.5))
    }
}

final class DeadCodeTests: XCTestCase {
    func testRemovesUnreadChainsAndConstants() {
        var b = GraphBuilder()
        b.input("x", [1, 4])
        b.const("unused", [1], [1])
        b.const("k", [1], [2])
        b.op("scale", [("X", ["x"])], [("Out", ["a"])])
        b.op("elementwise_add", [("X", ["a"]), ("Y", ["k"])], [("Out", ["b"])])
        b.op("relu", [("X", ["x"])], [("Out", ["r"])])
        let g = b.graph(outputs: ["r"])
        let (out, changes) = DeadCode.apply(g)
        XCTAssertEqual(out.types(), ["feed", "relu", "fetch"])
        XCTAssertNil(out.values["unused"])
        XCTAssertNil(out.values["k"])
        XCTAssertEqual(changes.filter { $0.nodeID >= 0 }.map(\.node), ["a", "b"])
        XCTAssertEqual(changes.filter { $0.nodeID < 0 }.map(\.node), ["k", "unused"])
    }
}
