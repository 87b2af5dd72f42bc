import Foundation
import QtopFormat
import QtopGraph
import QtopProfile
import QtopRuntime

/// Runs inference continuously on a background thread and publishes immutable profile snapshots.
///
/// Threading: everything mutable that the runner thread works with (executors, profilers, the per-mode profiles
/// kept for the compare view) is touched by the runner thread only. Other threads (the UI) post requests (mode,
/// ISA cap, reset, "compare") and read values the runner published under `lock`: the latest snapshot, the dispatch
/// decisions and the int8-vs-fp32 comparison, all plain immutable values computed on the runner thread.
/// Requests are applied between inferences, so recompiling a plan never happens on the UI thread. A mode never
/// run yet is sampled for a few iterations when the comparison is first asked for.
public final class LiveRunner: @unchecked Sendable {
    public let engine: Engine
    /// Guards every field below up to `thread`; the runner-thread-only state lives in `loop()`'s locals.
    private let lock = NSLock()
    private var config: RunConfig
    private var pending: RunConfig?
    private var resetRequested = false
    private var compareRequested = false
    private var stopRequested = false
    /// No plan until input shapes are given (`setInputShapes`): a model with unknown dims waits for the user.
    private var idle: Bool
    private var snapshot: ProfileSnapshot?
    private var decisions: [Int: DispatchDecision] = [:]
    private var comparisonRows: [ModeComparison]?
    private var lastError: String?
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)
    /// How often snapshots (and the comparison) are published, in seconds. Set before `start()`.
    public let publishInterval: Double

    /// `idle`: start without running until `setInputShapes` is called (the shapes are not known yet).
    public init(engine: Engine, config: RunConfig, publishInterval: Double = 0.1, idle: Bool = false) {
        self.engine = engine
        self.config = config
        self.publishInterval = publishInterval
        self.idle = idle
    }

    /// True while waiting for input shapes.
    public var isIdle: Bool { lock.withLock { idle } }

    public var currentConfig: RunConfig { lock.withLock { pending ?? config } }

    /// True while a requested mode/ISA change has not produced a snapshot yet.
    public var isRecompiling: Bool { lock.withLock { pending != nil } }

    public var error: String? { lock.withLock { lastError } }

    public func latest() -> ProfileSnapshot? { lock.withLock { snapshot } }

    public func dispatch(nodeID: Int) -> DispatchDecision? { lock.withLock { decisions[nodeID] } }

    public func setMode(_ m: ExecMode) { lock.withLock { var c = pending ?? config; c.mode = m; pending = c } }

    public func setISACap(_ isa: ISALevel) { lock.withLock { var c = pending ?? config; c.isaCap = isa; pending = c } }

    /// Re-specializes the plan for new input shapes (in the background, like a mode change) and leaves idle.
    public func setInputShapes(_ shapes: [String: [Int]]) {
        lock.withLock {
            var c = pending ?? config
            c.inputShapes = shapes
            pending = c
            idle = false
        }
    }

    public func resetStatistics() { lock.withLock { resetRequested = true } }

    public func start() {
        let t = Thread { [weak self] in self?.loop() }
        t.name = "qtop-inference"
        t.stackSize = 8 << 20
        lock.withLock { thread = t }
        t.start()
    }

    public func stop() {
        let t = lock.withLock { () -> Thread? in
            stopRequested = true
            return thread
        }
        if t != nil { done.wait() }
        lock.withLock { thread = nil }
    }

    /// Per-layer comparison of int8 and fp32 mean times, matched through provenance (the original Paddle op that
    /// anchors each fused node), as last published by the runner. Returns nil until both modes have been profiled,
    /// and asks the runner to sample the mode it has not run yet.
    public func comparison() -> [ModeComparison]? {
        lock.withLock {
            if comparisonRows == nil { compareRequested = true }
            return comparisonRows
        }
    }

    /// The runner thread. Its locals are its own; it shares only through `lock`.
    private func loop() {
        defer { done.signal() }
        var executor: Executor?
        var profiler = Profiler()
        var inputs: [String: HostTensor] = [:]
        /// The last plan and statistics of each mode (the current one keeps accumulating), for the compare view.
        var profiles: [ExecMode: (Executor, Profiler)] = [:]
        var comparing = false
        var lastPublish: UInt64 = 0
        while true {
            let (stop, waiting) = lock.withLock { (stopRequested, idle) }
            if stop { return }
            if waiting {
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }
            let (change, reset, compare) = lock.withLock { () -> (RunConfig?, Bool, Bool) in
                defer { pending = nil; resetRequested = false; compareRequested = false }
                return (pending, resetRequested, compareRequested)
            }
            if let change {
                let old = lock.withLock { () -> RunConfig in defer { config = change }; return config }
                executor = nil
                if change.inputShapes != old.inputShapes {
                    // Every mode's plan and samples were for the old shapes.
                    profiles = [:]
                    lock.withLock { comparisonRows = nil; snapshot = nil }
                }
            }
            let cfg = lock.withLock { config }
            if reset {
                profiler.reset()
                // The other modes' samples are dropped rather than zeroed, so the comparison samples them again
                // when next asked for (zeroed ones would read as "never ran" forever).
                profiles = profiles.filter { $0.key == cfg.mode }
                lock.withLock { comparisonRows = nil }
            }
            if executor == nil {
                do {
                    let e = try engine.executor(cfg)
                    executor = e
                    inputs = Engine.randomInputs(for: e)
                    profiler = Profiler()
                    profiles[cfg.mode] = (e, profiler)
                    let d = Dictionary(e.steps.map { ($0.node.id, $0.decision) }, uniquingKeysWith: { a, _ in a })
                    lock.withLock {
                        decisions = d
                        lastError = nil
                    }
                } catch {
                    lock.withLock { lastError = "\(error)" }
                    Thread.sleep(forTimeInterval: 0.2)
                    continue
                }
            }
            if compare {
                comparing = true
                for other in [ExecMode.int8, .fp32] where other != cfg.mode && profiles[other] == nil {
                    var c = cfg
                    c.mode = other
                    if let e = try? engine.executor(c) {
                        let p = Profiler()
                        let ins = Engine.randomInputs(for: e)
                        for _ in 0..<5 { try? e.infer(ins, profiler: p) }
                        profiles[other] = (e, p)
                    }
                }
            }
            do {
                try executor!.infer(inputs, profiler: profiler)
            } catch {
                lock.withLock { lastError = "\(error)" }
                Thread.sleep(forTimeInterval: 0.2)
                continue
            }
            let now = Clock.wallNs()
            if now - lastPublish > UInt64(publishInterval * 1e9) {
                lastPublish = now
                var snap = ProfileSnapshot.build(executor: executor!, profiler: profiler, mode: cfg.mode, isaCap: cfg.isaCap,
                                                 threads: cfg.threads, original: engine.original)
                let g = executor!.graph
                snap.inputShapes = g.inputs.map { InputShape(name: $0, dims: g.values[$0]?.shape ?? []) }
                var rows: [ModeComparison]?
                if comparing, let a = profiles[.int8], let b = profiles[.fp32] {
                    rows = ModeComparison.rows(int8: a, fp32: b, original: engine.original)
                }
                lock.withLock {
                    snapshot = snap
                    if let rows { comparisonRows = rows }
                }
            }
        }
    }
}

