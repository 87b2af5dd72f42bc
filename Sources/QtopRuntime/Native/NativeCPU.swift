import CQtopKernels

/// What the C kernel layer detected about this CPU.
public enum NativeCPU {
    /// ISA levels this CPU (and OS) can run, generic included.
    public static var isaSet: Set<ISALevel> {
        let mask = qtop_cpu_isa_mask()
        var s: Set<ISALevel> = []
        for l in ISALevel.allCases where (mask >> UInt32(l.rank)) & 1 == 1 { s.insert(l) }
        return s
    }

    /// ISA levels that both the CPU supports and this build has kernels for.
    public static var usableISAs: Set<ISALevel> {
        let m = qtop_cpu_isa_mask() & qtop_compiled_isa_mask()
        return Set(ISALevel.allCases.filter { (m >> UInt32($0.rank)) & 1 == 1 })
    }

    /// The best level the CPU supports (on the ISALevel ladder of its architecture).
    public static var bestISA: ISALevel { isaSet.max() ?? .generic }

    /// CPU model name (CPUID brand string, /proc/cpuinfo or sysctl).
    public static var modelName: String { String(cString: qtop_cpu_model_name()) }
}

/// A persistent pool of native threads (the caller of parallelFor is one of them).
public final class NativeThreadPool: @unchecked Sendable {
    public let threads: Int
    /// The C `qtop_pool *` (for calling CQtopKernels directly).
    public let handle: OpaquePointer?

    public init(threads: Int) {
        let t = max(1, threads)
        handle = qtop_pool_create(Int32(t))
        self.threads = Int(qtop_pool_threads(handle))
    }

    deinit { qtop_pool_destroy(handle) }

    /// Runs body(i) for i in 0..<n over the pool and returns when all are done.
    public func parallelFor(_ n: Int, _ body: (Int) -> Void) {
        if n <= 0 { return }
        withoutActuallyEscaping(body) { esc in
            var fn: (Int) -> Void = esc
            withUnsafeMutablePointer(to: &fn) { p in
                qtop_parallel_for(handle, Int64(n), { ctx, i, _ in
                    let f = ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee
                    f(Int(i))
                }, UnsafeMutableRawPointer(p))
            }
        }
    }

    /// The runtime's view of this pool.
    public var threadContext: ThreadContext {
        ThreadContext(count: threads, nativePool: self) { [self] n, body in self.parallelFor(n, body) }
    }
}
