import XCTest
import QtopFormat
import QtopGraph
@testable import QtopPasses

final class FoldWeightDequantTests: XCTestCase {
    func testConvReadsInt8Weights() {
        var b = GraphBuilder()
        b.input("x", [1, 3, 4, 4])
        let w = b.int8Weights("w", [2, 3, 1, 1], ranges: [0.5, 2], axis: 0)
        b.conv("x", w, "c", pads: [0, 0])
        let g = b.graph(outputs: ["c"])
        let (out, changes) = FoldWeightDequant.apply(g)
        XCTAssertEqual(out.types(), ["feed", "conv2d", "fetch"])
        let conv = out.nodes[1]
        XCTAssertEqual(conv.input("Filter"), "w")
        XCTAssertEqual(conv.attrs["weight_scales"], .floats([0.5, 2]))
        XCTAssertEqual(conv.attrs["weight_axis"], .int(0))
        XCTAssertEqual(conv.provenance, ["c", "w.dq"])
        XCTAssertTrue(out.values["w"]?.constant === g.values["w"]?.constant)
        XCTAssertEqual(changes.map(\.kind), [.removed, .rewritten])
        // The numerics helper reproduces dequantize_linear.
        let dq = QuantMath.dequantizedWeights(of: conv, in: out)!.floatValues()
        let q = g.values["w"]!.constant!.floatValues()
        XCTAssertEqual(dq[0], q[0] * 0.5 / 127)
        XCTAssertEqual(dq[5], q[5] * 2 / 127)
    }

    func testMatmulPerTensorExpandsToColumns() {
        var b = GraphBuilder()
        b.input("x", [2, 3])
        let w = b.int8Weights("w", [3, 4], ranges: [1.5], axis: -1)
        b.op("matmul_v2", [("X", ["x"]), ("Y", [w])], [("Out", ["y"])], [("trans_x", .bool(false)), ("trans_y", .bool(false))])
        let g = b.graph(outputs: ["y"])
        let (out, _) = FoldWeightDequant.apply(g)
        XCTAssertEqual(out.types(), ["feed", "matmul_v2", "fetch"])
        XCTAssertEqual(out.nodes[1].attrs["weight_scales"], .floats([1.5, 1.5, 1.5, 1.5]))
        XCTAssertEqual(out.nodes[1].attrs["weight_axis"], .int(1))
    }

    func testUnfoldableConsumerGetsFloatConstant() {
        var b = GraphBuilder()
        b.input("x", [3, 4])
        let w = b.int8Weights("w", [3, 4], ranges: [1, 1, 1, 1], axis: 1)
        b.op("elementwise_add", [("X", ["x"]), ("Y", [w])], [("Out", ["y"])])
        let g = b.graph(outputs: ["y"])
        let (out, changes) = FoldWeightDequant.apply(g)
        XCTAssertEqual(out.types(), ["feed", "elementwise_add", "fetch"])
        XCTAssertEqual(out.values[w]?.constant?.dtype, .f32)
        XCTAssertEqual(changes.map(\.kind), [.removed])
    }

    func testLegacyChannelWiseQuantDequantOnFloatWeights() {
        var b = GraphBuilder()
        b.input("x", [1, 1, 2, 2])
        b.const("w", [2, 1, 1, 1], [0.5, -4])
        b.op("fake_channel_wise_quantize_dequantize_abs_max", [("X", ["w"])], [("Out", ["wq"]), ("OutScale", ["ws"])],
             [("bit_length", .int(8)), ("quant_axis", .int(0))])
        b.conv("x", "wq", "c", pads: [0, 0])
        let g = b.graph(outputs: ["c"])
        let (out, _) = FoldWeightDequant.apply(g)
        let conv = out.nodes[1]
        XCTAssertEqual(conv.input("Filter"), "w.int8")
        XCTAssertEqual(conv.attrs["weight_scales"], .floats([0.5, 4]))
        XCTAssertEqual(out.values["w.int8"]?.constant?.int64Values(), [127, -127])
    }
}
