import Foundation
import XCTest
import QtopFormat
import QtopGraph
@testable import QtopPasses

/// Structural checks of the pipelines on the real sample models (skipped when a sample is missing).
final class SampleTests: XCTestCase {
    static let quantOps: Set<String> = QuantOpNames.all
    static let integerOps: Set<String> = ["qconv2d", "qmatmul", "qpool2d", "qrelu", "qconcat", "quantize", "dequantize"]

    func load(_ name: String) throws -> Graph {
        guard let p = Samples.path(name) else { throw XCTSkip("sample \(name) not present") }
        return try ModelLoader.load(p).graph
    }

    /// Every input is available when its node runs; new values have dtype and shape; provenance is never empty.
    func checkWellFormed(_ g: Graph, file: StaticString = #filePath, line: UInt = #line) {
        var available = Set(g.values.filter { $0.value.constant != nil }.map(\.key)).union(g.inputs)
        available.insert("feed")
        for n in g.nodes {
            for v in n.allInputs where !v.isEmpty {
                XCTAssertTrue(available.contains(v), "\(n) reads \(v) before it is written", file: file, line: line)
            }
            available.formUnion(n.allOutputs)
            XCTAssertFalse(n.provenance.isEmpty, "\(n) has no provenance", file: file, line: line)
            if SampleTests.integerOps.contains(n.type) {
                for o in n.allOutputs {
                    XCTAssertNotNil(g.values[o]?.dtype, "\(o) has no dtype", file: file, line: line)
                    XCTAssertNotNil(g.values[o]?.shape, "\(o) has no shape", file: file, line: line)
                }
            }
        }
        for o in g.outputs { XCTAssertTrue(available.contains(o), "output \(o) never written", file: file, line: line) }
    }

    /// Each op of the loaded model is accounted for: in a final node's provenance or removed by some pass.
    func checkAccounted(_ steps: [PassStep], file: StaticString = #filePath, line: UInt = #line) {
        let original = steps[0].graph.nodes.flatMap(\.provenance)
        var seen = Set(steps.last!.graph.nodes.flatMap(\.provenance))
        let removedIDs = Set(steps.flatMap(\.changes).filter { $0.kind == .removed }.map(\.nodeID))
        for n in steps[0].graph.nodes where removedIDs.contains(n.id) { seen.formUnion(n.provenance) }
        for name in original { XCTAssertTrue(seen.contains(name), "\(name) is lost", file: file, line: line) }
    }

