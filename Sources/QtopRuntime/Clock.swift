#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic wall time and per-thread CPU time in nanoseconds; two vDSO/syscalls per layer keep overhead ~100 ns.
public enum Clock {
    @inline(__always)
    public static func wallNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// CPU time of the calling thread. Per-layer CPU time is this thread's time across the layer: the thread that
    /// runs the plan (it also takes a share of every parallel loop). Time spent by the other pool workers is not
    /// counted, and neither is any other thread of the process (the UI, spinning workers between layers) — the
    /// process-wide clock counted all of those and made idle spinning look like layer cost.
    @inline(__always)
    public static func threadCPUNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
