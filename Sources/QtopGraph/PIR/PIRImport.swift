import Foundation
import QtopFormat

/// Builds the graph IR from a PIR program and its parameters: the same IR the legacy `.pdmodel` gives.
///
/// - Values get names: parameters keep theirs, `pd_op.data` results take the input's name, every other result is
///   `<op>_<k>` (`pd_op.conv2d_3`; further results `pd_op.batch_norm__0.1`), k counting that op name in order — so
///   node names and provenance show the PIR op.
/// - `pd_op.data` becomes a `feed` node, `pd_op.fetch` / `builtin.shadow_output` a `fetch` node (legacy layout).
/// - `full`, `full_int_array` and `assign_value` are evaluated into constants; a constant operand that the legacy op
///   holds as an attribute (pool2d kernel size, reshape shape, concat axis …) becomes that attribute.
/// - `builtin.combine` / `builtin.split` (vectors of values) expand into slot lists; `builtin.parameter` values are
///   the constants read from `.pdiparams`.
/// - `struct_name` becomes the node's `layerPath`. Ops without a mapping keep their PIR name and positional slots
///   (`in0`, `out0` …): they load and list; only running them fails.
public enum PIRImport {
    /// Constants evaluated at import larger than this are refused (real ones are shapes and scalars).
    static let maxConstantElements = 1 << 24

    public static func buildGraph(program: PIRProgram, params: [String: HostTensor], file: String) throws -> Graph {
        var b = Builder(file: file, program: program)
        try b.run(params: params)
        var graph = Graph(nodes: b.nodes, values: b.values, inputs: b.feeds.map(\.1), outputs: b.fetches.sorted { $0.0 < $1.0 }.map(\.1))
        try ModelLoader.checkOrder(graph, file: file)
        ShapeInference.run(&graph)
        return graph
    }

    struct Builder {
        let file: String
        let program: PIRProgram
        var names: [Int: String] = [:]
        /// Vector values (combine results, vector results) → their element names.
        var vectors: [Int: [String]] = [:]
        var values: [String: ValueInfo] = [:]
        var nodes: [Node] = []
        var feeds: [(Int, String)] = []
        var fetches: [(Int, String)] = []
        var counters: [String: Int] = [:]
        /// builtin.split: vector id → element result values, found up front so the producer can name them.
        var splitResults: [Int: [PIRValue]] = [:]
        /// How many ops read each value id.
        var readers: [Int: Int] = [:]

        init(file: String, program: PIRProgram) {
            self.file = file
            self.program = program
        }

        func fail(_ op: PIROp, _ what: String) -> FormatError { FormatError(file: file, "op #\(op.index) \(op.name): \(what)") }

        mutating func run(params: [String: HostTensor]) throws {
            for p in program.parameters {
                guard let t = params[p.name] else {
                    throw FormatError(file: file, "parameter '\(p.name)' was not read from the params file")
                }
                names[p.value.id] = p.name
                values[p.name] = ValueInfo(name: p.name, dtype: t.dtype, shape: t.shape, persistable: true, constant: t)
            }
            for op in program.ops {
                for i in op.inputs where i != 0 { readers[i, default: 0] += 1 }
                if op.name == "builtin.split", let v = op.inputs.first { splitResults[v] = op.outputs }
            }
            values["feed"] = ValueInfo(name: "feed", dtype: nil, shape: nil, persistable: true)
            values["fetch"] = ValueInfo(name: "fetch", dtype: nil, shape: nil, persistable: true)
            for op in program.ops { try add(op) }
        }

        /// A fresh value name for result `j` of `op` (counted per op name).
        mutating func name(_ op: PIROp, result j: Int, k: Int) -> String {
            var base = j == 0 ? "\(op.name)_\(k)" : "\(op.name)_\(k).\(j)"
            while values[base] != nil { base += "_" }
            return base
        }

        mutating func define(_ v: PIRValue, as name: String) {
            names[v.id] = name
            values[name] = ValueInfo(name: name, dtype: v.type.dtype, shape: v.type.dims)
        }

        /// The names an operand stands for: one value, or every element of a vector.
        func args(_ id: Int, _ op: PIROp) throws -> [String] {
            if id == 0 { return [] }
            if let v = vectors[id] { return v }
            guard let n = names[id] else { throw fail(op, "reads value %\(id) that has no name (a vector read as a tensor?)") }
            return [n]
        }

