/// Timing statistics of one node, aggregated over runs. Times in milliseconds.
public struct LayerProfile: Sendable, Equatable {
    public var nodeID: Int
    public var name: String
    public var status: LayerStatus
    public var layerType: String
    /// Implementation, ISA and precision that ran, e.g. `conv1x1:avx512_vnni:i8`; nil for a layer that did not run.
    public var execType: ExecType?
    /// Precision of the layer's (first) output; may differ from the compute precision (a qconv2d computing in i8
    /// and writing f32).
    public var outPrecision: Precision?
    public var lastMs: Double
    public var meanMs: Double
    public var medianMs: Double
    public var minMs: Double
    /// CPU time of the calling thread plus workers (mean per run).
    public var cpuMs: Double
    /// Share of the summed mean layer time, 0...100.
    public var percent: Double
    /// Recent per-run times, oldest first (for sparklines).
    public var history: [Double]
    /// Original Paddle ops this node stands for.
    public var fusedFrom: [String]

    public init(nodeID: Int, name: String, status: LayerStatus, layerType: String, execType: ExecType?,
                outPrecision: Precision?, lastMs: Double = 0, meanMs: Double = 0, medianMs: Double = 0, minMs: Double = 0,
                cpuMs: Double = 0, percent: Double = 0, history: [Double] = [], fusedFrom: [String] = []) {
        self.nodeID = nodeID
        self.name = name
        self.status = status
        self.layerType = layerType
        self.execType = execType
        self.outPrecision = outPrecision
        self.lastMs = lastMs
        self.meanMs = meanMs
        self.medianMs = medianMs
        self.minMs = minMs
        self.cpuMs = cpuMs
        self.percent = percent
        self.history = history
        self.fusedFrom = fusedFrom
    }
}

extension LayerProfile {
    /// The ISA the layer's kernel was built for.
    public var isa: ISALevel? { execType?.isa }
    /// What the kernel computed in (the exec type's precision), the answer to "did this layer really run int8?".
    public var precision: Precision? { execType?.precision }

    /// The strings the report table, CSV, JSON and the UI print; "undef" / "-" for layers that did not run.
    public var execTypeText: String { execType?.description ?? "undef" }
    public var isaText: String { isa?.rawValue ?? "-" }
    public var precisionText: String { precision?.rawValue ?? "-" }
    public var outPrecisionText: String { outPrecision?.rawValue ?? "-" }
}

/// An immutable picture of the profile at one moment, published by the runner and read by CLI and UI alike.
public struct ProfileSnapshot: Sendable, Equatable {
    public var layers: [LayerProfile]
    public var runs: Int
    /// Whole-inference latency statistics in ms.
    public var latencyMedianMs: Double
    public var latencyP90Ms: Double
    public var latencyMinMs: Double
    public var latencyMaxMs: Double
    public var latencyLastMs: Double
    /// Recent whole-inference latencies, oldest first.
    public var latencyHistory: [Double]
    public var fps: Double
    public var mode: ExecMode
    public var isaCap: ISALevel
    public var threads: Int
    /// Sum of mean layer times (benchmark_app's "Total time").
    public var totalMs: Double
    public var totalCpuMs: Double
    /// The input shapes the plan was specialized for, in feed order (empty when not known).
    public var inputShapes: [InputShape] = []

    public init(layers: [LayerProfile] = [], runs: Int = 0, latencyMedianMs: Double = 0, latencyP90Ms: Double = 0,
                latencyMinMs: Double = 0, latencyMaxMs: Double = 0, latencyLastMs: Double = 0, latencyHistory: [Double] = [],
                fps: Double = 0, mode: ExecMode = .int8, isaCap: ISALevel = .generic, threads: Int = 1,
                totalMs: Double = 0, totalCpuMs: Double = 0) {
        self.layers = layers
        self.runs = runs
        self.latencyMedianMs = latencyMedianMs
        self.latencyP90Ms = latencyP90Ms
        self.latencyMinMs = latencyMinMs
        self.latencyMaxMs = latencyMaxMs
        self.latencyLastMs = latencyLastMs
        self.latencyHistory = latencyHistory
        self.fps = fps
        self.mode = mode
        self.isaCap = isaCap
        self.threads = threads
        self.totalMs = totalMs
        self.totalCpuMs = totalCpuMs
    }
}

/// One model input and the dims a plan runs it at.
public struct InputShape: Sendable, Equatable {
    public var name: String
    public var dims: [Int]
    public init(name: String, dims: [Int]) {
        self.name = name
        self.dims = dims
    }
}
