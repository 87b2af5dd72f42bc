import Foundation
import QtopFormat
import QtopGraph
import QtopPasses
import QtopProfile
import QtopRuntime

/// How to run a model: which graph (mode), the ISA cap, and threads.
public struct RunConfig: Sendable, Equatable {
    public var mode: ExecMode
    public var isaCap: ISALevel
    public var threads: Int

    public init(mode: ExecMode, isaCap: ISALevel, threads: Int) {
        self.mode = mode
        self.isaCap = isaCap
        self.threads = threads
    }
}

/// The bridge from a loaded model to runnable plans ("load → passes → plan"): picks the graph for a mode through
/// the pass pipeline, builds executors with the standard kernel library, and makes inputs.
///
/// The engine owns its thread pools: one per thread count, created on first use and kept for the engine's
/// lifetime, so recompiling a plan (a mode or ISA switch in the UI) never spawns threads, and two engines never
/// share workers behind each other's back.
public final class Engine: @unchecked Sendable {
    public let original: Graph
    private var histories: [ExecMode: [PassStep]] = [:]
    private var pools: [Int: NativeThreadPool] = [:]
    private let lock = NSLock()
    /// The kernel library; kernels get their threads from the executor at run time, so one registry serves every
    /// thread count.
    public let registry = KernelLibrary.standard()

    public init(graph: Graph) {
        self.original = graph
    }

    /// This engine's pool of `threads` workers (serial for one thread), created on first use.
    public func threadContext(threads: Int) -> ThreadContext {
        guard threads > 1 else { return .serial }
        return lock.withLock {
            if let p = pools[threads] { return p.threadContext }
            let p = NativeThreadPool(threads: threads)
            pools[threads] = p
            return p.threadContext
        }
    }

    /// True when the model carries quantization ops (then int8 is the default mode).
    public var isQuantized: Bool { original.nodes.contains { QuantOpNames.paddle.contains($0.type) } }

    public var defaultMode: ExecMode { isQuantized ? .int8 : .fp32 }

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

    /// A plan for `config`. `available` overrides the ISA levels taken as present (default: what this CPU and
    /// build can run), so tests can plan the same way on every machine.
    public func executor(_ config: RunConfig, inputShapes: [String: [Int]] = [:],
                         available: Set<ISALevel>? = nil) throws -> Executor {
        // Float ops of a snapshot may read folded int8 weights: dequantize them (a pass) before planning.
        let g = DequantizeFoldedWeights.forExecution(try graph(for: config.mode))
        let options = PlanOptions(isaCap: config.isaCap, available: available ?? NativeCPU.usableISAs,
                                  referenceOnly: config.mode == .reference)
        return try Executor(graph: g, registry: registry, options: options, threads: threadContext(threads: config.threads),
                            inputShapes: inputShapes)
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

/// A tiny deterministic PRNG (SplitMix64) so seeded inputs are the same on every platform.
public struct SplitMix64 {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
