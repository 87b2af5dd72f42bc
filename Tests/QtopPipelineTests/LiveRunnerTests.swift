import Foundation
import QtopGraph
import QtopPipeline
import QtopProfile
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

        // A second polling thread next to this one, reading everything the UI reads until told to stop.
        let stopReading = LockedFlag()
        let readerDone = DispatchSemaphore(value: 0)
        Thread {
            while !stopReading.value {
                if let s = runner.latest() { for l in s.layers { _ = l.execType; _ = l.history.last } }
                if let rows = runner.comparison() { _ = rows.map(\.speedup) }
                _ = runner.dispatch(nodeID: 2)
                Thread.sleep(forTimeInterval: 0.0005)
            }
            readerDone.signal()
        }.start()

        func poll(until done: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if done() { return true }
                for id in 0..<4 { _ = runner.dispatch(nodeID: id) }
                Thread.sleep(forTimeInterval: 0.001)
            }
            return false
        }
        XCTAssertTrue(poll { (runner.latest()?.runs ?? 0) > 0 }, "no snapshot within 60 s")
        runner.resetStatistics()
        runner.setISACap(.generic)
        runner.setMode(.int8)
        XCTAssertTrue(poll { runner.latest()?.isaCap == .generic }, "the ISA change never produced a snapshot")
        var rows: [ModeComparison] = []
        XCTAssertTrue(poll {
            rows = runner.comparison() ?? []
            return rows.contains { $0.int8Ms > 0 && $0.fp32Ms > 0 }
        }, "no layer timed in both modes within 60 s: \(rows)")
        // Keep both readers busy while the runner goes on publishing.
        for _ in 0..<300 {
            _ = runner.comparison()
            _ = runner.latest()
            Thread.sleep(forTimeInterval: 0.001)
        }
        stopReading.value = true
        readerDone.wait()
        XCTAssertNil(runner.error)
    }

    func testTwoEnginesRunConcurrentlyOnTheirOwnPools() throws {
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

/// A Bool shared between threads.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var v = false
    var value: Bool {
        get { lock.withLock { v } }
        set { lock.withLock { v = newValue } }
    }
}

/// Input shapes through the engine and the live runner: the activation-memory check before planning, and a
/// runner that waits for shapes, then re-specializes when they change.
final class InputShapePipelineTests: XCTestCase {
    func dynamicEngine() throws -> Engine {
        let dir = makeTempDir()
        let path = TinyModel.convRelu(inputDims: [-1, 2, -1, -1]).write(to: dir)
        return Engine(graph: try ModelLoader.load(path).graph)
    }

    func testActivationMemoryIsCheckedBeforePlanning() throws {
        let e = try dynamicEngine()
        XCTAssertEqual(e.declaredInputs, [DeclaredInput(name: "x", shape: [-1, 2, -1, -1], elementBytes: 4)])
        func plan(_ x: [Int], limit: Int) throws -> Executor {
            try e.executor(RunConfig(mode: .fp32, isaCap: .generic, threads: 1, inputShapes: ["x": x], maxMemory: limit))
        }
        // x 2×8×8 + conv and relu 3×8×8 floats + the 3×2×3×3 filter: well under 10 kB, well over 100 bytes.
        XCTAssertNoThrow(try plan([1, 2, 8, 8], limit: 10_000))
        XCTAssertThrowsError(try plan([1, 2, 8, 8], limit: 100)) {
            XCTAssertTrue("\($0)".contains("input shapes x=[1,2,8,8] need"), "\($0)")
            XCTAssertTrue("\($0)".contains("more than the memory limit of 100 B"), "\($0)")
        }
        // Dims whose products overflow are reported, not trapped.
        let huge = Int(Int32.max)
        XCTAssertThrowsError(try plan([huge, 2, huge, huge], limit: 1 << 40))
    }

    func testIdleRunnerWaitsForShapesThenRespecializes() throws {
        let e = try dynamicEngine()
        let runner = LiveRunner(engine: e, config: RunConfig(mode: .fp32, isaCap: .generic, threads: 1), publishInterval: 0.01, idle: true)
        runner.start()
        defer { runner.stop() }
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertTrue(runner.isIdle)
        XCTAssertNil(runner.latest(), "nothing runs before the shapes are known")
        runner.setInputShapes(["x": [1, 2, 5, 6]])
        XCTAssertFalse(runner.isIdle)
        func waitFor(_ dims: [Int]) -> ProfileSnapshot? {
            for _ in 0..<500 {
                if let s = runner.latest(), s.inputShapes == [InputShape(name: "x", dims: dims)] { return s }
                Thread.sleep(forTimeInterval: 0.01)
            }
            return nil
        }
        XCTAssertNotNil(waitFor([1, 2, 5, 6]), runner.error ?? "no snapshot at the first shapes")
        runner.setInputShapes(["x": [2, 2, 3, 3]])
        XCTAssertNotNil(waitFor([2, 2, 3, 3]), runner.error ?? "no snapshot at the new shapes")
        XCTAssertNil(runner.error)
    }
}
