import Foundation
import QtopFormat
import QtopGraph
import QtopPasses
import QtopRuntime
import QtopTestSupport
import XCTest

/// Integer arithmetic is exact, so the lowered int8 graph of every quantized sample must give the same output bits
/// at every ISA level this machine has (generic C, avx2, avx512_core, avx512_vnni kernels) and at 1 and 2 threads.
final class ISAInvarianceTests: XCTestCase {
    func testInt8SamplesBitIdenticalAcrossISAsAndThreads() throws {
        let cases = try ReferenceCase.all(in: RepoPaths.root + "/samples").filter { $0.name.hasSuffix("_int8") }
        XCTAssertFalse(cases.isEmpty)
        let pool = NativeThreadPool(threads: 2)
        let registry = KernelLibrary.standard()
        let caps = NativeCPU.usableISAs.filter { $0 == .generic || $0.isX86 }.sorted()
        XCTAssertGreaterThan(caps.count, 0)
        for c in cases {
            let lowered = DequantizeFoldedWeights.forExecution(
                PassManager.run(try ModelLoader.load(c.model).graph, PassOptions(target: .int8)).last!.graph)
            var first: (String, [UInt32])?
            for cap in caps {
                for ti in 0..<2 {
                    let e = try Executor(graph: lowered, registry: registry,
                                         options: PlanOptions(isaCap: cap, available: NativeCPU.usableISAs),
                                         threads: ti == 0 ? .serial : pool.threadContext,
                                         inputShapes: [lowered.inputs[0]: c.input.shape])
                    let bits = try e.run([lowered.inputs[0]: c.input])[0].floatValues().map { $0.bitPattern }
                    let label = "\(cap.rawValue), \(ti + 1) thread(s)"
                    if let (l0, b0) = first {
                        XCTAssertEqual(bits, b0, "\(c.name): output bits at \(label) differ from \(l0)")
                    } else {
                        first = (label, bits)
                    }
                }
            }
        }
    }
}
