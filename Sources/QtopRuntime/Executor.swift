import CQtopKernels
import QtopFormat
import QtopGraph

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
    /// One node of the plan with everything the hot path needs bound once: the kernel's tensors by slot, the
    /// outputs the observe hook reports. `run` builds nothing per step.
    public struct Step {
        public let node: Node
        public let kernel: Kernel?
        public let decision: DispatchDecision
        /// The kernel's inputs and outputs (nil for feed / fetch).
        let io: KernelIO?
        /// Computed (non-constant) outputs, in slot order, for the observe hook.
        let observed: [(String, Tensor)]
        /// Outputs the kernel allocates when it runs (their size depends on the data).
        let sized: [(String, RunTimeSizedOutput)]
        /// feed: the planned tensor the model input is copied into, and its name.
        let feed: (Tensor, String)?
    }

    public let graph: Graph
    public let steps: [Step]
    public let memory: MemoryPlan
    public let threads: ThreadContext
    private var buffers: [UnsafeMutableRawPointer]
    /// Every planned tensor by value name (constants, inputs, memory-plan slots); fixed after init.
    private let tensors: [String: Tensor]
    /// Run-time-sized values (e.g. multiclass_nms3's Out) by name: their kernels allocate them on every run.
    private let sized: [String: RunTimeSizedOutput]
    /// The model inputs' planned tensors, in `graph.inputs` order.
    private let inputTensors: [(String, Tensor?)]
    /// The registry entry behind each step's kernel (nil for feed / fetch), for `stream(threads:)`.
    private let entries: [KernelEntry?]
    private let options: PlanOptions

    /// Builds a plan. `inputShapes` fixes unknown extents (the batch); missing inputs get batch 1. The plan's memory
    /// (activations + weights) is checked against `options.maxMemory` once, before any kernel packs weights or any
    /// buffer is allocated.
    public convenience init(graph g0: Graph, registry: KernelRegistry, options: PlanOptions, threads: ThreadContext = .serial,
                            inputShapes: [String: [Int]] = [:]) throws {
        var shapes = inputShapes
        for name in g0.inputs where shapes[name] == nil {
            guard let s = g0.values[name]?.shape else { throw ExecutionError("input '\(name)' has no known shape") }
            shapes[name] = s.map { $0 < 0 ? 1 : $0 }
        }
        // An op qtop has no spec and no kernel for: one clear line before anything else fails on it.
        if let n = g0.nodes.first(where: { $0.type != "feed" && $0.type != "fetch" && $0.decoded == nil && registry.candidates(for: $0.type).isEmpty }) {
            throw ExecutionError(ShapeInference.unknownOpMessage(n))
        }
        var g: Graph
        do { g = try ShapeInference.specialize(g0, inputShapes: shapes) } catch { throw ExecutionError("\(error)") }
        let sizedNames = try Executor.runTimeSizedValues(g)
        try Executor.rejectIntegerWeightsOnFloatOps(g)

        // The memory plan depends on shapes only: build and check it before kernels pack weights or build tables.
        let plan = MemoryPlan.build(graph: g, order: g.nodes.filter { $0.type != "fetch" }, bytesOf: { name in
            guard let v = g.values[name], let s = v.shape else { return 0 }
            return MemoryBudget.bytes(shape: s, elementBytes: (v.dtype ?? .f32).byteSize)
        }, keepAlive: Set(g.outputs), external: Set(sizedNames.keys))
        try MemoryBudget.check(bufferBytes: plan.slotBytes, constantBytes: MemoryBudget.total(g.values.values.compactMap { $0.constant?.byteCount }),
                               limit: options.maxMemory ?? MemoryBudget.physicalBytes, inputShapes: inputShapes)

        var chosen: [Chosen] = []
        for node in g.nodes {
            if node.type == "feed" || node.type == "fetch" {
                chosen.append(Chosen(node: node, kernel: nil, decision: DispatchDecision(execType: ExecType(implementation: "copy", isa: .generic, precision: Executor.outputPrecision(g, node)), rejected: []), entry: nil))
                continue
            }
            let (kernel, decision, entry) = try Executor.choose(node: node, graph: g, registry: registry, options: options)
            chosen.append(Chosen(node: node, kernel: kernel, decision: decision, entry: entry))
        }

        for v in g.values.values where v.constant == nil && v.shape != nil && sizedNames[v.name] == nil {
            if v.shape!.contains(where: { $0 < 0 }) && g.nodes.contains(where: { $0.allOutputs.contains(v.name) && $0.type != "fetch" }) {
                throw ExecutionError("shape of '\(v.name)' is still unknown after shape inference")
            }
        }
        try self.init(planned: g, memory: plan, chosen: chosen, runTimeSized: Set(sizedNames.keys), options: options, threads: threads)
    }

    /// A node's kernel as chosen at planning time, with the registry entry that built it.
    struct Chosen {
        let node: Node
        let kernel: Kernel?
        let decision: DispatchDecision
        let entry: KernelEntry?
    }

    /// Binds a chosen plan to fresh activation buffers: every kernel's tensors by slot, built once.
    private init(planned g: Graph, memory plan: MemoryPlan, chosen: [Chosen], runTimeSized sizedNames: Set<String>,
                 options: PlanOptions, threads: ThreadContext) throws {
        self.graph = g
        self.threads = threads
        self.options = options
        self.memory = plan
        self.entries = chosen.map(\.entry)
        let written = Set(g.nodes.filter { $0.type != "fetch" }.flatMap { $0.allOutputs })
        self.buffers = plan.slotBytes.map { UnsafeMutableRawPointer.allocate(byteCount: $0 + 64, alignment: 64) }
        var tensors: [String: Tensor] = [:]
        for (name, v) in g.values {
            if let c = v.constant { tensors[name] = Tensor(c); continue }
            guard written.contains(name), let slot = plan.slotOf[name], let s = v.shape else { continue }
            tensors[name] = Tensor(dtype: v.dtype ?? .f32, shape: s, data: buffers[slot])
        }
        self.tensors = tensors
        let sized = Dictionary(uniqueKeysWithValues: sizedNames.map { ($0, RunTimeSizedOutput()) })
        self.sized = sized
        self.steps = try chosen.map { c in
            let node = c.node
            let observed = node.type == "fetch" ? [] : node.allOutputs.compactMap { name in
                g.values[name]?.constant == nil ? tensors[name].map { (name, $0) } : nil
            }
            let sizedOuts = node.type == "fetch" ? [] : node.allOutputs.compactMap { name in sized[name].map { (name, $0) } }
            guard let kernel = c.kernel else {
                var feed: (Tensor, String)?
                if node.type == "feed", let out = node.output("Out"), let dst = tensors[out] { feed = (dst, out) }
                return Step(node: node, kernel: nil, decision: c.decision, io: nil, observed: observed, sized: sizedOuts, feed: feed)
            }
            var ins: [String: [Tensor]] = [:]
            for slot in node.inputs {
                ins[slot.name] = try slot.args.map { a in
                    guard let t = tensors[a] else { throw ExecutionError("\(node.type) '\(node.name)': input '\(a)' has no data") }
                    return t
                }
            }
            var outs: [String: [Tensor]] = [:]
            var runTime: [String: [RunTimeSizedOutput]] = [:]
            for slot in node.outputs {
                let ts = slot.args.compactMap { a -> Tensor? in g.values[a]?.constant == nil ? tensors[a] : nil }
                if ts.count == slot.args.count { outs[slot.name] = ts }
                let boxes = slot.args.compactMap { sized[$0] }
                if boxes.count == slot.args.count, !boxes.isEmpty { runTime[slot.name] = boxes }
            }
            return Step(node: node, kernel: kernel, decision: c.decision,
                        io: KernelIO(inputs: ins, outputs: outs, threads: threads, runTimeSized: runTime),
                        observed: observed, sized: sizedOuts, feed: nil)
        }
        self.inputTensors = g.inputs.map { ($0, tensors[$0]) }
    }

    /// Another stream of this plan: the same graph, kernel choices and memory plan, with its own activation buffers
    /// and its own threads, so it can run at the same time as this one (OpenVINO's throughput streams).
    /// Kernels that are `StreamSharedKernel`s (read only once prepared: packed weights, tables) are shared, so
    /// weights are packed once however many streams run; any other kernel is built again by the registry entry
    /// that built it here.
    public func stream(threads: ThreadContext) throws -> Executor {
        let chosen = try zip(steps, entries).map { step, entry -> Chosen in
            guard let k = step.kernel else { return Chosen(node: step.node, kernel: nil, decision: step.decision, entry: nil) }
            if k is StreamSharedKernel { return Chosen(node: step.node, kernel: k, decision: step.decision, entry: entry) }
            guard let entry else { throw ExecutionError("\(step.node.type) '\(step.node.name)': no entry to build another stream's kernel") }
            let ctx = KernelBuildContext(node: step.node, graph: graph, isaCap: options.isaCap, available: options.available)
            guard case .ready(let fresh) = try entry.make(ctx) else {
                throw ExecutionError("\(step.node.type) '\(step.node.name)': \(entry.execType) built for one stream but not for another")
            }
            return Chosen(node: step.node, kernel: fresh, decision: step.decision, entry: entry)
        }
        return try Executor(planned: graph, memory: memory, chosen: chosen, runTimeSized: Set(sized.keys),
                            options: options, threads: threads)
    }

    deinit { for b in buffers { b.deallocate() } }

    /// Values whose size only their kernel knows (the spec's `runTimeSizedOutputs`), by name → producing node.
    /// Only fetch may read them: planning a consumer would need their size.
    static func runTimeSizedValues(_ g: Graph) throws -> [String: Node] {
        var out: [String: Node] = [:]
        for n in g.nodes {
            guard case .success(let d)? = n.decoded else { continue }
            for slot in d.spec.runTimeSizedOutputs { for v in n.outputs(slot) { out[v] = n } }
        }
        for n in g.nodes where n.type != "fetch" {
            if let v = n.allInputs.first(where: { out[$0] != nil }), let p = out[v] {
                throw ExecutionError("\(n.type) '\(n.name)' reads '\(v)', whose size \(p.type) '\(p.name)' decides at run time; qtop runs such values only as model outputs")
            }
        }
        return out
    }

    /// Float kernels read float weights: a snapshot whose float ops still read int8 weights folded by
    /// fold-weight-dequant (`weight_scales`) must go through the `dequantize-folded-weights` pass first.
    static func rejectIntegerWeightsOnFloatOps(_ g: Graph) throws {
        for n in g.nodes where !n.type.hasPrefix("q") && n.attrs["weight_scales"] != nil {
            for name in n.allInputs where g.values[name]?.constant?.dtype == .i8 {
                throw ExecutionError("\(n.type) '\(n.name)' reads int8 weights '\(name)' folded with weight_scales; run the dequantize-folded-weights pass before planning")
            }
        }
    }

    /// The precision of a node's first output with a known dtype (f32 when none is known).
    public static func outputPrecision(_ g: Graph, _ n: Node) -> Precision {
        precision(of: n.allOutputs.compactMap { g.values[$0]?.dtype }.first ?? .f32)
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
    static func choose(node: Node, graph: Graph, registry: KernelRegistry, options: PlanOptions) throws -> (Kernel, DispatchDecision, KernelEntry) {
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
            // A factory that throws (a malformed attribute, an unsupported combination) rejects like one that
            // returns .rejected: the reason shows in dispatch.
            let build: KernelBuild
            do { build = try e.make(ctx) } catch { build = .rejected("\(error)") }
            switch build {
            case .ready(let k):
                return (k, DispatchDecision(execType: e.execType, rejected: rejected), e)
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

    /// Runs the graph and returns copies of its outputs, in `graph.outputs` order. Inputs must match the planned
    /// shapes and dtypes.
    @discardableResult
    public func run(_ inputs: [String: HostTensor], profiler: Profiler? = nil,
                    observe: ((Node, String, Tensor) -> Void)? = nil) throws -> [HostTensor] {
        try infer(inputs, profiler: profiler, observe: observe)
        return try outputs()
    }

    /// Runs the graph, leaving its outputs in the plan's buffers (read them with `outputs()`): the hot loop of
    /// bench and the live runner, which allocates nothing per inference.
    public func infer(_ inputs: [String: HostTensor], profiler: Profiler? = nil,
                      observe: ((Node, String, Tensor) -> Void)? = nil) throws {
        for (name, planned) in inputTensors {
            guard let t = inputs[name] else { throw ExecutionError("missing input '\(name)'") }
            guard let dst = planned else { throw ExecutionError("input '\(name)' is not planned") }
            guard t.shape == dst.shape else { throw ExecutionError("input '\(name)' has shape \(t.shape), the plan expects \(dst.shape)") }
            guard t.dtype == dst.dtype else { throw ExecutionError("input '\(name)' is \(t.dtype.paddleName), the model expects \(dst.dtype.paddleName)") }
        }
        let runStart = profiler != nil ? Clock.wallNs() : 0
        for step in steps {
            // The timed window covers the kernel call (or feed's copy) only; everything it reads was bound at plan time.
            let w0 = profiler != nil ? Clock.wallNs() : 0
            let c0 = profiler != nil ? Clock.threadCPUNs() : 0
            if let io = step.io, let kernel = step.kernel {
                do {
                    try kernel.run(io)
                } catch {
                    throw ExecutionError("\(step.node.type) '\(step.node.name)': \(error)")
                }
            } else if let (dst, name) = step.feed, let src = inputs[name] {
                // split over the plan's threads: one core's copy bandwidth is well below the machine's
                qtop_copy_bytes(dst.data, src.raw, Int64(dst.byteCount), nativePoolHandle(threads))
            }
            if let p = profiler { p.record(nodeID: step.node.id, wallNs: Clock.wallNs() - w0, cpuNs: Clock.threadCPUNs() - c0) }
            if let observe {
                for (name, t) in step.observed { observe(step.node, name, t) }
                for (name, box) in step.sized { if let t = box.tensor { observe(step.node, name, Tensor(t)) } }
            }
        }
        if let p = profiler { p.recordRun(wallNs: Clock.wallNs() - runStart) }
    }

    /// Copies of the last run's outputs, in `graph.outputs` order.
    public func outputs() throws -> [HostTensor] {
        try graph.outputs.map { name in
            if let box = sized[name] {
                guard let t = box.tensor else { throw ExecutionError("output '\(name)' was never computed") }
                return t
            }
            guard let t = tensors[name] else { throw ExecutionError("output '\(name)' was never computed") }
            return t.copyToHost()
        }
    }
}
