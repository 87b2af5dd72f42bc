import Foundation
import QtopFormat
import QtopGraph
import QtopRuntime
import QtopTestSupport
import XCTest

/// Whole models in reference mode (as loaded, QDQ in float) against Paddle's own saved outputs:
/// max |qtop - paddle| ≤ 1e-4 × max |paddle|.
final class ReferenceModelTests: XCTestCase {
    func check(_ c: ReferenceCase) throws {
        let g = try ModelLoader.load(c.model).graph
        let registry = KernelRegistry()
        registerReferenceKernels(registry)
        let e = try Executor(graph: g, registry: registry, options: PlanOptions(referenceOnly: true),
                             inputShapes: [g.inputs[0]: c.input.shape])
        let outs = try e.run([g.inputs[0]: c.input])
        XCTAssertEqual(outs.count, c.outputs.count, c.name)
        for (o, want) in zip(outs, c.outputs) {
            XCTAssertEqual(o.shape, want.shape, c.name)
            let err = relativeMaxError(o.floatValues(), want.floatValues())
            XCTAssertLessThanOrEqual(err, 1e-4, "\(c.name): relative max error \(err)")
        }
    }

    func testSamplesMatchPaddle() throws {
        let cases = try ReferenceCase.all(in: RepoPaths.root + "/samples")
        XCTAssertFalse(cases.isEmpty, "no samples with saved outputs")
        for c in cases { try check(c) }
    }

    /// More models when QTOP_EXTRA_MODELS names a directory (e.g. scripts/export_vision_models.py output).
    func testExtraModelsMatchPaddle() throws {
        guard let dir = ProcessInfo.processInfo.environment["QTOP_EXTRA_MODELS"] else {
            throw XCTSkip("set QTOP_EXTRA_MODELS=DIR to check more models")
        }
        for c in try ReferenceCase.all(in: dir) {
            let t0 = Date()
            try check(c)
            print("checked \(c.name) in \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
        }
    }
}
