import QtopFormat
import QtopGraph
import XCTest

final class ShapeInferenceTests: XCTestCase {
    /// Runs shape inference over a single node with the given input shapes; returns the output shapes by name.
    func infer(_ type: String, inputs: [String: [Int]], slots: [(String, [String])], outputs: [(String, [String])],
               attrs: [(String, AttrValue)] = []) -> [String: [Int]] {
        var values: [String: ValueInfo] = [:]
        for (name, shape) in inputs { values[name] = ValueInfo(name: name, dtype: .f32, shape: shape) }
        for (_, args) in outputs { for a in args { values[a] = ValueInfo(name: a, dtype: .f32, shape: nil) } }
        let node = Node(id: 0, type: type, inputs: slots.map { Slot($0.0, $0.1) }, outputs: outputs.map { Slot($0.0, $0.1) },
                        attrs: Attributes(attrs.map { ($0.0, $0.1) }), provenance: ["n"])
        var g = Graph(nodes: [node], values: values, inputs: [], outputs: [])
        ShapeInference.run(&g)
        var out: [String: [Int]] = [:]
        for (_, args) in outputs { for a in args { if let s = g.values[a]?.shape { out[a] = s } } }
        return out
    }

    func conv(_ x: [Int], _ w: [Int], _ attrs: [(String, AttrValue)]) -> [Int]? {
        infer("conv2d", inputs: ["x": x, "w": w], slots: [("Input", ["x"]), ("Filter", ["w"])],
              outputs: [("Output", ["y"])], attrs: attrs)["y"]
    }

    func testConvPaddingStrideDilation() {
        XCTAssertEqual(conv([-1, 3, 224, 224], [64, 3, 7, 7], [("strides", .ints([2, 2])), ("paddings", .ints([3, 3]))]), [-1, 64, 112, 112])
        XCTAssertEqual(conv([1, 8, 10, 10], [8, 8, 3, 3], [("dilations", .ints([2, 2])), ("paddings", .ints([0, 0]))]), [1, 8, 6, 6])
        XCTAssertEqual(conv([1, 8, 10, 11], [8, 8, 3, 3], [("paddings", .ints([1, 0, 2, 0])), ("strides", .ints([2, 2]))]), [1, 8, 5, 6])
        XCTAssertEqual(conv([1, 8, 10, 10], [8, 8, 3, 3], [("padding_algorithm", .string("SAME")), ("strides", .ints([3, 3]))]), [1, 8, 4, 4])
        XCTAssertEqual(conv([1, 8, 10, 10], [8, 8, 3, 3], [("padding_algorithm", .string("VALID")), ("paddings", .ints([5, 5]))]), [1, 8, 8, 8])
    }

    func pool(_ x: [Int], _ attrs: [(String, AttrValue)]) -> [Int]? {
        infer("pool2d", inputs: ["x": x], slots: [("X", ["x"])], outputs: [("Out", ["y"])], attrs: attrs)["y"]
    }

    /// C_out = Filter dim 1 × groups, both read from the file: a product past Int.max is a shape error, not a trap.
    func testConvTransposeChannelsAndOverflow() {
        func deconv(_ w: [Int], groups: Int) -> [Int]? {
            infer("conv2d_transpose", inputs: ["x": [1, -1, 5, 5], "w": w], slots: [("Input", ["x"]), ("Filter", ["w"])],
                  outputs: [("Output", ["y"])], attrs: [("strides", .ints([2, 2])), ("groups", .int(groups))])["y"]
        }
        XCTAssertEqual(deconv([4, 3, 2, 2], groups: 2), [1, 6, 10, 10])
        XCTAssertNil(deconv([4, 1 << 40, 2, 2], groups: Int(Int32.max)))
    }

    /// Each extent under maxExtent but the element count past Int: inference refuses the value instead of leaving a
    /// product that traps to every later reader.
    func testOutputWhoseElementCountOverflowsIsRefused() {
        func fill(_ shape: [Int]) -> [Int]? {
            infer("fill_constant", inputs: [:], slots: [], outputs: [("Out", ["y"])],
                  attrs: [("shape", .ints(shape)), ("value", .float(0)), ("dtype", .int(5))])["y"]
        }
        XCTAssertEqual(fill([2, 3]), [2, 3])
        let m = ShapeInference.maxExtent
        XCTAssertNil(fill([m, m, m]))
        XCTAssertEqual(ShapeInference.elementCount([m, m]), m * m)
        XCTAssertNil(ShapeInference.elementCount([m, m, m]))
        XCTAssertEqual(ShapeInference.elementCount([-1, 4, 5]), 20)
    }

