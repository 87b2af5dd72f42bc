import Foundation
import QtopFormat

/// A model as loaded from disk: where it came from, the raw program, and the graph built from it.
public struct LoadedModel: Sendable {
    /// The program as the file states it: a legacy `ProgramDesc` or a Paddle 3 PIR program.
    public enum Source: Sendable {
        case legacy(ProgramDesc)
        case pir(PIRProgram)
    }

    public let files: ModelFiles
    public let source: Source
    public let graph: Graph

    /// The legacy program, when the model is a `.pdmodel`.
    public var program: ProgramDesc? {
        if case .legacy(let p) = source { return p }
        return nil
    }

    /// A short display name (file name without extension, or the directory name).
    public var displayName: String {
        let p = files.program as NSString
        let last = p.lastPathComponent
        if last == "__model__" || last == "inference.pdmodel" || last == "model.pdmodel" || last == "inference.json" {
            return (p.deletingLastPathComponent as NSString).lastPathComponent
        }
        return (last as NSString).deletingPathExtension
    }
}

/// Builds the graph IR from a Paddle program and its parameters.
public enum ModelLoader {
    public static func load(_ path: String) throws -> LoadedModel {
        let files = try ModelFiles.resolve(path)
        // The params file is read while the program decodes (it needs the program only to name the tensors).
        let prefetch = ParamsPrefetch.start(files)
        if files.isPIR {
            let program = try PIRReader.read(files.program)
            let params = try ParamsReader.load(pir: program, files: files, prefetched: prefetch)
            let graph = try PIRImport.buildGraph(program: program, params: params, file: files.program)
            return LoadedModel(files: files, source: .pir(program), graph: graph)
        }
        let program = try ProgramReader.read(files.program)
        let params = try ParamsReader.load(declared: ParamsReader.storedParameters(of: program), files: files, prefetched: prefetch)
        let graph = try buildGraph(program: program, params: params, file: files.program)
        return LoadedModel(files: files, source: .legacy(program), graph: graph)
    }

    public static func buildGraph(program: ProgramDesc, params: [String: HostTensor], file: String) throws -> Graph {
        guard let block = program.blocks.first else { throw FormatError(file: file, "program has no blocks") }
        var values: [String: ValueInfo] = [:]
        for v in block.vars {
            var info = ValueInfo(name: v.name, dtype: v.tensorDType, shape: v.type.hasLodTensor ? v.tensorDims : nil,
                                 persistable: v.persistable)
            if let t = params[v.name] {
                // The stored tensor wins over the declaration.
                info.dtype = t.dtype
                info.shape = t.shape
                info.constant = t
            }
            values[v.name] = info
        }
        var nodes: [Node] = []
        var feeds: [(Int, String)] = []
        var fetches: [(Int, String)] = []
        for (i, op) in block.ops.enumerated() {
            let attrs = Attributes(op.attrs.map { ($0.name, attrValue($0)) })
            let inputs = op.inputs.map { Slot($0.parameter, $0.arguments) }
            let outputs = op.outputs.map { Slot($0.parameter, $0.arguments) }
            let node = Node(id: i, type: op.type, inputs: inputs, outputs: outputs, attrs: attrs, provenance: [])
            let named = node.with(provenance: [node.name])
            nodes.append(named)
            if op.type == "feed", let out = named.output("Out") { feeds.append((attrs.int("col", default: feeds.count), out)) }
            if op.type == "fetch", let x = named.input("X") { fetches.append((attrs.int("col", default: fetches.count), x)) }
        }
        var graph = Graph(nodes: nodes, values: values, inputs: feeds.sorted { $0.0 < $1.0 }.map(\.1),
                          outputs: fetches.sorted { $0.0 < $1.0 }.map(\.1))
        try checkOrder(graph, file: file)
        ShapeInference.run(&graph)
        return graph
    }

    /// Every input of every op must be a constant, a model input, or written by an earlier op.
    static func checkOrder(_ g: Graph, file: String) throws {
        var available = Set(g.values.values.filter { $0.constant != nil }.map(\.name))
        available.insert("feed")
        for n in g.nodes {
            for v in n.allInputs where !available.contains(v) {
                if g.values[v]?.persistable == true {
                    throw FormatError(file: file, "op \(n.type) '\(n.name)' reads persistable '\(v)' that the params file does not provide")
                }
                throw FormatError(file: file, "op \(n.type) '\(n.name)' reads '\(v)' before any op writes it")
            }
            available.formUnion(n.allOutputs)
        }
    }

    static func attrValue(_ a: OpDesc.Attr) -> AttrValue {
        switch a.type {
        case .int: return .int(Int(a.i))
        case .float: return .float(a.f)
        case .string: return .string(a.s)
        case .ints: return .ints(a.ints.map { Int($0) })
        case .floats: return .floats(a.floats)
        case .strings: return .strings(a.strings)
        case .boolean: return .bool(a.b)
        case .booleans: return .bools(a.bools)
        case .block: return .block(Int(a.blockIdx))
        case .long: return .long(a.l)
        case .blocks: return .blocks(a.blocksIdx.map { Int($0) })
        case .longs: return .longs(a.longs)
        case .float64S: return .float64s(a.float64S)
        case .var: return .variable(a.varName)
        case .vars: return .variables(a.varsName)
        case .float64: return .float64(a.float64)
        case .scalar: return .scalar(scalarValue(a.scalar))
        case .scalars: return .scalars(a.scalars.map(scalarValue))
        }
    }

    static func scalarValue(_ s: Paddle_Framework_Proto_Scalar) -> Double {
        switch s.type {
        case .boolean: return s.b ? 1 : 0
        case .long: return Double(s.i)
        case .float64: return s.r
        case .complex128: return s.c.r
        }
    }
}
