import QtopFormat
import QtopGraph
@testable import QtopPasses
import QtopRuntime
import QtopTestSupport
import XCTest

/// fold-batchnorm and fuse-activation on conv2d_transpose: bias add + batch_norm fold into the node (filter scaled
/// per output channel along axis 1, groups respected), relu moves in, the type stays conv2d_transpose.
final class ConvTransposeFusionTests: XCTestCase {
    func testGroupedDeconvBiasBNRelu() {
        var b = GraphBuilder()
        b.input("x", [1, 4, 2, 2])
        // groups 2: Filter [C_in 4][ocg 1][1][1] → 2 output channels; C_in 0,1 feed channel 0, C_in 2,3 channel 1
        b.const("w", [4, 1, 1, 1], [1, 2, 3, 4])
        b.op("conv2d_transpose", [("Input", ["x"]), ("Filter", ["w"])], [("Output", ["d"])],
             [("strides", .ints([1, 1])), ("paddings", .ints([0, 0])), ("groups", .int(2))], shape: [1, 2, 2, 2])
        b.const("bias", [2], [0.5, -1])
        b.op("elementwise_add", [("X", ["d"]), ("Y", ["bias"])], [("Out", ["db"])], [("axis", .int(1))], shape: [1, 2, 2, 2])
        b.bn("db", "y", channels: 2)
        b.op("relu", [("X", ["y"])], [("Out", ["r"])], shape: [1, 2, 2, 2])
        let g = b.graph(outputs: ["r"])
        let (folded, changes) = FoldBatchNorm.apply(g)
        XCTAssertEqual(folded.types(), ["feed", "conv2d_transpose", "relu", "fetch"])
        XCTAssertEqual(changes.map(\.kind), [.fused, .removed, .removed])
        let f = folded.nodes[1]
        XCTAssertEqual(f.inputs.map(\.name), ["Input", "Filter", "Bias"])
        XCTAssertEqual(f.output("Output"), "y")
        let m0 = Float(0.5 / (1.0 + 1e-5).squareRoot()), m1 = Float(0.75 / (1.5 + 1e-5).squareRoot())
        let fw = folded.values[f.input("Filter")!]!.constant!.floatValues()
        XCTAssertEqual(fw[0], 1 * m0, accuracy: 1e-6)
        XCTAssertEqual(fw[1], 2 * m0, accuracy: 1e-6)
        XCTAssertEqual(fw[2], 3 * m1, accuracy: 1e-6)
        XCTAssertEqual(fw[3], 4 * m1, accuracy: 1e-6)
        let bias = folded.values[f.input("Bias")!]!.constant!.floatValues()
        XCTAssertEqual(bias[0], 0.5 * m0 - 0.2, accuracy: 1e-6)
        XCTAssertEqual(bias[1], (-1 - 0.05) * m1 - 0.1, accuracy: 1e-6)
        let (fused, _) = FuseActivation.apply(folded, target: .fp32)
        XCTAssertEqual(fused.types(), ["feed", "conv2d_transpose", "fetch"])
        XCTAssertEqual(fused.nodes[1].attrs["activation"], .string("relu"))
        XCTAssertEqual(fused.nodes[1].output("Output"), "r")
    }

    func testSigmoidStaysOutside() {
        var b = GraphBuilder()
        b.input("x", [1, 1, 2, 2])
        b.const("w", [1, 1, 2, 2], [1, 2, 3, 4])
        b.op("conv2d_transpose", [("Input", ["x"]), ("Filter", ["w"])], [("Output", ["d"])],
             [("strides", .ints([2, 2])), ("paddings", .ints([0, 0]))], shape: [1, 1, 4, 4])
        b.op("sigmoid", [("X", ["d"])], [("Out", ["s"])], shape: [1, 1, 4, 4])
        let (g, _) = FuseActivation.apply(b.graph(outputs: ["s"]), target: .fp32)
        XCTAssertEqual(g.types(), ["feed", "conv2d_transpose", "sigmoid", "fetch"])
    }

    /// The DBNet sample's head, both targets: every deconv folded (no batch_norm or bias add left after one), the
    /// first with its relu; in int8 both are lowered to qconv2d_transpose, the first writing u8 for the second.
    func testDBNetHeadFolds() throws {
        for (file, target) in [("dbnet_fp32", PassTarget.fp32), ("dbnet_int8", .int8)] {
            let loaded = try ModelLoader.load(RepoPaths.sample("families/\(file).pdmodel")).graph
            let g = PassManager.run(loaded, PassOptions(target: target)).last!.graph
            let deconvs = g.nodes.filter { $0.type == (target == .int8 ? "qconv2d_transpose" : "conv2d_transpose") }
            if target == .int8 {
                XCTAssertEqual(deconvs.map { $0.attrs.string("out_dtype", default: "") }, ["u8", "f32"])
                XCTAssertFalse(g.nodes.contains { ["quantize", "dequantize"].contains($0.type) && $0.provenance.contains { $0.contains("relu_16") } })
            }
            XCTAssertEqual(deconvs.count, 2, file)
            for d in deconvs { XCTAssertNotNil(d.input("Bias"), "\(file) \(d.name)") }
            XCTAssertEqual(deconvs.first?.attrs["activation"], .string("relu"), file)
            XCTAssertFalse(g.nodes.contains { $0.type == "batch_norm" }, "\(file): \(g.opCounts)")
        }
    }
}
