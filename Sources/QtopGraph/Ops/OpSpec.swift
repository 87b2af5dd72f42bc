import Foundation
import QtopFormat

/// An op decoded once: its attributes typed, defaulted and validated, plus its shape rule.
///
/// Every consumer — shape inference, passes, the reference kernels, the integer oracle, the native kernel wrappers
/// and the UI's detail view — reads a node's attributes through its spec (`node.spec(ConvSpec.self)`), never from
/// `node.attrs`, so two readers cannot give one op two semantics.
///
/// Adding an op = one type conforming to `OpSpec` in its family file (Conv.swift, Pool.swift, Elementwise.swift,
/// Quant.swift, Shape.swift, MatMul.swift, Norm.swift, Integer.swift …) and its name in that family's `specs` list:
///
///     public struct LayerNormSpec: OpSpec {
///         public static let opTypes = ["layer_norm"]
///         public let epsilon: Float
///         public let beginNormAxis: Int
///         public init(_ node: Node, _ a: inout AttributeReader) throws {
///             epsilon = try a.float("epsilon", default: 1e-5)
///             beginNormAxis = try a.int("begin_norm_axis", default: 1, in: 0...7)
///         }
///         public func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]? { try s.same("X", ["Y"]) }
///     }
///
/// Kernels then read `try ctx.spec(LayerNormSpec.self)` in their factory (a thrown error becomes the rejection
/// reason in dispatch), and the detail view lists `epsilon` / `begin_norm_axis` with their defaults marked.
public protocol OpSpec: Sendable {
    /// The op types this spec decodes (several Paddle spellings may share one spec).
    static var opTypes: [String] { get }
    /// Reads every attribute through `a` (which records names, values and defaults for the detail view) and
    /// validates them; throws `OpSpecError` naming the attribute on a malformed value.
    init(_ node: Node, _ a: inout AttributeReader) throws
    /// The outputs' dtypes and shapes from the inputs' (-1 = unknown extent). nil when they depend on run-time
    /// tensors (e.g. reshape with a Shape input): the declared shapes stay.
    func inferOutputs(_ s: ShapeContext) throws -> [InferredValue]?
    /// Output slots whose extent only the kernel knows, when it runs (multiclass_nms3's Out): their shapes keep
    /// a -1 after specialization and the executor lets the kernel allocate them (`KernelIO.allocate`).
    var runTimeSizedOutputs: [String] { get }
}

extension OpSpec {
    public var runTimeSizedOutputs: [String] { [] }
}

/// A malformed or unsupported attribute (or input) of one node: a clear, thrown error, never a trap.
public struct OpSpecError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// One decoded attribute for listings: its value and whether it was absent from the file (the spec's default).
public struct DecodedAttribute: Sendable, Equatable {
    public let name: String
    public let value: AttrValue
    public let isDefault: Bool
}

/// A node's spec with the attributes it read, in the order the detail view lists them.
public struct DecodedOp: Sendable {
    public let spec: any OpSpec
    public let attributes: [DecodedAttribute]
}

/// One inferred output value.
public struct InferredValue: Sendable, Equatable {
    public let name: String
    /// nil: keep the dtype the program declared.
    public let dtype: DType?
    public let shape: [Int]
    public init(_ name: String, _ dtype: DType?, _ shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }
}

/// The registry of specs: op type → spec type, built from the families' lists.
public enum OpSpecs {
    static let families: [[any OpSpec.Type]] = [GraphIOSpecs.specs, ElementwiseSpecs.specs, ConvSpecs.specs, PoolSpecs.specs,
                                                MatMulSpecs.specs, NormSpecs.specs, ShapeSpecs.specs, QuantSpecs.specs,
                                                IntegerSpecs.specs, ShapeTensorSpecs.specs, DetectionSpecs.specs,
                                                ReduceSpecs.specs, InterpSpecs.specs, MiscSpecs.specs,
                                                IntegerSESpecs.specs, IntegerBMMSpecs.specs, ChannelShuffleSpecs.specs,
                                                IntegerDeconvSpecs.specs, ScaleResidualSpecs.specs]

    public static let byType: [String: any OpSpec.Type] = {
        var m: [String: any OpSpec.Type] = [:]
        for family in families {
            for spec in family {
                for t in spec.opTypes {
                    precondition(m[t] == nil, "two specs claim op type \(t)")
                    m[t] = spec
                }
            }
        }
        return m
    }()

