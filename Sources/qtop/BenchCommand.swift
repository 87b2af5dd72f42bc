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

    @Option(help: "latency (one stream using every thread) or throughput (one single-threaded stream per thread, as OpenVINO's hint on a small CPU).")
    var hint: String = "latency"

    @Option(help: "Streams (inferences in flight, each on its own thread with its own buffers; weights are shared). Default: 1 for latency, one per thread for throughput. --threads are split evenly over them.")
    var streams: Int?

    @Option(name: .short, parsing: .unconditional, help: "Seconds to measure (default 5 unless -n is given).")
    var t: Double?

    @Option(name: .short, parsing: .unconditional, help: "Iterations to measure (over all streams).")
    var n: Int?

    @Flag(help: "JSON: {latency_ms:{median,p90,min,max}, throughput_fps, iterations, threads, streams, isa, precision, mode, hint}.")
    var json = false

    func run() throws {
        guard let perf = PerformanceHint(rawValue: hint) else { throw CLIError("--hint: expected latency or throughput, got '\(hint)'") }
        if let t, !(t > 0 && t < 86_400) { throw CLIError("-t must be a positive number of seconds") }
        if let n, n < 1 { throw CLIError("-n must be at least 1") }
        if let streams, !(1...256).contains(streams) { throw CLIError("--streams must be between 1 and 256, got \(streams)") }
        let seconds = t ?? (n == nil ? 5 : .infinity)
        let iterLimit = n ?? Int.max

        let path = try model.resolvedPath()
        let loaded = try loadModel(path)
        let engine = Engine(graph: loaded.graph)
        var config = try runtime.config(for: engine)
        config.inputShapes = try runtime.shape.resolved(engine.declaredInputs, path: path)
        let layout = StreamLayout(hint: perf, threads: config.threads, streams: streams)
        let set: StreamSet
        do { set = try StreamSet(engine: engine, config: config, layout: layout) } catch { throw CLIError("\(path): \(error)") }
        let first = set.executors[0]
        let inputs = Engine.randomInputs(for: first)
        do { try set.warmUp(inputs) } catch { throw CLIError("\(path): \(error)") }

        let progress = Progress(enabled: !json && isatty(2) != 0, seconds: seconds, iterations: n)
        let m: StreamMeasurement
        do {
            m = try set.measure(inputs, seconds: seconds, iterations: iterLimit) { count, elapsed in progress.update(count: count, elapsed: elapsed) }
        } catch { progress.finish(); throw CLIError("\(path): \(error)") }
        progress.finish()
        let latencies = m.latenciesMs
        let batch = first.graph.values[first.graph.inputs.first ?? ""]?.shape?.first ?? 1
        let fps = m.fps(batch: batch)
        let isa = first.steps.compactMap { $0.kernel == nil ? nil : $0.decision.isa }.max() ?? .generic
        let precision = config.mode == .int8 ? "INT8" : "FP32"
        if json {
            let out: JSON = .object([
                ("latency_ms", .object([
                    ("median", .double(percentile(latencies, 0.5))), ("p90", .double(percentile(latencies, 0.9))),
                    ("min", .double(latencies.min() ?? 0)), ("max", .double(latencies.max() ?? 0)),
                ])),
                ("throughput_fps", .double(fps)),
                ("iterations", .int(latencies.count)),
                ("threads", .int(layout.totalThreads)),
                ("streams", .int(layout.streams)),
                ("isa", .string(isa.rawValue)),
                ("precision", .string(precision)),
                ("mode", .string(config.mode.rawValue)),
                ("hint", .string(hint)),
            ])
            print(out.serialized())
        } else {
            print("Model: \(path)")
            print("Mode: \(config.mode.rawValue) (\(precision)), ISA: \(isa.rawValue) (cap \(config.isaCap.rawValue)), hint: \(hint)")
            print("Streams: \(layout.streams) × \(layout.threadsPerStream) thread\(layout.threadsPerStream == 1 ? "" : "s") (inferences per stream: \(m.perStream.map(String.init).joined(separator: ", ")))")
            print("Count: \(latencies.count) iterations in \(String(format: "%.2f", m.seconds)) s")
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