        mutating func add(_ op: PIROp) throws {
            let k = counters[op.name, default: 0]
            counters[op.name] = k + 1
            var attrs = Attributes()
            var layerPath: String?
            for (n, a) in op.attrs {
                if n == "struct_name", let s = a.string { layerPath = s; continue }
                attrs[n] = PIRImport.attrValue(a)
            }
            switch op.name {
            case "pd_op.data", "pd_op.feed":
                guard let out = op.outputs.first, let inputName = op.attr("name")?.string, !inputName.isEmpty else {
                    throw fail(op, "a model input needs a result and a name")
                }
                guard values[inputName] == nil else { throw fail(op, "input name '\(inputName)' is used twice") }
                define(out, as: inputName)
                feeds.append((feeds.count, inputName))
                attrs["col"] = .int(feeds.count - 1)
                emit(op, "feed", inputs: [Slot("X", ["feed"])], outputs: [Slot("Out", [inputName])], attrs, layerPath)
            case "pd_op.fetch", "builtin.shadow_output":
                guard op.inputs.count == 1 else { throw fail(op, "expects one operand") }
                let x = try args(op.inputs[0], op)
                guard x.count == 1 else { throw fail(op, "fetches a vector") }
                let col = op.name == "pd_op.fetch" ? (op.attr("col")?.int ?? fetches.count) : fetches.count
                fetches.append((col, x[0]))
                if let out = op.outputs.first, out.id != 0 { names[out.id] = x[0] }
                attrs["col"] = .int(col)
                emit(op, "fetch", inputs: [Slot("X", x)], outputs: [Slot("Out", ["fetch"])], attrs, layerPath)
            case "pd_op.full", "pd_op.full_int_array", "pd_op.assign_value", "pd_op.assign_value_":
                guard let out = op.outputs.first else { throw fail(op, "has no result") }
                let n = name(op, result: 0, k: k)
                names[out.id] = n
                values[n] = ValueInfo(name: n, dtype: out.type.dtype, shape: out.type.dims, constant: try constant(op, out))
            case "builtin.combine":
                guard let out = op.outputs.first else { throw fail(op, "has no result") }
                vectors[out.id] = try op.inputs.flatMap { try args($0, op) }
            case "builtin.split":
                // Named by the producer of the vector; nothing to emit.
                guard let v = op.inputs.first, vectors[v] != nil else { throw fail(op, "splits a value that is not a vector") }
            case "builtin.parameter", "builtin.constant":
                throw fail(op, "constants must be parameter ops (\"p\") with data in the params file")
            default:
                try addMapped(op, k: k, attrs: attrs, layerPath: layerPath)
            }
        }

        mutating func emit(_ op: PIROp, _ type: String, inputs: [Slot], outputs: [Slot], _ attrs: Attributes, _ layerPath: String?) {
            let node = Node(id: nodes.count, type: type, inputs: inputs, outputs: outputs, attrs: attrs, provenance: [], layerPath: layerPath)
            nodes.append(node.with(provenance: [node.name]))
        }

        /// Names the results of `op` (a vector result takes the element names of its builtin.split).
        mutating func results(_ op: PIROp, k: Int, slots: [String], dropUnreadAux: Bool) -> [Slot] {
            var out: [Slot] = []
            for (j, r) in op.outputs.enumerated() {
                let slot = j < slots.count ? slots[j] : "out\(j)"
                if r.id == 0 { continue }
                if dropUnreadAux && j > 0 && readers[r.id, default: 0] == 0 { continue }
                if case .vector = r.type {
                    let elems = splitResults[r.id] ?? []
                    var list: [String] = []
                    for (e, v) in elems.enumerated() {
                        let n = name(op, result: j, k: k) + "_\(e)"
                        define(v, as: n)
                        list.append(n)
                    }
                    vectors[r.id] = list
                    out.append(Slot(slot, list))
                } else {
                    let n = name(op, result: j, k: k)
                    define(r, as: n)
                    out.append(Slot(slot, [n]))
                }
            }
            return out
        }