    func testShapesInt8Pipeline() throws {
        let g = try load("shapes_int8")
        let steps = PassManager.run(g, PassOptions(target: .int8))
        // No shape computations to fold, no dropout, no channel shuffle, no RSE / FPN adds: those steps are left out
        // of the timeline.
        XCTAssertEqual(steps.map(\.name), ["loaded"] + PassManager.pipelineNames(for: .int8).filter {
            !["fold-shape-computation", "remove-dropout", "fuse-channel-shuffle", "fuse-se-add", "fuse-se-upsample",
              "fuse-scale-residual"].contains($0)
        })
        XCTAssertEqual(PassManager.pipelineNames(for: .int8), ["fold-shape-computation", "drop-observers", "qdq-to-fakequantize", "fold-weight-dequant",
                                                              "fold-batchnorm", "fuse-residual-add", "fuse-activation",
                                                              "lower-int8", "fuse-se-add", "fuse-se-upsample",
                                                              "fuse-scale-residual", "remove-dropout",
                                                              "fuse-channel-shuffle", "dead-code"])
        let f = steps.last!.graph
        checkWellFormed(f)
        checkAccounted(steps)
        let types = f.types()
        XCTAssertTrue(Set(types).isDisjoint(with: SampleTests.quantOps), "\(types)")
        XCTAssertTrue(Set(types).isDisjoint(with: ["conv2d", "depthwise_conv2d", "fused_conv2d", "batch_norm", "matmul_v2"]), "\(types)")
        XCTAssertEqual(types.filter { $0 == "qconv2d" }.count, 5)
        XCTAssertEqual(types.filter { $0 == "qmatmul" }.count, 2)
        XCTAssertEqual(types.filter { $0 == "qpool2d" }.count, 1)
        // Every qconv2d carries the full attribute contract.
        for n in f.nodes where n.type == "qconv2d" {
            for k in ["strides", "paddings", "dilations", "groups", "in_scale", "weight_scales", "activation", "out_dtype"] {
                XCTAssertNotNil(n.attrs[k], "\(n.name) lacks \(k)")
            }
            XCTAssertEqual(n.attrs["paddings"]?.ints?.count, 4)
            XCTAssertEqual(f.values[n.input("Filter")!]?.constant?.dtype, .i8)
            let oc = f.values[n.input("Filter")!]!.constant!.shape[0]
            XCTAssertEqual(n.attrs["weight_scales"]?.floats?.count, oc)
            let od = n.attrs["out_dtype"]!.string!
            XCTAssertEqual(n.attrs["out_scale"] != nil, od != "f32", n.name)
            XCTAssertEqual(f.values[n.output("Output")!]?.shape?.last, oc, "NHWC output of \(n.name)")
        }
        // Integer tensors between int8 ops: no float QDQ left inside int8 chains.
        for n in f.nodes where n.type == "qconv2d" || n.type == "qmatmul" {
            let x = n.input(n.type == "qconv2d" ? "Input" : "X")!
            XCTAssertTrue([DType.u8, .i8].contains(f.values[x]?.dtype), "\(n.name) input \(x) is \(String(describing: f.values[x]?.dtype))")
        }
        // Snapshots share what a pass did not touch.
        let fetch = steps.map { $0.graph.nodes.first { $0.type == "fetch" }! }
        XCTAssertTrue(fetch.dropFirst().allSatisfy { $0 === fetch[0] })
        let softmax = steps.dropFirst().map { $0.graph.nodes.first { $0.type == "softmax" }! }
        XCTAssertTrue(softmax.dropFirst().allSatisfy { $0 === softmax[0] })
        for i in 1..<steps.count {
            let a = steps[i - 1].graph, b = steps[i].graph
            for (k, v) in b.values { if let c = v.constant, let old = a.values[k]?.constant { XCTAssertTrue(c === old, "\(k) copied") } }
        }
        // Node ids are never reused within the history.
        XCTAssertEqual(Set(f.nodes.map(\.id)).count, f.nodes.count)
    }

    func testSummaryJSON() throws {
        let g = try load("shapes_int8")
        let steps = PassManager.run(g, PassOptions(target: .int8))
        let s = PassSummary(steps: steps)
        XCTAssertEqual(s.passes.count, 8)
        XCTAssertEqual(s.passes[0].nodesBefore, g.nodes.count)
        XCTAssertEqual(s.passes.last!.nodesAfter, steps.last!.graph.nodes.count)
        let data = try JSONEncoder().encode(s)
        let obj = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let passes = obj["passes"] as! [[String: Any]]
        XCTAssertEqual(Set(passes[0].keys).isSuperset(of: ["name", "nodes_before", "nodes_after", "changes"]), true)
        let change = (passes[0]["changes"] as! [[String: Any]])[0]
        XCTAssertEqual(Set(change.keys).isSuperset(of: ["kind", "node", "detail"]), true)
        let ops = (obj["final"] as! [String: Any])["ops"] as! [[String: Any]]
        XCTAssertEqual(Set(ops[0].keys), ["name", "type", "precision", "fused_from"])
        let conv = s.final.ops.first { $0.type == "qconv2d" }!
        XCTAssertTrue(["I8", "U8"].contains(conv.precision))
        XCTAssertTrue(conv.fusedFrom.count >= 3, "\(conv.fusedFrom)")
        XCTAssertEqual(s.final.ops.first { $0.type == "softmax" }?.precision, "FP32")
    }

