/// A Paddle op attribute with its declared type preserved (INT vs LONG, FLOAT vs FLOAT64 ...).
public enum AttrValue: Sendable, Equatable {
    case int(Int)
    case long(Int64)
    case float(Float)
    case float64(Double)
    case string(String)
    case bool(Bool)
    case ints([Int])
    case longs([Int64])
    case floats([Float])
    case float64s([Double])
    case strings([String])
    case bools([Bool])
    case block(Int)
    case blocks([Int])
    case variable(String)
    case variables([String])
    /// A Paddle `Scalar` (bool, int64, float64 or complex; complex keeps the real part).
    case scalar(Double)
    case scalars([Double])

    public var int: Int? {
        switch self {
        case .int(let v): return v
        case .long(let v): return Int(v)
        case .bool(let v): return v ? 1 : 0
        // NaN, infinities and values beyond Int are not integers (a file's value must never trap).
        case .float(let v): return Int(exactly: v.rounded(.towardZero))
        case .float64(let v), .scalar(let v): return Int(exactly: v.rounded(.towardZero))
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case .float(let v): return Double(v)
        case .float64(let v), .scalar(let v): return v
        case .int(let v): return Double(v)
        case .long(let v): return Double(v)
        default: return nil
        }
    }

    public var float: Float? { double.map { Float($0) } }

    public var bool: Bool? {
        switch self {
        case .bool(let v): return v
        case .int(let v): return v != 0
        case .long(let v): return v != 0
        default: return nil
        }
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var ints: [Int]? {
        switch self {
        case .ints(let v): return v
        case .longs(let v): return v.map { Int($0) }
        case .int(let v): return [v]
        case .long(let v): return [Int(v)]
        case .bools(let v): return v.map { $0 ? 1 : 0 }
        default: return nil
        }
    }

    public var floats: [Float]? {
        switch self {
        case .floats(let v): return v
        case .float64s(let v), .scalars(let v): return v.map { Float($0) }
        case .float(let v): return [v]
        default: return nil
        }
    }

    public var strings: [String]? {
        switch self {
        case .strings(let v), .variables(let v): return v
        case .string(let v), .variable(let v): return [v]
        default: return nil
        }
    }
}

/// Op attributes in file order (so listings match Paddle's), with typed lookups.
public struct Attributes: Sendable, Equatable, Sequence {
    public private(set) var entries: [(name: String, value: AttrValue)]

    public init(_ entries: [(name: String, value: AttrValue)] = []) { self.entries = entries }

    public static func == (a: Attributes, b: Attributes) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: AttrValue)]> { entries.makeIterator() }

    public subscript(name: String) -> AttrValue? {
        get { entries.first(where: { $0.name == name })?.value }
        set {
            if let i = entries.firstIndex(where: { $0.name == name }) {
                if let v = newValue { entries[i].value = v } else { entries.remove(at: i) }
            } else if let v = newValue {
                entries.append((name, v))
            }
        }
    }

    public var isEmpty: Bool { entries.isEmpty }

    public func int(_ name: String, default d: Int) -> Int { self[name]?.int ?? d }
    public func float(_ name: String, default d: Float) -> Float { self[name]?.float ?? d }
    public func bool(_ name: String, default d: Bool) -> Bool { self[name]?.bool ?? d }
    public func string(_ name: String, default d: String) -> String { self[name]?.string ?? d }
    public func ints(_ name: String, default d: [Int]) -> [Int] { self[name]?.ints ?? d }
    public func floats(_ name: String, default d: [Float]) -> [Float] { self[name]?.floats ?? d }
}
