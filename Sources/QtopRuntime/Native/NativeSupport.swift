import CQtopKernels
import QtopFormat
import QtopGraph

/// Helpers shared by the native kernel wrappers: dtype and activation mapping to the C enums (attributes come
/// decoded from the op specs).
enum NativeAttr {
    static func activation(_ s: String) -> qtop_act? {
        switch s.lowercased() {
        case "", "none", "identity", "linear": return QTOP_ACT_NONE
        case "relu": return QTOP_ACT_RELU
        case "relu6": return QTOP_ACT_RELU6
        case "hard_swish", "hardswish": return QTOP_ACT_HARD_SWISH
        default: return nil
        }
    }

    /// The C activation for a fused float activation, nil when the C epilogue cannot compute it (an activation it
    /// lacks, or parameters other than the ones it hard-codes: relu6 at 6, hard_swish 6/6/3).
    static func activation(_ act: FusedActivation) -> qtop_act? {
        guard let c = activation(act.name) else { return nil }
        let p = act.params
        switch c {
        case QTOP_ACT_RELU6:
            let alpha = p["fuse_alpha"].flatMap { $0 > 0 ? $0 : nil }
            if (p["threshold"] ?? alpha ?? 6) != 6 { return nil }
        case QTOP_ACT_HARD_SWISH:
            if (p["threshold"] ?? 6) != 6 || (p["scale"] ?? 6) != 6 || (p["offset"] ?? 3) != 3 { return nil }
        default: break
        }
        return c
    }

    /// A fused float activation the fp32 conv epilogue lacks but `qtop_act_apply_f32` computes after the conv (the
    /// int8 epilogue's sigmoid, hard_sigmoid with finite slope / offset, swish with beta 1): its C code and parameters.
    static func postActivation(_ act: FusedActivation) -> (act: Int32, slope: Float, offset: Float)? {
        guard let e = try? EpilogueActivation(act.name) else { return nil }
        switch e {
        case .sigmoid: return (QTOP_ACT_SIGMOID, 0, 0)
        case .swish: return act.swishBeta == 1 ? (QTOP_ACT_SWISH, 0, 0) : nil
        case .hard_sigmoid:
            let (slope, offset) = act.hardSigmoid
            return slope.isFinite && offset.isFinite ? (QTOP_ACT_HARD_SIGMOID, slope, offset) : nil
        default: return nil
        }
    }

    static func unsupported(_ act: FusedActivation) -> String {
        activation(act.name) == nil ? "unsupported activation \(act.name)" : "activation \(act.name) with parameters \(act.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) (the native epilogue has the defaults only)"
    }

    /// The C activation of the integer epilogue.
    static func activation(_ e: EpilogueActivation) -> qtop_act {
        switch e {
        case .none: return QTOP_ACT_NONE
        case .relu: return QTOP_ACT_RELU
        case .relu6: return QTOP_ACT_RELU6
        case .hard_swish: return QTOP_ACT_HARD_SWISH
        case .sigmoid: return qtop_act(rawValue: UInt32(QTOP_ACT_SIGMOID))
        case .hard_sigmoid: return qtop_act(rawValue: UInt32(QTOP_ACT_HARD_SIGMOID))
        case .swish: return qtop_act(rawValue: UInt32(QTOP_ACT_SWISH))
        }
    }

    static func cDType(_ t: QDataType) -> qtop_dtype {
        switch t {
        case .u8: return QTOP_DT_U8
        case .s8: return QTOP_DT_S8
        case .f32: return QTOP_DT_F32
        }
    }

    static func int8DType(_ d: DType?) -> qtop_dtype? {
        switch d {
        case .u8?: return QTOP_DT_U8
        case .i8?: return QTOP_DT_S8
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
    if let big = oversizedTensor(ctx) { return big }
    return nil
}

/// The C kernels take 32-bit dims and compute products of them (planes = n·c, rows = m): each extent is already
/// bounded by shape inference, but a tensor of more than Int32.max elements would overflow those products, so such
/// a node stays on the reference kernel. Checked before any wrapper converts a product to Int32.
func oversizedTensor(_ ctx: KernelBuildContext) -> String? {
    for slot in ctx.node.inputs + ctx.node.outputs {
        for v in slot.args {
            var n = 1
            for d in ctx.shape(v) where d > 0 {
                let (p, o) = n.multipliedReportingOverflow(by: d)
                if o || p > Int(Int32.max) { return "\(v) has more than \(Int32.max) elements (32-bit kernel indexing)" }
                n = p
            }
        }
    }
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
