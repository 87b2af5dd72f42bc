import Foundation
import QtopFormat
import QtopGraph

// Shared plumbing for the reference kernels: a closure-backed Kernel, registration helpers, dtype-agnostic
// element access and Paddle's attribute conventions (paddings, axes).

/// A kernel whose run is one closure; `make` captures the decoded attributes.
final class ReferenceKernel: Kernel {
    private let body: (KernelIO) throws -> Void
    init(_ body: @escaping (KernelIO) throws -> Void) { self.body = body }
    func run(_ io: KernelIO) throws { try body(io) }
}

/// Shorthand for a ready kernel.
func refReady(_ body: @escaping (KernelIO) throws -> Void) -> KernelBuild { .ready(ReferenceKernel(body)) }

extension KernelRegistry {
    /// Registers one reference ("ref", generic ISA) implementation.
    func addReference(_ op: String, _ precision: Precision = .f32, _ make: @escaping (KernelBuildContext) throws -> KernelBuild) {
        register(KernelEntry(op: op, precision: precision, implementation: "ref", isa: .generic, make: make))
    }
}

/// Every reference kernel: fp32/QDQ ops (Paddle semantics) and the integer oracle ops.
public func registerReferenceKernels(_ r: KernelRegistry) {
    registerReferenceActivationKernels(r)
    registerReferenceElementwiseKernels(r)
    registerReferenceConvKernels(r)
    registerReferencePoolKernels(r)
    registerReferenceMatMulKernels(r)
    registerReferenceShapeKernels(r)
    registerReferenceChannelShuffle(r)
    registerReferenceScaleResidual(r)
    registerReferenceDetectionKernels(r)
    registerReferenceReduceKernels(r)
    registerReferenceInterpKernels(r)
    registerReferenceNormKernels(r)
    registerReferenceMiscKernels(r)
    registerReferenceQuantKernels(r)
    registerReferenceFakeQuantizeKernel(r)
    registerIntegerOracleKernels(r)
    registerIntegerOracleDeconv(r)
    registerSEBoundaryReferenceKernels(r)
    registerIntegerOracleBMMKernel(r)
}

// MARK: - Tensor access

extension KernelIO {
    /// The first input found among `slots` (ops spell the same thing X / Input).
    func firstInput(_ slots: [String]) throws -> Tensor {
        for s in slots { if let t = inputs[s]?.first { return t } }
        throw KernelError("missing input \(slots.joined(separator: "/"))")
    }

    func firstOutput(_ slots: [String]) throws -> Tensor {
        for s in slots { if let t = outputs[s]?.first { return t } }
        throw KernelError("missing output \(slots.joined(separator: "/"))")
    }
}

func requireF32(_ t: Tensor, _ what: String) throws {
    guard t.dtype == .f32 else { throw KernelError("\(what): expected float32, got \(t.dtype.paddleName)") }
}

func requireSameCount(_ a: Tensor, _ b: Tensor, _ what: String) throws {
    guard a.count == b.count else { throw KernelError("\(what): element count \(a.count) vs \(b.count)") }
}

/// Reads element `i` of any numeric tensor as Float.
func loadFloat(_ t: Tensor, _ i: Int) -> Float {
    switch t.dtype {
    case .f32: return t.f32[i]
    case .f64: return Float(t.data.assumingMemoryBound(to: Double.self)[i])
    case .f16: return halfToFloat(t.data.assumingMemoryBound(to: UInt16.self)[i])
    case .bf16: return Float(bitPattern: UInt32(t.data.assumingMemoryBound(to: UInt16.self)[i]) << 16)
    case .i8: return Float(t.i8[i])
    case .u8, .bool: return Float(t.u8[i])
    case .i16: return Float(t.data.assumingMemoryBound(to: Int16.self)[i])
    case .i32: return Float(t.i32[i])
    case .i64: return Float(t.i64[i])
    }
}

/// All elements of a (small) tensor as Float: scales, bias vectors, clip bounds.
func floatArray(_ t: Tensor) -> [Float] { (0..<t.count).map { loadFloat(t, $0) } }

/// All elements of an integer (or float) tensor as Int.
func intArray(_ t: Tensor) -> [Int] {
    (0..<t.count).map { i -> Int in
        switch t.dtype {
        case .i64: return Int(t.i64[i])
        case .i32: return Int(t.i32[i])
        case .i16: return Int(t.data.assumingMemoryBound(to: Int16.self)[i])
        case .i8: return Int(t.i8[i])
        case .u8, .bool: return Int(t.u8[i])
        default:
            let f = loadFloat(t, i)
            return f.isFinite ? Int(f) : 0
        }
    }
}

/// A constant's elements as Float (for `make`-time precomputation), or nil when the slot is not a constant.
func constantFloats(_ ctx: KernelBuildContext, _ slot: String) -> [Float]? {
    ctx.constant(slot).map { $0.floatValues() }
}

/// Byte copy of `src` into `dst` (same element count and size): reshape, flatten, squeeze, identity ops.
func copyElements(from src: Tensor, to dst: Tensor) throws {
    guard src.count == dst.count, src.dtype.byteSize == dst.dtype.byteSize else {
        throw KernelError("copy: \(src.shape) \(src.dtype.paddleName) -> \(dst.shape) \(dst.dtype.paddleName)")
    }
    if src.data == dst.data || src.byteCount == 0 { return }
    dst.data.copyMemory(from: src.data, byteCount: src.byteCount)
}

/// Copies element `si` of `src` to element `di` of `dst` by element size (dtype-agnostic gather).
@inline(__always)
func copyElement(_ src: Tensor, _ si: Int, _ dst: Tensor, _ di: Int, _ size: Int) {
    switch size {
    case 1: dst.u8[di] = src.u8[si]
    case 2: dst.data.assumingMemoryBound(to: UInt16.self)[di] = src.data.assumingMemoryBound(to: UInt16.self)[si]
    case 4: dst.data.assumingMemoryBound(to: UInt32.self)[di] = src.data.assumingMemoryBound(to: UInt32.self)[si]
    default: dst.data.assumingMemoryBound(to: UInt64.self)[di] = src.data.assumingMemoryBound(to: UInt64.self)[si]
    }
}

/// Row-major strides of a shape, in elements.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        s[i] = acc
        acc *= shape[i]
    }
    return s
}

func normalizeAxis(_ axis: Int, rank: Int) -> Int { axis < 0 ? axis + rank : axis }

// Paddle's attribute conventions (paddings, strides, SAME/VALID) live in the op specs (QtopGraph/Ops).
