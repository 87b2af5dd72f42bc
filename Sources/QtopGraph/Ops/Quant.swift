import QtopFormat

// Paddle's quantization ops (the names are listed once in QuantOpNames): quantize_linear / dequantize_linear and
// the legacy fake-quant family. qtop's own fake_quantize lives in Integer.swift with the other lowered ops.

public enum QuantSpecs {
    static let specs: [any OpSpec.Type] = [QuantSpec.self]
}

/// Every Paddle quantization op: bit width (1…16), rounding, channel axis, observer flag and the legacy ops'
/// ranges, with each op's own defaults (round_type 0 for the *_linear ops, 1 for the legacy ones).
public struct QuantSpec: OpSpec {
    public static var opTypes: [String] { QuantOpNames.paddle.sorted() }
    public let bitLength: Int
    /// `qmax` when the node sets one, else 2^(bit_length-1) - 1.
    public let binCount: Int
    public let roundType: Int
    public let quantAxis: Int
    public let onlyObserver: Bool
    /// fake_dequantize_max_abs's divisor.
    public let maxRange: Float
    /// fake_channel_wise_dequantize_max_abs: one bit width per scale tensor.
    public let quantBits: [Int]
    public let xNumColDims: Int

    public init(_ node: Node, _ a: inout AttributeReader) throws {
        let linear = node.type == "quantize_linear" || node.type == "dequantize_linear"
        bitLength = try a.int("bit_length", default: 8, in: 1...16)
        let qmax = try a.optionalInt("qmax")
        binCount = qmax.flatMap { $0 > 0 ? $0 : nil } ?? (1 << (bitLength - 1)) - 1
        roundType = try a.int("round_type", default: linear ? 0 : 1, in: 0...1)
        quantAxis = try a.int("quant_axis", default: 0, in: -1...7)
        onlyObserver = try a.bool("only_observer", default: false)
        maxRange = node.type == "fake_dequantize_max_abs" ? try a.float("max_range", default: 127) : 127
        if node.type == "fake_channel_wise_dequantize_max_abs" {
            quantBits = try a.ints("quant_bits", default: [8], counts: [1, 2], min: 1)
            guard quantBits.allSatisfy({ $0 <= 16 }) else { throw a.fail("quant_bits", "must be 1…16, got \(quantBits)") }
            xNumColDims = try a.int("x_num_col_dims", default: 1, in: 1...8)
        } else {
            quantBits = [bitLength]
            xNumColDims = 1
        }
    }

    public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? {
        let x = try s.shape("X")
        return s.output(s.node.type.hasSuffix("_linear") ? "Y" : "Out", nil, x)
    }
}
