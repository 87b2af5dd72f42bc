import Foundation
import XCTest
import QtopFormat
import QtopGraph
import QtopRuntime
import QtopTestSupport
@testable import QtopPasses

/// fuse-scale-residual (float RSE shortcut x + x·s → scale_residual) on the DBNet fp32 family sample, and
/// fuse-se-add (an NHWC RSE output plus the FPN's upsampled level, then its quantize → one scale_channels_nhwc
/// with an Addend) on a hand-built graph: what fuses, what must not, and that the fused graph computes the same
/// bytes as the unfused one.
final class DetGraphFusionTests: XCTestCase {
    func runGraph(_ g: Graph, _ inputs: [String: HostTensor]) throws -> [HostTensor] {
        let e = try Executor(graph: g, registry: KernelLibrary.standard(),
                             options: PlanOptions(isaCap: NativeCPU.bestISA, available: NativeCPU.usableISAs),
                             inputShapes: inputs.mapValues(\.shape))
        return try e.run(inputs)
    }

    func bytes(_ t: HostTensor) -> [UInt8] { Array(UnsafeRawBufferPointer(start: t.raw, count: t.byteCount)) }

    func testDBNetFloatRSEShortcutsFuse() throws {
        guard let p = Samples.path("families/dbnet_fp32") else { throw XCTSkip("dbnet_fp32 sample not present") }
        let g0 = try ModelLoader.load(p).graph
        let steps = PassManager.run(g0, PassOptions(target: .fp32))
        guard let i = steps.firstIndex(where: { $0.name == FuseScaleResidual.name }) else { return XCTFail("fuse-scale-residual did not run") }
        let before = steps[i - 1].graph, after = steps[i].graph
        let fused = after.nodes.filter { $0.type == "scale_residual" }
        XCTAssertGreaterThan(fused.count, 0)
        XCTAssertEqual(after.nodes.filter { $0.type == "elementwise_mul" }.count + fused.count,
                       before.nodes.filter { $0.type == "elementwise_mul" }.count)
        for n in fused { XCTAssertEqual(n.provenance.count, n.input("Addend") == nil ? 2 : 3, "\(n.name) names its mul and adds") }
        let input = try Npy.read(p.replacingOccurrences(of: ".pdmodel", with: ".input.npy"))
        let want = try runGraph(before, [before.inputs[0]: input])[0], got = try runGraph(after, [after.inputs[0]: input])[0]
        XCTAssertEqual(bytes(got), bytes(want), "scale_residual computes the mul and the add's bits")
    }

    /// x NHWC [1, 4, 6, 8] (f32 conv output), s [1, 8, 1, 1], z NCHW [1, 8, 4, 6]: RSE (scale_channels_nhwc,
    /// residual, f32 NCHW out) + z, then a quantize (and, with `extraReader`, a relu reading the sum too).
    func fpnGraph(extraReader: Bool) -> Graph {
        var b = GraphBuilder()
        b.input("x", [1, 4, 6, 8])
        b.input("s", [1, 8, 1, 1])
        b.input("z", [1, 8, 4, 6])
        b.op("scale_channels_nhwc", [("X", ["x"]), ("Scale", ["s"])], [("Out", ["v"])], [("residual", .bool(true))])
        b.op("elementwise_add", [("X", ["v"]), ("Y", ["z"])], [("Out", ["w"])], [("axis", .int(-1))])
        b.op("quantize", [("X", ["w"])], [("Out", ["q"])], [("scale", .float(6)), ("out_dtype", .string("s8"))])
        var outs = ["q"]
        if extraReader {
            b.op("relu", [("X", ["w"])], [("Out", ["r"])])
            outs.append("r")
        }
        return b.graph(outputs: outs)
    }

