import Foundation
import QtopFormat
import QtopGraph
import QtopPasses
import QtopProfile

/// A small hand-made quantized model with a pass history, a profile and dispatch decisions, for the UI's unit tests
/// (reducer, run loop), which must not depend on the loader, the runner or the kernels. The golden screens use a
/// real profile of a sample instead (QtopUIGoldenTests).
public enum DemoData {
    public static let modelName = "tiny_qconv"

    static func values() -> [String: ValueInfo] {
        var v: [String: ValueInfo] = [:]
        func add(_ name: String, _ dt: DType, _ shape: [Int], const: HostTensor? = nil) {
            v[name] = ValueInfo(name: name, dtype: dt, shape: shape, persistable: const != nil, constant: const)
        }
        func floats(_ shape: [Int], _ f: (Int) -> Float) -> HostTensor {
            let n = shape.reduce(1, *)
            return HostTensor(shape: shape, floats: (0..<n).map(f))
        }
        add("image", .f32, [1, 3, 32, 32])
        add("image.scale", .f32, [1], const: floats([1]) { _ in 0.0157 })
        add("image.zero_point", .f32, [1], const: floats([1]) { _ in 0 })
        add("image.quantized", .f32, [1, 3, 32, 32])
        add("image.dequantized", .f32, [1, 3, 32, 32])
        add("conv1.w", .f32, [8, 3, 3, 3], const: floats([8, 3, 3, 3]) { i in Float((i * 37) % 101 - 50) / 400 })
        add("conv1.w.scale", .f32, [8], const: floats([8]) { i in 0.001 + Float(i) * 0.00025 })
        add("conv1.w.quantized", .f32, [8, 3, 3, 3])
        add("conv1.w.dequantized", .f32, [8, 3, 3, 3])
        let w8 = HostTensor(dtype: .i8, shape: [8, 3, 3, 3])
        let p = w8.pointer(as: Int8.self)
        for i in 0..<w8.count { p[i] = Int8((i * 37) % 255 - 127) }
        add("conv1.w.int8", .i8, [8, 3, 3, 3], const: w8)
        add("conv2d_0.tmp_0", .f32, [1, 8, 32, 32])
        for n in ["bn.scale", "bn.bias", "bn.mean", "bn.variance"] {
            add(n, .f32, [8], const: floats([8]) { i in n == "bn.variance" ? 1 + Float(i) / 8 : Float(i) / 16 })
        }
        add("batch_norm_0.tmp_2", .f32, [1, 8, 32, 32])
        add("relu_0.tmp_0", .f32, [1, 8, 32, 32])
        add("relu_0.tmp_0.int8", .i8, [1, 8, 32, 32])
        add("pool2d_0.tmp_0", .f32, [1, 8, 1, 1])
        add("flatten_0.tmp_0", .f32, [1, 8])
        add("fc.w", .f32, [8, 10], const: floats([8, 10]) { i in Float(i % 13) / 26 - 0.25 })
        add("fc.b", .f32, [10], const: floats([10]) { i in Float(i) / 100 })
        add("linear_0.tmp_0", .f32, [1, 10])
        add("linear_0.tmp_1", .f32, [1, 10])
        add("softmax_0.tmp_0", .f32, [1, 10])
        add("feed", .f32, [])
        add("fetch", .f32, [])
        return v
    }

    static func node(_ id: Int, _ type: String, _ ins: [(String, String)], _ outs: [(String, String)],
                     _ attrs: [(String, AttrValue)] = [], prov: [String]? = nil) -> Node {
        let n = Node(id: id, type: type, inputs: ins.map { Slot($0.0, [$0.1]) }, outputs: outs.map { Slot($0.0, [$0.1]) },
                     attrs: Attributes(attrs.map { (name: $0.0, value: $0.1) }), provenance: [])
        return n.with(provenance: prov ?? [n.name])
    }

