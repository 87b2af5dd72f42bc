import Foundation
import QtopFormat
import QtopRuntime

/// OpenVINO's performance hints as a CPU layout: how many streams (independent inferences in flight) and how many
/// threads each stream's kernels use.
public enum PerformanceHint: String, Sendable, CaseIterable {
    /// One stream whose kernels use every thread: the shortest time per inference.
    case latency
    /// One single-threaded stream per thread (per core): the most inferences per second.
    case throughput
}

public struct StreamLayout: Sendable, Equatable {
    public let streams: Int
    public let threadsPerStream: Int

    public init(streams: Int, threadsPerStream: Int) {
        self.streams = streams
        self.threadsPerStream = threadsPerStream
    }

    /// The layout for `hint` on `threads` threads: latency = 1 stream × `threads`; throughput = `threads` streams × 1,
    /// as OpenVINO does on a small core count. `streams` overrides the count; the threads are then split evenly
    /// (at least one each, so more streams than threads oversubscribe the cores).
    public init(hint: PerformanceHint, threads: Int, streams: Int? = nil) {
        let t = max(1, threads)
        let s = max(1, streams ?? (hint == .throughput ? t : 1))
        self.init(streams: s, threadsPerStream: max(1, t / s))
    }

    public var totalThreads: Int { streams * threadsPerStream }
}

/// What a `StreamSet` measured: every inference's latency, how many each stream completed, and the wall time from
/// the first start to the last finish (throughput = inferences × batch / seconds, as benchmark_app counts it).
public struct StreamMeasurement: Sendable {
    public let latenciesMs: [Double]
    public let perStream: [Int]
    public let seconds: Double

    public var iterations: Int { latenciesMs.count }
    public func fps(batch: Int) -> Double { seconds > 0 ? Double(iterations * max(batch, 1)) / seconds : 0 }
}

/// Several streams of one plan run concurrently, each on its own thread in a loop over the same inputs (the
/// throughput hint). Weights are packed once (`Executor.stream(threads:)`); activations, thread pools and the
/// hot loop are per stream, so streams share nothing they write. Per-layer profiles stay per executor: the report
/// and the UI profile one stream, bench only aggregates latencies.
public final class StreamSet: @unchecked Sendable {
    public let executors: [Executor]
    public let layout: StreamLayout

    public init(engine: Engine, config: RunConfig, layout: StreamLayout) throws {
        var c = config
        c.threads = layout.threadsPerStream
        self.executors = try engine.streams(c, count: layout.streams)
        self.layout = layout
    }

    /// Runs every stream once (warm-up: first-touch of buffers and per-thread scratch), one after the other.
    public func warmUp(_ inputs: [String: HostTensor]) throws {
        for e in executors { try e.infer(inputs) }
    }

    /// Runs all streams at once until `seconds` have passed or `iterations` inferences (over all streams) have been
    /// started. `progress` is called by stream 0 after each of its inferences with the total count so far.
    public func measure(_ inputs: [String: HostTensor], seconds: Double, iterations: Int = .max,
                        progress: (@Sendable (Int, Double) -> Void)? = nil) throws -> StreamMeasurement {
        let state = SharedCount(limit: iterations, streams: executors.count)
        let start = Clock.wallNs()
        let deadline = seconds.isFinite ? start + UInt64(max(0, seconds) * 1e9) : UInt64.max
        let group = DispatchGroup()
        for (s, e) in executors.enumerated() {
            group.enter()
            let t = Thread {
                var lat: [Double] = []
                lat.reserveCapacity(4096)
                while Clock.wallNs() < deadline, state.claim() {
                    let t0 = Clock.wallNs()
                    do { try e.infer(inputs) } catch { state.fail(error); break }
                    let t1 = Clock.wallNs()
                    lat.append(Double(t1 - t0) / 1e6)
                    if s == 0, let progress { progress(state.claimed, Double(t1 - start) / 1e9) }
                }
                state.finish(stream: s, lat)
                group.leave()
            }
            t.name = "qtop-stream-\(s)"
            t.stackSize = 8 << 20
            t.start()
        }
        group.wait()
        let seconds = Double(Clock.wallNs() - start) / 1e9
        if let f = state.failure { throw f }
        let all = state.results
        return StreamMeasurement(latenciesMs: all.flatMap { $0 }, perStream: all.map(\.count), seconds: seconds)
    }
}

/// Iterations claimed by all streams, the first failure and each stream's latencies, under one lock (taken once
/// per inference to claim it, once per stream at the end).
private final class SharedCount: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private var count = 0
    private var error: Error?
    private var perStream: [[Double]]

    init(limit: Int, streams: Int) {
        self.limit = limit
        perStream = Array(repeating: [], count: streams)
    }

    func finish(stream: Int, _ latencies: [Double]) { lock.withLock { perStream[stream] = latencies } }
    var results: [[Double]] { lock.withLock { perStream } }

    /// Claims one more inference; false once the limit is reached or a stream failed.
    func claim() -> Bool {
        lock.withLock {
            guard count < limit, error == nil else { return false }
            count += 1
            return true
        }
    }

    var claimed: Int { lock.withLock { count } }
    var failure: Error? { lock.withLock { error } }
    func fail(_ e: Error) { lock.withLock { if error == nil { error = e } } }
}
