import QtopFormat
import QtopGraph
import QtopPasses

/// Options that shape a plan: which implementations may be chosen and how many threads they may use.
public struct PlanOptions: Sendable {
    /// Highest ISA level kernels may use ("that level and older").
    public var isaCap: ISALevel
    /// ISA levels this CPU supports.
    public var available: Set<ISALevel>
    /// Only reference kernels (the oracle), e.g. for `--mode reference`.
    public var referenceOnly: Bool
    /// Refuse plans needing more bytes than this (buffers + weights); nil = the machine's physical memory.
    public var maxMemory: Int?

    public init(isaCap: ISALevel = .generic, available: Set<ISALevel> = [.generic], referenceOnly: Bool = false,
                maxMemory: Int? = nil) {
        self.isaCap = isaCap
        self.available = available
        self.referenceOnly = referenceOnly
        self.maxMemory = maxMemory
    }
}

public struct ExecutionError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// A compiled plan for one graph at fixed input shapes: a kernel per node, the dispatch decision behind it, and a
/// memory plan. `run` executes nodes in order; the optional profiler records each node's wall and CPU time.
public final class Executor: @unchecked Sendable {
    public struct Step {
        public let node: Node
        public let kernel: Kernel?
        public let decision: DispatchDecision
        let inputRefs: [(String, [String])]
        let outputRefs: [(String, [String])]
    }

    public let graph: Graph
    public let steps: [Step]
    public let memory: MemoryPlan
    public let threads: ThreadContext
    private var buffers: [UnsafeMutableRawPointer]
    private var tensors: [String: Tensor] = [:]

    /// Builds a plan. `inputShapes` fixes unknown extents (the batch); missing inputs get batch 1.
    public init(graph g0: Graph, registry: KernelRegistry, options: PlanOptions, threads: ThreadContext = .serial,
                inputShapes: [String: [Int]] = [:]) throws {
        var shapes = inputShapes
        for name in g0.inputs where shapes[name] == nil {
            guard let s = g0.values[name]?.shape else { throw ExecutionError("input '\(name)' has no known shape") }
            shapes[name] = s.map { $0 < 0 ? 1 : $0 }
        }
        var g: Graph
        do { g = try ShapeInference.specialize(g0, inputShapes: shapes) } catch { throw ExecutionError("\(error)") }
        Executor.dequantizeFoldedWeights(&g)
        self.graph = g
        self.threads = threads

        // The memory plan depends on shapes only: build and check it before kernels pack weights or build tables.
        let written = Set(g.nodes.filter { $0.type != "fetch" }.flatMap { $0.allOutputs })
        let plan = MemoryPlan.build(graph: g, order: g.nodes.filter { $0.type != "fetch" }, bytesOf: { name in
            guard let v = g.values[name], let s = v.shape else { return 0 }
            return MemoryBudget.bytes(shape: s, elementBytes: (v.dtype ?? .f32).byteSize)
        }, keepAlive: Set(g.outputs))
        try MemoryBudget.check(bufferBytes: plan.slotBytes, constantBytes: MemoryBudget.total(g.values.values.compactMap { $0.constant?.byteCount }),
                               limit: options.maxMemory ?? MemoryBudget.physicalBytes)

        var steps: [Step] = []
        for node in g.nodes {
            let ins = node.inputs.map { ($0.name, $0.args) }
            let outs = node.outputs.map { ($0.name, $0.args) }
            if node.type == "feed" || node.type == "fetch" {
                steps.append(Step(node: node, kernel: nil,
                                  decision: DispatchDecision(execType: "copy:generic:\(Executor.precisionName(g, node))", implementation: "copy", isa: .generic, rejected: []),
                                  inputRefs: ins, outputRefs: outs))
                continue
            }
            let (kernel, decision) = try Executor.choose(node: node, graph: g, registry: registry, options: options)
            steps.append(Step(node: node, kernel: kernel, decision: decision, inputRefs: ins, outputRefs: outs))
        }
        self.steps = steps

        for v in g.values.values where v.constant == nil && v.shape != nil {
            if v.shape!.contains(where: { $0 < 0 }) && g.nodes.contains(where: { $0.allOutputs.contains(v.name) && $0.type != "fetch" }) {
                throw ExecutionError("shape of '\(v.name)' is still unknown after shape inference")
            }
        }
        self.memory = plan
        self.buffers = plan.slotBytes.map { UnsafeMutableRawPointer.allocate(byteCount: $0 + 64, alignment: 64) }
        for (name, v) in g.values {
            if let c = v.constant { tensors[name] = Tensor(c); continue }
            guard written.contains(name), let slot = plan.slotOf[name], let s = v.shape else { continue }
            tensors[name] = Tensor(dtype: v.dtype ?? .f32, shape: s, data: buffers[slot])
        }
    }

    deinit { for b in buffers { b.deallocate() } }

    /// Float ops of an intermediate pass snapshot may read int8 weights folded by fold-weight-dequant (with
    /// `weight_scales`); float kernels get them dequantized once here, exactly as Paddle's dequantize_linear would.
    static func dequantizeFoldedWeights(_ g: inout Graph) {
        for n in g.nodes where !n.type.hasPrefix("q") && n.attrs["weight_scales"] != nil {
            guard let slot = QuantMath.weightSlot(n), let name = n.input(slot), g.values[name]?.constant?.dtype == .i8,
                  let w = QuantMath.dequantizedWeights(of: n, in: g) else { continue }
            g.values[name]!.constant = w
            g.values[name]!.dtype = .f32
        }
    }

