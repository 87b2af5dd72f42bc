/// Numeric precision a kernel computes in (or a tensor is stored in). The raw value is what the profile's
/// `precision` / `out_precision` columns and JSON keys print.
public enum Precision: String, Sendable, Codable, CaseIterable {
    case f32 = "FP32"
    case i8 = "I8"
    case u8 = "U8"
    case i32 = "I32"
    case i64 = "I64"
    case mixed = "MIXED"

    /// The lower-case spelling used as the last part of an exec type (`conv1x1:avx512_vnni:i8`).
    public var execSuffix: String { rawValue.lowercased() }

    /// True for the 8-bit integer precisions (the UI colours them as int8).
    public var isInt8: Bool { self == .i8 || self == .u8 }
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

/// What ran for a layer: implementation, ISA and the precision the kernel computed in, as OpenVINO's execType.
/// Rendered `impl:isa:precision`, e.g. `conv1x1:avx512_vnni:i8`, `ref:generic:fp32`.
public struct ExecType: Sendable, Hashable, CustomStringConvertible {
    public let implementation: String
    public let isa: ISALevel
    public let precision: Precision

    public init(implementation: String, isa: ISALevel, precision: Precision) {
        self.implementation = implementation
        self.isa = isa
        self.precision = precision
    }

    public var description: String { "\(implementation):\(isa.rawValue):\(precision.execSuffix)" }
}

/// benchmark_app's per-layer status.
public enum LayerStatus: String, Sendable, Codable {
    case executed = "EXECUTED"
    case notRun = "NOT_RUN"
    case optimizedOut = "OPTIMIZED_OUT"
}