    /// Decodes a node: nil when qtop has no spec for its type (it still loads and is shown, but cannot run).
    public static func decode(_ node: Node) -> Result<DecodedOp, OpSpecError>? {
        guard let type = byType[node.type] else { return nil }
        var reader = AttributeReader(node)
        do {
            let spec = try type.init(node, &reader)
            return .success(DecodedOp(spec: spec, attributes: reader.read))
        } catch let e as OpSpecError {
            return .failure(e)
        } catch {
            return .failure(OpSpecError("\(node.type) '\(node.name)': \(error)"))
        }
    }

    /// A node's attributes for the detail view, as (name, value, isDefault): the file's attributes in file order,
    /// then the defaults the spec applied for absent ones. A node without a spec (or a malformed one) lists the
    /// file's attributes only.
    public static func attributeListing(_ node: Node) -> [DecodedAttribute] {
        var out = node.attrs.entries.map { DecodedAttribute(name: $0.name, value: $0.value, isDefault: false) }
        if case .success(let d)? = node.decoded {
            let present = Set(out.map(\.name))
            out += d.attributes.filter { $0.isDefault && !present.contains($0.name) }
        }
        return out
    }
}

extension Node {
    /// The node decoded by its spec (computed once per node, on first use).
    public var decoded: Result<DecodedOp, OpSpecError>? { decodedCache.value(self) }

    /// The node's spec as `S`; throws a clear error when the node has no spec, another spec, or bad attributes.
    public func spec<S: OpSpec>(_: S.Type) throws -> S {
        switch decoded {
        case nil: throw OpSpecError("no spec for op type '\(type)'")
        case .failure(let e)?: throw e
        case .success(let d)?:
            guard let s = d.spec as? S else { throw OpSpecError("\(type) '\(name)' is not decoded by \(S.self)") }
            return s
        }
    }
}

/// Reads a node's attributes strictly: a present attribute of the wrong kind or out of range throws (naming the
/// op and the attribute); an absent one takes the default. Records what was read, for the detail view.
public struct AttributeReader {
    public let node: Node
    public private(set) var read: [DecodedAttribute] = []

    init(_ node: Node) { self.node = node }

    func fail(_ name: String, _ what: String) -> OpSpecError {
        OpSpecError("\(node.type) '\(node.name)': attribute '\(name)' \(what)")
    }

    mutating func note(_ name: String, _ value: AttrValue, _ isDefault: Bool) {
        if !read.contains(where: { $0.name == name }) { read.append(DecodedAttribute(name: name, value: value, isDefault: isDefault)) }
    }

    /// True when the file sets the attribute.
    public func has(_ name: String) -> Bool { node.attrs[name] != nil }

    public mutating func int(_ name: String, default d: Int, in range: ClosedRange<Int>? = nil) throws -> Int {
        guard let raw = node.attrs[name] else { note(name, .int(d), true); return d }
        guard let v = raw.int else { throw fail(name, "must be an integer, got \(raw)") }
        if let range, !range.contains(v) { throw fail(name, "must be in \(range.lowerBound)…\(range.upperBound), got \(v)") }
        note(name, raw, false)
        return v
    }

    /// An optional integer (no default): nil when absent.
    public mutating func optionalInt(_ name: String) throws -> Int? {
        guard let raw = node.attrs[name] else { return nil }
        guard let v = raw.int else { throw fail(name, "must be an integer, got \(raw)") }
        note(name, raw, false)
        return v
    }

    public mutating func float(_ name: String, default d: Float) throws -> Float {
        guard let raw = node.attrs[name] else { note(name, .float(d), true); return d }
        guard let v = raw.float else { throw fail(name, "must be a number, got \(raw)") }
        note(name, raw, false)
        return v
    }

    /// An optional number (no default): nil when absent.
    public mutating func optionalFloat(_ name: String) throws -> Float? {
        guard let raw = node.attrs[name] else { return nil }
        guard let v = raw.float else { throw fail(name, "must be a number, got \(raw)") }
        note(name, raw, false)
        return v
    }

    public mutating func bool(_ name: String, default d: Bool) throws -> Bool {
        guard let raw = node.attrs[name] else { note(name, .bool(d), true); return d }
        guard let v = raw.bool else { throw fail(name, "must be a boolean, got \(raw)") }
        note(name, raw, false)
        return v
    }

