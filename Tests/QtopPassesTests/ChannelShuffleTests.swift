import XCTest
import QtopFormat
import QtopGraph
import QtopRuntime
@testable import QtopPasses

/// fuse-channel-shuffle: the ShuffleNet unit's concat → reshape2 → transpose2 → reshape2 → split becomes one
/// fused_channel_shuffle whose outputs are bit-identical to the chain's, with both its kernels.
final class ChannelShuffleTests: XCTestCase {
    /// x1 [n, c1, h, w] and x2 [n, c2, h, w] → concat → shuffle (groups g) → split into `split` sections (nil: none).
    func shuffleGraph(n: Int = 1, c1: Int, c2: Int?, h: Int = 3, w: Int = 2, groups g: Int, split: [Int]?,
                      extraReader: Bool = false, readXShape: Bool = false) -> Graph {
        var b = GraphBuilder()
        b.input("x1", [n, c1, h, w])
        var cat = "x1"
        var c = c1
        if let c2 {
            b.input("x2", [n, c2, h, w])
            b.op("concat", [("X", ["x1", "x2"])], [("Out", ["cat"])], [("axis", .int(1))])
            cat = "cat"
            c += c2
        }
        b.op("reshape2", [("X", [cat])], [("Out", ["r1"]), ("XShape", ["r1.xs"])], [("shape", .ints([-1, g, c / g, h, w]))])
        b.op("transpose2", [("X", ["r1"])], [("Out", ["t"]), ("XShape", ["t.xs"])], [("axis", .ints([0, 2, 1, 3, 4]))])
        b.op("reshape2", [("X", ["t"])], [("Out", ["r2"]), ("XShape", ["r2.xs"])], [("shape", .ints([-1, c, h, w]))])
        var outs = ["r2"]
        if let split {
            outs = split.indices.map { "s\($0)" }
            b.op("split", [("X", ["r2"])], [("Out", outs)], [("axis", .int(1)), ("num", .int(0)), ("sections", .ints(split))])
        }
        if extraReader { b.op("relu", [("X", [c2 == nil ? "t" : cat])], [("Out", ["side"])]); outs.append("side") }
        if readXShape { b.op("relu", [("X", ["t.xs"])], [("Out", ["side2"])]); outs.append("side2") }
        return b.graph(outputs: outs)
    }

    func testShuffleNetUnitFusesIntoOneNode() throws {
        let g = shuffleGraph(c1: 6, c2: 6, groups: 2, split: [6, 6])
        let (out, changes) = FuseChannelShuffle.apply(g)
        XCTAssertEqual(out.types(), ["feed", "feed", "fused_channel_shuffle", "fetch", "fetch"])
        let f = out.nodes[2]
        XCTAssertEqual(f.inputs("X"), ["x1", "x2"])
        XCTAssertEqual(f.outputs("Out"), ["s0", "s1"])
        let spec = try f.spec(ChannelShuffleSpec.self)
        XCTAssertEqual(spec.groups, 2)
        XCTAssertEqual(spec.sections, [6, 6])
        XCTAssertEqual(f.provenance, ["cat", "r1", "t", "r2", "s0"])
        XCTAssertEqual(changes.filter { $0.kind == .removed }.count, 5)
        // output channel j·g + i copies concatenated channel i·(C/g) + j: 0, 6, 1, 7, …
        let src = try spec.sources(inputChannels: [6, 6])
        XCTAssertEqual(src.prefix(4).map { [$0.input, $0.channel] }, [[0, 0], [1, 0], [0, 1], [1, 1]])
        XCTAssertEqual(src.last.map { [$0.input, $0.channel] }, [1, 5])
    }

    func testWithoutConcatOrSplitAndOddGroups() throws {
        let g = shuffleGraph(c1: 12, c2: nil, groups: 3, split: nil)
        let (out, _) = FuseChannelShuffle.apply(g)
        XCTAssertEqual(out.types(), ["feed", "fused_channel_shuffle", "fetch"])
        XCTAssertEqual(out.nodes[1].inputs("X"), ["x1"])
        XCTAssertEqual(out.nodes[1].outputs("Out"), ["r2"])
        XCTAssertEqual(try out.nodes[1].spec(ChannelShuffleSpec.self).sections, [12])
    }

