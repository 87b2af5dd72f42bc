import Foundation
import QtopFormat
import QtopGraph
import QtopTestSupport
@testable import QtopPasses

/// Builds small graphs by hand: values, constants and ops in execution order; shapes inferred at the end.
struct GraphBuilder {
    var nodes: [Node] = []
    var values: [String: ValueInfo] = [:]
    var inputs: [String] = []

    mutating func input(_ name: String, _ shape: [Int]) {
        values[name] = ValueInfo(name: name, dtype: .f32, shape: shape)
        inputs.append(name)
        nodes.append(Node(id: nodes.count, type: "feed", inputs: [Slot("X", ["feed"])], outputs: [Slot("Out", [name])],
                          attrs: Attributes([("col", .int(inputs.count - 1))]), provenance: ["feed_\(name)"]))
    }

    mutating func const(_ name: String, _ shape: [Int], _ v: [Float]) {
        values[name] = ValueInfo(name: name, dtype: .f32, shape: shape, persistable: true, constant: HostTensor(shape: shape, floats: v))
    }

    mutating func constI8(_ name: String, _ shape: [Int], _ v: [Int8]) {
        let t = HostTensor(dtype: .i8, shape: shape)
        for (i, x) in v.enumerated() { t.pointer(as: Int8.self)[i] = x }
        values[name] = ValueInfo(name: name, dtype: .i8, shape: shape, persistable: true, constant: t)
    }

    /// Adds an op; `shape` sets the first output's shape (for op types ShapeInference does not know).
    @discardableResult
    mutating func op(_ type: String, _ ins: [(String, [String])], _ outs: [(String, [String])],
                     _ attrs: [(String, AttrValue)] = [], shape: [Int]? = nil, name: String? = nil) -> Node {
        let n = Node(id: nodes.count, type: type, inputs: ins.map { Slot($0.0, $0.1) }, outputs: outs.map { Slot($0.0, $0.1) },
                     attrs: Attributes(attrs), provenance: [])
        let named = n.with(provenance: [name ?? n.name])
        nodes.append(named)
        for o in named.allOutputs where values[o] == nil { values[o] = ValueInfo(name: o, dtype: .f32, shape: nil) }
        if let shape, let o = named.allOutputs.first { values[o]!.shape = shape }
        return named
    }

    func graph(outputs: [String]) -> Graph {
        var ns = nodes
        for (i, o) in outputs.enumerated() {
            ns.append(Node(id: ns.count, type: "fetch", inputs: [Slot("X", [o])], outputs: [Slot("Out", ["fetch"])],
                           attrs: Attributes([("col", .int(i))]), provenance: ["fetch_\(o)"]))
        }
        var g = Graph(nodes: ns, values: values, inputs: inputs, outputs: outputs)
        let known = values.filter { $0.value.shape != nil }
        ShapeInference.run(&g)
        for (k, v) in known where g.values[k]?.shape == nil { g.values[k]!.shape = v.shape }
        return g
    }

    // Common Paddle patterns.
    mutating func qdq(_ x: String, _ out: String, range: Float, observer: Bool = false, axis: Int = -1) {
        let s = "\(out).scale", zp = "\(out).zp"
        const(s, [1], [range])
        const(zp, [1], [0])
        let attrs: [(String, AttrValue)] = [("bit_length", .int(8)), ("quant_axis", .int(axis)), ("round_type", .int(0)),
                                            ("only_observer", .bool(observer)), ("is_test", .bool(true))]
        op("quantize_linear", [("X", [x]), ("Scale", [s]), ("ZeroPoint", [zp])], [("Y", ["\(out).q"])], attrs)
        op("dequantize_linear", [("X", ["\(out).q"]), ("Scale", [s]), ("ZeroPoint", [zp])], [("Y", [out])], attrs)
    }

