/// How a Paddle 3 `pd_op` maps onto the graph's op vocabulary (Paddle's legacy op names, slots and attributes),
/// so every pass, kernel and view works on PIR programs unchanged. PIR names operands and results by position;
/// the table names them. In-place variants (`relu_`, `batch_norm_`) map like their plain op.
struct PIROpMapping {
    enum Operand {
        /// The operand goes into this input slot (a vector operand expands into the slot's list).
        case slot(String)
        /// A constant operand (`full`, `full_int_array`, a combine of them) becomes this attribute; when it is not a
        /// constant it stays an input in `tensorSlot` (or, without one, the op keeps it in a slot of the same name).
        case attr(String, kind: AttrKind, tensorSlot: String?)
        /// Operands Paddle's inference never reads (e.g. a dropout seed tensor).
        case drop
    }

    enum AttrKind { case ints, int, float }

    let type: String
    let operands: [Operand]
    /// Result slots by position (a vector result, split by `builtin.split`, fills its slot with every element).
    let results: [String]
    /// PIR attribute name → legacy name.
    var renames: [String: String] = [:]
    /// Attributes the legacy op carries that the PIR op leaves implicit (added when absent).
    var defaults: [(String, AttrValue)] = []
    /// Results past the first that nobody reads are left out (quantization ops' state outputs, batch norm's
    /// running statistics: the legacy program writes those back into the parameters, PIR into new values).
    var dropUnreadAuxResults = false
}

enum PIROpTable {
    static func unary(_ type: String, _ renames: [String: String] = [:], defaults: [(String, AttrValue)] = []) -> PIROpMapping {
        PIROpMapping(type: type, operands: [.slot("X")], results: ["Out"], renames: renames, defaults: defaults)
    }

    static func binary(_ type: String) -> PIROpMapping {
        PIROpMapping(type: type, operands: [.slot("X"), .slot("Y")], results: ["Out"], defaults: [("axis", .int(-1))])
    }

    static let quantSlots: [PIROpMapping.Operand] = [.slot("X"), .slot("Scale"), .slot("ZeroPoint"), .slot("InAccum"), .slot("InState")]

