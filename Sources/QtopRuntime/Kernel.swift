import QtopFormat
import QtopGraph

/// What a kernel sees when it runs: its node's inputs and outputs as tensors, by slot.
public struct KernelIO {
    public let inputs: [String: [Tensor]]
    /// Outputs the executor allocated. Outputs that alias constants (batch_norm's MeanOut ...) are absent.
    public let outputs: [String: [Tensor]]
    public let threads: ThreadContext
    /// Outputs whose size only the kernel knows (`OpSpec.runTimeSizedOutputs`): the kernel calls `allocate`.
    public let runTimeSized: [String: [RunTimeSizedOutput]]

    public init(inputs: [String: [Tensor]], outputs: [String: [Tensor]], threads: ThreadContext,
                runTimeSized: [String: [RunTimeSizedOutput]] = [:]) {
        self.inputs = inputs
        self.outputs = outputs
        self.threads = threads
        self.runTimeSized = runTimeSized
    }

    /// A run-time-sized output of `shape`, allocated now (zeroed); the executor reads it after the kernel returns.
    public func allocate(_ slot: String, _ i: Int = 0, dtype: DType, shape: [Int]) throws -> Tensor {
        guard let boxes = runTimeSized[slot], i < boxes.count else { throw KernelError("output \(slot)[\(i)] is not run-time sized") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw KernelError("output \(slot): bad shape \(shape)") }
        let t = HostTensor(dtype: dtype, shape: shape)
        boxes[i].tensor = t
        return Tensor(t)
    }

    public func input(_ slot: String, _ i: Int = 0) throws -> Tensor {
        guard let t = inputs[slot], i < t.count else { throw KernelError("missing input \(slot)[\(i)]") }
        return t[i]
    }

    public func optionalInput(_ slot: String) -> Tensor? { inputs[slot]?.first }

    public func output(_ slot: String, _ i: Int = 0) throws -> Tensor {
        guard let t = outputs[slot], i < t.count else { throw KernelError("missing output \(slot)[\(i)]") }
        return t[i]
    }

    public func optionalOutput(_ slot: String) -> Tensor? { outputs[slot]?.first }
}

/// The storage of one run-time-sized output: allocated by its kernel on every run (a few rows of detections,
/// not worth a memory-plan slot), read by the executor for outputs and the observe hook. Owned by one plan.
public final class RunTimeSizedOutput: @unchecked Sendable {
    public internal(set) var tensor: HostTensor?
    public init() {}
}

/// Intra-op parallelism available to a kernel (1 = run inline), passed at run time: kernels never hold a pool.
public struct ThreadContext: @unchecked Sendable {
    public let count: Int
    /// Runs `body(i)` for i in 0..<n, spread over the pool; returns when all are done.
    public let parallelFor: (Int, (Int) -> Void) -> Void
    /// The native pool behind `parallelFor`, for C kernels that split work themselves (nil = none).
    public let nativePool: NativeThreadPool?

    public init(count: Int, nativePool: NativeThreadPool? = nil, parallelFor: @escaping (Int, (Int) -> Void) -> Void) {
        self.count = count
        self.nativePool = nativePool
        self.parallelFor = parallelFor
    }

    public static let serial = ThreadContext(count: 1) { n, body in for i in 0..<n { body(i) } }
}

/// A node's kernel, prepared once (weights packed, attributes decoded) and run many times.
public protocol Kernel: AnyObject {
    func run(_ io: KernelIO) throws
}

public struct KernelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Everything a kernel factory may look at while preparing: the node, the (shape-specialized) graph, the ISA cap.
public struct KernelBuildContext {
    public let node: Node
    public let graph: Graph
    public let isaCap: ISALevel
    public let available: Set<ISALevel>

    public init(node: Node, graph: Graph, isaCap: ISALevel, available: Set<ISALevel>) {
        self.node = node
        self.graph = graph
        self.isaCap = isaCap
        self.available = available
    }

    public func shape(_ value: String) -> [Int] { graph.values[value]?.shape ?? [] }
    public func inputShape(_ slot: String) -> [Int] { node.input(slot).map(shape) ?? [] }
    public func outputShape(_ slot: String) -> [Int] { node.output(slot).map(shape) ?? [] }
    public func constant(_ slot: String) -> HostTensor? { node.input(slot).flatMap { graph.values[$0]?.constant } }
    /// The node's decoded spec (attributes, defaults, validation): what every kernel factory reads instead of
    /// `attrs`. Throws the spec's error (a malformed attribute), which the executor records as the reason.
    public func spec<S: OpSpec>(_ type: S.Type) throws -> S { try node.spec(type) }

    /// The dtype of the value in an input slot.
    public func inputDType(_ slot: String) -> DType? { node.input(slot).flatMap { graph.values[$0]?.dtype } }
    /// The dtype of the value in an output slot.
    public func outputDType(_ slot: String) -> DType? { node.output(slot).flatMap { graph.values[$0]?.dtype } }
}

/// A factory's answer: a ready kernel, or why this implementation does not apply.
public enum KernelBuild {
    case ready(Kernel)
    case rejected(String)
}

/// One implementation of one op: e.g. (conv2d, FP32, "ref", generic) or (qconv2d, I8, "conv1x1", avx512_vnni).
public struct KernelEntry {
    public let op: String
    public let precision: Precision
    public let implementation: String
    public let isa: ISALevel
    /// Higher wins among entries that apply (prefer faster implementations at the same ISA).
    public let priority: Int
    public let make: (KernelBuildContext) throws -> KernelBuild

    public init(op: String, precision: Precision, implementation: String, isa: ISALevel, priority: Int = 0,
                make: @escaping (KernelBuildContext) throws -> KernelBuild) {
        self.op = op
        self.precision = precision
        self.implementation = implementation
        self.isa = isa
        self.priority = priority
        self.make = make
    }

    /// `impl:isa:precision`, as shown in the profile's execType column.
    public var execType: ExecType { ExecType(implementation: implementation, isa: isa, precision: precision) }
}

/// Kernels keyed by (op, precision, implementation, ISA). Fast kernels register here; the executor never changes.
public final class KernelRegistry: @unchecked Sendable {
    public private(set) var entries: [String: [KernelEntry]] = [:]

    public init() {}

    public func register(_ e: KernelEntry) { entries[e.op, default: []].append(e) }

    public func candidates(for op: String) -> [KernelEntry] {
        (entries[op] ?? []).sorted { ($0.isa.rank, $0.priority) > ($1.isa.rank, $1.priority) }
    }
}
