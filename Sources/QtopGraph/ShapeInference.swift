import QtopFormat

/// Output shapes and dtypes of each op from its inputs and attributes, the way Paddle's compile-time InferShape
/// does it: -1 stands for an unknown extent (usually the batch) and propagates.
///
/// Ops without a rule (or whose inputs are unknown) keep the shapes the program declared, so an unknown op still
/// loads and is shown; only executing it fails.
public enum ShapeInference {
    /// Infers shapes in program order, starting from the graph's current input shapes.
    /// Returns the names of nodes that had no rule or could not be inferred.
    @discardableResult
    public static func run(_ g: inout Graph) -> [NodeID] {
        var skipped: [NodeID] = []
        for node in g.nodes {
            do {
                guard let outs = try infer(node, g.values) else { skipped.append(node.id); continue }
                for (name, dt, shape) in outs {
                    var info = g.values[name] ?? ValueInfo(name: name, dtype: dt, shape: shape)
                    if info.constant != nil { continue }
                    if let dt { info.dtype = dt }
                    info.shape = shape
                    g.values[name] = info
                }
            } catch {
                skipped.append(node.id)
            }
        }
        return skipped
    }

    /// Replaces the graph's input shapes (e.g. batch -1 → 1) and re-infers every shape.
    public static func specialize(_ g: Graph, inputShapes: [String: [Int]]) throws -> Graph {
        var out = g
        for (name, shape) in inputShapes {
            guard out.values[name] != nil else { throw ShapeError("model has no input named '\(name)'") }
            out.values[name]!.shape = shape
        }
        let skipped = run(&out)
        // A node that cannot be inferred with concrete inputs cannot be planned.
        if let id = skipped.first, let n = out.node(id: id), n.type != "fetch" {
            throw ShapeError("cannot infer output shapes of \(n.type) '\(n.name)'")
        }
        return out
    }