    /// int8 conv weights [oc, ic, k, k] + per-channel dequantize_linear → returns the dequantized name.
    mutating func int8Weights(_ name: String, _ shape: [Int], ranges: [Float], axis: Int) -> String {
        let n = shape.reduce(1, *)
        constI8(name, shape, (0..<n).map { Int8(($0 * 37 % 255) - 127) })
        const("\(name).scale", [ranges.count], ranges)
        const("\(name).zp", [ranges.count], Array(repeating: 0, count: ranges.count))
        op("dequantize_linear", [("X", [name]), ("Scale", ["\(name).scale"]), ("ZeroPoint", ["\(name).zp"])], [("Y", ["\(name).dq"])],
           [("bit_length", .int(8)), ("quant_axis", .int(axis)), ("round_type", .int(0)), ("only_observer", .bool(false))])
        return "\(name).dq"
    }

    mutating func conv(_ x: String, _ w: String, _ out: String, groups: Int = 1, pads: [Int] = [1, 1], strides: [Int] = [1, 1],
                       type: String = "conv2d", algo: String = "EXPLICIT") {
        op(type, [("Input", [x]), ("Filter", [w])], [("Output", [out])],
           [("strides", .ints(strides)), ("paddings", .ints(pads)), ("dilations", .ints([1, 1])), ("groups", .int(groups)),
            ("data_format", .string("NCHW")), ("padding_algorithm", .string(algo))])
    }

    mutating func bn(_ x: String, _ out: String, channels c: Int) {
        const("\(out).g", [c], (0..<c).map { 0.5 + Float($0) * 0.25 })
        const("\(out).b", [c], (0..<c).map { Float($0) * 0.1 - 0.2 })
        const("\(out).m", [c], (0..<c).map { Float($0) * 0.05 })
        const("\(out).v", [c], (0..<c).map { 1 + Float($0) * 0.5 })
        op("batch_norm", [("X", [x]), ("Scale", ["\(out).g"]), ("Bias", ["\(out).b"]), ("Mean", ["\(out).m"]), ("Variance", ["\(out).v"])],
           [("Y", [out]), ("MeanOut", ["\(out).m"]), ("VarianceOut", ["\(out).v"])],
           [("epsilon", .float(1e-5)), ("is_test", .bool(true)), ("data_layout", .string("NCHW"))])
    }
}

enum Samples {
    /// A sample model path if the file exists (worktree samples/, the main checkout's, or $QTOP_SAMPLES).
    static func path(_ name: String) -> String? {
        var dirs = ["\(RepoPaths.root)/samples", "/work/main/samples"]
        if let env = ProcessInfo.processInfo.environment["QTOP_SAMPLES"] { dirs.insert(env, at: 0) }
        for d in dirs where FileManager.default.fileExists(atPath: "\(d)/\(name).pdmodel") { return "\(d)/\(name).pdmodel" }
        return nil
    }
}

extension Graph {
    func types() -> [String] { nodes.map(\.type) }
    func nonIO() -> [Node] { nodes.filter { $0.type != "feed" && $0.type != "fetch" } }
    func nodeWriting(_ v: String) -> Node? { producer(of: v) }
}

func dump(_ g: Graph) -> String {
    g.nodes.map { n in
        let ins = n.inputs.map { "\($0.name)=\($0.args.joined(separator: ","))" }.joined(separator: " ")
        let outs = n.outputs.map { "\($0.name)=\($0.args.map { a in "\(a)\(g.values[a]?.shape.map { "\($0)" } ?? "?")\(g.values[a]?.dtype?.rawValue ?? "")" }.joined(separator: ","))" }.joined(separator: " ")
        let at = n.attrs.entries.filter { !["op_role", "op_role_var", "op_namescope", "op_callstack", "op_device", "with_quant_attr", "use_mkldnn", "use_cudnn", "is_test", "exhaustive_search", "workspace_size_MB", "fuse_relu_before_depthwise_conv", "use_quantizer", "mkldnn_data_type", "name"].contains($0.name) }
            .map { "\($0.name)=\($0.value)" }.joined(separator: " ")
        return "#\(n.id) \(n.type) [\(ins)] -> [\(outs)] {\(at)} prov=\(n.provenance)"
    }.joined(separator: "\n")
}