        mutating func addMapped(_ op: PIROp, k: Int, attrs a: Attributes, layerPath: String?) throws {
            var attrs = a
            guard let m = PIROpTable.mapping(for: op.opName), op.dialect == "pd_op" else {
                // Unknown op: positional slots, PIR name kept; it lists, and fails only when run.
                let ins = try op.inputs.enumerated().map { Slot("in\($0.offset)", try args($0.element, op)) }
                let outs = results(op, k: k, slots: [], dropUnreadAux: false)
                emit(op, op.name, inputs: ins, outputs: outs, attrs, layerPath)
                return
            }
            // In key order: a dictionary's own order changes from run to run, and the listing must not.
            for (from, to) in m.renames.sorted(by: { $0.key < $1.key }) { if let v = attrs[from] { attrs[from] = nil; attrs[to] = v } }
            var ins: [Slot] = []
            for (i, id) in op.inputs.enumerated() {
                let how: PIROpMapping.Operand = i < m.operands.count ? m.operands[i] : .slot("in\(i)")
                switch how {
                case .slot(let s):
                    ins.append(Slot(s, try args(id, op)))
                case .drop:
                    continue
                case .attr(let name, let kind, let tensorSlot):
                    if id == 0 { continue }
                    if let v = try constantAttr(id, kind: kind, op) {
                        attrs[name] = v
                    } else {
                        ins.append(Slot(tensorSlot ?? name, try args(id, op)))
                    }
                }
            }
            for (n, v) in m.defaults where attrs[n] == nil { attrs[n] = v }
            if m.type.hasPrefix("reduce_"), attrs.ints("dim", default: []).isEmpty { attrs["reduce_all"] = .bool(true) }
            let outs = results(op, k: k, slots: m.results, dropUnreadAux: m.dropUnreadAuxResults)
            emit(op, m.type, inputs: ins, outputs: outs, attrs, layerPath)
            try PIRAttributeChecks.check(nodes[nodes.count - 1], values) { fail(op, $0) }
        }

        /// The attribute a constant operand stands for, or nil when the operand is computed at run time.
        func constantAttr(_ id: Int, kind: PIROpMapping.AttrKind, _ op: PIROp) throws -> AttrValue? {
            var numbers: [Double] = []
            for n in try args(id, op) {
                guard let c = values[n]?.constant else { return nil }
                numbers += c.doubleValues()
            }
            switch kind {
            case .float:
                guard numbers.count == 1 else { throw fail(op, "expects one number, the constant holds \(numbers.count)") }
                return .float(Float(numbers[0]))
            case .int, .ints:
                var ints: [Int] = []
                for x in numbers {
                    guard x.isFinite, x == x.rounded(), abs(x) < 9e15 else { throw fail(op, "non-integer \(x) where integers are expected") }
                    ints.append(Int(x))
                }
                if kind == .int {
                    guard ints.count == 1 else { throw fail(op, "expects one integer, the constant holds \(ints.count)") }
                    return .int(ints[0])
                }
                return .ints(ints)
            }
        }

        /// Evaluates `full` (shape, value, dtype), `full_int_array` (value, dtype) and `assign_value` (shape, dtype, values).
        func constant(_ op: PIROp, _ out: PIRValue) throws -> HostTensor {
            let dtypeName = op.attr("dtype")?.string ?? out.type.dtype?.paddleName ?? "float32"
            guard let dtype = PIRImport.dtype(named: dtypeName) ?? out.type.dtype, dtype != .f16, dtype != .bf16 else {
                throw fail(op, "unsupported constant dtype '\(dtypeName)'")
            }
            var shape: [Int]
            var data: [Double]
            switch op.opName {
            case "full":
                shape = op.attr("shape")?.ints ?? out.type.dims ?? []
                guard let v = op.attr("value")?.double else { throw fail(op, "has no numeric value") }
                guard shape.allSatisfy({ $0 >= 0 }) else { throw fail(op, "has a dynamic shape \(shape)") }
                let n = try PIRImport.count(shape, op, file)
                data = Array(repeating: v, count: n)
            case "full_int_array":
                guard let v = op.attr("value")?.ints else { throw fail(op, "has no integer values") }
                shape = [v.count]
                data = v.map(Double.init)
            default:
                shape = op.attr("shape")?.ints ?? out.type.dims ?? []
                guard case .array(let xs)? = op.attr("values") else { throw fail(op, "has no values") }
                data = try xs.map { guard let d = $0.double else { throw fail(op, "has a non-numeric value") }; return d }
                guard shape.allSatisfy({ $0 >= 0 }), try PIRImport.count(shape, op, file) == data.count else {
                    throw fail(op, "holds \(data.count) values for shape \(shape)")
                }
            }
            guard data.count <= PIRImport.maxConstantElements else { throw fail(op, "constant of \(data.count) elements is implausibly large") }
            return HostTensor(dtype: dtype, shape: shape, doubles: data)
        }
    }

    static func count(_ shape: [Int], _ op: PIROp, _ file: String) throws -> Int {
        var n = 1
        for d in shape {
            let (m, o) = n.multipliedReportingOverflow(by: d)
            guard !o, m <= maxConstantElements else {
                throw FormatError(file: file, "op #\(op.index) \(op.name): constant of shape \(shape) is implausibly large")
            }
            n = m
        }
        return n
    }

    static func dtype(named s: String) -> DType? {
        switch s {
        case "float32": return .f32
        case "float64": return .f64
        case "float16": return .f16
        case "bfloat16": return .bf16
        case "int8": return .i8
        case "uint8": return .u8
        case "int16": return .i16
        case "int32": return .i32
        case "int64": return .i64
        case "bool": return .bool
        default: return nil
        }
    }