    /// The graph as loaded and four passes.
    public static func passes() -> [PassStep] {
        let v = values()
        let qattrs: [(String, AttrValue)] = [("quant_axis", .int(-1)), ("bit_length", .int(8))]
        let n0 = [
            node(0, "feed", [("X", "feed")], [("Out", "image")], [("col", .int(0))]),
            node(1, "quantize_linear", [("X", "image"), ("Scale", "image.scale"), ("ZeroPoint", "image.zero_point")], [("Y", "image.quantized")], qattrs),
            node(2, "dequantize_linear", [("X", "image.quantized"), ("Scale", "image.scale"), ("ZeroPoint", "image.zero_point")], [("Y", "image.dequantized")], qattrs),
            node(3, "quantize_linear", [("X", "conv1.w"), ("Scale", "conv1.w.scale")], [("Y", "conv1.w.quantized")], [("quant_axis", .int(0)), ("bit_length", .int(8))]),
            node(4, "dequantize_linear", [("X", "conv1.w.quantized"), ("Scale", "conv1.w.scale")], [("Y", "conv1.w.dequantized")], [("quant_axis", .int(0)), ("bit_length", .int(8))]),
            node(5, "conv2d", [("Input", "image.dequantized"), ("Filter", "conv1.w.dequantized")], [("Output", "conv2d_0.tmp_0")],
                 [("strides", .ints([1, 1])), ("paddings", .ints([1, 1])), ("dilations", .ints([1, 1])), ("groups", .int(1)), ("data_format", .string("NCHW"))]),
            node(6, "batch_norm", [("X", "conv2d_0.tmp_0"), ("Scale", "bn.scale"), ("Bias", "bn.bias"), ("Mean", "bn.mean"), ("Variance", "bn.variance")],
                 [("Y", "batch_norm_0.tmp_2")], [("epsilon", .float(1e-5))]),
            node(7, "relu", [("X", "batch_norm_0.tmp_2")], [("Out", "relu_0.tmp_0")]),
            node(8, "pool2d", [("X", "relu_0.tmp_0")], [("Out", "pool2d_0.tmp_0")], [("pooling_type", .string("avg")), ("global_pooling", .bool(true))]),
            node(9, "flatten_contiguous_range", [("X", "pool2d_0.tmp_0")], [("Out", "flatten_0.tmp_0")], [("start_axis", .int(1)), ("stop_axis", .int(3))]),
            node(10, "matmul_v2", [("X", "flatten_0.tmp_0"), ("Y", "fc.w")], [("Out", "linear_0.tmp_0")]),
            node(11, "elementwise_add", [("X", "linear_0.tmp_0"), ("Y", "fc.b")], [("Out", "linear_0.tmp_1")], [("axis", .int(-1))]),
            node(12, "softmax", [("X", "linear_0.tmp_1")], [("Out", "softmax_0.tmp_0")], [("axis", .int(-1))]),
            node(13, "fetch", [("X", "softmax_0.tmp_0")], [("Out", "fetch")], [("col", .int(0))]),
        ]
        func graph(_ nodes: [Node]) -> Graph { Graph(nodes: nodes, values: v, inputs: ["image"], outputs: ["softmax_0.tmp_0"], nextNodeID: 20) }
        let g0 = graph(n0)

        // 1: conv + batch_norm → conv2d with folded weights.
        let convBN = n0[5].with(outputs: [Slot("Output", ["batch_norm_0.tmp_2"])], provenance: ["conv2d_0.tmp_0", "batch_norm_0.tmp_2"])
        let n1 = n0.filter { $0.id != 6 }.map { $0.id == 5 ? convBN : $0 }
        let c1 = [Change(kind: .fused, node: "batch_norm_0.tmp_2", nodeID: 5, detail: "conv2d + batch_norm folded into the filter"),
                  Change(kind: .removed, node: "batch_norm_0.tmp_2", nodeID: 6, detail: "folded into conv2d")]

        // 2: weight QDQ folded into an int8 constant with per-channel scales.
        let convW = convBN.with(inputs: [Slot("Input", ["image.dequantized"]), Slot("Filter", ["conv1.w.int8"])],
                                attrs: Attributes(convBN.attrs.entries + [(name: "weight_scales", value: .floats((0..<8).map { 0.001 + Float($0) * 0.00025 }))]))
        let n2 = n1.filter { $0.id != 3 && $0.id != 4 }.map { $0.id == 5 ? convW : $0 }
        let c2 = [Change(kind: .removed, node: "conv1.w.quantized", nodeID: 3, detail: "weights stored as int8"),
                  Change(kind: .removed, node: "conv1.w.dequantized", nodeID: 4, detail: "weights stored as int8"),
                  Change(kind: .rewritten, node: "batch_norm_0.tmp_2", nodeID: 5, detail: "filter is int8 with per-channel scales")]

        // 3: activation QDQ + conv + relu lowered to one int8 convolution.
        let qconv = node(14, "qconv2d", [("Input", "image"), ("Filter", "conv1.w.int8")], [("Output", "relu_0.tmp_0")],
                         convW.attrs.entries.map { ($0.name, $0.value) } + [("in_scale", .float(0.0157)), ("activation", .string("relu"))],
                         prov: ["image.quantized", "image.dequantized", "conv2d_0.tmp_0", "batch_norm_0.tmp_2", "relu_0.tmp_0"])
        var n3: [Node] = []
        for n in n2 where ![1, 2, 5, 7].contains(n.id) { n3.append(n); if n.id == 0 { n3.append(qconv) } }
        let c3 = [Change(kind: .removed, node: "image.quantized", nodeID: 1, detail: "input quantization moved into qconv2d"),
                  Change(kind: .removed, node: "image.dequantized", nodeID: 2, detail: "input quantization moved into qconv2d"),
                  Change(kind: .removed, node: "batch_norm_0.tmp_2", nodeID: 5, detail: "lowered to qconv2d"),
                  Change(kind: .removed, node: "relu_0.tmp_0", nodeID: 7, detail: "fused as epilogue"),
                  Change(kind: .added, node: "relu_0.tmp_0", nodeID: 14, detail: "int8 convolution with relu epilogue")]

        // 4: matmul + add → fc.
        let fc = node(15, "fc", [("Input", "flatten_0.tmp_0"), ("W", "fc.w"), ("Bias", "fc.b")], [("Out", "linear_0.tmp_1")],
                      [("in_num_col_dims", .int(1))], prov: ["linear_0.tmp_0", "linear_0.tmp_1"])
        var n4: [Node] = []
        for n in n3 where ![10, 11].contains(n.id) { n4.append(n); if n.id == 9 { n4.append(fc) } }
        let c4 = [Change(kind: .removed, node: "linear_0.tmp_0", nodeID: 10, detail: "fused into fc"),
                  Change(kind: .removed, node: "linear_0.tmp_1", nodeID: 11, detail: "fused into fc"),
                  Change(kind: .fused, node: "linear_0.tmp_1", nodeID: 15, detail: "matmul_v2 + elementwise_add")]

        return [PassStep(name: "loaded", graph: g0, changes: []),
                PassStep(name: "fuse_conv_bn", graph: graph(n1), changes: c1),
                PassStep(name: "fold_weight_qdq", graph: graph(n2), changes: c2),
                PassStep(name: "lower_qconv", graph: graph(n3), changes: c3),
                PassStep(name: "fuse_fc", graph: graph(n4), changes: c4)]
    }

