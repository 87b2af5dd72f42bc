import XCTest
import QtopGraph
@testable import QtopPasses

/// Prints the pipeline on a real sample when QTOP_DUMP=<model name> is set (debugging aid).
final class DumpSamples: XCTestCase {
    func testDump() throws {
        guard let name = ProcessInfo.processInfo.environment["QTOP_DUMP"], let p = Samples.path(name) else { throw XCTSkip("QTOP_DUMP not set") }
        let target = PassTarget(rawValue: ProcessInfo.processInfo.environment["QTOP_TARGET"] ?? "int8") ?? .int8
        let g = try ModelLoader.load(p).graph
        for s in PassManager.run(g, PassOptions(target: target)) {
            print("==== \(s.name) (\(s.graph.nodes.count) nodes)")
            for c in s.changes { print("  \(c.kind) #\(c.nodeID) \(c.node): \(c.detail)") }
            if s.name == "loaded" || s.name == "dead-code" || ProcessInfo.processInfo.environment["QTOP_ALL"] != nil { print(dump(s.graph)) }
        }
    }
}
