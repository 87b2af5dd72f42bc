import CQtopKernels
import QtopRuntime
import XCTest

final class CPUAndPoolTests: XCTestCase {
    func testISANamesMatchSwiftEnum() {
        for l in ISALevel.allCases {
            XCTAssertEqual(String(cString: qtop_isa_name(Int32(l.rank))), l.rawValue)
        }
        XCTAssertTrue(NativeCPU.isaSet.contains(.generic))
        XCTAssertFalse(NativeCPU.modelName.isEmpty)
    }

    func testDetectionConsistentWithCpuinfo() throws {
        #if arch(x86_64) && os(Linux)
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let set = NativeCPU.isaSet
        XCTAssertEqual(set.contains(.avx2), flags.contains("avx2") && flags.contains("fma"))
        XCTAssertEqual(set.contains(.avx512_core), ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains))
        XCTAssertEqual(set.contains(.avx512_vnni), set.contains(.avx512_core) && flags.contains("avx512_vnni"))
        XCTAssertEqual(set.contains(.avx2_vnni), flags.contains("avx_vnni"))
        XCTAssertEqual(set.contains(.sse41), flags.contains("sse4_1"))
        XCTAssertFalse(set.contains(.neon))
        #endif
    }

    func testParallelForRunsEveryTaskOnce() {
        for threads in [1, 2, 3, 4] {
            let pool = NativeThreadPool(threads: threads)
            XCTAssertEqual(pool.threads, threads)
            for n in [0, 1, 2, 7, 100, 1000] {
                for _ in 0..<20 {
                    let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(n, 1))
                    counts.initialize(repeating: 0, count: max(n, 1))
                    pool.parallelFor(n) { i in counts[i] += 1 }   // each index is written by exactly one task
                    for i in 0..<n { XCTAssertEqual(counts[i], 1, "threads \(threads) n \(n) i \(i)") }
                    counts.deallocate()
                }
            }
        }
    }

    func testNestedAndThreadContext() {
        let pool = NativeThreadPool(threads: 2)
        let ctx = pool.threadContext
        XCTAssertEqual(ctx.count, 2)
        let out = UnsafeMutablePointer<Int>.allocate(capacity: 64)
        out.initialize(repeating: 0, count: 64)
        ctx.parallelFor(8) { i in
            pool.parallelFor(8) { j in out[i * 8 + j] = i * 8 + j + 1 }   // nested: runs inline
        }
        for i in 0..<64 { XCTAssertEqual(out[i], i + 1) }
        out.deallocate()
    }

    struct Buf: @unchecked Sendable { let p: UnsafeMutablePointer<Int> }

    func testConcurrentCallersAreSerialized() {
        let pool = NativeThreadPool(threads: 2)
        let n = 500
        let a = Buf(p: .allocate(capacity: n)), b = Buf(p: .allocate(capacity: n))
        a.p.initialize(repeating: 0, count: n); b.p.initialize(repeating: 0, count: n)
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            let t = k == 0 ? a : b
            for _ in 0..<50 { pool.parallelFor(n) { t.p[$0] += 1 } }
        }
        for i in 0..<n { XCTAssertEqual(a.p[i], 50); XCTAssertEqual(b.p[i], 50) }
        a.p.deallocate(); b.p.deallocate()
    }
}