    /// A PIR attribute as a graph attribute, its type kept as close as the legacy vocabulary allows.
    static func attrValue(_ a: PIRAttr) -> AttrValue {
        switch a {
        case .i32(let v): return .int(v)
        case .i64(let v), .index(let v): return .long(Int64(v))
        case .f32(let v): return .float(v)
        case .f64(let v): return .float64(v)
        case .bool(let v): return .bool(v)
        case .string(let s), .tensorName(let s), .dataType(let s), .layout(let s): return .string(s)
        case .intArray(let v): return .ints(v)
        case .scalar(_, let v): return .scalar(v)
        case .complex(let re, _): return .float64(re)
        case .place(let t, let dev, let dt): return .string(placeName(t, dev, dt))
        case .type(let t): return .string(typeName(t))
        case .array(let xs):
            if xs.isEmpty { return .ints([]) }
            var i32: [Int] = [], i64: [Int64] = [], f32: [Float] = [], f64: [Double] = [], bools: [Bool] = [], strs: [String] = []
            for x in xs {
                switch x {
                case .i32(let v): i32.append(v)
                case .i64(let v), .index(let v): i64.append(Int64(v))
                case .f32(let v): f32.append(v)
                case .f64(let v): f64.append(v)
                case .scalar(_, let v): f64.append(v)
                case .bool(let v): bools.append(v)
                default: strs.append(attrValue(x).string ?? "\(x)")
                }
            }
            if i32.count == xs.count { return .ints(i32) }
            if i64.count == xs.count { return .longs(i64) }
            if f32.count == xs.count { return .floats(f32) }
            if f64.count == xs.count { return .float64s(f64) }
            if bools.count == xs.count { return .bools(bools) }
            if strs.count == xs.count { return .strings(strs) }
            return .strings(xs.map { "\($0)" })
        }
    }

    /// Paddle's AllocationType numbering: 0 undefined, 1 cpu, 2 gpu, 3 gpu pinned, 4 xpu, 7 ipu, 9 custom.
    static func placeName(_ t: Int, _ dev: Int, _ dt: String) -> String {
        switch t {
        case 0: return "undefined"
        case 1: return "cpu"
        case 2: return "gpu:\(dev)"
        case 3: return "gpu_pinned"
        case 4: return "xpu:\(dev)"
        default: return dt.isEmpty ? "place(\(t)):\(dev)" : "\(dt):\(dev)"
        }
    }

    static func typeName(_ t: PIRType) -> String {
        switch t {
        case .tensor(let e, let d): return "tensor<\(d.map { $0 < 0 ? "?" : String($0) }.joined(separator: "x"))x\(e)>"
        case .vector(let xs): return "vec[" + xs.map(typeName).joined(separator: ",") + "]"
        case .null: return "null"
        case .other(let s): return s
        }
    }
}

extension HostTensor {
    /// A tensor of `dtype` holding `values` (converted, integers truncated toward zero).
    convenience init(dtype: DType, shape: [Int], doubles values: [Double]) {
        self.init(dtype: dtype, shape: shape)
        for (i, v) in values.enumerated() {
            let iv: Int64 = v.isFinite ? Int64(max(-9.2e18, min(9.2e18, v))) : 0
            switch dtype {
            case .f32: pointer(as: Float.self)[i] = Float(v)
            case .f64: pointer(as: Double.self)[i] = v
            case .i64: pointer(as: Int64.self)[i] = iv
            case .i32: pointer(as: Int32.self)[i] = Int32(truncatingIfNeeded: iv)
            case .i16: pointer(as: Int16.self)[i] = Int16(truncatingIfNeeded: iv)
            case .i8: pointer(as: Int8.self)[i] = Int8(truncatingIfNeeded: iv)
            case .u8: pointer(as: UInt8.self)[i] = UInt8(truncatingIfNeeded: iv)
            case .bool: pointer(as: UInt8.self)[i] = v != 0 ? 1 : 0
            case .f16, .bf16: preconditionFailure("half-precision constants are refused before this")
            }
        }
    }

    /// Every element as a Double (integers exactly up to 2^53).
    func doubleValues() -> [Double] {
        switch dtype {
        case .i64: return (0..<count).map { Double(pointer(as: Int64.self)[$0]) }
        case .i32: return (0..<count).map { Double(pointer(as: Int32.self)[$0]) }
        case .f64: return (0..<count).map { pointer(as: Double.self)[$0] }
        default: return floatValues().map(Double.init)
        }
    }
}
