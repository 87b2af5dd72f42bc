import Foundation
import QtopFormat
import QtopGraph

/// Runs inference continuously on a background thread and publishes immutable profile snapshots.
///
/// The UI thread only reads snapshots and posts requests (mode, ISA cap, reset); the runner applies them between
/// inferences, recompiling the plan off the UI thread. It also keeps the last profile of each mode so the compare
/// view can put int8 and fp32 side by side; a mode never run yet is sampled for a few iterations on request.
public final class LiveRunner: @unchecked Sendable {
    public let engine: Engine
    private let lock = NSLock()
    private var config: RunConfig
    private var pending: RunConfig?
    private var resetRequested = false
    private var compareRequested = false
    private var stopRequested = false
    private var snapshot: ProfileSnapshot?
    private var decisions: [Int: DispatchDecision] = [:]
    private var lastError: String?
    private var profiles: [ExecMode: (Executor, Profiler)] = [:]
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)
    /// How often snapshots are published.
    public var publishInterval: Double = 0.1

    public init(engine: Engine, config: RunConfig) {
        self.engine = engine
        self.config = config
    }

    public var currentConfig: RunConfig { lock.withLock { pending ?? config } }

    /// True while a requested mode/ISA change has not produced a snapshot yet.
    public var isRecompiling: Bool { lock.withLock { pending != nil } }

    public var error: String? { lock.withLock { lastError } }

    public func latest() -> ProfileSnapshot? { lock.withLock { snapshot } }

    public func dispatch(nodeID: Int) -> DispatchDecision? { lock.withLock { decisions[nodeID] } }

    public func setMode(_ m: ExecMode) { lock.withLock { var c = pending ?? config; c.mode = m; pending = c } }

    public func setISACap(_ isa: ISALevel) { lock.withLock { var c = pending ?? config; c.isaCap = isa; pending = c } }

    public func resetStatistics() { lock.withLock { resetRequested = true } }

    public func start() {
        let t = Thread { [weak self] in self?.loop() }
        t.name = "qtop-inference"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    public func stop() {
        lock.withLock { stopRequested = true }
        if thread != nil { done.wait() }
        thread = nil
    }

    /// Per-layer comparison of int8 and fp32 mean times, matched through provenance (the original Paddle op that
    /// anchors each fused node). Returns nil until both modes have been profiled; asks the runner to sample them.
    public func comparison() -> [ModeComparison]? {
        let (a, b) = lock.withLock { (profiles[.int8], profiles[.fp32]) }
        guard let (ie, ip) = a, let (fe, fp) = b else {
            lock.withLock { compareRequested = true }
            return nil
        }
        return ModeComparison.rows(int8: (ie, ip), fp32: (fe, fp), original: engine.original)
    }

    private func loop() {
        defer { done.signal() }
        var executor: Executor?
        var profiler = Profiler()
        var inputs: [String: HostTensor] = [:]
        var lastPublish: UInt64 = 0
        while true {
            let (stop, change, reset, sampleOther) = lock.withLock { () -> (Bool, RunConfig?, Bool, Bool) in
                defer { pending = nil; resetRequested = false; compareRequested = false }
                return (stopRequested, pending, resetRequested, compareRequested)
            }
            if stop { return }
            if let change { lock.withLock { config = change }; executor = nil }
            if reset {
                profiler.reset()
                lock.withLock { for (_, v) in profiles { v.1.reset() } }
            }
            let cfg = lock.withLock { config }
            if executor == nil {
                do {
                    let e = try engine.executor(cfg)
                    executor = e
                    inputs = Engine.randomInputs(for: e)
                    profiler = Profiler()
                    lock.withLock {
                        decisions = Dictionary(e.steps.map { ($0.node.id, $0.decision) }, uniquingKeysWith: { a, _ in a })
                        profiles[cfg.mode] = (e, profiler)
                        lastError = nil
                    }
                } catch {
                    lock.withLock { lastError = "\(error)" }
                    Thread.sleep(forTimeInterval: 0.2)
                    continue
                }
            }
            if sampleOther {
                for other in [ExecMode.int8, .fp32] where other != cfg.mode && lock.withLock({ profiles[other] == nil }) {
                    var c = cfg
                    c.mode = other
                    if let e = try? engine.executor(c) {
                        let p = Profiler()
                        let ins = Engine.randomInputs(for: e)
                        for _ in 0..<5 { _ = try? e.run(ins, profiler: p) }
                        lock.withLock { profiles[other] = (e, p) }
                    }
                }
            }
            do {
                try executor!.run(inputs, profiler: profiler)
            } catch {
                lock.withLock { lastError = "\(error)" }
                Thread.sleep(forTimeInterval: 0.2)
                continue
            }
            let now = Clock.wallNs()
            if now - lastPublish > UInt64(publishInterval * 1e9) {
                lastPublish = now
                let snap = ProfileSnapshot.build(executor: executor!, profiler: profiler, mode: cfg.mode, isaCap: cfg.isaCap,
                                                 threads: cfg.threads, original: engine.original)
                lock.withLock { snapshot = snap }
            }
        }
    }
}

/// One row of the compare view: the same original op's time in int8 and in fp32.
public struct ModeComparison: Sendable, Equatable {
    public let name: String
    public let layerType: String
    public let int8Ms: Double
    public let fp32Ms: Double
    public var speedup: Double { int8Ms > 0 ? fp32Ms / int8Ms : 0 }

    public init(name: String, layerType: String, int8Ms: Double, fp32Ms: Double) {
        self.name = name
        self.layerType = layerType
        self.int8Ms = int8Ms
        self.fp32Ms = fp32Ms
    }

    /// Ops that anchor a fused node: the compute op it was built around.
    static let anchors: Set<String> = ["conv2d", "depthwise_conv2d", "matmul", "matmul_v2", "mul", "fc", "pool2d",
                                       "elementwise_add", "concat", "softmax"]

    static func rows(int8: (Executor, Profiler), fp32: (Executor, Profiler), original: Graph) -> [ModeComparison] {
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
