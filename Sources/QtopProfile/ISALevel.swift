/// CPU instruction-set levels, oldest first. A cap means "that level and older" (as oneDNN's ONEDNN_MAX_CPU_ISA).
///
/// The one place in Swift that knows which ISAs exist: the raw values are the names the CLI accepts and the JSON
/// contracts print, and the case order is the rank CQtopKernels uses for its ISA bit masks.
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
        let k = String(s.lowercased().map { $0 == "-" ? "_" : $0 })
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
