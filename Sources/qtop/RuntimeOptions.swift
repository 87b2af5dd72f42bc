import ArgumentParser
import Foundation
import QtopFormat
import QtopGraph
import QtopPipeline
import QtopProfile
import QtopRuntime

/// Options every command that executes the model shares: mode, ISA cap, threads.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "int8 (lowered integer graph; default for quantized models), fp32 (quantization stripped), or reference (as loaded, Paddle's semantics).")
    var mode: String?

    @Option(help: ArgumentHelp("Highest ISA level to use, that level and older: \(ISALevel.allCases.map(\.rawValue).joined(separator: ", ")). Also QTOP_MAX_CPU_ISA."))
    var isa: String?

    @Option(help: "Intra-op threads (default: one per core).")
    var threads: Int?

    @Option(name: .customLong("max-memory"), help: ArgumentHelp(
        "Refuse a plan needing more memory than this (bytes, or with K/M/G/T), before allocating. Default: the machine's memory.",
        valueName: "size"))
    var maxMemory: String?

    @OptionGroup var shape: ShapeOption

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
        var limit: Int?
        if let maxMemory {
            guard let bytes = MemoryBudget.parse(maxMemory), bytes > 0 else {
                throw CLIError("--max-memory: expected a size such as 512M or 8G, got '\(maxMemory)'")
            }
            limit = bytes
        }
        return RunConfig(mode: m, isaCap: cap, threads: n, maxMemory: limit)
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

/// `--shape`, shared by run, report, bench, passes and the UI.
struct ShapeOption: ParsableArguments {
    @Option(name: .customLong("shape"), help: ArgumentHelp(
        "Input shape: NAME=[1,3,640,640] (repeatable, or a=[..],b=[..] in one), or [1,3,640,640] for a single-input model.",
        valueName: "shape"))
    var specs: [String] = []

    /// The shapes given, checked against the model's declared inputs (one-line error naming the problem).
    func given(_ inputs: [DeclaredInput]) throws -> [String: [Int]] {
        do { return try InputShapes.parse(specs, inputs: inputs) } catch let e as ShapeSpecError {
            throw CLIError("--shape: \(e.description)")
        }
    }

    /// The shapes to run with: given ones plus defaults; an input whose dims are still unknown is an error that
    /// names it and shows the `--shape` to pass.
    func resolved(_ inputs: [DeclaredInput], path: String, extra: [String: [Int]] = [:]) throws -> [String: [Int]] {
        var given = try given(inputs)
        for (name, s) in extra {
            if let g = given[name], g != s {
                throw CLIError("--shape \(name)=\(InputShapes.text(g)) contradicts the shape of its --input \(InputShapes.text(s))")
            }
            given[name] = s
        }
        switch InputShapes.resolve(inputs, given: given) {
        case .success(let s): return s
        case .failure(let e): throw CLIError("\(path): \(e.description)")
        }
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
        model = try loadModel(path)
        engine = Engine(graph: model.graph)
        var c = try rt.config(for: engine)
        c.inputShapes = try rt.shape.resolved(engine.declaredInputs, path: path, extra: inputShapes)
        config = c
        do {
            executor = try engine.executor(config)
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }
}
