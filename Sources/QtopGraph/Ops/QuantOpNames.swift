/// The one list of quantization op names (Paddle's QDQ and legacy fake-quant ops, and qtop's own `fake_quantize`).
/// Every module asks here instead of spelling the names again, so a new quantizer lands in one place.
public enum QuantOpNames {
    /// Ops that quantize only: their output holds integers (as floats), a dequantizer follows.
    public static let quantizeOnly: Set<String> = ["quantize_linear", "fake_quantize_range_abs_max",
                                                   "fake_quantize_moving_average_abs_max", "fake_quantize_abs_max",
                                                   "fake_channel_wise_quantize_abs_max"]
    /// Ops that dequantize only (integers in, floats out).
    public static let dequantizeOnly: Set<String> = ["dequantize_linear", "fake_dequantize_max_abs",
                                                     "fake_channel_wise_dequantize_max_abs"]
    /// Paddle ops whose output is the (float) fake-quantized input.
    public static let paddleQuantDequant: Set<String> = ["fake_quantize_dequantize_moving_average_abs_max",
                                                         "fake_quantize_dequantize_abs_max",
                                                         "fake_channel_wise_quantize_dequantize_abs_max"]
    /// qtop's own fused quantize-dequantize op (written by `qdq-to-fakequantize`).
    public static let qtopFakeQuantize = "fake_quantize"

    /// Every quantization op a Paddle file may contain (what `graph` lists with scales, what makes a model
    /// "quantized").
    public static let paddle: Set<String> = quantizeOnly.union(dequantizeOnly).union(paddleQuantDequant)

    /// Paddle's quantization ops plus qtop's `fake_quantize`.
    public static let all: Set<String> = paddle.union([qtopFakeQuantize])

    /// Ops whose output is the float fake-quantized input (Paddle's and qtop's).
    public static let quantDequant: Set<String> = paddleQuantDequant.union([qtopFakeQuantize])

    /// Dequantizers a weight constant may pass through before a conv/matmul (folded by `fold-weight-dequant`).
    public static let weightDequantizers: Set<String> = dequantizeOnly.union(["fake_channel_wise_quantize_dequantize_abs_max",
                                                                              "fake_quantize_dequantize_abs_max"])
}
