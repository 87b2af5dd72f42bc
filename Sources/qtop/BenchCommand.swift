import ArgumentParser
import Foundation
import QtopFormat
import QtopGraph
import QtopPipeline
import QtopRuntime

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench",
        abstract: "Measure latency (median/p90/min/max) and throughput, like benchmark_app.")

    @OptionGroup var model: ModelArgument
    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "latency (one stream, intra-op threads) or throughput (one single-threaded stream per thread).")
    var hint: String = "latency"

    @Option(name: .short, parsing: .unconditional, help: "Seconds to measure (default 5 unless -n is given).")
    var t: Double?

    @Option(name: .short, parsing: .unconditional, help: "Iterations to measure.")
    var n: Int?

    @Flag(help: "JSON: {latency_ms:{median,p90,min,max}, throughput_fps, iterations, threads, isa, precision}.")
    var json = false

    func run() throws {
        guard hint == "latency" || hint == "throughput" else { throw CLIError("--hint: expected latency or throughput, got '\(hint)'") }
        if let t, !(t > 0 && t < 86_400) { throw CLIError("-t must be a positive number of seconds") }
        if let n, n < 1 { throw CLIError("-n must be at least 1") }
        let seconds = t ?? (n == nil ? 5 : .infinity)
        let iterLimit = n ?? Int.max

        let path = try model.resolvedPath()
        let loaded = try loadModel(path)
        let engine = Engine(graph: loaded.graph)
        var config = try runtime.config(for: engine)
        config.inputShapes = try runtime.shape.resolved(engine.declaredInputs, path: path)
        let streams = hint == "throughput" ? config.threads : 1
        let totalThreads = config.threads
        if hint == "throughput" { config.threads = 1 }
        let executors: [Executor]
        do { executors = try (0..<streams).map { _ in try engine.executor(config) } } catch { throw CLIError("\(path): \(error)") }
        let inputs = Engine.randomInputs(for: executors[0])
        do { for e in executors { try e.run(inputs) } } catch { throw CLIError("\(path): \(error)") } // warm-up

        let progress = Progress(enabled: !json && isatty(2) != 0, seconds: seconds, iterations: n)
        let state = BenchState()
        let start = Clock.wallNs()
        let deadline = seconds.isFinite ? start + UInt64(seconds * 1e9) : UInt64.max
        DispatchQueue.concurrentPerform(iterations: streams) { s in
            while !state.shouldStop(limit: iterLimit, deadline: deadline) {
                let t0 = Clock.wallNs()
                do { try executors[s].run(inputs) } catch { state.fail(error); break }
                let count = state.add(Double(Clock.wallNs() - t0) / 1e6)
                if s == 0 { progress.update(count: count, elapsed: Double(Clock.wallNs() - start) / 1e9) }
            }
        }
        progress.finish()
        if let failure = state.failure { throw CLIError("\(path): \(failure)") }
        let latencies = state.latencies
        let elapsed = Double(Clock.wallNs() - start) / 1e9
        let fps = Double(latencies.count) / elapsed * Double(executors[0].graph.values[executors[0].graph.inputs.first ?? ""]?.shape?.first ?? 1)
        let isa = executors[0].steps.compactMap { $0.kernel == nil ? nil : $0.decision.isa }.max() ?? .generic
        let precision = config.mode == .int8 ? "INT8" : "FP32"
        if json {
            let out: JSON = .object([
                ("latency_ms", .object([
                    ("median", .double(percentile(latencies, 0.5))), ("p90", .double(percentile(latencies, 0.9))),
                    ("min", .double(latencies.min() ?? 0)), ("max", .double(latencies.max() ?? 0)),
                ])),
                ("throughput_fps", .double(fps)),
                ("iterations", .int(latencies.count)),
                ("threads", .int(totalThreads)),
                ("streams", .int(streams)),
                ("isa", .string(isa.rawValue)),
                ("precision", .string(precision)),
                ("mode", .string(config.mode.rawValue)),
                ("hint", .string(hint)),
            ])
            print(out.serialized())
        } else {
            print("Model: \(path)")
            print("Mode: \(config.mode.rawValue) (\(precision)), ISA: \(isa.rawValue) (cap \(config.isaCap.rawValue)), threads: \(totalThreads), streams: \(streams), hint: \(hint)")
            print("Count: \(latencies.count) iterations in \(String(format: "%.2f", elapsed)) s")
            print(String(format: "Latency: median %.3f ms, p90 %.3f ms, min %.3f ms, max %.3f ms",
                         percentile(latencies, 0.5), percentile(latencies, 0.9), latencies.min() ?? 0, latencies.max() ?? 0))
            print(String(format: "Throughput: %.2f FPS", fps))
        }
    }
}

/// A one-line progress bar on stderr, only when stderr is a terminal.
final class Progress: @unchecked Sendable {
    let enabled: Bool
    let seconds: Double
    let iterations: Int?
    var lastDraw: UInt64 = 0

    init(enabled: Bool, seconds: Double, iterations: Int?) {
        self.enabled = enabled
        self.seconds = seconds
        self.iterations = iterations
    }

    func update(count: Int, elapsed: Double) {
        guard enabled else { return }
        let now = Clock.wallNs()
        guard now - lastDraw > 100_000_000 else { return }
        lastDraw = now
        var frac = seconds.isFinite ? elapsed / seconds : 0
        if let iterations { frac = max(frac, Double(count) / Double(iterations)) }
        frac = min(max(frac, 0), 1)
        let width = 30
        let filled = Int(frac * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write("\r[\(bar)] \(Int(frac * 100))%  \(count) iterations".data(using: .utf8)!)
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!)
    }
}

/// Latencies collected by all streams, guarded by one lock.
final class BenchState: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var latencies: [Double] = []
    private(set) var failure: Error?

    func shouldStop(limit: Int, deadline: UInt64) -> Bool {
        lock.withLock { latencies.count >= limit || failure != nil } || Clock.wallNs() >= deadline
    }

    func add(_ ms: Double) -> Int { lock.withLock { latencies.append(ms); return latencies.count } }

    func fail(_ e: Error) { lock.withLock { if failure == nil { failure = e } } }
}
