import XCTest
import QtopGraph
@testable import QtopPasses

final class QDQToFakeQuantizeTests: XCTestCase {
    func testPairBecomesFakeQuantize() {
        var b = GraphBuilder()
        b.input("x", [1, 3, 4, 4])
        b.qdq("x", "x.dq", range: 2.31)
        b.op("relu", [("X", ["x.dq"])], [("Out", ["r"])])
        let g = b.graph(outputs: ["r"])
        let (out, changes) = QDQToFakeQuantize.apply(g)
        XCTAssertEqual(out.types(), ["feed", "fake_quantize", "relu", "fetch"])
        let fq = out.nodes[1]
        XCTAssertEqual(fq.id, 1)
        XCTAssertEqual(fq.input("X"), "x")
        XCTAssertEqual(fq.output("Out"), "x.dq")
        XCTAssertEqual(fq.attrs["range"], .floats([2.31]))
        XCTAssertEqual(fq.attrs["axis"], .int(-1))
        XCTAssertEqual(fq.attrs["levels"], .int(256))
        XCTAssertEqual(fq.attrs["round_type"], .int(0))
        XCTAssertEqual(fq.attrs["bit_length"], .int(8))
        XCTAssertEqual(fq.provenance, ["x.dq.q", "x.dq"])
        XCTAssertTrue(out.nodes[2] === g.nodes[3])
        XCTAssertEqual(changes.first?.kind, .fused)
        XCTAssertEqual(changes.first?.detail, "quantize_linear+dequantize_linear → FakeQuantize(levels=256, range=±2.31)")
    }

    func testObserversAndWeightsAreLeftAlone() {
        var b = GraphBuilder()
        b.input("x", [1, 3, 4, 4])
        b.qdq("x", "x.dq", range: 1, observer: true)
        let w = b.int8Weights("w", [2, 3, 1, 1], ranges: [1, 2], axis: 0)
        b.conv("x.dq", w, "c", pads: [0, 0])
        let g = b.graph(outputs: ["c"])
        let (out, changes) = QDQToFakeQuantize.apply(g)
        XCTAssertEqual(out.types(), g.types())
        XCTAssertTrue(changes.isEmpty)
    }

    func testLegacyOps() {
        var b = GraphBuilder()
        b.input("x", [1, 4])
        b.const("s", [1], [3])
        b.op("fake_quantize_dequantize_moving_average_abs_max", [("X", ["x"]), ("InScale", ["s"])], [("Out", ["a"]), ("OutScale", ["s"])],
             [("bit_length", .int(8)), ("is_test", .bool(true)), ("round_type", .int(1))])
        b.op("fake_quantize_range_abs_max", [("X", ["a"]), ("InScale", ["s"])], [("Out", ["aq"]), ("OutScale", ["s2"])],
             [("bit_length", .int(8)), ("is_test", .bool(true))])
        b.op("fake_dequantize_max_abs", [("X", ["aq"]), ("Scale", ["s2"])], [("Out", ["ad"])], [("max_range", .float(127))])
        let g = b.graph(outputs: ["ad"])
        let (out, changes) = QDQToFakeQuantize.apply(g)
        XCTAssertEqual(out.types(), ["feed", "fake_quantize", "fake_quantize", "fetch"])
        XCTAssertEqual(out.nodes[1].attrs["range"], .floats([3]))
        XCTAssertEqual(out.nodes[1].attrs["round_type"], .int(1))
        XCTAssertEqual(out.nodes[2].input("X"), "a")
        XCTAssertEqual(out.nodes[2].output("Out"), "ad")
        XCTAssertEqual(changes.map(\.kind), [.rewritten, .fused, .removed])
    }
}
