import Foundation
import XCTest
import QtopFormat
import QtopGraph
import QtopRuntime
import QtopTestSupport
@testable import QtopPasses

/// Runs pipeline outputs with the executor (tests may use QtopRuntime; the QtopPasses target does not).
final class NumericsTests: XCTestCase {
    func run(_ g: Graph, _ input: HostTensor, referenceOnly: Bool) throws -> [HostTensor] {
        let registry = KernelLibrary.standard()
        let e = try Executor(graph: DequantizeFoldedWeights.forExecution(g), registry: registry, options: PlanOptions(referenceOnly: referenceOnly),
                             inputShapes: [g.inputs[0]: input.shape])
        return try e.run([g.inputs[0]: input])
    }

    func cases() throws -> [ReferenceCase] {
        let dirs = [ProcessInfo.processInfo.environment["QTOP_SAMPLES"], RepoPaths.root + "/samples"].compactMap { $0 }
        for d in dirs {
            let c = try ReferenceCase.all(in: d)
            if !c.isEmpty { return c }
        }
        throw XCTSkip("no samples with saved outputs")
    }

    func argmax(_ v: ArraySlice<Float>) -> Int { v.indices.max { v[$0] < v[$1] }! - v.startIndex }

    /// The fp32 pipeline of a float model computes Paddle's output (fusions only reorder float math).
    func testFp32PipelineMatchesPaddleOnFloatModels() throws {
        for c in try cases() where c.name.hasSuffix("_fp32") {
            let g = try ModelLoader.load(c.model).graph
            let f = PassManager.lower(g, PassOptions(target: .fp32))
            for ref in [true, false] {
                let outs = try run(f, c.input, referenceOnly: ref)
                for (o, want) in zip(outs, c.outputs) {
                    let err = relativeMaxError(o.floatValues(), want.floatValues())
                    XCTAssertLessThanOrEqual(err, 1e-4, "\(c.name) referenceOnly=\(ref): \(err)")
                }
            }
        }
    }

    /// The int8 pipeline of a quantized model agrees with Paddle's quantize/dequantize-in-float output: same top-1
    /// and close probabilities (u8 activations do not saturate at the calibrated range like Paddle's s8 QDQ).
    func testInt8PipelineCloseToPaddle() throws {
        for c in try cases() where c.name.hasSuffix("_int8") {
            let g = try ModelLoader.load(c.model).graph
            let f = PassManager.lower(g, PassOptions(target: .int8))
            XCTAssertTrue(f.types().contains("qconv2d"), c.name)
            for ref in c.name == "shapes_int8" ? [true, false] : [false] {
                let outs = try run(f, c.input, referenceOnly: ref)
                for (o, want) in zip(outs, c.outputs) {
                    let a = o.floatValues(), b = want.floatValues()
                    let err = relativeMaxError(a, b)
                    print("\(c.name) int8 referenceOnly=\(ref): relative max error \(err), cosine \(cosine(a, b))")
                    XCTAssertGreaterThan(cosine(a, b), 0.99, c.name)
                    let classes = want.shape.last ?? 1
                    for r in 0..<(a.count / classes) {
                        XCTAssertEqual(argmax(a[(r * classes)..<((r + 1) * classes)]), argmax(b[(r * classes)..<((r + 1) * classes)]),
                                       "\(c.name) row \(r)")
                    }
                }
            }
        }
    }

    /// The fp32 pipeline of a quantized model equals running the strip-quantization snapshot (later fusions are exact
    /// up to float reordering).
    func testFp32PipelineStepsAgree() throws {
        for c in try cases() where c.name == "shapes_int8" {
            let g = try ModelLoader.load(c.model).graph
            let steps = PassManager.run(g, PassOptions(target: .fp32))
            let base = try run(steps[2].graph, c.input, referenceOnly: true)[0].floatValues()
            for s in steps.dropFirst(3) {
                let o = try run(s.graph, c.input, referenceOnly: true)[0].floatValues()
                XCTAssertLessThanOrEqual(relativeMaxError(o, base), 1e-4, "\(c.name) after \(s.name)")
            }
        }
    }

    /// u8 saturates where Paddle's QDQ clamps, so the integer graph computes Paddle's QDQ output up to float
    /// rounding (onnx-format PTQ).
    func testInt8MatchesPaddle() throws {
        for c in try cases() where c.name.hasSuffix("_int8") && c.name != "legacy_int8" {
            let g = try ModelLoader.load(c.model).graph
            let f = PassManager.lower(g, PassOptions(target: .int8))
            let outs = try run(f, c.input, referenceOnly: false)
            for (o, want) in zip(outs, c.outputs) {
                let err = relativeMaxError(o.floatValues(), want.floatValues())
                XCTAssertLessThanOrEqual(err, 1e-5, c.name)
            }
        }
    }
}
