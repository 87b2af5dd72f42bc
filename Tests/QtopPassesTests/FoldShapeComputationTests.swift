import Foundation
import QtopFormat
import QtopGraph
@testable import QtopPasses
import QtopRuntime
import QtopTestSupport
import XCTest

/// fold-shape-computation: shape subgraphs become constants once input shapes are known; the timeline records
/// the input change and every folded node; a folded graph refuses to plan for other shapes.
final class FoldShapeComputationTests: XCTestCase {
    /// x [-1,3,-1,-1] → reshape2 to [N, 3, H·W] through a ShapeTensor list built from shape → slice → mul, and a
    /// fill_constant 3.
    func reshapeGraph() -> Graph {
        var b = GraphBuilder()
        b.input("x", [-1, 3, -1, -1])
        b.op("shape", [("Input", ["x"])], [("Out", ["s"])])
        func dim(_ i: Int, _ name: String) {
            b.op("slice", [("Input", ["s"])], [("Out", [name])], [("axes", .ints([0])), ("starts", .ints([i])),
                                                                ("ends", .ints([i == -1 ? 2147483647 : i + 1])), ("decrease_axis", .ints([0])),
                                                                ("infer_flags", .ints([1]))])
        }
        dim(0, "n")
        dim(2, "h")
        dim(-1, "w")
        b.op("elementwise_mul", [("X", ["h"]), ("Y", ["w"])], [("Out", ["hw"])], [("axis", .int(-1))])
        b.op("fill_constant", [], [("Out", ["three"])], [("shape", .ints([1])), ("dtype", .int(2)), ("str_value", .string("3")),
                                                        ("value", .float(3))])
        b.op("reshape2", [("X", ["x"]), ("ShapeTensor", ["n", "three", "hw"])], [("Out", ["y"]), ("XShape", ["y.xshape"])],
             [("shape", .ints([-1, -1, -1]))])
        return b.graph(outputs: ["y"])
    }

    func testFoldsOnceShapesAreKnownAndRecordsTheChanges() throws {
        let g = reshapeGraph()
        XCTAssertEqual(g.values["y"]?.shape, [-1, -1, -1], "a run-time ShapeTensor list gives the rank only")

        // Without input shapes only the fill_constant folds.
        let (g0, c0) = FoldShapeComputation.apply(g, inputShapes: [:])
        XCTAssertEqual(c0.map(\.node), ["three"])
        XCTAssertEqual(g0.nodes.map(\.type), ["feed", "shape", "slice", "slice", "slice", "elementwise_mul", "reshape2", "fetch"])

        let (g1, c1) = FoldShapeComputation.apply(g, inputShapes: ["x": [2, 3, 4, 5]])
        XCTAssertEqual(g1.nodes.map(\.type), ["feed", "reshape2", "fetch"])
        XCTAssertEqual(g1.values["y"]?.shape, [2, 3, 20])
        XCTAssertEqual(c1.first?.kind, .rewritten)
        XCTAssertEqual(c1.first?.detail, "input x: [-1,3,-1,-1] → [2,3,4,5]")
        XCTAssertEqual(c1.filter { $0.kind == .removed }.map(\.node), ["s", "n", "h", "w", "hw", "three"])
        XCTAssertTrue(c1.contains { $0.detail == "elementwise_mul folded: hw = int32 [] {20}" }, "\(c1.map(\.detail))")
        XCTAssertEqual(g1.values["x"]?.annotations[ShapeInference.foldedForShapeKey], .ints([2, 3, 4, 5]))

        // The folded graph plans and runs at its shapes, and refuses others with one clear line.
        let registry = KernelLibrary.standard()
        let e = try Executor(graph: g1, registry: registry, options: PlanOptions(referenceOnly: true))
        let x = HostTensor(shape: [2, 3, 4, 5], floats: (0..<120).map(Float.init))
        let y = try e.run(["x": x])[0]
        XCTAssertEqual(y.shape, [2, 3, 20])
        XCTAssertEqual(y.floatValues(), x.floatValues())
        XCTAssertThrowsError(try Executor(graph: g1, registry: registry, options: PlanOptions(), inputShapes: ["x": [1, 3, 4, 5]])) {
            XCTAssertTrue("\($0)".contains("folded for [2,3,4,5]; run the passes again for [1,3,4,5]"), "\($0)")
        }
        // The unfolded graph folds when it is planned, for any shape.
        let e2 = try Executor(graph: g, registry: registry, options: PlanOptions(referenceOnly: true), inputShapes: ["x": [1, 3, 2, 3]])
        XCTAssertEqual(e2.graph.values["y"]?.shape, [1, 3, 6])
    }

