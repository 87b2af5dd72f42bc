import Foundation
import QtopFormat
import QtopGraph
import QtopPasses
import QtopRuntime
import QtopTestSupport
import XCTest

/// qbmm, the int8 matmul of two fake-quantized activations: the C kernel (q8_bmm.c) gives the integer oracle's bits
/// at every ISA level this machine has and at 1 and 2 threads, and the attention matmuls of the SVTR and ERNIE int8
/// samples lower to it, so their whole int8 outputs stay bit-identical across ISAs.
final class AttentionInt8Tests: XCTestCase {
    let pool = NativeThreadPool(threads: 2)

    func kernel(_ reg: KernelRegistry, _ node: Node, _ values: [String: ValueInfo], cap: ISALevel) throws -> (Kernel, String) {
        let g = Graph(nodes: [node], values: values, inputs: [], outputs: [])
        let ctx = KernelBuildContext(node: node, graph: g, isaCap: cap, available: NativeCPU.usableISAs)
        var why: [String] = []
        for e in reg.candidates(for: node.type) where NativeCPU.usableISAs.contains(e.isa) && e.isa <= cap {
            switch try e.make(ctx) {
            case .ready(let k): return (k, e.execType.description)
            case .rejected(let r): why.append("\(e.execType): \(r)")
            }
        }
        throw KernelError("no kernel: \(why)")
    }

    func testQBMMKernelMatchesTheOracleOnEveryISA() throws {
        let oracle = KernelRegistry()
        registerReferenceKernels(oracle)
        let native = KernelLibrary.standard()
        var seed: UInt64 = 0x9e3779b97f4a7c15
        func rnd() -> Float {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
            return Float(seed % 200_001) / 50_000 - 2   // [-2, 2]: past the ranges below, so values saturate
        }
        // (X, Y, trans_x, trans_y): rec / SVTR attention shapes, ERNIE's Q·Kᵀ with trans_y, broadcasting, odd K,
        // more columns than one 64-channel tile, rows past one task
        let cases: [([Int], [Int], Bool, Bool)] = [
            ([1, 8, 40, 15], [1, 8, 15, 40], false, false), ([1, 8, 40, 40], [1, 8, 40, 15], false, false),
            ([1, 2, 9, 16], [1, 2, 9, 16], false, true), ([2, 1, 30, 7], [3, 7, 70], false, false),
            ([3, 13, 50], [3, 13, 21], true, false), ([5, 33], [17, 33], false, true), ([9], [2, 9, 3], false, false),
        ]
        for (xs, ys, tx, ty) in cases {
            var xv = (0..<xs.reduce(1, *)).map { _ in rnd() }
            let yv = (0..<ys.reduce(1, *)).map { _ in rnd() }
            xv[0] = .nan
            xv[xv.count - 1] = .infinity
            let x = HostTensor(shape: xs, floats: xv), y = HostTensor(shape: ys, floats: yv)
            let os = try MatMulSpec.shape(xs, ys, tx: tx, ty: ty)
            let values = ["x": ValueInfo(name: "x", dtype: .f32, shape: xs), "y": ValueInfo(name: "y", dtype: .f32, shape: ys),
                          "o": ValueInfo(name: "o", dtype: .f32, shape: os)]
            let node = Node(id: 0, type: "qbmm", inputs: [Slot("X", ["x"]), Slot("Y", ["y"])], outputs: [Slot("Out", ["o"])],
                            attrs: Attributes([("trans_x", .bool(tx)), ("trans_y", .bool(ty)), ("x_scale", .float(1.5)), ("y_scale", .float(0.75))]),
                            provenance: ["mm"])
            let want = HostTensor(dtype: .f32, shape: os)
            let (ok, ot) = try kernel(oracle, node, values, cap: .generic)
            XCTAssertEqual(ot, "ref:generic:i8")
            try ok.run(KernelIO(inputs: ["X": [Tensor(x)], "Y": [Tensor(y)]], outputs: ["Out": [Tensor(want)]], threads: .serial))
            let wantBits = want.floatValues().map(\.bitPattern)
            XCTAssertTrue(want.floatValues().contains { $0 != 0 }, "\(xs)×\(ys): degenerate case")
            var served = Set<String>()
            for cap in NativeCPU.usableISAs where cap == .generic || cap.isX86 {
                let (k, t) = try kernel(native, node, values, cap: cap)
                XCTAssertTrue(t.hasPrefix("bmm:") && t.hasSuffix(":i8"), t)
                served.insert(t)
                for threaded in [false, true] {
                    let o = HostTensor(dtype: .f32, shape: os)
                    try k.run(KernelIO(inputs: ["X": [Tensor(x)], "Y": [Tensor(y)]], outputs: ["Out": [Tensor(o)]],
                                       threads: threaded ? pool.threadContext : .serial))
                    XCTAssertEqual(o.floatValues().map(\.bitPattern), wantBits, "\(xs)×\(ys) tx \(tx) ty \(ty) at \(t), threaded \(threaded)")
                }
            }
            XCTAssertTrue(served.contains("bmm:generic:i8"))
            for isa: ISALevel in [.avx2, .avx512_core] where NativeCPU.usableISAs.contains(isa) {
                XCTAssertTrue(served.contains("bmm:\(isa.rawValue):i8"), "\(served)")
            }
        }
    }

    /// The SVTR and ERNIE int8 samples: four attention matmuls each become qbmm, and the whole int8 output is the
    /// same bits at every ISA cap and thread count.
    func testAttentionSamplesLowerToQBMMAndStayBitIdentical() throws {
        let dir = RepoPaths.sample("families")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))
        let models = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["models"] as! [[String: Any]]
        let registry = KernelLibrary.standard()
        let caps = NativeCPU.usableISAs.filter { $0 == .generic || $0.isX86 }.sorted()
        for name in ["svtr_int8", "ernie_int8"] {
            let m = try XCTUnwrap(models.first { $0["name"] as? String == name })
            let feeds = try Dictionary(uniqueKeysWithValues: (m["inputs"] as! [[String: Any]]).map {
                ($0["name"] as! String, try Npy.read(dir + "/" + ($0["file"] as! String)))
            })
            let shapes = feeds.mapValues(\.shape)
            let g = DequantizeFoldedWeights.forExecution(
                PassManager.lower(try ModelLoader.load(dir + "/\(name).pdmodel").graph, PassOptions(target: .int8, inputShapes: shapes)))
            XCTAssertEqual(g.nodes.filter { $0.type == "qbmm" }.count, 4, name)
            XCTAssertEqual(g.nodes.filter { $0.type == "matmul_v2" }.count, 0, "\(name): a matmul stayed float")
            var first: (String, [[UInt32]])?
            for cap in caps {
                for threads in [ThreadContext.serial, pool.threadContext] {
                    let e = try Executor(graph: g, registry: registry, options: PlanOptions(isaCap: cap, available: NativeCPU.usableISAs),
                                         threads: threads, inputShapes: shapes)
                    let bits = try e.run(feeds).map { $0.floatValues().map(\.bitPattern) }
                    let label = "\(cap.rawValue), \(threads.count) thread(s)"
                    if let (l0, b0) = first { XCTAssertEqual(bits, b0, "\(name): output bits at \(label) differ from \(l0)") }
                    else { first = (label, bits) }
                }
            }
        }
    }
}