    /// Keyed by the pd_op name without its dialect and without an in-place `_` suffix.
    static let ops: [String: PIROpMapping] = {
        var t: [String: PIROpMapping] = [:]
        for (pir, legacy) in [("relu", "relu"), ("relu6", "relu6"), ("sigmoid", "sigmoid"), ("tanh", "tanh"), ("silu", "silu"),
                              ("swish", "swish"), ("exp", "exp"), ("sqrt", "sqrt"), ("abs", "abs"), ("gelu", "gelu"),
                              ("elu", "elu"), ("mish", "mish"), ("softplus", "softplus"), ("softmax", "softmax"),
                              ("log_softmax", "log_softmax"), ("assign", "assign")] {
            t[pir] = unary(legacy)
        }
        t["leaky_relu"] = unary("leaky_relu", ["negative_slope": "alpha"])
        t["hardswish"] = unary("hard_swish", defaults: [("threshold", .float(6)), ("scale", .float(6)), ("offset", .float(3))])
        t["hardsigmoid"] = unary("hard_sigmoid")
        t["flatten"] = PIROpMapping(type: "flatten_contiguous_range", operands: [.slot("X")], results: ["Out", "XShape"])
        t["transpose"] = PIROpMapping(type: "transpose2", operands: [.slot("X")], results: ["Out", "XShape"], renames: ["perm": "axis"])
        for (pir, legacy) in [("add", "elementwise_add"), ("subtract", "elementwise_sub"), ("multiply", "elementwise_mul"),
                              ("divide", "elementwise_div"), ("maximum", "elementwise_max"), ("minimum", "elementwise_min"),
                              ("elementwise_pow", "elementwise_pow")] {
            t[pir] = binary(legacy)
        }
        t["matmul"] = PIROpMapping(type: "matmul_v2", operands: [.slot("X"), .slot("Y")], results: ["Out"],
                                   renames: ["transpose_x": "trans_x", "transpose_y": "trans_y"])
        for conv in ["conv2d", "depthwise_conv2d"] {
            t[conv] = PIROpMapping(type: conv, operands: [.slot("Input"), .slot("Filter")], results: ["Output"])
        }
        t["conv2d_transpose"] = PIROpMapping(type: "conv2d_transpose",
                                             operands: [.slot("Input"), .slot("Filter"), .attr("output_size", kind: .ints, tensorSlot: nil)],
                                             results: ["Output"])
        // Operands as Paddle 3.3.1 writes them: x, out_size, size_tensor (a combine), scale_tensor; absent ones are %0.
        for (pir, legacy) in [("nearest_interp", "nearest_interp_v2"), ("bilinear_interp", "bilinear_interp_v2")] {
            t[pir] = PIROpMapping(type: legacy, operands: [.slot("X"), .slot("OutSize"), .slot("SizeTensor"), .slot("Scale")],
                                  results: ["Out"])
        }
        t["batch_norm"] = PIROpMapping(type: "batch_norm",
                                       operands: [.slot("X"), .slot("Mean"), .slot("Variance"), .slot("Scale"), .slot("Bias")],
                                       results: ["Y", "MeanOut", "VarianceOut", "SavedMean", "SavedVariance", "ReserveSpace"],
                                       renames: ["data_format": "data_layout"], dropUnreadAuxResults: true)
        t["pool2d"] = PIROpMapping(type: "pool2d", operands: [.slot("X"), .attr("ksize", kind: .ints, tensorSlot: nil)], results: ["Out"])
        t["reshape"] = PIROpMapping(type: "reshape2", operands: [.slot("X"), .attr("shape", kind: .ints, tensorSlot: "ShapeTensor")],
                                    results: ["Out", "XShape"])
        t["squeeze"] = PIROpMapping(type: "squeeze2", operands: [.slot("X"), .attr("axes", kind: .ints, tensorSlot: "AxesTensor")],
                                    results: ["Out", "XShape"])
        t["unsqueeze"] = PIROpMapping(type: "unsqueeze2", operands: [.slot("X"), .attr("axes", kind: .ints, tensorSlot: "AxesTensor")],
                                      results: ["Out", "XShape"])
        t["concat"] = PIROpMapping(type: "concat", operands: [.slot("X"), .attr("axis", kind: .int, tensorSlot: "AxisTensor")], results: ["Out"])
        t["split"] = PIROpMapping(type: "split",
                                  operands: [.slot("X"), .attr("sections", kind: .ints, tensorSlot: "SectionsTensorList"),
                                             .attr("axis", kind: .int, tensorSlot: "AxisTensor")],
                                  results: ["Out"], defaults: [("num", .int(0))])
        t["split_with_num"] = PIROpMapping(type: "split", operands: [.slot("X"), .attr("axis", kind: .int, tensorSlot: "AxisTensor")],
                                           results: ["Out"], defaults: [("sections", .ints([]))])
        t["scale"] = PIROpMapping(type: "scale", operands: [.slot("X"), .attr("scale", kind: .float, tensorSlot: "ScaleTensor")], results: ["Out"])
        t["clip"] = PIROpMapping(type: "clip", operands: [.slot("X"), .attr("min", kind: .float, tensorSlot: "Min"),
                                                          .attr("max", kind: .float, tensorSlot: "Max")], results: ["Out"])
        for (pir, legacy) in [("mean", "reduce_mean"), ("sum", "reduce_sum"), ("max", "reduce_max"), ("min", "reduce_min")] {
            t[pir] = PIROpMapping(type: legacy, operands: [.slot("X"), .attr("dim", kind: .ints, tensorSlot: nil)], results: ["Out"],
                                  renames: ["keepdim": "keep_dim", "axis": "dim"])
        }
        t["dropout"] = PIROpMapping(type: "dropout", operands: [.slot("X"), .drop], results: ["Out", "Mask"],
                                    renames: ["p": "dropout_prob", "mode": "dropout_implementation"])
        t["prelu"] = PIROpMapping(type: "prelu", operands: [.slot("X"), .slot("Alpha")], results: ["Out"])
        t["quantize_linear"] = PIROpMapping(type: "quantize_linear", operands: quantSlots, results: ["Y", "OutState", "OutAccum", "OutScale"],
                                            dropUnreadAuxResults: true)
        t["dequantize_linear"] = PIROpMapping(type: "dequantize_linear", operands: quantSlots,
                                              results: ["Y", "OutState", "OutAccum", "OutScale"], dropUnreadAuxResults: true)
        return t
    }()

    /// The mapping for a `pd_op` name (`batch_norm_` → `batch_norm`), or nil for ops qtop has no name for.
    static func mapping(for opName: String) -> PIROpMapping? {
        if let m = ops[opName] { return m }
        if opName.hasSuffix("_"), let m = ops[String(opName.dropLast())] { return m }
        return nil
    }
}
