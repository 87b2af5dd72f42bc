import Foundation
import QtopFormat
import QtopGraph
import QtopTestSupport
import XCTest

/// Forgets every inferred shape and infers them again from the inputs alone: the result must equal the shapes
/// Paddle declared in the program (which `scripts/check_graph.py` compares against Paddle itself).
final class SampleShapesTests: XCTestCase {
    func reinferAndCompare(_ path: String) throws {
        let g0 = try ModelLoader.load(path).graph
        var g = g0
        let inputs = Set(g.inputs)
        for (name, v) in g.values where v.constant == nil && !inputs.contains(name) && name != "feed" && name != "fetch" {
            g.values[name]!.shape = nil
        }
        let skipped = ShapeInference.run(&g).compactMap { g.node(id: $0) }.filter { $0.type != "fetch" }
        XCTAssertEqual(skipped.map(\.type), [], "\(path): ops without a shape rule")
        for n in g.nodes where n.type != "fetch" {
            for out in n.allOutputs where g.values[out]?.constant == nil {
                XCTAssertEqual(g.values[out]?.shape, g0.values[out]?.shape, "\(path): \(n.type) output \(out)")
            }
        }
    }

    func testSamples() throws {
        let dir = RepoPaths.root + "/samples"
        let models = (try FileManager.default.contentsOfDirectory(atPath: dir)).filter { $0.hasSuffix(".pdmodel") || ($0.hasSuffix(".json") && $0 != "manifest.json") }.sorted()
        XCTAssertFalse(models.isEmpty, "no samples found in \(dir)")
        for m in models { try reinferAndCompare(dir + "/" + m) }
    }

    /// Extra models (e.g. scripts/export_vision_models.py output) when QTOP_EXTRA_MODELS names a directory.
    func testExtraModels() throws {
        guard let dir = ProcessInfo.processInfo.environment["QTOP_EXTRA_MODELS"] else {
            throw XCTSkip("set QTOP_EXTRA_MODELS=DIR to check more models")
        }
        for m in try FileManager.default.contentsOfDirectory(atPath: dir).filter({ $0.hasSuffix(".pdmodel") }).sorted() {
            try reinferAndCompare(dir + "/" + m)
        }
    }
}