extension ModeComparison {
    /// Ops that anchor a fused node: the compute op it was built around.
    static let anchors: Set<String> = ["conv2d", "depthwise_conv2d", "matmul", "matmul_v2", "mul", "fc", "pool2d",
                                       "elementwise_add", "concat", "softmax"]

    /// Rows for every original op timed in either mode, in the loaded graph's order.
    public static func rows(int8: (Executor, Profiler), fp32: (Executor, Profiler), original: Graph) -> [ModeComparison] {
        let typeOf = Dictionary(original.nodes.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a })
        func byAnchor(_ e: Executor, _ p: Profiler) -> [String: Double] {
            var out: [String: Double] = [:]
            for s in e.steps {
                let prov = s.node.provenance
                let key = prov.first { anchors.contains(typeOf[$0] ?? "") } ?? prov.first ?? s.node.name
                out[key, default: 0] += p.layers[s.node.id]?.mean ?? 0
            }
            return out
        }
        let a = byAnchor(int8.0, int8.1), b = byAnchor(fp32.0, fp32.1)
        return original.nodes.compactMap { n in
            guard a[n.name] != nil || b[n.name] != nil else { return nil }
            return ModeComparison(name: n.name, layerType: n.type, int8Ms: a[n.name] ?? 0, fp32Ms: b[n.name] ?? 0)
        }
    }
}