    /// A profile of the final graph; `t` animates the numbers (0 = the values the golden tests use).
    public static func snapshot(t: Double = 0, mode: ExecMode = .int8, cap: ISALevel = .avx512_vnni) -> ProfileSnapshot {
        let fpFactor = mode == .int8 ? 1.0 : 2.6
        let isaFactor = cap >= .avx512_vnni ? 1.0 : cap >= .avx2 ? 1.7 : 4.0
        let isa: ISALevel = mode == .int8 ? (cap >= .avx512_vnni ? .avx512_vnni : cap >= .avx2 ? .avx2 : .generic)
            : (cap >= .avx512_core ? .avx512_core : cap >= .avx2 ? .avx2 : .generic)
        let prec: Precision = mode == .int8 ? .i8 : .f32
        let specs: [(Int, String, String, String, Double, [String])] = [
            (14, "relu_0.tmp_0", "qconv2d", "conv", 0.412 * fpFactor * isaFactor, ["image.quantized", "image.dequantized", "conv2d_0.tmp_0", "batch_norm_0.tmp_2", "relu_0.tmp_0"]),
            (8, "pool2d_0.tmp_0", "pool2d", "pool", 0.051 * isaFactor, ["pool2d_0.tmp_0"]),
            (9, "flatten_0.tmp_0", "flatten_contiguous_range", "ref", 0.002, ["flatten_0.tmp_0"]),
            (15, "linear_0.tmp_1", "fc", "gemm", 0.019 * fpFactor * isaFactor, ["linear_0.tmp_0", "linear_0.tmp_1"]),
            (12, "softmax_0.tmp_0", "softmax", "ref", 0.006, ["softmax_0.tmp_0"]),
            (0, "image", "feed", "copy", 0.0, ["image"]),
        ]
        var layers: [LayerProfile] = []
        let total = specs.reduce(0) { $0 + $1.4 }
        for (k, sp) in specs.enumerated() {
            let wobble = 1 + 0.08 * sin(t * 1.3 + Double(k))
            let mean = sp.4
            let hist: [Double] = (0..<40).map { (i: Int) -> Double in mean * (1 + 0.1 * sin(Double(i) * 0.7 + Double(k) + t)) }
            let notRun = sp.2 == "feed"
            let precision: Precision = ["qconv2d", "fc"].contains(sp.2) ? prec : .f32
            let exec = notRun ? nil : ExecType(implementation: sp.3, isa: precision == .f32 && sp.3 != "gemm" ? .generic : isa,
                                               precision: precision)
            layers.append(LayerProfile(nodeID: sp.0, name: sp.1, status: notRun ? .notRun : .executed, layerType: sp.2,
                                       execType: exec, outPrecision: notRun ? nil : .f32,
                                       lastMs: mean * wobble, meanMs: mean, medianMs: mean * 0.98, minMs: mean * 0.9,
                                       cpuMs: mean * 0.95, percent: total > 0 ? mean / total * 100 : 0, history: notRun ? [] : hist,
                                       fusedFrom: sp.5))
        }
        let lat: Double = total * 1.05
        var history: [Double] = []
        for i in 0..<120 {
            let a: Double = 0.1 * sin(Double(i) * 0.37 + t)
            let b: Double = 0.04 * sin(Double(i) * 1.9)
            history.append(lat * (1 + a + b))
        }
        let last: Double = lat * (1 + 0.05 * sin(t))
        return ProfileSnapshot(layers: layers, runs: 1200 + Int(t * 50), latencyMedianMs: lat, latencyP90Ms: lat * 1.12,
                               latencyMinMs: lat * 0.93, latencyMaxMs: lat * 1.6, latencyLastMs: last,
                               latencyHistory: history, fps: 1000 / lat, mode: mode, isaCap: cap, threads: 4,
                               totalMs: total, totalCpuMs: total * 0.95)
    }