    /// reshape2's ShapeTensor list wins over its Shape tensor, which wins over the attribute.
    func testReshapeTargetPrecedence() {
        var b = GraphBuilder()
        b.input("x", [2, 3, 4, 5])
        func ints(_ name: String, _ v: [Int64], _ shape: [Int]) {
            b.values[name] = ValueInfo(name: name, dtype: .i32, shape: shape, persistable: true, constant: .ints(v, dtype: .i32, shape: shape))
        }
        ints("shape", [6, 20], [2])
        ints("d0", [2], [1])
        ints("d1", [60], [1])
        b.op("reshape2", [("X", ["x"]), ("Shape", ["shape"])], [("Out", ["a"])], [("shape", .ints([120]))])
        b.op("reshape2", [("X", ["x"]), ("Shape", ["shape"]), ("ShapeTensor", ["d0", "d1"])], [("Out", ["b"])], [("shape", .ints([120]))])
        b.op("reshape2", [("X", ["x"]), ("Shape", [])], [("Out", ["c"])], [("shape", .ints([0, -1]))])
        let g = b.graph(outputs: ["a", "b", "c"])
        XCTAssertEqual(g.values["a"]?.shape, [6, 20])
        XCTAssertEqual(g.values["b"]?.shape, [2, 60])
        XCTAssertEqual(g.values["c"]?.shape, [2, 60])
    }

    func testBadInputShapesAreClearErrors() {
        let g = reshapeGraph()
        for (shape, needle) in [([1, 3, 4], "rank 4"), ([1, 3, 0, 4], "positive"), ([1, 3, -2, 4], "positive"),
                                ([1 << 20, 3, 1 << 20, 1 << 20], "elements")] {
            XCTAssertThrowsError(try ShapeInference.checkInputShapes(g, ["x": shape])) { XCTAssertTrue("\($0)".contains(needle), "\($0)") }
        }
        XCTAssertThrowsError(try ShapeInference.checkInputShapes(g, ["nope": [1]])) { XCTAssertTrue("\($0)".contains("no input named 'nope'")) }
    }

    func family(_ name: String) throws -> Graph { try ModelLoader.load(RepoPaths.sample("families/\(name).pdmodel")).graph }

    /// SVTR: the reshape2 back to [N, 1, W, C] takes a ShapeTensor list of fill_constants and a slice of shape.
    func testSVTRShapeSubgraphFoldsInThePipeline() throws {
        let steps = PassManager.run(try family("svtr_fp32"), PassOptions(target: .fp32, inputShapes: ["x": [1, 3, 48, 80]]))
        XCTAssertEqual(steps[1].name, FoldShapeComputation.name)
        let g = steps[1].graph
        XCTAssertFalse(g.nodes.contains { $0.type == "shape" || $0.type == "fill_constant" }, "\(g.opCounts)")
        XCTAssertGreaterThanOrEqual(steps[1].changes.filter { $0.kind == .removed }.count, 4)
        var lists = 0
        for n in g.nodes where n.type == "reshape2" && !n.inputs("ShapeTensor").isEmpty {
            for v in n.inputs("ShapeTensor") { XCTAssertNotNil(g.values[v]?.constant, "\(n.name) \(v)") }
            lists += 1
        }
        XCTAssertEqual(lists, 1)
        // With every op of the family known, every reshape2 has a static shape.
        if g.nodes.allSatisfy({ $0.decoded != nil }) {
            for n in g.nodes where n.type == "reshape2" {
                XCTAssertFalse(g.values[n.output("Out")!]?.shape?.contains { $0 < 0 } ?? true, "\(n.name)")
            }
        }
    }

    /// PP-LiteSeg: the interp sizes (OutSize through shape → slice → cast, SizeTensor lists of 0-D slices) become
    /// constants.
    func testLiteSegInterpSizesFold() throws {
        let g0 = try family("liteseg_fp32")
        let (g, changes) = FoldShapeComputation.apply(g0, inputShapes: ["x": [1, 3, 64, 96]])
        XCTAssertFalse(g.nodes.contains { $0.type == "shape" || $0.type == "cast" && g.values[$0.output("Out")!]?.dtype == .i32 },
                       "\(g.opCounts)")
        var interps = 0
        for n in g.nodes where n.type == "bilinear_interp_v2" {
            for v in n.inputs("OutSize") + n.inputs("SizeTensor") { XCTAssertNotNil(g.values[v]?.constant, "\(n.name) \(v)") }
            interps += 1
        }
        XCTAssertEqual(interps, 6)
        XCTAssertTrue(changes.contains { $0.detail.hasPrefix("shape folded") }, "\(changes.map(\.detail))")
    }

    /// PP-YOLOE: nothing data-dependent folds; multiclass_nms3 keeps a run-time row count and a static NmsRoisNum.
    func testPPYOLOEKeepsNMSRunTimeSized() throws {
        let (g, _) = FoldShapeComputation.apply(try family("ppyoloe_fp32"), inputShapes: ["image": [1, 3, 64, 64], "scale_factor": [1, 2]])
        let nms = try XCTUnwrap(g.nodes.first { $0.type == "multiclass_nms3" })
        XCTAssertEqual(g.values[nms.output("Out")!]?.shape, [-1, 6])
        if g.nodes.allSatisfy({ $0.decoded != nil }) { XCTAssertEqual(g.values[nms.output("NmsRoisNum")!]?.shape, [1]) }
        XCTAssertEqual(try nms.spec(MultiClassNMSSpec.self).runTimeSizedOutputs, ["Out", "Index"])
        XCTAssertEqual(g.nodes.filter { $0.type == "split" }.count, 2, "splits of activations stay")
    }
}
