import QtopFormat

/// A non-owning view of a dense row-major tensor: constant storage, a model input, or a slot in the memory plan.
public struct Tensor: @unchecked Sendable {
    public let dtype: DType
    public let shape: [Int]
    public let data: UnsafeMutableRawPointer

    public init(dtype: DType, shape: [Int], data: UnsafeMutableRawPointer) {
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    public init(_ host: HostTensor) {
        self.init(dtype: host.dtype, shape: host.shape, data: host.raw)
    }

    public var count: Int { shape.reduce(1, *) }
    public var byteCount: Int { count * dtype.byteSize }
    public var rank: Int { shape.count }

    public var f32: UnsafeMutablePointer<Float> { data.assumingMemoryBound(to: Float.self) }
    public var i8: UnsafeMutablePointer<Int8> { data.assumingMemoryBound(to: Int8.self) }
    public var u8: UnsafeMutablePointer<UInt8> { data.assumingMemoryBound(to: UInt8.self) }
    public var i32: UnsafeMutablePointer<Int32> { data.assumingMemoryBound(to: Int32.self) }
    public var i64: UnsafeMutablePointer<Int64> { data.assumingMemoryBound(to: Int64.self) }

    public var floats: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: f32, count: count) }

    /// Row-major strides in elements.
    public var strides: [Int] { rowMajorStrides(shape) }

    /// Copies into a new owned HostTensor (for writing outputs and for tests).
    public func copyToHost() -> HostTensor {
        HostTensor(dtype: dtype, shape: shape, bytes: UnsafeRawBufferPointer(start: data, count: byteCount))
    }
}
