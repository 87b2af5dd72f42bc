/// Per-node timing statistics over runs (last, mean, median, min, CPU), plus whole-inference latency.
///
/// Keeps a bounded window of recent samples per node for medians and sparklines; totals are running sums, so
/// memory stays constant however long the profile runs.
public final class Profiler: @unchecked Sendable {
    public struct Series {
        public var window: [Double] = []
        public var sum: Double = 0
        public var cpuSum: Double = 0
        public var count: Int = 0
        public var min: Double = .infinity
        public var last: Double = 0

        mutating func add(_ ms: Double, cpu: Double, cap: Int) {
            last = ms
            sum += ms
            cpuSum += cpu
            count += 1
            min = Swift.min(min, ms)
            window.append(ms)
            if window.count > cap { window.removeFirst(window.count - cap) }
        }

        public var mean: Double { count == 0 ? 0 : sum / Double(count) }
        public var cpuMean: Double { count == 0 ? 0 : cpuSum / Double(count) }
        public var median: Double { percentile(window, 0.5) }
    }

    public let windowSize: Int
    public private(set) var layers: [Int: Series] = [:]
    public private(set) var latency = Series()
    public private(set) var startedNs: UInt64 = Clock.wallNs()

    public init(windowSize: Int = 256) { self.windowSize = windowSize }

    public func record(nodeID: Int, wallNs: UInt64, cpuNs: UInt64) {
        layers[nodeID, default: Series()].add(Double(wallNs) / 1e6, cpu: Double(cpuNs) / 1e6, cap: windowSize)
    }

    public func recordRun(wallNs: UInt64) {
        latency.add(Double(wallNs) / 1e6, cpu: 0, cap: windowSize)
    }

    public func reset() {
        layers = [:]
        latency = Series()
        startedNs = Clock.wallNs()
    }

    public var runs: Int { latency.count }
}

/// Linear-interpolated percentile of `xs` (q in 0...1); 0 for an empty list.
public func percentile(_ xs: [Double], _ q: Double) -> Double {
    guard !xs.isEmpty else { return 0 }
    let s = xs.sorted()
    let pos = q * Double(s.count - 1)
    let lo = Int(pos.rounded(.down)), hi = Int(pos.rounded(.up))
    return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
}