    public mutating func string(_ name: String, default d: String, oneOf allowed: [String]? = nil) throws -> String {
        guard let raw = node.attrs[name] else { note(name, .string(d), true); return d }
        guard let v = raw.string else { throw fail(name, "must be a string, got \(raw)") }
        if let allowed, !allowed.contains(v) { throw fail(name, "must be one of \(allowed.joined(separator: ", ")), got '\(v)'") }
        note(name, raw, false)
        return v
    }

    /// An integer list; `counts` are the accepted lengths, `min` bounds every element from below.
    public mutating func ints(_ name: String, default d: [Int], counts: Set<Int>? = nil, min: Int? = nil) throws -> [Int] {
        guard let raw = node.attrs[name] else { note(name, .ints(d), true); return d }
        guard let v = raw.ints else { throw fail(name, "must be a list of integers, got \(raw)") }
        if let counts, !counts.contains(v.count) {
            throw fail(name, "must have \(counts.sorted().map(String.init).joined(separator: " or ")) values, got \(v.count)")
        }
        if let min, let bad = v.first(where: { $0 < min }) { throw fail(name, "values must be ≥ \(min), got \(bad)") }
        note(name, raw, false)
        return v
    }

    public mutating func floats(_ name: String, default d: [Float]) throws -> [Float] {
        guard let raw = node.attrs[name] else { note(name, .floats(d), true); return d }
        guard let v = raw.floats else { throw fail(name, "must be a list of numbers, got \(raw)") }
        note(name, raw, false)
        return v
    }

    /// An optional list of numbers (no default): nil when absent.
    public mutating func optionalFloats(_ name: String) throws -> [Float]? {
        guard let raw = node.attrs[name] else { return nil }
        guard let v = raw.floats else { throw fail(name, "must be a list of numbers, got \(raw)") }
        note(name, raw, false)
        return v
    }
}

/// What a shape rule sees: the node and the values known so far.
public struct ShapeContext {
    public let node: Node
    public let values: [String: ValueInfo]

    public init(node: Node, values: [String: ValueInfo]) {
        self.node = node
        self.values = values
    }

    public func shape(_ slot: String) throws -> [Int] {
        guard let name = node.input(slot), let s = values[name]?.shape else { throw OpSpecError("\(node.type): unknown shape of \(slot)") }
        return s
    }

    public func dtype(_ slot: String) -> DType? { node.input(slot).flatMap { values[$0]?.dtype } }

    /// The output in `slot` (if the node has one) with this dtype and shape.
    public func output(_ slot: String, _ dtype: DType?, _ shape: [Int]) -> [InferredValue] {
        node.output(slot).map { [InferredValue($0, dtype, shape)] } ?? []
    }

    /// Outputs with the input's shape and dtype.
    public func same(_ inSlot: String = "X", _ outSlots: [String] = ["Out"]) throws -> [InferredValue] {
        let s = try shape(inSlot)
        return outSlots.flatMap { output($0, dtype(inSlot), s) }
    }

    /// The `XShape` output of reshape2 & co.: [0] + input shape.
    public func xshape(_ x: [Int]) -> [InferredValue] { output("XShape", dtype("X"), [0] + x) }
}

/// Shape arithmetic shared by the rules (overflow-checked: a size from a file never traps).
public enum ShapeMath {
    public static func normAxis(_ a: Int, _ rank: Int) -> Int { a < 0 ? a + rank : a }

    /// An axis in [-rank, rank) normalized, or a thrown error (a 0-D value has no axis).
    public static func axis(_ a: Int, rank: Int, _ op: String) throws -> Int {
        guard a >= -rank, a < rank else { throw OpSpecError("\(op): axis \(a) out of range for rank \(rank)") }
        return normAxis(a, rank)
    }

    /// Product of extents; -1 when one is unknown; throws on overflow.
    public static func product<C: Collection>(_ dims: C) throws -> Int where C.Element == Int {
        if dims.contains(where: { $0 < 0 }) { return -1 }
        var p = 1
        for d in dims {
            let (r, o) = p.multipliedReportingOverflow(by: d)
            if o { throw OpSpecError("shape \(Array(dims)) has too many elements") }
            p = r
        }
        return p
    }
}

/// A per-node cache of the decoded spec (nodes are immutable, so decoding once is always right).
final class DecodedCache: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private var result: Result<DecodedOp, OpSpecError>?

    func value(_ node: Node) -> Result<DecodedOp, OpSpecError>? {
        lock.withLock {
            if !done {
                result = OpSpecs.decode(node)
                done = true
            }
            return result
        }
    }
}