    public static func comparison() -> [CompareRow] {
        [CompareRow(nodeID: 14, name: "relu_0.tmp_0", layerType: "qconv2d", int8Ms: 0.412, fp32Ms: 1.071),
         CompareRow(nodeID: 8, name: "pool2d_0.tmp_0", layerType: "pool2d", int8Ms: 0.051, fp32Ms: 0.050),
         CompareRow(nodeID: 9, name: "flatten_0.tmp_0", layerType: "flatten_contiguous_range", int8Ms: 0.002, fp32Ms: 0.002),
         CompareRow(nodeID: 15, name: "linear_0.tmp_1", layerType: "fc", int8Ms: 0.019, fp32Ms: 0.041),
         CompareRow(nodeID: 12, name: "softmax_0.tmp_0", layerType: "softmax", int8Ms: 0.006, fp32Ms: 0.006),
         CompareRow(nodeID: 1, name: "image.quantized", layerType: "quantize_linear", int8Ms: nil, fp32Ms: 0.011)]
    }

    public static func dispatch() -> [Int: DispatchDecision] {
        [14: DispatchDecision(execType: ExecType(implementation: "conv", isa: .avx512_vnni, precision: .i8), rejected: [
            .init(implementation: "conv1x1", isa: .avx512_vnni, reason: "kernel is 3x3, needs 1x1 stride 1"),
            .init(implementation: "dwconv", isa: .avx512_core, reason: "not a depthwise convolution"),
        ]),
         15: DispatchDecision(execType: ExecType(implementation: "gemm", isa: .avx512_vnni, precision: .i8), rejected: [])]
    }

    /// A fake feed serving the fixed snapshot.
    public static func feed() -> FakeFeed {
        FakeFeed(snapshot: snapshot(), comparison: comparison(), dispatch: dispatch(),
                 cpuName: "Intel(R) Xeon(R) Demo 8375C @ 2.90GHz")
    }
}
