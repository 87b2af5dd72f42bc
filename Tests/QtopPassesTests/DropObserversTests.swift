import XCTest
import QtopGraph
@testable import QtopPasses

final class DropObserversTests: XCTestCase {
    /// conv → observer pair → relu; the pair goes, relu reads the conv output, the range lands on the value.
    func testRemovesObserverPairAndAnnotates() {
        var b = GraphBuilder()
        b.input("x", [1, 2, 4, 4])
        b.const("w", [2, 2, 1, 1], [1, 0, 0, 1])
        b.conv("x", "w", "c", pads: [0, 0])
        b.qdq("c", "c.dq", range: 2.5, observer: true)
        b.op("relu", [("X", ["c.dq"])], [("Out", ["r"])])
        let g = b.graph(outputs: ["r"])
        let (out, changes) = DropObservers.apply(g)
        XCTAssertEqual(out.types(), ["feed", "conv2d", "relu", "fetch"])
        XCTAssertEqual(out.nodes[2].input("X"), "c")
        XCTAssertEqual(out.values["c"]?.annotations["observed_scale"], .float(2.5))
        XCTAssertEqual(changes.map(\.kind), [.removed, .removed])
        XCTAssertEqual(changes.map(\.nodeID), [2, 3])
        XCTAssertTrue(changes[0].detail.contains("±2.5"), changes[0].detail)
        // Unchanged nodes are shared with the input snapshot.
        XCTAssertTrue(out.nodes[1] === g.nodes[1])
        XCTAssertTrue(out.values["w"]?.constant === g.values["w"]?.constant)
    }

    func testKeepsRealQDQ() {
        var b = GraphBuilder()
        b.input("x", [1, 2])
        b.qdq("x", "x.dq", range: 1)
        b.op("relu", [("X", ["x.dq"])], [("Out", ["r"])])
        let g = b.graph(outputs: ["r"])
        let (out, changes) = DropObservers.apply(g)
        XCTAssertEqual(out.types(), g.types())
        XCTAssertTrue(changes.isEmpty)
    }

    /// A Paddle program may reuse an observer's output names (seen in PTQ output): only readers after the observer
    /// are rewired.
    func testNonSSANamesRewireOnlyLaterReaders() {
        var b = GraphBuilder()
        b.input("x", [1, 2])
        b.qdq("x", "x.dq", range: 1)                       // writes x.dq.q, x.dq
        b.op("relu", [("X", ["x.dq"])], [("Out", ["a"])])  // reads the real QDQ output
        b.qdq("x", "x.dq", range: 1, observer: true)       // writes x.dq.q, x.dq again
        b.op("elementwise_add", [("X", ["x.dq"]), ("Y", ["a"])], [("Out", ["s"])])
        let g = b.graph(outputs: ["s"])
        let (out, _) = DropObservers.apply(g)
        XCTAssertEqual(out.types(), ["feed", "quantize_linear", "dequantize_linear", "relu", "elementwise_add", "fetch"])
        XCTAssertEqual(out.nodes[3].input("X"), "x.dq")
        XCTAssertEqual(out.nodes[4].input("X"), "x")
    }

    func testPipelineSkipsWhenKeepingObservers() {
        var b = GraphBuilder()
        b.input("x", [1, 2])
        b.qdq("x", "x.dq", range: 1, observer: true)
        b.op("relu", [("X", ["x.dq"])], [("Out", ["r"])])
        let g = b.graph(outputs: ["r"])
        let steps = PassManager.run(g, PassOptions(target: .int8, keepObservers: true))
        XCTAssertFalse(steps.map(\.name).contains("drop-observers"))
        XCTAssertEqual(steps.last!.graph.types(), ["feed", "quantize_linear", "dequantize_linear", "relu", "fetch"])
        let graphOutput = PassManager.run(g, PassOptions(target: .int8)).last!.graph
        XCTAssertEqual(graphOutput.types(), ["feed", "relu", "fetch"])
    }
}
