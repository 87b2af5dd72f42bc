/// One row of the compare view: the same layer timed in int8 and in fp32 (mean ms per run).
public struct CompareRow: Sendable, Equatable {
    public var nodeID: Int
    public var name: String
    public var layerType: String
    /// nil when the layer does not exist (or did not run) in that mode, e.g. QDQ ops only run in fp32/reference.
    public var int8Ms: Double?
    public var fp32Ms: Double?

    public init(nodeID: Int, name: String, layerType: String, int8Ms: Double?, fp32Ms: Double?) {
        self.nodeID = nodeID
        self.name = name
        self.layerType = layerType
        self.int8Ms = int8Ms
        self.fp32Ms = fp32Ms
    }

    /// fp32 time / int8 time (> 1 means int8 is faster).
    public var speedup: Double? {
        guard let a = int8Ms, let b = fp32Ms, a > 0 else { return nil }
        return b / a
    }
}

/// The live data source of the TUI: a background inference runner that keeps running the model and publishes
/// immutable profile snapshots. The UI thread polls it every tick (~100 ms) and never blocks on it, so every method
/// must return quickly; requests (`setMode`, `setISACap`, `resetStatistics`) are asynchronous — the UI shows
/// "recompiling…" until `latest()` returns a snapshot whose `mode` and `isaCap` match the request.
public protocol ProfileFeed: AnyObject, Sendable {
    /// The most recent snapshot, or nil before the first run finished.
    func latest() -> ProfileSnapshot?
    /// Switch which graph runs (int8 lowered / float reference with QDQ / fp32 with quantization stripped).
    func setMode(_ mode: ExecMode)
    /// Cap the kernels' ISA at `cap` and older (as ONEDNN_MAX_CPU_ISA); kernels are re-dispatched.
    func setISACap(_ cap: ISALevel)
    /// Specialize the plan for these input shapes (by input name) and start running if it was waiting for them.
    func setInputShapes(_ shapes: [String: [Int]])
    /// Forget accumulated statistics (means, medians, histories) and start over.
    func resetStatistics()
    /// Why the current kernel was chosen for a node of the running graph (nil if unknown).
    func dispatch(nodeID: Int) -> DispatchDecision?
    /// Per-layer int8 vs fp32 times, if the runner has measured both (nil = not available yet).
    func comparison() -> [CompareRow]?
    /// ISA levels this CPU supports (the cap can be set to any of them), oldest first.
    var availableISAs: [ISALevel] { get }
    /// Human-readable CPU model, e.g. "Intel(R) Xeon(R) Platinum 8375C".
    var cpuName: String { get }
    /// The best ISA this CPU supports.
    var detectedISA: ISALevel { get }
    /// The runner's last failure (e.g. a mode that cannot be compiled), shown in the UI; nil when running fine.
    var lastError: String? { get }
}

extension ProfileFeed {
    public var lastError: String? { nil }
}
