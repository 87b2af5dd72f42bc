/// Element types qtop understands, with Paddle's `VarType.Type` codes.
public enum DType: String, Sendable, CaseIterable, Codable {
    case bool, i16, i32, i64, f16, f32, f64, u8, i8, bf16

    /// Paddle's VarType.Type enum value.
    public var paddleCode: Int {
        switch self {
        case .bool: return 0
        case .i16: return 1
        case .i32: return 2
        case .i64: return 3
        case .f16: return 4
        case .f32: return 5
        case .f64: return 6
        case .u8: return 20
        case .i8: return 21
        case .bf16: return 22
        }
    }

    public init?(paddleCode: Int) {
        guard let t = DType.allCases.first(where: { $0.paddleCode == paddleCode }) else { return nil }
        self = t
    }

    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8: return 1
        case .i16, .f16, .bf16: return 2
        case .i32, .f32: return 4
        case .i64, .f64: return 8
        }
    }

    /// Paddle's spelling, as users see it in Paddle tools (`float32`, `int8`, ...).
    public var paddleName: String {
        switch self {
        case .bool: return "bool"
        case .i16: return "int16"
        case .i32: return "int32"
        case .i64: return "int64"
        case .f16: return "float16"
        case .f32: return "float32"
        case .f64: return "float64"
        case .u8: return "uint8"
        case .i8: return "int8"
        case .bf16: return "bfloat16"
        }
    }

    public var isFloatingPoint: Bool { self == .f16 || self == .f32 || self == .f64 || self == .bf16 }
}

extension DType {
    /// Paddle's name for any `VarType.Type` code (`LOD_TENSOR`, `FP32`, ...), for messages about types qtop cannot
    /// use: users know the schema's names, not the generated Swift case names.
    public static func paddleTypeName(code: Int) -> String {
        let names = [0: "BOOL", 1: "INT16", 2: "INT32", 3: "INT64", 4: "FP16", 5: "FP32", 6: "FP64", 7: "LOD_TENSOR",
                     8: "SELECTED_ROWS", 9: "FEED_MINIBATCH", 10: "FETCH_LIST", 11: "STEP_SCOPES", 12: "LOD_RANK_TABLE",
                     13: "LOD_TENSOR_ARRAY", 14: "PLACE_LIST", 15: "READER", 17: "RAW", 18: "TUPLE", 19: "SIZE_T",
                     20: "UINT8", 21: "INT8", 22: "BF16", 23: "COMPLEX64", 24: "COMPLEX128", 25: "STRING",
                     26: "STRINGS", 27: "VOCAB", 28: "FEED_LIST", 29: "PSTRING", 30: "SPARSE_COO", 31: "SPARSE_CSR"]
        return names[code] ?? "type code \(code)"
    }
}
