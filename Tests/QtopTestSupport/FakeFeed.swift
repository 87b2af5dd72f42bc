import Foundation
import QtopProfile

/// A scripted feed for tests: returns whatever snapshot it was given, records every request, and answers a
/// mode/cap request by applying it to the next snapshot.
public final class FakeFeed: ProfileFeed, @unchecked Sendable {
    private let lock = NSLock()
    private var _snapshot: ProfileSnapshot?
    private var _mode: ExecMode
    private var _cap: ISALevel
    private var _calls: [String] = []
    private var _comparison: [CompareRow]?
    private var _dispatch: [Int: DispatchDecision]

    public let availableISAs: [ISALevel]
    public let cpuName: String
    public let detectedISA: ISALevel

    public init(snapshot: ProfileSnapshot?, comparison: [CompareRow]? = nil, dispatch: [Int: DispatchDecision] = [:],
                cpuName: String = "Fake CPU @ 3.0GHz", availableISAs: [ISALevel] = [.generic, .sse41, .avx2, .avx512_core, .avx512_vnni]) {
        _snapshot = snapshot
        _comparison = comparison
        _dispatch = dispatch
        _mode = snapshot?.mode ?? .int8
        _cap = snapshot?.isaCap ?? availableISAs.last ?? .generic
        self.cpuName = cpuName
        self.availableISAs = availableISAs
        self.detectedISA = availableISAs.last ?? .generic
    }

    /// Requests received, in order, e.g. `["setMode(fp32)", "setISACap(avx2)", "resetStatistics"]`.
    public var calls: [String] { lock.withLock { _calls } }

    public func latest() -> ProfileSnapshot? {
        return lock.withLock {
            guard var s = _snapshot else { return nil }
            s.mode = _mode
            s.isaCap = _cap
            if let sh = _shapes { s.inputShapes = sh }
            return s
        }
    }

    public func replaceSnapshot(_ s: ProfileSnapshot?) { lock.withLock { _snapshot = s } }
    public func setMode(_ mode: ExecMode) { lock.withLock { _mode = mode; _calls.append("setMode(\(mode.rawValue))") } }
    public func setISACap(_ cap: ISALevel) { lock.withLock { _cap = cap; _calls.append("setISACap(\(cap.rawValue))") } }
    public func resetStatistics() { lock.withLock { _calls.append("resetStatistics") } }
    /// Recorded as `setInputShapes(x=[1,3,64,64])`, and the next snapshot reports these shapes.
    public func setInputShapes(_ shapes: [String: [Int]]) {
        lock.withLock {
            let sorted = shapes.sorted { $0.key < $1.key }
            _shapes = sorted.map { InputShape(name: $0.key, dims: $0.value) }
            _calls.append("setInputShapes(" + sorted.map { "\($0.key)=\(InputShapes.text($0.value))" }.joined(separator: ",") + ")")
        }
    }
    private var _shapes: [InputShape]?
    public func dispatch(nodeID: Int) -> DispatchDecision? { lock.withLock { _dispatch[nodeID] } }
    public func comparison() -> [CompareRow]? { lock.withLock { _comparison } }

    private var _error: String?
    public var lastError: String? { lock.withLock { _error } }
    public func setError(_ e: String?) { lock.withLock { _error = e } }
}