    func testStopAfter() throws {
        let g = try load("shapes_int8")
        let steps = PassManager.run(g, PassOptions(target: .int8, stopAfter: "fold-batchnorm"))
        XCTAssertEqual(steps.map(\.name), ["loaded", "drop-observers", "qdq-to-fakequantize", "fold-weight-dequant", "fold-batchnorm"])
        XCTAssertEqual(PassManager.run(g, PassOptions(target: .reference)).count, 1)
    }

    func testKeepObservers() throws {
        let g = try load("shapes_int8")
        let steps = PassManager.run(g, PassOptions(target: .int8, keepObservers: true))
        XCTAssertFalse(steps.map(\.name).contains("drop-observers"))
        let f = steps.last!.graph
        checkWellFormed(f)
        checkAccounted(steps)
        XCTAssertTrue(f.nodes.filter { $0.type == "quantize_linear" }.allSatisfy { $0.attrs.bool("only_observer", default: false) })
        XCTAssertTrue(f.types().contains("qconv2d"))
    }

    func testLegacyInt8Pipeline() throws {
        let g = try load("legacy_int8")
        let steps = PassManager.run(g, PassOptions(target: .int8))
        let f = steps.last!.graph
        checkWellFormed(f)
        checkAccounted(steps)
        XCTAssertTrue(Set(f.types()).isDisjoint(with: SampleTests.quantOps), "\(f.types())")
        XCTAssertEqual(f.types().filter { $0 == "qconv2d" }.count, 5)
        XCTAssertEqual(f.types().filter { $0 == "qmatmul" }.count, 2)
    }

    func testFp32PipelineOnQuantizedModel() throws {
        for name in ["shapes_int8", "legacy_int8", "mobile_int8"] {
            guard let p = Samples.path(name) else { continue }
            let g = try ModelLoader.load(p).graph
            let steps = PassManager.run(g, PassOptions(target: .fp32))
            let f = steps.last!.graph
            checkWellFormed(f)
            checkAccounted(steps)
            XCTAssertTrue(Set(f.types()).isDisjoint(with: SampleTests.quantOps.union(["batch_norm"])), "\(name): \(f.types())")
            for n in f.nodes {
                for v in n.allInputs { if let c = f.values[v]?.constant { XCTAssertNotEqual(c.dtype, .i8, "\(name): \(n.name) reads int8 \(v)") } }
                XCTAssertNil(n.attrs["weight_scales"], "\(name): \(n.name)")
            }
        }
    }

    func testFloatModels() throws {
        for name in ["shapes_fp32", "mobile_fp32"] {
            guard let p = Samples.path(name) else { continue }
            let g = try ModelLoader.load(p).graph
            for target in [PassTarget.int8, .fp32] {
                let steps = PassManager.run(g, PassOptions(target: target))
                let f = steps.last!.graph
                checkWellFormed(f)
                checkAccounted(steps)
                XCTAssertFalse(f.types().contains("batch_norm"), "\(name)/\(target)")
                XCTAssertFalse(f.types().contains("qconv2d"), "\(name)/\(target)")
            }
        }
    }

    func testMobileInt8Pipeline() throws {
        let g = try load("mobile_int8")
        let steps = PassManager.run(g, PassOptions(target: .int8))
        let f = steps.last!.graph
        checkWellFormed(f)
        checkAccounted(steps)
        XCTAssertFalse(f.types().contains("batch_norm"))
        XCTAssertTrue(f.types().contains("qconv2d"))
        // Convs that stay float (not fed by a quantizer) run on f32 weights.
        for n in f.nodes where ["conv2d", "depthwise_conv2d", "fused_conv2d", "fc", "matmul_v2"].contains(n.type) {
            XCTAssertNil(n.attrs["weight_scales"], n.name)
        }
    }
}
