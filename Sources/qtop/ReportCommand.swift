import ArgumentParser
import Foundation
import QtopGraph
import QtopPipeline
import QtopRuntime

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report",
        abstract: "Per-layer performance counters, like benchmark_app -pc: status, layer type, exec type (impl:isa:precision), times.")

    @OptionGroup var model: ModelArgument
    @OptionGroup var runtime: RuntimeOptions

    @Option(name: .short, parsing: .unconditional, help: "Measured iterations (after one warm-up run).")
    var n: Int = 20

    @Option(help: "time (slowest first, with a share column) or order (execution order).")
    var sort: String = "order"

    @Flag(help: "JSON: {layers:[{name,status,layer_type,exec_type,isa,precision,out_precision,real_ms,cpu_ms,percent}], total_ms}.")
    var json = false

    @Flag(help: "CSV as benchmark_app's detailed_counters: layerName;execStatus;layerType;execType;realTime (ms);cpuTime (ms).")
    var csv = false

    @Flag(help: "Also list, per node, the higher ISA levels rejected and why.")
    var dispatch = false

    func run() throws {
        guard n >= 1, n <= 1_000_000 else { throw CLIError("-n must be between 1 and 1000000") }
        guard sort == "time" || sort == "order" else { throw CLIError("--sort: expected time or order, got '\(sort)'") }
        if json && csv { throw CLIError("give --json or --csv, not both") }
        let p = try Prepared(model, runtime)
        let inputs = Engine.randomInputs(for: p.executor)
        let profiler = Profiler(windowSize: max(n, 16))
        do {
            try p.executor.run(inputs)
            for _ in 0..<n { try p.executor.run(inputs, profiler: profiler) }
        } catch { throw CLIError("\(p.path): \(error)") }
        let snap = ProfileSnapshot.build(executor: p.executor, profiler: profiler, mode: p.config.mode,
                                         isaCap: p.config.isaCap, threads: p.config.threads, original: p.model.graph)
        var rows = snap.layers
        if sort == "time" { rows.sort { $0.meanMs > $1.meanMs } }
        if json {
            print(ReportFormat.json(rows, snap).serialized())
        } else if csv {
            print(ReportFormat.csv(rows))
        } else {
            print(ReportFormat.table(rows, snap, withShare: sort == "time"))
            if dispatch { print(ReportFormat.dispatch(p.executor)) }
        }
    }
}
