import Foundation
import QtopFormat
import QtopGraph
import QtopPipeline
import QtopProfile
@testable import QtopRuntime
import QtopTestSupport
import XCTest

/// Throughput streams: several executors of one plan running at once must compute exactly what one executor
/// computes (int8 outputs byte for byte, whatever the stream and thread counts), share the packed weights and own
/// their buffers. Under the thread sanitizer this is also the race check for kernels shared between streams.
final class StreamTests: XCTestCase {
    func bytes(_ ts: [HostTensor]) -> [[UInt8]] {
        ts.map { Array(UnsafeRawBufferPointer(start: $0.raw, count: $0.byteCount)) }
    }

    /// Runs every stream `rounds` times, all streams at once, and returns each stream's last outputs.
    func runConcurrently(_ streams: [Executor], _ inputs: [String: HostTensor], rounds: Int = 3) throws -> [[[UInt8]]] {
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: streams.count) { s in
            for _ in 0..<rounds {
                do { try streams[s].infer(inputs) } catch { failures.add("\(error)") }
            }
        }
        XCTAssertEqual(failures.all, [])
        return try streams.map { bytes(try $0.outputs()) }
    }

    func testTwoStreamsMatchOneStreamByteForByte() throws {
        for file in ["mobile_int8.pdmodel", "shapes_int8.pdmodel"] {
            let engine = Engine(graph: try ModelLoader.load(RepoPaths.sample(file)).graph)
            for isa in [ISALevel.generic, NativeCPU.bestISA] {
                let config = RunConfig(mode: .int8, isaCap: isa, threads: 1)
                let one = try engine.executor(config)
                let inputs = Engine.randomInputs(for: one, seed: 11)
                let expected = bytes(try one.run(inputs))
                XCTAssertFalse(expected.isEmpty)
                for threads in [1, 2] {
                    var c = config
                    c.threads = threads
                    let streams = try engine.streams(c, count: 2)
                    XCTAssertEqual(streams.count, 2)
                    for (s, got) in try runConcurrently(streams, inputs).enumerated() {
                        XCTAssertEqual(got, expected, "\(file) \(isa.rawValue): stream \(s) of 2 × \(threads) threads differs from 1 stream")
                    }
                }
            }
        }
    }

    /// Weight-holding native kernels are one object in every stream (packed once); the activation buffers are not.
    func testStreamsShareWeightsNotActivations() throws {
        let engine = Engine(graph: try ModelLoader.load(RepoPaths.sample("mobile_int8.pdmodel")).graph)
        let streams = try engine.streams(RunConfig(mode: .int8, isaCap: NativeCPU.bestISA, threads: 1), count: 3)
        var shared = 0
        for i in streams[0].steps.indices {
            let k0 = streams[0].steps[i].kernel, k1 = streams[1].steps[i].kernel, k2 = streams[2].steps[i].kernel
            XCTAssertEqual(streams[0].steps[i].decision.execType, streams[1].steps[i].decision.execType)
            guard let k0, let k1, let k2 else { continue }
            if k0 is StreamSharedKernel {
                XCTAssertTrue(k0 === k1 && k0 === k2, "\(streams[0].steps[i].node.name): shared kernel built again")
                shared += 1
            } else {
                XCTAssertFalse(k0 === k1 || k1 === k2, "\(streams[0].steps[i].node.name): a kernel that is not stream-safe is shared")
            }
        }
        XCTAssertTrue(streams[0].steps.contains { $0.node.type == "qconv2d" && $0.kernel is NativeQConvKernel })
        XCTAssertGreaterThan(shared, 0)
        // Each stream writes its own buffers: the first output of one stream is not the memory of another.
        let inputs = Engine.randomInputs(for: streams[0])
        for s in streams { try s.infer(inputs) }
        let out = streams[0].graph.outputs[0]
        var seen = Set<UnsafeMutableRawPointer>()
        for s in streams {
            var p: UnsafeMutableRawPointer?
            try s.infer(inputs) { _, name, t in if name == out { p = t.data } }
            XCTAssertNotNil(p)
            if let p { XCTAssertTrue(seen.insert(p).inserted, "two streams write \(out) to the same buffer") }
        }
    }

    /// A StreamSet measures all its streams and counts exactly the iterations asked for.
    func testStreamSetRunsTheAskedIterations() throws {
        let engine = Engine(graph: try ModelLoader.load(RepoPaths.sample("shapes_int8.pdmodel")).graph)
        let layout = StreamLayout(hint: .throughput, threads: 2)
        XCTAssertEqual(layout, StreamLayout(streams: 2, threadsPerStream: 1))
        let set = try StreamSet(engine: engine, config: RunConfig(mode: .int8, isaCap: NativeCPU.bestISA, threads: 2), layout: layout)
        XCTAssertEqual(set.executors.count, 2)
        let inputs = Engine.randomInputs(for: set.executors[0])
        try set.warmUp(inputs)
        let m = try set.measure(inputs, seconds: .infinity, iterations: 40)
        XCTAssertEqual(m.iterations, 40)
        XCTAssertEqual(m.perStream.reduce(0, +), 40)
        XCTAssertEqual(m.perStream.count, 2)
        XCTAssertGreaterThan(m.fps(batch: 1), 0)
    }

    /// Streams multiply the activations, not the weights: the memory limit counts every stream's buffers.
    func testMemoryLimitCountsEveryStream() throws {
        let path = TinyModel.convRelu(inputDims: [1, 2, 8, 8]).write(to: makeTempDir())
        let engine = Engine(graph: try ModelLoader.load(path).graph)
        var config = RunConfig(mode: .fp32, isaCap: .generic, threads: 1)
        let one = try engine.executor(config)
        let weights = MemoryBudget.total(one.graph.values.values.compactMap { $0.constant?.byteCount })
        config.maxMemory = weights + one.memory.totalBytes * 3 / 2
        XCTAssertNoThrow(try engine.streams(config, count: 1))
        XCTAssertThrowsError(try engine.streams(config, count: 2)) {
            XCTAssertTrue("\($0)".contains("more than the memory limit"), "\($0)")
        }
    }

    func testLayoutFollowsTheHint() {
        XCTAssertEqual(StreamLayout(hint: .latency, threads: 4), StreamLayout(streams: 1, threadsPerStream: 4))
        XCTAssertEqual(StreamLayout(hint: .throughput, threads: 4), StreamLayout(streams: 4, threadsPerStream: 1))
        XCTAssertEqual(StreamLayout(hint: .throughput, threads: 4, streams: 2), StreamLayout(streams: 2, threadsPerStream: 2))
        XCTAssertEqual(StreamLayout(hint: .latency, threads: 2, streams: 3), StreamLayout(streams: 3, threadsPerStream: 1))
        XCTAssertEqual(StreamLayout(hint: .throughput, threads: 5, streams: 2).totalThreads, 4)
    }
}

/// Error texts collected from several threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ s: String) { lock.withLock { list.append(s) } }
    var all: [String] { lock.withLock { list } }
}
