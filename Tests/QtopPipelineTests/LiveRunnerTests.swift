import Foundation
import QtopGraph
import QtopPipeline
import QtopRuntime
import QtopTestSupport
import XCTest

/// The live runner from two threads at once: its own inference thread, and a reader that behaves as the UI does
/// (polls snapshots, the comparison and dispatch decisions, and posts mode / ISA / reset requests).
/// Run under the thread sanitizer (`swift test --sanitize=thread --filter QtopPipelineTests`) this is the race
/// check for everything the UI thread reads.
final class LiveRunnerTests: XCTestCase {
    func testUIThreadReadsWhileRunnerRuns() throws {
        let model = try ModelLoader.load(RepoPaths.sample("shapes_int8.pdmodel"))
        let engine = Engine(graph: model.graph)
        let runner = LiveRunner(engine: engine, config: RunConfig(mode: .int8, isaCap: NativeCPU.bestISA, threads: 2),
                                publishInterval: 0.001)
        runner.start()
        defer { runner.stop() }

        let deadline = Date().addingTimeInterval(60)
        var comparison: [ModeComparison]?
        var sawSnapshot = false
        var requests = 0
        // A second reader thread next to this one, so two non-runner threads poll concurrently as well.
        let other = Thread {
            for _ in 0..<200 {
                _ = runner.latest()
                _ = runner.comparison()
                _ = runner.dispatch(nodeID: 2)
                Thread.sleep(forTimeInterval: 0.001)
            }
        }
        other.start()
        while Date() < deadline && (comparison == nil || !sawSnapshot || requests < 3) {
            if let s = runner.latest(), !s.layers.isEmpty, s.runs > 0 {
                sawSnapshot = true
                for l in s.layers { _ = l.execType; _ = l.history.count }
            }
            comparison = runner.comparison()
            for id in 0..<4 { _ = runner.dispatch(nodeID: id) }
            if sawSnapshot && requests < 3 {
                switch requests {
                case 0: runner.resetStatistics()
                case 1: runner.setISACap(.generic)
                default: runner.setMode(.int8)
                }
                requests += 1
            }
            Thread.sleep(forTimeInterval: 0.002)
        }
        XCTAssertNil(runner.error)
        XCTAssertTrue(sawSnapshot, "no snapshot published within 60 s")
        let rows = try XCTUnwrap(comparison, "no int8/fp32 comparison within 60 s")
        XCTAssertFalse(rows.isEmpty)
        XCTAssertTrue(rows.contains { $0.int8Ms > 0 && $0.fp32Ms > 0 }, "no layer timed in both modes: \(rows)")
    }

    func testEnginesOwnTheirPools() throws {
        // Two engines with the same thread count each own a pool; run from two threads at once they agree.
        let model = try ModelLoader.load(RepoPaths.sample("shapes_int8.pdmodel"))
        let config = RunConfig(mode: .int8, isaCap: NativeCPU.bestISA, threads: 2)
        let ea = try Engine(graph: model.graph).executor(config), eb = try Engine(graph: model.graph).executor(config)
        let inputs = Engine.randomInputs(for: ea, seed: 7)
        nonisolated(unsafe) var ya: [Float] = []
        let finished = DispatchSemaphore(value: 0)
        Thread {
            ya = (try? ea.run(inputs)[0].floatValues()) ?? []
            finished.signal()
        }.start()
        let yb = try eb.run(inputs)[0].floatValues()
        finished.wait()
        XCTAssertFalse(yb.isEmpty)
        XCTAssertEqual(ya, yb)
    }
}
