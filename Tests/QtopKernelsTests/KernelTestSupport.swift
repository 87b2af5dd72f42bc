import CQtopKernels
import XCTest

/// Deterministic xorshift generator for reproducible sweeps.
struct XorShift {
    var s: UInt64
    init(_ seed: UInt64) { s = seed == 0 ? 0x9E3779B97F4A7C15 : seed }
    mutating func next() -> UInt64 {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17
        return s
    }
    mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
    mutating func bool() -> Bool { next() & 1 == 1 }
    mutating func float(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * Float(next() % 100_001) / 100_000 }
    /// Bytes biased towards the extremes 0x80 (-128), 0x7f (127), 0xff (255 / -1) and 0.
    mutating func byte() -> UInt8 {
        switch next() % 10 {
        case 0: return 0x80
        case 1: return 0x7F
        case 2: return 0xFF
        case 3: return 0
        default: return UInt8(truncatingIfNeeded: next())
        }
    }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in byte() } }
}

/// x86/arm ISA levels (C numbering) that this CPU can run and this build has kernels for.
func usableIsas() -> [Int32] {
    let m = qtop_cpu_isa_mask() & qtop_compiled_isa_mask()
    return (0..<Int32(QTOP_ISA_COUNT.rawValue)).filter { (m >> UInt32($0)) & 1 == 1 }
}

func dtSize(_ dt: Int32) -> Int { dt == Int32(QTOP_DT_F32.rawValue) ? 4 : 1 }

func bitsEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool { a == b }

/// The fp32 kernels' activation codes (none, relu, relu6, hard_swish) applied to one value, for expected results.
func act(_ y: Float, _ a: Int32) -> Float {
    switch a {
    case 1: return max(y, 0)
    case 2: return min(max(y, 0), 6)
    case 3: return y * (min(max(y + 3, 0), 6) / 6)
    default: return y
    }
}
