import QtopFormat
import QtopGraph
import QtopTestSupport
import XCTest

/// The op specs: strict decoding (a malformed attribute is a thrown error naming it, never a trap), defaults
/// recorded for the detail view, one registry, and every op of the samples decoded.
final class OpSpecTests: XCTestCase {
    func node(_ type: String, _ attrs: [(String, AttrValue)], inputs: [(String, [String])] = [("X", ["x"])],
              outputs: [(String, [String])] = [("Out", ["y"])]) -> Node {
        Node(id: 0, type: type, inputs: inputs.map { Slot($0.0, $0.1) }, outputs: outputs.map { Slot($0.0, $0.1) },
             attrs: Attributes(attrs.map { ($0.0, $0.1) }), provenance: ["n"])
    }

    func error(_ n: Node) -> String? {
        if case .failure(let e)? = n.decoded { return e.description }
        return nil
    }

    func testMalformedAttributesAreClearErrors() {
        let conv: [(String, [String])] = [("Input", ["x"]), ("Filter", ["w"])]
        let convOut: [(String, [String])] = [("Output", ["y"])]
        XCTAssertEqual(error(node("conv2d", [("strides", .string("2"))], inputs: conv, outputs: convOut)),
                       "conv2d 'y': attribute 'strides' must be a list of integers, got string(\"2\")")
        XCTAssertEqual(error(node("conv2d", [("strides", .ints([1, 0]))], inputs: conv, outputs: convOut)),
                       "conv2d 'y': attribute 'strides' values must be ≥ 1, got 0")
        XCTAssertEqual(error(node("conv2d", [("dilations", .ints([1, 1, 1]))], inputs: conv, outputs: convOut)),
                       "conv2d 'y': attribute 'dilations' must have 1 or 2 values, got 3")
        XCTAssertEqual(error(node("pool2d", [("ksize", .ints([0, 2]))])), "pool2d 'y': attribute 'ksize' values must be ≥ 1, got 0")
        XCTAssertEqual(error(node("pool2d", [("pooling_type", .string("lp"))])),
                       "pool2d 'y': attribute 'pooling_type' must be one of max, avg, got 'lp'")
        XCTAssertEqual(error(node("quantize_linear", [("bit_length", .int(40))], outputs: [("Y", ["y"])])),
                       "quantize_linear 'y': attribute 'bit_length' must be in 1…16, got 40")
        XCTAssertEqual(error(node("quantize", [("scale", .float(-1))])), "quantize 'y': attribute 'scale' must be a positive range, got -1.0")
        XCTAssertEqual(error(node("quantize", [])), "quantize 'y': attribute 'scale' is required")
        // an integer attribute stored as a NaN / huge float is an error, not a trap
        XCTAssertEqual(error(node("conv2d", [("groups", .float(.nan))], inputs: conv, outputs: convOut)),
                       "conv2d 'y': attribute 'groups' must be an integer, got float(nan)")
        XCTAssertNotNil(error(node("concat", [("axis", .float64(1e300))])))
        XCTAssertNil(AttrValue.float(.infinity).int)
    }

    func testShapeRulesThrowOnBadAxesAndOverflow() {
        var g = Graph(nodes: [node("reshape2", [("shape", .ints([-1]))])],
                      values: ["x": ValueInfo(name: "x", dtype: .f32, shape: [1 << 40, 1 << 40])], inputs: ["x"], outputs: [])
        XCTAssertThrowsError(try ShapeInference.specialize(g, inputShapes: [:])) { e in
            XCTAssertTrue("\(e)".contains("too many elements"), "\(e)")
        }
        g.nodes = [node("concat", [("axis", .int(5))])]
        g.values["x"]!.shape = [2, 3]
        XCTAssertThrowsError(try ShapeInference.specialize(g, inputShapes: [:])) { e in
            XCTAssertTrue("\(e)".contains("axis 5 out of range for rank 2"), "\(e)")
        }
        g.values["x"]!.shape = []  // a 0-D value has no axis to concatenate along
        g.nodes = [node("concat", [("axis", .int(0))])]
        XCTAssertThrowsError(try ShapeInference.specialize(g, inputShapes: [:]))
    }

    func testListingKeepsFileOrderThenMarksDefaults() {
        let n = node("pool2d", [("strides", .ints([2, 2])), ("pooling_type", .string("avg"))])
        let listing = OpSpecs.attributeListing(n)
        XCTAssertEqual(listing.prefix(2).map(\.name), ["strides", "pooling_type"])
        XCTAssertTrue(listing.prefix(2).allSatisfy { !$0.isDefault })
        let defaults = listing.dropFirst(2)
        XCTAssertEqual(defaults.map(\.name), ["ksize", "paddings", "padding_algorithm", "global_pooling", "adaptive", "ceil_mode",
                                              "exclusive", "data_format"])
        XCTAssertTrue(defaults.allSatisfy(\.isDefault))
        XCTAssertEqual(defaults.first?.value, .ints([1, 1]))
        // an op without a spec lists the file's attributes only
        XCTAssertEqual(OpSpecs.attributeListing(node("no_such_op", [("a", .int(1))])).map(\.name), ["a"])
    }

    func testOneDefaultPerIntegerOp() throws {
        // qconv2d without out_dtype writes f32 (shape rule and kernels read the same spec)
        let q = node("qconv2d", [("in_scale", .float(1)), ("weight_scales", .floats([1]))],
                     inputs: [("Input", ["x"]), ("Filter", ["w"])], outputs: [("Output", ["y"])])
        XCTAssertEqual(try q.spec(QConvSpec.self).epilogue.outType, .f32)
        // qpool2d without out_dtype keeps its input's type, out_scale defaults to in_scale
        let p = try node("qpool2d", [("in_scale", .float(2))]).spec(QPoolSpec.self)
        XCTAssertEqual(try p.outType(input: .u8), .u8)
        XCTAssertEqual(p.outScale, 2)
        XCTAssertFalse(p.requantizes)
        XCTAssertEqual(try node("quantize", [("scale", .float(1))]).spec(QuantizeSpec.self).outType, .s8)
    }

    func testEverySampleOpDecodes() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: RepoPaths.sample("")).filter { $0.hasSuffix(".pdmodel") }
        if names.isEmpty { throw XCTSkip("no samples") }
        for name in names {
            let g = try ModelLoader.load(RepoPaths.sample(name)).graph
            for n in g.nodes {
                switch n.decoded {
                case nil: XCTFail("\(name): no spec for \(n.type)")
                case .failure(let e)?: XCTFail("\(name): \(e)")
                case .success?: break
                }
            }
        }
    }
}