    func testPool() {
        let base: [(String, AttrValue)] = [("ksize", .ints([3, 3])), ("strides", .ints([2, 2])), ("paddings", .ints([0, 0]))]
        XCTAssertEqual(pool([1, 4, 8, 8], base), [1, 4, 3, 3])
        XCTAssertEqual(pool([1, 4, 8, 8], base + [("ceil_mode", .bool(true))]), [1, 4, 4, 4])
        XCTAssertEqual(pool([-1, 4, 8, 8], [("global_pooling", .bool(true)), ("ksize", .ints([7, 7]))]), [-1, 4, 1, 1])
        XCTAssertEqual(pool([1, 4, 9, 9], [("adaptive", .bool(true)), ("ksize", .ints([3, 2]))]), [1, 4, 3, 2])
        XCTAssertEqual(pool([1, 4, 7, 7], [("ksize", .ints([2, 2])), ("strides", .ints([2, 2])), ("padding_algorithm", .string("SAME"))]), [1, 4, 4, 4])
    }

    func testBroadcast() throws {
        XCTAssertEqual(try ShapeInference.broadcast([-1, 8, 4, 4], [8], axis: 1), [-1, 8, 4, 4])
        XCTAssertEqual(try ShapeInference.broadcast([2, 3, 4], [3, 1], axis: 1), [2, 3, 4])
        XCTAssertEqual(try ShapeInference.broadcast([2, 1, 4], [3, 1], axis: -1), [2, 3, 4])
        XCTAssertEqual(try ShapeInference.broadcast([4], [2, 3, 4], axis: -1), [2, 3, 4])
        XCTAssertEqual(try ShapeInference.broadcast([-1, 1], [-1, 5], axis: -1), [-1, 5])
        XCTAssertThrowsError(try ShapeInference.broadcast([2, 3], [4], axis: -1))
    }

    func testMatmulAndReshape() {
        XCTAssertEqual(infer("matmul_v2", inputs: ["a": [-1, 5, 3], "b": [4, 3]], slots: [("X", ["a"]), ("Y", ["b"])],
                             outputs: [("Out", ["o"])], attrs: [("trans_y", .bool(true))])["o"], [-1, 5, 4])
        XCTAssertEqual(infer("matmul_v2", inputs: ["a": [3], "b": [3, 7]], slots: [("X", ["a"]), ("Y", ["b"])],
                             outputs: [("Out", ["o"])])["o"], [7])
        XCTAssertEqual(infer("reshape2", inputs: ["x": [2, 3, 4]], slots: [("X", ["x"])], outputs: [("Out", ["o"]), ("XShape", ["xs"])],
                             attrs: [("shape", .ints([0, -1]))]), ["o": [2, 12], "xs": [0, 2, 3, 4]])
        XCTAssertEqual(infer("flatten_contiguous_range", inputs: ["x": [-1, 8, 1, 1]], slots: [("X", ["x"])], outputs: [("Out", ["o"])],
                             attrs: [("start_axis", .int(1)), ("stop_axis", .int(-1))])["o"], [-1, 8])
        XCTAssertEqual(infer("transpose2", inputs: ["x": [1, 2, 3, 4]], slots: [("X", ["x"])], outputs: [("Out", ["o"])],
                             attrs: [("axis", .ints([0, 2, 1, 3]))])["o"], [1, 3, 2, 4])
    }

    func testConcatSplitSqueeze() {
        XCTAssertEqual(infer("concat", inputs: ["a": [1, 2, 5], "b": [1, 3, 5]], slots: [("X", ["a", "b"])], outputs: [("Out", ["o"])],
                             attrs: [("axis", .int(1))])["o"], [1, 5, 5])
        XCTAssertEqual(infer("split", inputs: ["x": [1, 6, 2]], slots: [("X", ["x"])], outputs: [("Out", ["a", "b", "c"])],
                             attrs: [("axis", .int(1)), ("num", .int(3))]), ["a": [1, 2, 2], "b": [1, 2, 2], "c": [1, 2, 2]])
        XCTAssertEqual(infer("split", inputs: ["x": [1, 6, 2]], slots: [("X", ["x"])], outputs: [("Out", ["a", "b"])],
                             attrs: [("axis", .int(1)), ("sections", .ints([2, -1]))]), ["a": [1, 2, 2], "b": [1, 4, 2]])
        XCTAssertEqual(infer("squeeze2", inputs: ["x": [1, 3, 1, 1]], slots: [("X", ["x"])], outputs: [("Out", ["o"])],
                             attrs: [("axes", .ints([2, 3]))])["o"], [1, 3])
        XCTAssertEqual(infer("unsqueeze2", inputs: ["x": [3]], slots: [("X", ["x"])], outputs: [("Out", ["o"])],
                             attrs: [("axes", .ints([0, -1]))])["o"], [1, 3, 1])
    }

    func testUnknownOpKeepsDeclaredShape() {
        var g = Graph(nodes: [Node(id: 0, type: "mystery_op", inputs: [Slot("X", ["x"])], outputs: [Slot("Out", ["y"])], provenance: ["y"])],
                      values: ["x": ValueInfo(name: "x", dtype: .f32, shape: [1, 2]), "y": ValueInfo(name: "y", dtype: .f32, shape: [7])],
                      inputs: ["x"], outputs: ["y"])
        let skipped = ShapeInference.run(&g)
        XCTAssertEqual(skipped, [0])
        XCTAssertEqual(g.values["y"]?.shape, [7])
    }
}
