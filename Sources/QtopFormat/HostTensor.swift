import Foundation

/// A dense, row-major tensor in its own 64-byte-aligned allocation.
///
/// Constants loaded from `.pdiparams` and arrays read from `.npy` live here. The storage is a class so
/// graph snapshots can share it without copying; it is never mutated after construction by the loader.
public final class HostTensor: @unchecked Sendable {
    public let dtype: DType
    public let shape: [Int]
    public let byteCount: Int
    public let raw: UnsafeMutableRawPointer

    public var count: Int { shape.reduce(1, *) }

    /// Allocates zeroed storage for `shape` elements of `dtype`.
    public init(dtype: DType, shape: [Int]) {
        self.dtype = dtype
        self.shape = shape
        let n = shape.reduce(1, *)
        self.byteCount = n * dtype.byteSize
        self.raw = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 64), alignment: 64)
        self.raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 64))
    }

    /// Copies `bytes` (exactly `count * dtype.byteSize` of them) into new storage.
    public convenience init(dtype: DType, shape: [Int], bytes: UnsafeRawBufferPointer) {
        self.init(dtype: dtype, shape: shape)
        precondition(bytes.count == byteCount, "byte count does not match shape")
        if byteCount > 0 { raw.copyMemory(from: bytes.baseAddress!, byteCount: byteCount) }
    }

    public convenience init(shape: [Int], floats: [Float]) {
        self.init(dtype: .f32, shape: shape)
        precondition(floats.count == count)
        floats.withUnsafeBytes { raw.copyMemory(from: $0.baseAddress!, byteCount: byteCount) }
    }

    deinit { raw.deallocate() }

    public func pointer<T>(as: T.Type) -> UnsafeMutablePointer<T> { raw.assumingMemoryBound(to: T.self) }

    /// The elements converted to Float (for any dtype); used by reference kernels, statistics and the UI.
    public func floatValues() -> [Float] {
        let n = count
        var out = [Float](repeating: 0, count: n)
        switch dtype {
        case .f32: out.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: raw, byteCount: n * 4) }
        case .f64: let p = pointer(as: Double.self); for i in 0..<n { out[i] = Float(p[i]) }
        case .f16:
            let p = pointer(as: UInt16.self); for i in 0..<n { out[i] = halfToFloat(p[i]) }
        case .bf16:
            let p = pointer(as: UInt16.self); for i in 0..<n { out[i] = Float(bitPattern: UInt32(p[i]) << 16) }
        case .i8: let p = pointer(as: Int8.self); for i in 0..<n { out[i] = Float(p[i]) }
        case .u8: let p = pointer(as: UInt8.self); for i in 0..<n { out[i] = Float(p[i]) }
        case .bool: let p = pointer(as: UInt8.self); for i in 0..<n { out[i] = p[i] != 0 ? 1 : 0 }
        case .i16: let p = pointer(as: Int16.self); for i in 0..<n { out[i] = Float(p[i]) }
        case .i32: let p = pointer(as: Int32.self); for i in 0..<n { out[i] = Float(p[i]) }
        case .i64: let p = pointer(as: Int64.self); for i in 0..<n { out[i] = Float(p[i]) }
        }
        return out
    }

    /// The elements as Int64 (integer dtypes and bool; floats truncate toward zero).
    public func int64Values() -> [Int64] {
        switch dtype {
        case .i64: return Array(UnsafeBufferPointer(start: pointer(as: Int64.self), count: count))
        case .i32: return UnsafeBufferPointer(start: pointer(as: Int32.self), count: count).map { Int64($0) }
        case .i16: return UnsafeBufferPointer(start: pointer(as: Int16.self), count: count).map { Int64($0) }
        case .i8: return UnsafeBufferPointer(start: pointer(as: Int8.self), count: count).map { Int64($0) }
        case .u8, .bool: return UnsafeBufferPointer(start: pointer(as: UInt8.self), count: count).map { Int64($0) }
        default:
            return floatValues().map { $0.isFinite ? Int64(max(min($0, 9.2e18), -9.2e18)) : 0 }
        }
    }

    /// A tensor with the same bytes and a different (same-sized) shape.
    public func reshaped(_ newShape: [Int]) -> HostTensor {
        precondition(newShape.reduce(1, *) == count)
        return HostTensor(dtype: dtype, shape: newShape, bytes: UnsafeRawBufferPointer(start: raw, count: byteCount))
    }
}

/// IEEE 754 binary16 → binary32, exact (subnormals, infinities and NaN included).
public func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = Int((h >> 10) & 0x1f)
    let mant = UInt32(h & 0x3ff)
    if exp == 0 {
        if mant == 0 { return Float(bitPattern: sign) }
        let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -v : v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
}
