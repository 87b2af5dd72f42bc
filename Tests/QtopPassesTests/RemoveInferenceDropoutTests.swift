import XCTest
import QtopFormat
import QtopGraph
@testable import QtopPasses

final class RemoveInferenceDropoutTests: XCTestCase {
    func dropout(_ b: inout GraphBuilder, _ x: String, _ out: String, _ impl: String, p: Float) {
        b.op("dropout", [("X", [x])], [("Out", [out]), ("Mask", [out + ".mask"])],
             [("dropout_implementation", .string(impl)), ("dropout_prob", .float(p)), ("is_test", .bool(true))], shape: [2, 4])
    }

    /// upscale_in_train and p = 0 dropouts go (their readers read the input); downgrade_in_infer with p > 0 scales
    /// and stays, and so does a dropout that writes a graph output.
    func testIdentityDropoutsAreRemoved() {
        var b = GraphBuilder()
        b.input("x", [2, 4])
        b.op("relu", [("X", ["x"])], [("Out", ["r"])], shape: [2, 4])
        dropout(&b, "r", "d1", "upscale_in_train", p: 0.1)
        dropout(&b, "d1", "d2", "downgrade_in_infer", p: 0)
        dropout(&b, "d2", "d3", "downgrade_in_infer", p: 0.1)
        b.op("relu", [("X", ["d3"])], [("Out", ["y"])], shape: [2, 4])
        dropout(&b, "y", "z", "upscale_in_train", p: 0.1)
        let (g, changes) = RemoveInferenceDropout.apply(b.graph(outputs: ["z"]))
        XCTAssertEqual(g.types(), ["feed", "relu", "dropout", "relu", "dropout", "fetch"], dump(g))
        XCTAssertEqual(g.nodes[2].input("X"), "r", "the kept downgrade_in_infer dropout reads the relu directly")
        XCTAssertEqual(g.nodes[2].output("Out"), "d3")
        XCTAssertEqual(g.nodes[4].output("Out"), "z")
        XCTAssertEqual(changes.filter { $0.kind == .removed }.map(\.node), ["d1", "d2"])
    }

    /// A non-SSA program that rewrites the dropout's input before a reader sees the output keeps the dropout.
    func testInputRewrittenBeforeAReaderKeepsIt() {
        var b = GraphBuilder()
        b.input("x", [2, 4])
        b.op("relu", [("X", ["x"])], [("Out", ["r"])], shape: [2, 4])
        dropout(&b, "r", "d", "upscale_in_train", p: 0.1)
        b.op("sigmoid", [("X", ["x"])], [("Out", ["r"])], shape: [2, 4])
        b.op("elementwise_add", [("X", ["d"]), ("Y", ["r"])], [("Out", ["y"])], [("axis", .int(-1))], shape: [2, 4])
        let (g, changes) = RemoveInferenceDropout.apply(b.graph(outputs: ["y"]))
        XCTAssertTrue(g.types().contains("dropout"), dump(g))
        XCTAssertTrue(changes.isEmpty)
    }
}