    static func precisionName(_ g: Graph, _ n: Node) -> String {
        let dt = n.allOutputs.compactMap { g.values[$0]?.dtype }.first ?? .f32
        return precision(of: dt).rawValue.lowercased()
    }

    public static func precision(of dt: DType) -> Precision {
        switch dt {
        case .i8: return .i8
        case .u8: return .u8
        case .i32: return .i32
        case .i64: return .i64
        default: return .f32
        }
    }

    /// The best applicable kernel: highest ISA within the cap that the CPU has, then priority. Every candidate
    /// passed over is recorded with its reason, as `ONEDNN_VERBOSE=dispatch` would print.
    static func choose(node: Node, graph: Graph, registry: KernelRegistry, options: PlanOptions) throws -> (Kernel, DispatchDecision) {
        let ctx = KernelBuildContext(node: node, graph: graph, isaCap: options.isaCap, available: options.available)
        var rejected: [DispatchDecision.Rejected] = []
        let candidates = registry.candidates(for: node.type)
        guard !candidates.isEmpty else {
            throw ExecutionError("no kernel for op type '\(node.type)' (node '\(node.name)'): qtop can show this op but not run it")
        }
        for e in candidates {
            if options.referenceOnly && e.implementation != "ref" {
                rejected.append(.init(implementation: e.implementation, isa: e.isa, reason: "reference mode runs reference kernels only"))
                continue
            }
            if !options.available.contains(e.isa) {
                rejected.append(.init(implementation: e.implementation, isa: e.isa, reason: "CPU lacks \(e.isa.rawValue)"))
                continue
            }
            if e.isa > options.isaCap {
                rejected.append(.init(implementation: e.implementation, isa: e.isa, reason: "above the ISA cap \(options.isaCap.rawValue)"))
                continue
            }
            switch try e.make(ctx) {
            case .ready(let k):
                return (k, DispatchDecision(execType: e.execType, implementation: e.implementation, isa: e.isa, rejected: rejected))
            case .rejected(let why):
                rejected.append(.init(implementation: e.implementation, isa: e.isa, reason: why))
            }
        }
        let reasons = rejected.map { "\($0.implementation)/\($0.isa.rawValue): \($0.reason)" }.joined(separator: "; ")
        throw ExecutionError("no kernel can run \(node.type) '\(node.name)': \(reasons)")
    }

    /// Input names and shapes this plan was compiled for.
    public var inputShapes: [String: [Int]] {
        Dictionary(uniqueKeysWithValues: graph.inputs.map { ($0, graph.values[$0]?.shape ?? []) })
    }

    /// Runs the graph. Inputs must match the planned shapes and dtypes; outputs come back in `graph.outputs` order.
    @discardableResult
    public func run(_ inputs: [String: HostTensor], profiler: Profiler? = nil,
                    observe: ((Node, String, Tensor) -> Void)? = nil) throws -> [HostTensor] {
        for name in graph.inputs {
            guard let t = inputs[name] else { throw ExecutionError("missing input '\(name)'") }
            guard let dst = tensors[name] else { throw ExecutionError("input '\(name)' is not planned") }
            guard t.shape == dst.shape else { throw ExecutionError("input '\(name)' has shape \(t.shape), the plan expects \(dst.shape)") }
            guard t.dtype == dst.dtype else { throw ExecutionError("input '\(name)' is \(t.dtype.paddleName), the model expects \(dst.dtype.paddleName)") }
        }
        let runStart = profiler != nil ? Clock.wallNs() : 0
        for step in steps {
            let w0 = profiler != nil ? Clock.wallNs() : 0
            let c0 = profiler != nil ? Clock.cpuNs() : 0
            switch step.node.type {
            case "feed":
                if let out = step.node.output("Out"), let dst = tensors[out], let src = inputs[out] {
                    dst.data.copyMemory(from: src.raw, byteCount: dst.byteCount)
                }
            case "fetch":
                break
            default:
                var ins: [String: [Tensor]] = [:]
                for (slot, args) in step.inputRefs {
                    ins[slot] = try args.map { a in
                        guard let t = tensors[a] else { throw ExecutionError("\(step.node.type) '\(step.node.name)': input '\(a)' has no data") }
                        return t
                    }
                }
                var outs: [String: [Tensor]] = [:]
                for (slot, args) in step.outputRefs {
                    let ts = args.compactMap { a -> Tensor? in graph.values[a]?.constant == nil ? tensors[a] : nil }
                    if ts.count == args.count { outs[slot] = ts }
                }
                do {
                    try step.kernel!.run(KernelIO(inputs: ins, outputs: outs, threads: threads))
                } catch {
                    throw ExecutionError("\(step.node.type) '\(step.node.name)': \(error)")
                }
            }
            if let p = profiler { p.record(nodeID: step.node.id, wallNs: Clock.wallNs() - w0, cpuNs: Clock.cpuNs() - c0) }
            if let observe, step.node.type != "fetch" {
                for name in step.node.allOutputs where graph.values[name]?.constant == nil {
                    if let t = tensors[name] { observe(step.node, name, t) }
                }
            }
        }
        if let p = profiler { p.recordRun(wallNs: Clock.wallNs() - runStart) }
        return try graph.outputs.map { name in
            guard let t = tensors[name] else { throw ExecutionError("output '\(name)' was never computed") }
            return t.copyToHost()
        }
    }
}
