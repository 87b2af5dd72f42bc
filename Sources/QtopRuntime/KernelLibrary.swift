/// The standard kernel set: Swift reference kernels (the oracle, always present) plus the native C kernels per ISA.
public enum KernelLibrary {
    public static func standard(pool: NativeThreadPool?) -> KernelRegistry {
        let r = KernelRegistry()
        registerReferenceKernels(r)
        registerNativeKernels(r, pool: pool)
        registerNativeInt8LayoutKernels(r, pool: pool)
        return r
    }
}

extension NativeThreadPool {
    nonisolated(unsafe) private static var pools: [Int: NativeThreadPool] = [:]
    private static let lock = NSLockBox()

    /// One persistent pool per thread count for the whole process, so recompiling a plan never spawns threads.
    public static func shared(threads: Int) -> NativeThreadPool {
        lock.withLock {
            if let p = pools[threads] { return p }
            let p = NativeThreadPool(threads: threads)
            pools[threads] = p
            return p
        }
    }
}

import Foundation

/// A lock usable from static contexts.
final class NSLockBox: @unchecked Sendable {
    private let lock = NSLock()
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
