import Foundation
import QtopFormat
import QtopGraph
import QtopPasses
@testable import QtopRuntime
import QtopPipeline
import QtopTestSupport
import XCTest

/// The whole lowered graph of every int8 sample, run on the native kernels at each ISA this CPU has: every integer
/// tensor a node writes equals, byte for byte, what the integer oracle computes for that node from the same inputs
/// (the native run's own tensors, captured through the executor's observe hook).
final class WholeGraphInt8Tests: XCTestCase {
    static let isas: [ISALevel] = [.generic, .avx2, .avx512_core, .avx512_vnni]

    func int8Samples() throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: RepoPaths.sample(""))
            .filter { $0.hasSuffix("_int8.pdmodel") }.sorted()
        if names.isEmpty { throw XCTSkip("no int8 samples") }
        return names
    }

    func testEveryIntegerTensorMatchesTheOracleOnEveryISA() throws {
        let oracle = KernelRegistry()
        registerReferenceKernels(oracle)
        let native = KernelLibrary.standard()
        var compared = 0
        for file in try int8Samples() {
            let g0 = try ModelLoader.load(RepoPaths.sample(file)).graph
            let lowered = DequantizeFoldedWeights.forExecution(PassManager.lower(g0, PassOptions(target: .int8)))
            for isa in WholeGraphInt8Tests.isas where NativeCPU.usableISAs.contains(isa) {
                let shape = (lowered.values[lowered.inputs[0]]?.shape ?? []).enumerated().map { $0.offset == 0 ? 2 : max($0.element, 1) }
                let e = try Executor(graph: lowered, registry: native,
                                     options: PlanOptions(isaCap: isa, available: NativeCPU.usableISAs),
                                     inputShapes: [lowered.inputs[0]: shape])
                var seen: [String: HostTensor] = [:]
                var integerNodes: [Node] = []
                try e.run(Engine.randomInputs(for: e, seed: 7)) { node, name, t in
                    seen[name] = t.copyToHost()
                    if t.dtype == .i8 || t.dtype == .u8 || t.dtype == .i32, integerNodes.last?.id != node.id { integerNodes.append(node) }
                }
                XCTAssertFalse(integerNodes.isEmpty, "\(file): the lowered graph has no integer tensors")
                for node in integerNodes {
                    compared += try compare(node, plan: e, seen: seen, oracle: oracle, label: "\(file) \(isa.rawValue)")
                }
            }
        }
        XCTAssertGreaterThan(compared, 0)
    }

    /// The family int8 samples (samples/families) at their recorded inputs and shapes: every integer tensor of the
    /// lowered graph (sigmoid-family epilogues, integer matmuls …) equals the oracle's at each ISA.
    func testFamilySamplesMatchTheOracleOnEveryISA() throws {
        let dir = RepoPaths.sample("families")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))
        let models = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["models"] as! [[String: Any]]
        let oracle = KernelRegistry()
        registerReferenceKernels(oracle)
        let native = KernelLibrary.standard()
        var compared = 0
        for m in models where (m["name"] as! String).hasSuffix("_int8") {
            let name = m["name"] as! String
            let feeds = try Dictionary(uniqueKeysWithValues: (m["inputs"] as! [[String: Any]]).map {
                ($0["name"] as! String, try Npy.read(dir + "/" + ($0["file"] as! String)))
            })
            let shapes = feeds.mapValues(\.shape)
            let g0 = try ModelLoader.load(dir + "/\(name).pdmodel").graph
            let lowered = DequantizeFoldedWeights.forExecution(PassManager.lower(g0, PassOptions(target: .int8, inputShapes: shapes)))
            for isa in WholeGraphInt8Tests.isas where NativeCPU.usableISAs.contains(isa) {
                let e = try Executor(graph: lowered, registry: native, options: PlanOptions(isaCap: isa, available: NativeCPU.usableISAs),
                                     inputShapes: shapes)
                var seen: [String: HostTensor] = [:]
                var integerNodes: [Node] = []
                try e.run(feeds) { node, name, t in
                    seen[name] = t.copyToHost()
                    if t.dtype == .i8 || t.dtype == .u8, integerNodes.last?.id != node.id { integerNodes.append(node) }
                }
                XCTAssertFalse(integerNodes.isEmpty, "\(name): the lowered graph has no integer tensors")
                for node in integerNodes {
                    compared += try compare(node, plan: e, seen: seen, oracle: oracle, label: "\(name) \(isa.rawValue)")
                }
            }
        }
        XCTAssertGreaterThan(compared, 0)
    }

    /// Runs the oracle kernel of `node` on the native run's inputs and compares its integer outputs; returns how
    /// many tensors were compared.
    func compare(_ node: Node, plan: Executor, seen: [String: HostTensor], oracle: KernelRegistry, label: String) throws -> Int {
        let g = plan.graph
        guard let entry = oracle.candidates(for: node.type).first else {
            XCTFail("\(label): no oracle kernel for \(node.type)")
            return 0
        }
        let ctx = KernelBuildContext(node: node, graph: g, isaCap: .generic, available: [.generic])
        guard case .ready(let kernel) = try entry.make(ctx) else {
            XCTFail("\(label): the oracle rejects \(node.type) '\(node.name)'")
            return 0
        }
        var ins: [String: [Tensor]] = [:]
        for slot in node.inputs {
            ins[slot.name] = try slot.args.map { a in
                if let c = g.values[a]?.constant { return Tensor(c) }
                guard let t = seen[a] else { throw KernelError("\(a) was not observed") }
                return Tensor(t)
            }
        }
        var expected: [String: HostTensor] = [:]
        var outs: [String: [Tensor]] = [:]
        for slot in node.outputs {
            outs[slot.name] = slot.args.compactMap { a in
                guard let t = seen[a] else { return nil }
                let h = HostTensor(dtype: t.dtype, shape: t.shape)
                expected[a] = h
                return Tensor(h)
            }
        }
        try kernel.run(KernelIO(inputs: ins, outputs: outs, threads: .serial))
        var n = 0
        for (name, want) in expected where want.dtype != .f32 {
            let got = seen[name]!
            let same = got.byteCount == want.byteCount && memcmp(got.raw, want.raw, got.byteCount) == 0
            XCTAssertTrue(same, "\(label): \(node.type) '\(node.name)' output \(name) differs from the oracle")
            n += 1
        }
        return n
    }
}
