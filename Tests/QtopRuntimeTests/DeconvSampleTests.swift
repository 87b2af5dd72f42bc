import Foundation
import QtopFormat
import QtopGraph
import QtopPasses
import QtopProfile
import QtopRuntime
import QtopTestSupport
import XCTest

/// samples/deconv (generate_deconv.py): three conv2d_transposes Paddle's PTQ quantized (weights per output channel
/// along axis 1) — overlapping taps with output_padding and groups 2 + BN + relu, exact cover + hard_swish,
/// dilation 2 with padding — against Paddle's own outputs. The int8 twin lowers every deconv to qconv2d_transpose
/// (u8 / s8 between them, f32 at the end, no quantize / dequantize in between), runs it natively and agrees with
/// Paddle's int8 run (cosine ≥ 0.999) and, bit for bit, with itself at every ISA and with the integer oracle.
final class DeconvSampleTests: XCTestCase {
    static let dir = RepoPaths.sample("deconv")

    func load(_ name: String) throws -> (Graph, HostTensor, HostTensor) {
        let g = try ModelLoader.load(Self.dir + "/\(name).pdmodel").graph
        return (g, try Npy.read(Self.dir + "/\(name).input.npy"), try Npy.read(Self.dir + "/\(name).output.npy"))
    }

    func run(_ g: Graph, _ x: HostTensor, cap: ISALevel, referenceOnly: Bool = false) throws -> (Executor, HostTensor) {
        var opts = PlanOptions(isaCap: cap, available: NativeCPU.usableISAs)
        opts.referenceOnly = referenceOnly
        let e = try Executor(graph: DequantizeFoldedWeights.forExecution(g), registry: KernelLibrary.standard(), options: opts,
                             inputShapes: ["x": x.shape])
        return (e, try e.run(["x": x])[0])
    }

    func testInt8LowersEveryDeconvAndMatchesPaddle() throws {
        let (g0, x, want) = try load("deconv_int8")
        let g = PassManager.lower(g0, PassOptions(target: .int8, inputShapes: ["x": x.shape]))
        let deconvs = g.nodes.filter { $0.type == "qconv2d_transpose" }
        XCTAssertEqual(deconvs.map { $0.attrs.string("out_dtype", default: "") }, ["u8", "s8", "f32"])
        XCTAssertEqual(deconvs.first?.attrs["groups"], .int(2))
        XCTAssertEqual(g.nodes.filter { $0.type == "quantize" || $0.type == "dequantize" }.count, 1, "only the input's quantize: \(g.opCounts)")
        var first: [Float]?
        for cap in NativeCPU.usableISAs.sorted() {
            let (e, out) = try run(g, x, cap: cap)
            for s in e.steps where s.node.type == "qconv2d_transpose" {
                XCTAssertEqual(s.decision.implementation, "deconv", "\(cap): \(s.decision)")
            }
            XCTAssertEqual(out.shape, want.shape)
            let c = cosine(out.floatValues(), want.floatValues())
            XCTAssertGreaterThanOrEqual(c, 0.999, "\(cap): cosine \(c) against Paddle's int8 run")
            if let first { XCTAssertEqual(out.floatValues(), first, "\(cap) differs from the lowest ISA") } else { first = out.floatValues() }
        }
        let (_, ref) = try run(g, x, cap: .generic, referenceOnly: true)
        XCTAssertEqual(ref.floatValues(), first, "native kernels vs the integer oracle")
    }

    func testFP32MatchesPaddle() throws {
        let (g0, x, want) = try load("deconv_fp32")
        let g = PassManager.lower(g0, PassOptions(target: .fp32, inputShapes: ["x": x.shape]))
        let (_, out) = try run(g, x, cap: NativeCPU.usableISAs.max() ?? .generic)
        XCTAssertLessThanOrEqual(relativeMaxError(out.floatValues(), want.floatValues()), 1e-4)
    }
}