    public struct ShapeError: Error, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }

    typealias Out = [(String, DType?, [Int])]

    /// The rule for one op, or nil when there is none.
    static func infer(_ n: Node, _ v: [String: ValueInfo]) throws -> Out? {
        func shape(_ slot: String) throws -> [Int] {
            guard let name = n.input(slot), let s = v[name]?.shape else { throw ShapeError("\(n.type): unknown shape of \(slot)") }
            return s
        }
        func dtype(_ slot: String) -> DType? { n.input(slot).flatMap { v[$0]?.dtype } }
        func same(_ inSlot: String = "X", _ outSlots: [String] = ["Out"]) throws -> Out {
            let s = try shape(inSlot)
            return outSlots.compactMap { slot in n.output(slot).map { ($0, dtype(inSlot), s) } }
        }
        func xshape(_ x: [Int]) -> Out { n.output("XShape").map { [($0, dtype("X"), [0] + x)] } ?? [] }
        let a = n.attrs

        switch n.type {
        case "feed", "fetch":
            return []
        case "relu", "relu6", "hard_swish", "hard_sigmoid", "sigmoid", "swish", "silu", "leaky_relu", "tanh", "gelu",
             "exp", "sqrt", "abs", "softmax", "scale", "clip", "log_softmax", "elu", "mish", "softplus", "prelu":
            return try same()
        case "dropout":
            return try same("X", ["Out"])
        case "quantize_linear", "dequantize_linear":
            let s = try shape("X")
            return n.output("Y").map { [($0, nil, s)] } ?? []
        case "fake_quantize_dequantize_moving_average_abs_max", "fake_quantize_dequantize_abs_max",
             "fake_channel_wise_quantize_dequantize_abs_max", "fake_quantize_range_abs_max", "fake_quantize_abs_max",
             "fake_quantize_moving_average_abs_max", "fake_channel_wise_quantize_abs_max",
             "fake_dequantize_max_abs", "fake_channel_wise_dequantize_max_abs":
            let s = try shape("X")
            return n.output("Out").map { [($0, nil, s)] } ?? []
        case "batch_norm":
            // Exported inference programs declare the unused training statistics 0-d; keep Paddle's view.
            let stats = ["SavedMean", "SavedVariance", "ReserveSpace"].compactMap { n.output($0) }.map { ($0, dtype("X"), [Int]()) }
            return try same("X", ["Y"]) + stats
        case "conv2d", "depthwise_conv2d":
            let x = try shape("Input"), w = try shape("Filter")
            guard x.count == 4, w.count == 4 else { throw ShapeError("conv2d expects 4-D input and filter") }
            let nhwc = a.string("data_format", default: "NCHW") == "NHWC"
            let (h, wd) = nhwc ? (x[1], x[2]) : (x[2], x[3])
            let pads = convPads(a)
            let s = a.ints("strides", default: [1, 1]), d = a.ints("dilations", default: [1, 1])
            let algo = a.string("padding_algorithm", default: "EXPLICIT")
            let oh = convOut(h, k: w[2], pad: (pads[0], pads[1]), stride: s[0], dil: d[0], algo: algo)
            let ow = convOut(wd, k: w[3], pad: (pads[2], pads[3]), stride: s[1], dil: d.count > 1 ? d[1] : d[0], algo: algo)
            let out = nhwc ? [x[0], oh, ow, w[0]] : [x[0], w[0], oh, ow]
            return n.output("Output").map { [($0, dtype("Input"), out)] } ?? []
        case "pool2d":
            let x = try shape("X")
            guard x.count == 4 else { throw ShapeError("pool2d expects 4-D input") }
            let nhwc = a.string("data_format", default: "NCHW") == "NHWC"
            var (h, w) = nhwc ? (x[1], x[2]) : (x[2], x[3])
            let k = a.ints("ksize", default: [1, 1])
            if a.bool("global_pooling", default: false) {
                (h, w) = (1, 1)
            } else if a.bool("adaptive", default: false) {
                (h, w) = (k[0], k.count > 1 ? k[1] : k[0])
            } else {
                let pads = convPads(a)
                let s = a.ints("strides", default: [1, 1])
                let algo = a.string("padding_algorithm", default: "EXPLICIT")
                let ceil = a.bool("ceil_mode", default: false)
                h = poolOut(h, k: k[0], pad: (pads[0], pads[1]), stride: s[0], ceil: ceil, algo: algo)
                w = poolOut(w, k: k.count > 1 ? k[1] : k[0], pad: (pads[2], pads[3]), stride: s.count > 1 ? s[1] : s[0], ceil: ceil, algo: algo)
            }
            let out = nhwc ? [x[0], h, w, x[3]] : [x[0], x[1], h, w]
            return n.output("Out").map { [($0, dtype("X"), out)] } ?? []
        case "elementwise_add", "elementwise_sub", "elementwise_mul", "elementwise_div", "elementwise_max",
             "elementwise_min", "elementwise_pow":
            let out = try broadcast(try shape("X"), try shape("Y"), axis: a.int("axis", default: -1))
            return n.output("Out").map { [($0, dtype("X"), out)] } ?? []
        case "matmul_v2", "matmul":
            let tx = a.bool(n.type == "matmul" ? "transpose_X" : "trans_x", default: false)
            let ty = a.bool(n.type == "matmul" ? "transpose_Y" : "trans_y", default: false)
            let out = try matmulShape(try shape("X"), try shape("Y"), tx: tx, ty: ty)
            return n.output("Out").map { [($0, dtype("X"), out)] } ?? []
        case "mul":
            let x = try shape("X"), y = try shape("Y")
            let xn = a.int("x_num_col_dims", default: 1), yn = a.int("y_num_col_dims", default: 1)
            guard xn <= x.count, yn <= y.count else { throw ShapeError("mul: bad num_col_dims") }
            return n.output("Out").map { [($0, dtype("X"), Array(x[..<xn]) + Array(y[yn...]))] } ?? []
        case "fc":
            let x = try shape("Input"), w = try shape("W")
            let nc = a.int("in_num_col_dims", default: 1)
            guard nc <= x.count, w.count == 2 else { throw ShapeError("fc: bad shapes") }
            return n.output("Out").map { [($0, dtype("Input"), Array(x[..<nc]) + [w[1]])] } ?? []
        case "flatten_contiguous_range":
            let x = try shape("X")
            if x.isEmpty { return (n.output("Out").map { [($0, dtype("X"), [1])] } ?? []) + xshape(x) }
            let start = normAxis(a.int("start_axis", default: 1), x.count)
            let stop = normAxis(a.int("stop_axis", default: -1), x.count)
            guard start <= stop else { throw ShapeError("flatten: start_axis > stop_axis") }
            let out = Array(x[..<start]) + [product(x[start...stop])] + Array(x[(stop + 1)...])
            return (n.output("Out").map { [($0, dtype("X"), out)] } ?? []) + xshape(x)
        case "flatten2", "flatten":
            let x = try shape("X")
            let axis = a.int("axis", default: 1)
            let out = [product(x[..<axis]), product(x[axis...])]
            return (n.output("Out").map { [($0, dtype("X"), out)] } ?? []) + xshape(x)
        case "reshape2", "reshape":
            let x = try shape("X")
            if !n.inputs("Shape").isEmpty || !n.inputs("ShapeTensor").isEmpty { return nil }
            let out = try reshapeShape(x, a.ints("shape", default: []))
            return (n.output("Out").map { [($0, dtype("X"), out)] } ?? []) + xshape(x)
        case "transpose2", "transpose":
            let x = try shape("X")
            let perm = a.ints("axis", default: Array((0..<x.count).reversed()))
            guard perm.count == x.count, Set(perm) == Set(0..<x.count) else { throw ShapeError("transpose: bad axis") }
            return (n.output("Out").map { [($0, dtype("X"), perm.map { x[$0] })] } ?? []) + xshape(x)
        case "concat":
            if !n.inputs("AxisTensor").isEmpty { return nil }
            let xs = try n.inputs("X").map { name -> [Int] in
                guard let s = v[name]?.shape else { throw ShapeError("concat: unknown input shape") }
                return s
            }
            guard let first = xs.first else { throw ShapeError("concat: no inputs") }
            let axis = normAxis(a.int("axis", default: 0), first.count)
            var out = first
            out[axis] = xs.contains { $0[axis] < 0 } ? -1 : xs.reduce(0) { $0 + $1[axis] }
            return n.output("Out").map { [($0, n.input("X").flatMap { v[$0]?.dtype }, out)] } ?? []
        case "split":
            if !n.inputs("AxisTensor").isEmpty || !n.inputs("SectionsTensorList").isEmpty { return nil }
            let x = try shape("X")
            let axis = normAxis(a.int("axis", default: 0), x.count)
            let outs = n.outputs("Out")
            var sections = a.ints("sections", default: [])
            let num = a.int("num", default: 0)
            if sections.isEmpty {
                let parts = num > 0 ? num : outs.count
                sections = Array(repeating: x[axis] < 0 ? -1 : x[axis] / max(parts, 1), count: parts)
            } else if let unk = sections.firstIndex(of: -1), x[axis] >= 0 {
                sections[unk] = x[axis] - sections.filter { $0 >= 0 }.reduce(0, +)
            }
            guard sections.count == outs.count else { throw ShapeError("split: section count differs from outputs") }
            return zip(outs, sections).map { name, s in
                var o = x
                o[axis] = s
                return (name, dtype("X"), o)
            }
        case "squeeze2", "squeeze":
            let x = try shape("X")
            let axes = a.ints("axes", default: []).map { normAxis($0, x.count) }
            var out: [Int] = []
            for (i, d) in x.enumerated() where !(axes.isEmpty ? d == 1 : (axes.contains(i) && d == 1)) { out.append(d) }
            return (n.output("Out").map { [($0, dtype("X"), out)] } ?? []) + xshape(x)
        case "unsqueeze2", "unsqueeze":
            if !n.inputs("AxesTensor").isEmpty || !n.inputs("AxesTensorList").isEmpty { return nil }
            let x = try shape("X")
            var out = x
            for ax in a.ints("axes", default: []) {
                let p = ax < 0 ? ax + out.count + 1 : ax
                guard p >= 0, p <= out.count else { throw ShapeError("unsqueeze: bad axis") }
                out.insert(1, at: p)
            }
            return (n.output("Out").map { [($0, dtype("X"), out)] } ?? []) + xshape(x)
        case "mean":
            return n.output("Out").map { [($0, dtype("X"), [])] } ?? []
        case "reduce_mean", "reduce_sum", "reduce_max", "reduce_min":
            let x = try shape("X")
            let all = a.bool("reduce_all", default: false)
            let dims = Set(a.ints("dim", default: []).map { normAxis($0, x.count) })
            let keep = a.bool("keep_dim", default: false)
            var out: [Int] = []
            for (i, d) in x.enumerated() {
                if all || dims.contains(i) || dims.isEmpty { if keep { out.append(1) } } else { out.append(d) }
            }
            return n.output("Out").map { [($0, dtype("X"), out)] } ?? []
        // qtop's own op types, produced by the passes (integer tensors are NHWC, float tensors NCHW).
        case "fused_conv2d":
            return try infer(n.with(type: "conv2d"), v)
        case "fake_quantize", "qrelu":
            let s = try shape("X")
            return n.output("Out").map { [($0, outDType(a) ?? dtype("X"), s)] } ?? []
        case "quantize", "layout_nchw_to_nhwc":
            let s = try shape("X")
            let out = s.count == 4 ? [s[0], s[2], s[3], s[1]] : s
            return n.output("Out").map { [($0, outDType(a) ?? dtype("X"), out)] } ?? []
        case "dequantize", "layout_nhwc_to_nchw":
            let s = try shape("X")
            let out = s.count == 4 ? [s[0], s[3], s[1], s[2]] : s
            return n.output("Out").map { [($0, n.type == "dequantize" ? .f32 : dtype("X"), out)] } ?? []
        case "qconv2d":
            let x = try shape("Input"), w = try shape("Filter")
            guard x.count == 4, w.count == 4 else { throw ShapeError("qconv2d expects 4-D NHWC input and filter") }
            let pads = convPads(a)
            let s = a.ints("strides", default: [1, 1]), d = a.ints("dilations", default: [1, 1])
            let oh = convOut(x[1], k: w[2], pad: (pads[0], pads[1]), stride: s[0], dil: d[0], algo: "EXPLICIT")
            let ow = convOut(x[2], k: w[3], pad: (pads[2], pads[3]), stride: s[1], dil: d[1], algo: "EXPLICIT")
            let os = [x[0], oh, ow, w[0]]
            // optional QuantOutput: the f32 Output also quantized (quant_out_dtype u8/s8), same NHWC shape
            let qdt: DType = a.string("quant_out_dtype", default: "s8") == "u8" ? .u8 : .i8
            let q = n.output("QuantOutput").map { [($0, Optional(qdt), os)] } ?? []
            return (n.output("Output").map { [($0, outDType(a), os)] } ?? []) + q
        case "qmatmul":
            let x = try shape("X"), w = try shape("Y")
            guard x.count >= 1, w.count == 2 else { throw ShapeError("qmatmul expects a 2-D weight") }
            return n.output("Out").map { [($0, outDType(a), Array(x.dropLast()) + [w[1]])] } ?? []
        case "qpool2d":
            guard let out = try infer(n.with(type: "pool2d"), v) else { return nil }
            return out.map { ($0.0, outDType(a) ?? $0.1, $0.2) }
        case "qconcat":
            guard let out = try infer(n.with(type: "concat"), v) else { return nil }
            return out.map { ($0.0, outDType(a) ?? $0.1, $0.2) }
        default:
            return nil
        }
    }

    /// The `out_dtype` attribute of integer ops ("u8", "s8", "f32").
    static func outDType(_ a: Attributes) -> DType? {
        switch a.string("out_dtype", default: "") {
        case "u8": return .u8
        case "s8": return .i8
        case "f32": return .f32
        default: return nil
        }
    }

    static func normAxis(_ a: Int, _ rank: Int) -> Int { a < 0 ? a + rank : a }

    static func product<C: Collection>(_ dims: C) -> Int where C.Element == Int {
        dims.contains { $0 < 0 } ? -1 : dims.reduce(1, *)
    }

    /// Paddle's paddings attribute: [h, w] (symmetric) or [top, bottom, left, right].
    static func convPads(_ a: Attributes) -> [Int] {
        let p = a.ints("paddings", default: [0, 0])
        if p.count == 4 { return p }
        if p.count == 2 { return [p[0], p[0], p[1], p[1]] }
        return [0, 0, 0, 0]
    }

    static func convOut(_ x: Int, k: Int, pad: (Int, Int), stride: Int, dil: Int, algo: String) -> Int {
        if x < 0 { return -1 }
        switch algo {
        case "SAME": return (x + stride - 1) / stride
        case "VALID": return (x - (dil * (k - 1) + 1)) / stride + 1
        default: return (x + pad.0 + pad.1 - (dil * (k - 1) + 1)) / stride + 1
        }
    }

    static func poolOut(_ x: Int, k: Int, pad: (Int, Int), stride: Int, ceil: Bool, algo: String) -> Int {
        if x < 0 { return -1 }
        switch algo {
        case "SAME": return (x + stride - 1) / stride
        case "VALID": return ceil ? (x - k + stride - 1) / stride + 1 : (x - k) / stride + 1
        default:
            let span = x + pad.0 + pad.1 - k
            return ceil ? (span + stride - 1) / stride + 1 : span / stride + 1
        }
    }

    /// Paddle's elementwise broadcasting: axis = -1 aligns trailing dims (NumPy), otherwise Y starts at `axis` of X.
    public static func broadcast(_ x: [Int], _ y: [Int], axis: Int) throws -> [Int] {
        let rank = max(x.count, y.count)
        var ax = axis
        if ax < 0 { ax = abs(x.count - y.count) }
        var xd = x, yd = y
        if x.count >= y.count {
            var yy = y
            while yy.count > 1, yy.last == 1, ax + yy.count > x.count { yy.removeLast() }
            guard ax + yy.count <= x.count else { throw ShapeError("elementwise: axis \(axis) does not fit \(x) and \(y)") }
            yd = Array(repeating: 1, count: ax) + yy + Array(repeating: 1, count: x.count - ax - yy.count)
        } else {
            guard ax + x.count <= y.count else { throw ShapeError("elementwise: axis \(axis) does not fit \(x) and \(y)") }
            xd = Array(repeating: 1, count: ax) + x + Array(repeating: 1, count: y.count - ax - x.count)
        }
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let a = xd[i], b = yd[i]
            if a > 1 || b > 1 || (a == 1 && b == 1) {
                if a > 1, b > 1, a != b { throw ShapeError("elementwise: shapes \(x) and \(y) do not broadcast") }
                out[i] = max(a, b)
            } else {
                out[i] = -1
            }
        }
        return out
    }

    static func matmulShape(_ x0: [Int], _ y0: [Int], tx: Bool, ty: Bool) throws -> [Int] {
        guard !x0.isEmpty, !y0.isEmpty else { throw ShapeError("matmul: 0-D operand") }
        var x = x0, y = y0
        let xVec = x.count == 1, yVec = y.count == 1
        if xVec { x = [1, x[0]] }
        if yVec { y = [y[0], 1] }
        let m = tx ? x[x.count - 1] : x[x.count - 2]
        let n = ty ? y[y.count - 2] : y[y.count - 1]
        let bx = Array(x.dropLast(2)), by = Array(y.dropLast(2))
        var batch: [Int] = []
        let r = max(bx.count, by.count)
        for i in 0..<r {
            let a = i < r - bx.count ? 1 : bx[i - (r - bx.count)]
            let b = i < r - by.count ? 1 : by[i - (r - by.count)]
            batch.append(a == 1 ? b : (b == 1 ? a : max(a, b)))
        }
        var out = batch
        if !xVec { out.append(m) }
        if !yVec { out.append(n) }
        return out
    }

    /// reshape's target: 0 copies the input extent, one -1 is inferred (unknown when the input has unknowns).
    static func reshapeShape(_ x: [Int], _ target: [Int]) throws -> [Int] {
        var out = target.enumerated().map { i, d in d == 0 && i < x.count ? x[i] : d }
        let known = out.filter { $0 >= 0 }.reduce(1, *)
        if let unk = out.firstIndex(of: -1) {
            guard out.filter({ $0 == -1 }).count == 1 else { throw ShapeError("reshape: more than one -1") }
            if x.contains(where: { $0 < 0 }) {
                out[unk] = -1
            } else {
                let total = x.reduce(1, *)
                guard known > 0, total % known == 0 else { throw ShapeError("reshape: \(x) cannot become \(target)") }
                out[unk] = total / known
            }
        } else if !x.contains(where: { $0 < 0 }), x.reduce(1, *) != known {
            throw ShapeError("reshape: \(x) cannot become \(target)")
        }
        return out
    }
}
