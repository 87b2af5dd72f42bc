import Foundation

/// One result slot per worker of a `DispatchQueue.concurrentPerform`, each written once by its worker and read after
/// the loop: the PIR decoders' parts and the graph listing's runs.
public final class WorkerSlots<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value?]

    public init(count: Int) { slots = Array(repeating: nil, count: count) }

    public func set(_ i: Int, _ value: Value) {
        lock.lock()
        slots[i] = value
        lock.unlock()
    }

    /// Slot `i`, nil when its worker wrote nothing.
    public func take(_ i: Int) -> Value? {
        lock.lock()
        defer { lock.unlock() }
        return slots[i]
    }
}