    func testOtherReadersKeepTheChain() {
        // the transpose's output read elsewhere: nothing fuses
        XCTAssertEqual(FuseChannelShuffle.apply(shuffleGraph(c1: 4, c2: nil, groups: 2, split: nil, extraReader: true)).0.types(),
                       ["feed", "reshape2", "transpose2", "reshape2", "relu", "fetch", "fetch"])
        // an XShape read (never in inference programs, but legal): nothing fuses
        XCTAssertFalse(FuseChannelShuffle.apply(shuffleGraph(c1: 4, c2: nil, groups: 2, split: nil, readXShape: true)).0.types()
            .contains("fused_channel_shuffle"))
        // the concat's output read elsewhere: the concat stays, the shuffle fuses
        let (out, _) = FuseChannelShuffle.apply(shuffleGraph(c1: 4, c2: 4, groups: 2, split: [4, 4], extraReader: true))
        XCTAssertEqual(out.types(), ["feed", "feed", "concat", "fused_channel_shuffle", "relu", "fetch", "fetch", "fetch"])
        XCTAssertEqual(out.nodes[3].inputs("X"), ["cat"])
    }

    func testNotAShuffle() {
        // a transpose of other axes is left alone
        var b = GraphBuilder()
        b.input("x", [1, 4, 2, 2])
        b.op("reshape2", [("X", ["x"])], [("Out", ["r1"])], [("shape", .ints([1, 2, 2, 2, 2]))])
        b.op("transpose2", [("X", ["r1"])], [("Out", ["t"])], [("axis", .ints([0, 1, 2, 4, 3]))])
        b.op("reshape2", [("X", ["t"])], [("Out", ["r2"])], [("shape", .ints([1, 4, 2, 2]))])
        XCTAssertEqual(FuseChannelShuffle.apply(b.graph(outputs: ["r2"])).0.types(), ["feed", "reshape2", "transpose2", "reshape2", "fetch"])
    }

    /// Runs `g` on seeded inputs with one kernel choice.
    func run(_ g: Graph, referenceOnly: Bool, dtype: DType = .f32) throws -> [HostTensor] {
        var shapes: [String: [Int]] = [:]
        var feeds: [String: HostTensor] = [:]
        for (k, name) in g.inputs.enumerated() {
            let s = g.values[name]!.shape!.map { max($0, 1) }
            shapes[name] = s
            let n = s.reduce(1, *)
            feeds[name] = HostTensor(shape: s, floats: (0..<n).map { Float(k * 1000 + $0) * 0.5 - 3 })
        }
        let e = try Executor(graph: g, registry: KernelLibrary.standard(), options: PlanOptions(referenceOnly: referenceOnly),
                             inputShapes: shapes)
        return try e.run(feeds)
    }

    func testFusedOutputsAreTheChainsBits() throws {
        for (c1, c2, g, split, n) in [(6, 6, 2, [6, 6], 1), (4, 8, 3, [5, 7], 2), (9, nil, 3, nil, 1), (5, 3, 4, [2, 2, 4], 3)] as [(Int, Int?, Int, [Int]?, Int)] {
            let graph = shuffleGraph(n: n, c1: c1, c2: c2, groups: g, split: split)
            let want = try run(graph, referenceOnly: true)
            let fused = FuseChannelShuffle.apply(graph).0
            XCTAssertTrue(fused.types().contains("fused_channel_shuffle"))
            for ref in [true, false] {
                let got = try run(fused, referenceOnly: ref)
                XCTAssertEqual(got.count, want.count)
                for (a, b) in zip(got, want) {
                    XCTAssertEqual(a.shape, b.shape)
                    XCTAssertEqual(a.floatValues(), b.floatValues(), "c1 \(c1) c2 \(String(describing: c2)) g \(g) referenceOnly \(ref)")
                }
            }
        }
    }

    func testSpecRejectsBadAttributes() {
        let node = Node(id: 0, type: "fused_channel_shuffle", inputs: [Slot("X", ["a"])], outputs: [Slot("Out", ["b"])],
                        attrs: Attributes([("groups", .int(0))]), provenance: [])
        XCTAssertThrowsError(try node.spec(ChannelShuffleSpec.self))
        let ok = Node(id: 0, type: "fused_channel_shuffle", inputs: [Slot("X", ["a"])], outputs: [Slot("Out", ["b", "c"])],
                      attrs: Attributes([("groups", .int(4)), ("sections", .ints([3, 3]))]), provenance: [])
        let spec = try? ok.spec(ChannelShuffleSpec.self)
        XCTAssertThrowsError(try spec?.outputSections(channels: 6, outputs: 2))   // 6 channels in 4 groups
        XCTAssertThrowsError(try spec?.outputSections(channels: 8, outputs: 2))   // sections sum to 6
        XCTAssertThrowsError(try spec?.sources(inputChannels: [0, 8]))
    }
}