    func testFPNAddAndQuantizeFuseIntoTheScaleOp() throws {
        for extra in [false, true] {
            let g = fpnGraph(extraReader: extra)
            let (f, changes) = FuseSEAdd.apply(g)
            XCTAssertFalse(changes.isEmpty)
            let se = f.nodes.filter { $0.type == "scale_channels_nhwc" }
            XCTAssertEqual(se.count, 1)
            XCTAssertEqual(se.first?.input("Addend"), "z")
            XCTAssertNil(f.nodes.first { $0.type == "elementwise_add" }, "the add is absorbed")
            // with a second reader of the sum the quantize stays and the op writes the f32 sum
            XCTAssertEqual(f.nodes.contains { $0.type == "quantize" }, extra)
            XCTAssertEqual(se.first?.output("Out"), extra ? "w" : "q")
            var rng = SplitMix64(seed: 7)
            func t(_ shape: [Int], _ lo: Float, _ hi: Float) -> HostTensor {
                HostTensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in lo + Float(rng.nextUnit()) * (hi - lo) })
            }
            let inputs = ["x": t([1, 4, 6, 8], -4, 4), "s": t([1, 8, 1, 1], 0, 1), "z": t([1, 8, 4, 6], -3, 3)]
            let want = try runGraph(g, inputs), got = try runGraph(f, inputs)
            XCTAssertEqual(got.map(bytes), want.map(bytes), "extra reader \(extra)")
        }
    }

    /// The full-size det model lowered without input shapes (as report, bench and the UI do) still fuses its
    /// finest FPN add and that sum's quantize into the scale op.
    func testUnspecializedFPNFusesBehindANearestInterp() throws {
        var b = GraphBuilder()
        b.input("x", [-1, -1, -1, 8])
        b.input("s", [-1, 8, 1, 1])
        b.input("c", [-1, 8, -1, -1])
        b.op("nearest_interp_v2", [("X", ["c"])], [("Out", ["z"])], [("scale", .floats([2, 2])), ("align_corners", .bool(false))])
        b.op("scale_channels_nhwc", [("X", ["x"]), ("Scale", ["s"])], [("Out", ["v"])], [("residual", .bool(true))])
        b.op("elementwise_add", [("X", ["v"]), ("Y", ["z"])], [("Out", ["w"])], [("axis", .int(-1))])
        b.op("quantize", [("X", ["w"])], [("Out", ["q"])], [("scale", .float(6)), ("out_dtype", .string("s8"))])
        let g = b.graph(outputs: ["q"])
        let (f, _) = FuseSEAdd.apply(g)
        XCTAssertEqual(f.nodes.first { $0.type == "scale_channels_nhwc" }?.input("Addend"), "z")
        XCTAssertNil(f.nodes.first { $0.type == "quantize" })
        // without the resize producing z, unknown extents are not taken as equal
        var b2 = GraphBuilder()
        b2.input("x", [-1, -1, -1, 8])
        b2.input("s", [-1, 8, 1, 1])
        b2.input("z", [-1, 8, -1, -1])
        b2.op("scale_channels_nhwc", [("X", ["x"]), ("Scale", ["s"])], [("Out", ["v"])], [("residual", .bool(true))])
        b2.op("elementwise_add", [("X", ["v"]), ("Y", ["z"])], [("Out", ["w"])], [("axis", .int(-1))])
        XCTAssertTrue(FuseSEAdd.apply(b2.graph(outputs: ["w"])).1.isEmpty)
    }

    func testFPNAddWithAnotherReaderOfTheRSEOutputDoesNotFuse() throws {
        var b = GraphBuilder()
        b.input("x", [1, 4, 6, 8])
        b.input("s", [1, 8, 1, 1])
        b.input("z", [1, 8, 4, 6])
        b.op("scale_channels_nhwc", [("X", ["x"]), ("Scale", ["s"])], [("Out", ["v"])], [("residual", .bool(true))])
        b.op("elementwise_add", [("X", ["v"]), ("Y", ["z"])], [("Out", ["w"])], [("axis", .int(-1))])
        b.op("relu", [("X", ["v"])], [("Out", ["r"])])
        let (_, changes) = FuseSEAdd.apply(b.graph(outputs: ["w", "r"]))
        XCTAssertTrue(changes.isEmpty, "v is read by the relu too")
    }

    /// fuse-se-upsample after fuse-se-add: the FPN's nearest ×2 resize folds into the scale op's Addend (the coarse
    /// level read at (h/2, w/2)); the fused graph computes the unfused graph's bytes. A resize whose output has
    /// another reader, or with align_corners, stays.
    func testFPNNearestResizeFoldsIntoTheAddend() throws {
        func build(alignCorners: Bool = false, extraReader: Bool = false) -> Graph {
            var b = GraphBuilder()
            b.input("x", [1, 4, 6, 8])
            b.input("s", [1, 8, 1, 1])
            b.input("c", [1, 8, 2, 3])
            b.op("nearest_interp_v2", [("X", ["c"])], [("Out", ["z"])], [("scale", .floats([2, 2])), ("align_corners", .bool(alignCorners))])
            b.op("scale_channels_nhwc", [("X", ["x"]), ("Scale", ["s"])], [("Out", ["v"])], [("residual", .bool(true))])
            b.op("elementwise_add", [("X", ["v"]), ("Y", ["z"])], [("Out", ["w"])], [("axis", .int(-1))])
            b.op("quantize", [("X", ["w"])], [("Out", ["q"])], [("scale", .float(6)), ("out_dtype", .string("s8"))])
            if extraReader { b.op("relu", [("X", ["z"])], [("Out", ["r"])]) }
            return b.graph(outputs: extraReader ? ["q", "r"] : ["q"])
        }
        let g = FuseSEAdd.apply(build()).0
        let (f, changes) = FuseSEUpsample.apply(g)
        let se = f.nodes.filter { $0.type == "scale_channels_nhwc" }
        XCTAssertEqual(se.count, 1)
        XCTAssertEqual(se.first?.input("Addend"), "c")
        XCTAssertEqual(se.first?.attrs.int("addend_upsample", default: 1), 2)
        XCTAssertTrue(se.first?.provenance.contains("z") ?? false, "the fused op names the resize it absorbed")
        XCTAssertFalse(f.nodes.contains { $0.type == "nearest_interp_v2" })
        XCTAssertEqual(changes.filter { $0.kind == .fused }.count, 1)
        var rng = SplitMix64(seed: 11)
        func t(_ shape: [Int]) -> HostTensor { HostTensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in Float(rng.nextUnit()) * 8 - 4 }) }
        let inputs = ["x": t([1, 4, 6, 8]), "s": t([1, 8, 1, 1]), "c": t([1, 8, 2, 3])]
        XCTAssertEqual(bytes(try runGraph(f, inputs)[0]), bytes(try runGraph(g, inputs)[0]))
        XCTAssertTrue(FuseSEUpsample.apply(FuseSEAdd.apply(build(alignCorners: true)).0).1.isEmpty, "align_corners samples other pixels")
        XCTAssertTrue(FuseSEUpsample.apply(FuseSEAdd.apply(build(extraReader: true)).0).1.isEmpty, "the resized tensor is read elsewhere")
    }
}
