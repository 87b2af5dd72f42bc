import CQtopKernels
import QtopFormat
import QtopGraph

/// Helpers shared by the native kernel wrappers: attribute decoding with Paddle's conventions and dtype mapping.
enum NativeAttr {
    static func pair(_ v: [Int], _ d: Int) -> (Int, Int) {
        if v.count >= 2 { return (v[0], v[1]) }
        if v.count == 1 { return (v[0], v[0]) }
        return (d, d)
    }

    /// [h, w] → [top, bottom, left, right]; 4 values are already in that order.
    static func four(_ p: [Int]) -> [Int] {
        if p.count >= 4 { return Array(p.prefix(4)) }
        if p.count == 2 { return [p[0], p[0], p[1], p[1]] }
        if p.count == 1 { return [p[0], p[0], p[0], p[0]] }
        return [0, 0, 0, 0]
    }

    /// Paddle's UpdatePaddingAndDilation for one dimension.
    static func resolve(_ algorithm: String, input: Int, kernel: Int, stride: Int, explicit: (Int, Int)) -> (Int, Int) {
        switch algorithm.uppercased() {
        case "SAME":
            let out = (input + stride - 1) / stride
            let total = max((out - 1) * stride + kernel - input, 0)
            return (total / 2, total - total / 2)
        case "VALID": return (0, 0)
        default: return explicit
        }
    }

    static func activation(_ s: String) -> qtop_act? {
        switch s.lowercased() {
        case "", "none", "identity", "linear": return QTOP_ACT_NONE
        case "relu": return QTOP_ACT_RELU
        case "relu6": return QTOP_ACT_RELU6
        case "hard_swish", "hardswish": return QTOP_ACT_HARD_SWISH
        default: return nil
        }
    }

    static func int8DType(_ d: DType?) -> qtop_dtype? {
        switch d {
        case .u8?: return QTOP_DT_U8
        case .i8?: return QTOP_DT_S8
        default: return nil
        }
    }

    static func outDType(_ s: String) -> qtop_dtype? {
        switch s.lowercased() {
        case "u8", "uint8": return QTOP_DT_U8
        case "s8", "i8", "int8": return QTOP_DT_S8
        case "f32", "float32", "fp32": return QTOP_DT_F32
        default: return nil
        }
    }

    static func cDType(_ d: DType) -> qtop_dtype? {
        switch d {
        case .u8: return QTOP_DT_U8
        case .i8: return QTOP_DT_S8
        case .f32: return QTOP_DT_F32
        default: return nil
        }
    }
}

extension ISALevel {
    var cValue: Int32 { Int32(rank) }
}

/// Common ISA gate for every native entry: CPU support and the user's cap.
func nativeISAGate(_ isa: ISALevel, _ ctx: KernelBuildContext) -> String? {
    if !NativeCPU.isaSet.contains(isa) { return "\(isa.rawValue): cpu lacks \(isa.rawValue)" }
    if (qtop_compiled_isa_mask() >> UInt32(isa.rank)) & 1 == 0 { return "\(isa.rawValue): no kernel in this build" }
    if !ctx.available.isEmpty && !ctx.available.contains(isa) { return "\(isa.rawValue): not available" }
    if isa > ctx.isaCap { return "\(isa.rawValue): capped by --isa \(ctx.isaCap.rawValue)" }
    return nil
}

/// The native pool a C kernel runs on: the one the executor passes at run time, or nil (serial) for one thread.
func nativePoolHandle(_ threads: ThreadContext) -> OpaquePointer? {
    guard threads.count > 1 else { return nil }
    return threads.nativePool?.handle
}

func whyString(_ buf: [CChar]) -> String {
    let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
