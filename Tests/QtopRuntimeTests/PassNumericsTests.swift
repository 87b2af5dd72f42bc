import Foundation
import QtopFormat
import QtopGraph
import QtopPasses
import QtopRuntime
import QtopTestSupport
import XCTest

/// After every pass the graph still runs, and agrees with Paddle's own output of the quantized model:
/// passes that do not change arithmetic within 1e-5 relative of the step before; BN folding and the integer
/// lowering (which reorder float arithmetic) at cosine ≥ 0.999 with the same top-1.
final class PassNumericsTests: XCTestCase {
    static let exactPasses: Set<String> = ["drop-observers", "qdq-to-fakequantize", "fold-weight-dequant", "dead-code",
                                           "fuse-activation", "strip-quantization", "remove-dropout", "fuse-channel-shuffle",
                                           "fuse-scale-residual", "fuse-se-add", "fuse-se-upsample"]

    func run(_ g: Graph, _ input: HostTensor, mode: ExecMode = .int8) throws -> [Float] {
        let registry = KernelLibrary.standard()
        let e = try Executor(graph: DequantizeFoldedWeights.forExecution(g), registry: registry,
                             options: PlanOptions(isaCap: NativeCPU.bestISA, available: NativeCPU.usableISAs),
                             inputShapes: [g.inputs[0]: input.shape])
        return try e.run([g.inputs[0]: input])[0].floatValues()
    }

    func top1(_ v: [Float], classes: Int) -> [Int] {
        stride(from: 0, to: v.count, by: classes).map { i in (i..<(i + classes)).max { v[$0] < v[$1] }! - i }
    }

    func checkPipeline(_ c: ReferenceCase, target: PassTarget, against paddle: [Float], classes: Int) throws {
        let g = try ModelLoader.load(c.model).graph
        let steps = PassManager.run(g, PassOptions(target: target))
        var previous = try run(steps[0].graph, c.input)
        for step in steps.dropFirst() {
            let out: [Float]
            do { out = try run(step.graph, c.input) } catch {
                XCTFail("\(c.name) after \(step.name): \(error)")
                return
            }
            if PassNumericsTests.exactPasses.contains(step.name) {
                let err = relativeMaxError(out, previous)
                XCTAssertLessThanOrEqual(err, 1e-5, "\(c.name) \(target) after \(step.name): relative error \(err) vs the step before")
            }
            let cos = cosine(out, paddle)
            XCTAssertGreaterThanOrEqual(cos, 0.999, "\(c.name) \(target) after \(step.name): cosine \(cos) vs Paddle")
            if target == .int8 {
                XCTAssertEqual(top1(out, classes: classes), top1(paddle, classes: classes), "\(c.name) after \(step.name): top-1")
            }
            previous = out
        }
        if target == .int8 {
            let final = steps.last!.graph
            let leftovers = final.nodes.filter { ["quantize_linear", "dequantize_linear", "fake_quantize"].contains($0.type) }
            XCTAssertEqual(leftovers.map(\.name), [], "\(c.name): QDQ left in the lowered graph")
            let floatConvs = final.nodes.filter { ["conv2d", "depthwise_conv2d", "fused_conv2d"].contains($0.type) }
            XCTAssertEqual(floatConvs.map(\.name), [], "\(c.name): convolutions not lowered to integer ops")
        }
    }

    func testQuantizedSamplesThroughEveryPass() throws {
        let cases = try ReferenceCase.all(in: RepoPaths.root + "/samples").filter { $0.name.hasSuffix("_int8") }
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let paddle = c.outputs[0].floatValues()
            try checkPipeline(c, target: .int8, against: paddle, classes: c.outputs[0].shape.last!)
        }
    }

    /// fp32 mode on the fp32 twins: quantization-free pipeline (BN folding, fusions) reproduces Paddle.
    func testFloatSamplesFP32Pipeline() throws {
        for c in try ReferenceCase.all(in: RepoPaths.root + "/samples") where c.name.hasSuffix("_fp32") {
            let g = try ModelLoader.load(c.model).graph
            let out = try run(PassManager.run(g, PassOptions(target: .fp32)).last!.graph, c.input)
            let err = relativeMaxError(out, c.outputs[0].floatValues())
            XCTAssertLessThanOrEqual(err, 1e-4, "\(c.name) fp32 mode: relative error \(err) vs Paddle")
        }
    }

    /// The trained classifier: int8 top-1 accuracy on the held-out set within 1 point of Paddle's.
    func testTrainedSampleAccuracy() throws {
        let dir = RepoPaths.root + "/samples"
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))) as! [String: Any]
        let models = manifest["models"] as! [[String: Any]]
        let entry = try XCTUnwrap(models.first { $0["name"] as? String == "shapes_int8" })
        let acc = try XCTUnwrap(entry["accuracy"] as? [String: Any])
        let paddleTop1 = try XCTUnwrap(acc["paddle_top1"] as? Double)
        let x = try Npy.read(dir + "/" + (acc["testset_x"] as! String))
        let y = try Npy.read(dir + "/" + (acc["testset_y"] as! String)).int64Values()
        let g = try ModelLoader.load(dir + "/shapes_int8.pdmodel").graph
        let lowered = PassManager.run(g, PassOptions(target: .int8)).last!.graph
        let out = try run(lowered, x)
        let pred = top1(out, classes: out.count / y.count)
        let correct = zip(pred, y).filter { Int64($0) == $1 }.count
        let ours = Double(correct) / Double(y.count)
        XCTAssertLessThanOrEqual(abs(ours - paddleTop1), 0.01, "int8 accuracy \(ours) vs Paddle's \(paddleTop1)")
    }
}
