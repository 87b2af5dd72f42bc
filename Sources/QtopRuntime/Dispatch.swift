/// CPU instruction-set levels, oldest first. A cap means "that level and older" (as oneDNN's ONEDNN_MAX_CPU_ISA).
public enum ISALevel: String, CaseIterable, Comparable, Sendable, Codable {
    case generic
    case sse41
    case avx2
    case avx2_vnni
    case avx512_core
    case avx512_vnni
    case neon
    case neon_dotprod

    public var rank: Int { ISALevel.allCases.firstIndex(of: self)! }
    public static func < (a: ISALevel, b: ISALevel) -> Bool { a.rank < b.rank }

    public var isX86: Bool { [.sse41, .avx2, .avx2_vnni, .avx512_core, .avx512_vnni].contains(self) }
    public var isARM: Bool { self == .neon || self == .neon_dotprod }

    /// Accepts our names and oneDNN's spellings (AVX512_CORE_VNNI, AVX2 ...), case-insensitively.
    public init?(userString s: String) {
        let k = s.lowercased().replacingOccurrences(of: "-", with: "_")
        switch k {
        case "generic", "any", "none", "ref": self = .generic
        case "sse41", "sse4_1", "sse4.1": self = .sse41
        case "avx2": self = .avx2
        case "avx2_vnni": self = .avx2_vnni
        case "avx512_core", "avx512", "avx512f": self = .avx512_core
        case "avx512_vnni", "avx512_core_vnni": self = .avx512_vnni
        case "neon", "asimd": self = .neon
        case "neon_dotprod", "dotprod", "asimddp": self = .neon_dotprod
        default: return nil
        }
    }
}

/// Numeric precision a node runs in.
public enum Precision: String, Sendable, Codable, CaseIterable {
    case f32 = "FP32"
    case i8 = "I8"
    case u8 = "U8"
    case i32 = "I32"
    case i64 = "I64"
    case mixed = "MIXED"
}

/// Which graph qtop executes.
public enum ExecMode: String, Sendable, Codable, CaseIterable {
    /// The lowered graph: integer convolutions/matmuls with fused epilogues.
    case int8
    /// The graph as loaded, QDQ ops executed in float with Paddle's semantics.
    case reference
    /// Quantization stripped (weights dequantized), so the same network can be compared in float.
    case fp32
}

/// Why a kernel was or was not chosen for a node (the profile's dispatch column, `report --dispatch`).
public struct DispatchDecision: Sendable, Equatable {
    public struct Rejected: Sendable, Equatable {
        public let implementation: String
        public let isa: ISALevel
        public let reason: String
        public init(implementation: String, isa: ISALevel, reason: String) {
            self.implementation = implementation
            self.isa = isa
            self.reason = reason
        }
    }

    /// e.g. `conv1x1:avx512_vnni:i8`, `ref:generic:f32`.
    public let execType: String
    public let implementation: String
    public let isa: ISALevel
    public let rejected: [Rejected]

    public init(execType: String, implementation: String, isa: ISALevel, rejected: [Rejected]) {
        self.execType = execType
        self.implementation = implementation
        self.isa = isa
        self.rejected = rejected
    }
}
