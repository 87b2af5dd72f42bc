import ArgumentParser
import Foundation
import QtopFormat
import QtopGraph
import QtopPipeline
import QtopRuntime

/// Options every command that executes the model shares: mode, ISA cap, threads.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "int8 (lowered integer graph; default for quantized models), fp32 (quantization stripped), or reference (as loaded, Paddle's semantics).")
    var mode: String?

    @Option(help: ArgumentHelp("Highest ISA level to use, that level and older: \(ISALevel.allCases.map(\.rawValue).joined(separator: ", ")). Also QTOP_MAX_CPU_ISA."))
    var isa: String?

    @Option(help: "Intra-op threads (default: one per core).")
    var threads: Int?

    func config(for engine: Engine) throws -> RunConfig {
        let m: ExecMode
        if let mode {
            guard let parsed = ExecMode(rawValue: mode.lowercased()) else {
                throw CLIError("--mode: unknown mode '\(mode)' (expected int8, fp32 or reference)")
            }
            m = parsed
        } else {
            m = engine.defaultMode
        }
        let cap = try isaCap()
        let n = threads ?? ProcessInfo.processInfo.activeProcessorCount
        guard n >= 1, n <= 256 else { throw CLIError("--threads must be between 1 and 256, got \(n)") }
        return RunConfig(mode: m, isaCap: cap, threads: n)
    }

    func isaCap() throws -> ISALevel {
        if let isa {
            guard let level = ISALevel(userString: isa) else { throw CLIError("--isa: unknown ISA level '\(isa)'") }
            return level
        }
        if let env = ProcessInfo.processInfo.environment["QTOP_MAX_CPU_ISA"], !env.isEmpty {
            guard let level = ISALevel(userString: env) else { throw CLIError("QTOP_MAX_CPU_ISA: unknown ISA level '\(env)'") }
            return level
        }
        return NativeCPU.bestISA
    }
}

/// Loads a model and builds an executor, turning every failure into a one-line CLI error.
struct Prepared {
    let path: String
    let model: LoadedModel
    let engine: Engine
    let config: RunConfig
    let executor: Executor

    init(_ modelArg: ModelArgument, _ rt: RuntimeOptions, inputShapes: [String: [Int]] = [:]) throws {
        path = try modelArg.resolvedPath()
        model = try ModelLoader.load(path)
        engine = Engine(graph: model.graph)
        config = try rt.config(for: engine)
        do {
            executor = try engine.executor(config, inputShapes: inputShapes)
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }
}
