import Foundation
import QtopFormat
import QtopGraph
import QtopPipeline
import QtopProfile
import QtopRuntime
import QtopTestSupport
import XCTest

/// The issue-13 family samples (samples/families, fp32 models) in reference and fp32 modes against Paddle's own
/// outputs: max |qtop - paddle| ≤ 1e-4 · max |paddle| per output; DBNet also as Paddle 3 wrote it (PIR .json).
final class FamilySampleTests: XCTestCase {
    static let dir = RepoPaths.root + "/samples/families"

    /// The model's inputs in feed order (F.input.npy, or F.input0.npy, F.input1.npy …) and outputs in fetch order.
    func files(_ base: String) throws -> (inputs: [HostTensor], outputs: [HostTensor]) {
        func series(_ kind: String) throws -> [HostTensor] {
            let single = "\(Self.dir)/\(base).\(kind).npy"
            if FileManager.default.fileExists(atPath: single) { return [try Npy.read(single)] }
            var out: [HostTensor] = []
            while FileManager.default.fileExists(atPath: "\(Self.dir)/\(base).\(kind)\(out.count).npy") {
                out.append(try Npy.read("\(Self.dir)/\(base).\(kind)\(out.count).npy"))
            }
            return out
        }
        return (try series("input"), try series("output"))
    }

    /// Runs `family`_fp32 in `mode` and returns the worst relative error over its outputs.
    func check(_ family: String, modes: [ExecMode] = [.reference, .fp32], base: String? = nil, file: String? = nil) throws {
        let base = base ?? "\(family)_fp32"
        let g = try ModelLoader.load("\(Self.dir)/\(file ?? base + ".pdmodel")").graph
        let unknown = Set(g.nodes.map(\.type).filter { OpSpecs.byType[$0] == nil && $0 != "feed" && $0 != "fetch" }).sorted()
        XCTAssertEqual(unknown, [], "\(base): op types qtop has no spec for")
        let (inputs, outputs) = try files(base)
        XCTAssertEqual(inputs.count, g.inputs.count, base)
        XCTAssertFalse(outputs.isEmpty, base)
        let feeds = Dictionary(uniqueKeysWithValues: zip(g.inputs, inputs))
        let engine = Engine(graph: g)
        for mode in modes {
            let e = try engine.executor(RunConfig(mode: mode, isaCap: .avx512_vnni, threads: 1),
                                        inputShapes: feeds.mapValues(\.shape))
            let outs = try e.run(feeds)
            XCTAssertEqual(outs.count, outputs.count, "\(base) \(mode)")
            for (i, (o, want)) in zip(outs, outputs).enumerated() {
                XCTAssertEqual(o.shape, want.shape, "\(base) \(mode) output \(i)")
                guard o.shape == want.shape else { continue }
                let err = relativeMaxError(o.floatValues(), want.floatValues())
                print("family \(base) \(mode) output \(i): relative max error \(err)")
                XCTAssertLessThanOrEqual(err, 1e-4, "\(base) \(mode) output \(i): relative max error \(err)")
            }
        }
    }

    func testDBNet() throws { try check("dbnet") }
    func testDBNetPIR() throws { try check("dbnet", base: "dbnet_pir", file: "dbnet_pir.json") }
    func testPPLCNet() throws { try check("lcnet") }
    func testSVTR() throws { try check("svtr") }
    func testPPYOLOE() throws { try check("ppyoloe") }
    func testPPLiteSeg() throws { try check("liteseg") }
    func testERNIE() throws { try check("ernie") }
    func testYOLOv5() throws { try check("yolov5") }
}
