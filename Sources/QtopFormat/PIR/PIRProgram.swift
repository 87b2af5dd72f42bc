/// A Paddle 3 PIR program (`inference.json`) as the file states it, 1:1: block 0 of the top region, its
/// parameters and ops in order, every value numbered as in the file. No graph logic here (that is QtopGraph's
/// PIR import); `PIRReader` builds and checks it.
public struct PIRProgram: Sendable {
    /// `base_code.version`: the PIR serialization version (1…4 for Paddle 3.0–3.3).
    public let version: Int
    public let trainable: Bool
    /// `builtin.parameter` ops ("p"), in file order: each names its tensor in `.pdiparams`.
    public let parameters: [PIRParameter]
    /// Every other op of block 0, in file (execution) order.
    public let ops: [PIROp]

    public init(version: Int, trainable: Bool, parameters: [PIRParameter], ops: [PIROp]) {
        self.version = version
        self.trainable = trainable
        self.parameters = parameters
        self.ops = ops
    }
}

/// A persistable tensor declared by a parameter op; its data lives in `.pdiparams` under `name`.
public struct PIRParameter: Sendable {
    public let name: String
    public let value: PIRValue
}

/// An SSA value: the file's `%` number and its type. Id 0 is Paddle's "no value" (an absent optional operand).
public struct PIRValue: Sendable {
    public let id: Int
    public let type: PIRType
}

/// A value's type: dense tensors carry their element type and dims (-1 = dynamic); vectors come from
/// `builtin.combine` and feed ops with list inputs (concat) or outputs (split).
public indirect enum PIRType: Sendable, Equatable {
    case tensor(element: String, dims: [Int])
    case vector([PIRType])
    /// Paddle's NULL type (an absent optional result).
    case null
    /// A type qtop does not model (sparse tensors, tensor arrays, …), by its tag.
    case other(String)

    /// The element type of a dense tensor, when qtop knows it.
    public var dtype: DType? {
        guard case .tensor(let e, _) = self else { return nil }
        return PIRType.dtypes[e]
    }

    public var dims: [Int]? {
        guard case .tensor(_, let d) = self else { return nil }
        return d
    }

    /// Builtin element-type tags (`0.t_f32` …) without their dialect prefix.
    static let dtypes: [String: DType] = ["t_f32": .f32, "t_f64": .f64, "t_f16": .f16, "t_bf16": .bf16, "t_i8": .i8,
                                          "t_ui8": .u8, "t_i16": .i16, "t_i32": .i32, "t_i64": .i64, "t_bool": .bool]
}

/// An attribute value with its PIR tag kept (`0.a_i32` vs `0.a_i64`, …), so listings stay faithful.
public indirect enum PIRAttr: Sendable, Equatable {
    case i32(Int)
    case i64(Int)
    case index(Int)
    case f32(Float)
    case f64(Double)
    case bool(Bool)
    case string(String)
    case array([PIRAttr])
    /// `1.a_intarray`: shape-like int64 lists.
    case intArray([Int])
    /// `1.a_scalar`: a dtype name and its value (complex keeps the real part).
    case scalar(dtype: String, value: Double)
    /// `1.a_dtype`: Paddle's dtype name (`float32`).
    case dataType(String)
    /// `1.a_place`: place type, device id, device type.
    case place(type: Int, device: Int, deviceType: String)
    /// `1.a_layout`: a data layout name.
    case layout(String)
    /// `0.a_type`: a type as an attribute.
    case type(PIRType)
    /// `0.a_tensorname`.
    case tensorName(String)
    /// `0.a_c64` / `0.a_c128`: real and imaginary parts.
    case complex(Double, Double)
}

/// One op of block 0: its full name (`pd_op.conv2d`), operands by value id, results, attributes in file order.
public struct PIROp: Sendable {
    /// Position in block 0 (parameters included), for messages.
    public let index: Int
    /// `<dialect>.<op>` with the dialect's name spelled out (`pd_op.conv2d`, `builtin.combine`).
    public let name: String
    public let dialect: String
    public let opName: String
    /// Operand value ids; 0 = absent optional operand.
    public let inputs: [Int]
    public let outputs: [PIRValue]
    public let attrs: [(name: String, value: PIRAttr)]

    public init(index: Int, name: String, dialect: String, opName: String, inputs: [Int], outputs: [PIRValue],
                attrs: [(name: String, value: PIRAttr)]) {
        self.index = index
        self.name = name
        self.dialect = dialect
        self.opName = opName
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs
    }

    public func attr(_ name: String) -> PIRAttr? { attrs.first(where: { $0.name == name })?.value }
}

extension PIRAttr {
    /// Integers of an int, int array or scalar attribute.
    public var ints: [Int]? {
        switch self {
        case .i32(let v), .i64(let v), .index(let v): return [v]
        case .intArray(let v): return v
        case .array(let xs): return xs.allSatisfy { $0.int != nil } ? xs.compactMap(\.int) : nil
        case .scalar(_, let v): return Int(exactly: v.rounded()).map { [$0] }
        default: return nil
        }
    }

    public var int: Int? {
        switch self {
        case .i32(let v), .i64(let v), .index(let v): return v
        case .bool(let b): return b ? 1 : 0
        case .scalar(_, let v): return v.isFinite && abs(v) < 9e15 ? Int(v) : nil
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case .f32(let v): return Double(v)
        case .f64(let v): return v
        case .i32(let v), .i64(let v), .index(let v): return Double(v)
        case .scalar(_, let v): return v
        default: return nil
        }
    }

    public var string: String? {
        switch self {
        case .string(let s), .dataType(let s), .layout(let s), .tensorName(let s): return s
        default: return nil
        }
    }
}
