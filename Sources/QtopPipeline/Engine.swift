import Foundation
import QtopFormat
import QtopGraph
import QtopPasses
import QtopProfile
import QtopRuntime

/// How to run a model: which graph (mode), the ISA cap, threads, and the input shapes the plan is specialized
/// for (an input left out gets its declared dims with an unknown batch set to 1).
public struct RunConfig: Sendable, Equatable {
    public var mode: ExecMode
    public var isaCap: ISALevel
    public var threads: Int
    public var inputShapes: [String: [Int]]
    /// Bytes a plan may need (activations + weights) before it is refused with its figure; nil = physical memory.
    public var maxMemory: Int?

    public init(mode: ExecMode, isaCap: ISALevel, threads: Int, inputShapes: [String: [Int]] = [:], maxMemory: Int? = nil) {
        self.mode = mode
        self.isaCap = isaCap
        self.threads = threads
        self.inputShapes = inputShapes
        self.maxMemory = maxMemory
    }
}

/// The bridge from a loaded model to runnable plans ("load → passes → plan"): picks the graph for a mode through
/// the pass pipeline, builds executors with the standard kernel library, and makes inputs.
///
/// The engine owns its thread pools: one per thread count and stream, created on first use and kept for the engine's
/// lifetime, so recompiling a plan (a mode or ISA switch in the UI) never spawns threads, and two engines never
/// share workers behind each other's back.
public final class Engine: @unchecked Sendable {
    public let original: Graph
    private var histories: [ExecMode: [PassStep]] = [:]
    /// Pools by (threads, stream): a pool serves one caller at a time, so each stream has its own.
    private var pools: [PoolKey: NativeThreadPool] = [:]
    private struct PoolKey: Hashable { let threads: Int, stream: Int }
    private let lock = NSLock()
    /// The kernel library; kernels get their threads from the executor at run time, so one registry serves every
    /// thread count.
    public let registry = KernelLibrary.standard()

    public init(graph: Graph) {
        self.original = graph
    }

    /// This engine's pool of `threads` workers for `stream` (serial for one thread), created on first use.
    public func threadContext(threads: Int, stream: Int = 0) -> ThreadContext {
        guard threads > 1 else { return .serial }
        let key = PoolKey(threads: threads, stream: stream)
        return lock.withLock {
            if let p = pools[key] { return p.threadContext }
            let p = NativeThreadPool(threads: threads)
            pools[key] = p
            return p.threadContext
        }
    }

    /// True when the model carries quantization ops (then int8 is the default mode).
    public var isQuantized: Bool { original.nodes.contains { QuantOpNames.paddle.contains($0.type) } }

    public var defaultMode: ExecMode { isQuantized ? .int8 : .fp32 }

    /// The model's inputs as declared, for checking `--shape` and proposing one.
    public var declaredInputs: [DeclaredInput] { Engine.declaredInputs(original) }

    public static func declaredInputs(_ g: Graph) -> [DeclaredInput] {
        g.inputs.map { DeclaredInput(name: $0, shape: g.values[$0]?.shape, elementBytes: (g.values[$0]?.dtype ?? .f32).byteSize) }
    }

    /// The pass timeline for a mode (step 0 = as loaded), computed once.
    public func passSteps(for mode: ExecMode, options: PassOptions? = nil) -> [PassStep] {
        lock.lock()
        defer { lock.unlock() }
        if options == nil, let h = histories[mode] { return h }
        var opts = options ?? PassOptions()
        opts.target = mode.passTarget
        let steps = PassManager.run(original, opts)
        if options == nil { histories[mode] = steps }
        return steps
    }

    /// The graph a mode executes.
    public func graph(for mode: ExecMode) throws -> Graph {
        if mode == .reference { return original }
        return passSteps(for: mode).last!.graph
    }

    /// A plan for `config` (its input shapes, then `inputShapes` on top). `available` overrides the ISA levels taken as present (default: what this CPU and
    /// build can run), so tests can plan the same way on every machine.
    public func executor(_ config: RunConfig, inputShapes: [String: [Int]] = [:],
                         available: Set<ISALevel>? = nil) throws -> Executor {
        // Float ops of a snapshot may read folded int8 weights: dequantize them (a pass) before planning.
        let g = DequantizeFoldedWeights.forExecution(try graph(for: config.mode))
        let shapes = config.inputShapes.merging(inputShapes) { _, b in b }
        // The executor specializes, plans and checks memory (activations + weights) once, before packing anything.
        let options = PlanOptions(isaCap: config.isaCap, available: available ?? NativeCPU.usableISAs,
                                  referenceOnly: config.mode == .reference, maxMemory: config.maxMemory ?? MemoryBudget.physicalBytes)
        return try Executor(graph: g, registry: registry, options: options, threads: threadContext(threads: config.threads),
                            inputShapes: shapes)
    }

    /// `count` streams of one plan for `config` (`config.threads` threads each): the first is `executor(config)`,
    /// the others share its weight-holding kernels and have their own activation buffers and thread pools, so
    /// all of them can run at once (`StreamSet` drives them). Profiling stays per stream: a profiler is passed to
    /// one executor's run, never shared.
    public func streams(_ config: RunConfig, count: Int, available: Set<ISALevel>? = nil) throws -> [Executor] {
        guard count >= 1 else { throw ExecutionError("the number of streams must be at least 1, got \(count)") }
        let first = try executor(config, available: available)
        // Every stream has its own activations (weights are shared): check them all before allocating the others.
        let activations = [[Int]](repeating: first.memory.slotBytes, count: count).flatMap { $0 }
        try MemoryBudget.check(bufferBytes: activations,
                               constantBytes: MemoryBudget.total(first.graph.values.values.compactMap { $0.constant?.byteCount }),
                               limit: config.maxMemory ?? MemoryBudget.physicalBytes, inputShapes: config.inputShapes)
        var all = [first]
        for s in 1..<count { all.append(try first.stream(threads: threadContext(threads: config.threads, stream: s))) }
        return all
    }

    /// Seeded pseudo-random inputs for every model input at the executor's planned shapes (uniform in [-1, 1)).
    public static func randomInputs(for executor: Executor, seed: UInt64 = 42) -> [String: HostTensor] {
        var rng = SplitMix64(seed: seed)
        var out: [String: HostTensor] = [:]
        for name in executor.graph.inputs {
            let v = executor.graph.values[name]!
            let t = HostTensor(dtype: v.dtype ?? .f32, shape: v.shape ?? [])
            switch t.dtype {
            case .f32:
                let p = t.pointer(as: Float.self)
                for i in 0..<t.count { p[i] = Float(rng.nextUnit() * 2 - 1) }
            case .i64:
                let p = t.pointer(as: Int64.self)
                for i in 0..<t.count { p[i] = Int64(rng.next() % 10) }
            case .i32:
                let p = t.pointer(as: Int32.self)
                for i in 0..<t.count { p[i] = Int32(rng.next() % 10) }
            default:
                break
            }
            out[name] = t
        }
        return out
    }
}

extension ExecMode {
    var passTarget: PassTarget {
        switch self {
        case .int8: return .int8
        case .fp32: return .fp32
        case .reference: return .reference
        }
    }
}
