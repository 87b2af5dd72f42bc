import CQtopKernels
import QtopGraph

/// Native `layout_nhwc_to_nchw` (f32 NHWC → f32 NCHW, a pure transpose) on the C reorder. Registered by
/// `registerNativeInt8LayoutKernels`, generic priority 1 so it wins over the Swift reference at the same ISA.
final class NativeLayoutNHWCToNCHWKernel: Kernel {

    func run(_ io: KernelIO) throws {
        let x = try io.input("X")
        let y = try io.output("Out")
        guard x.dtype == .f32, y.dtype == .f32, x.count == y.count else { throw KernelError("layout_nhwc_to_nchw: bad tensors") }
        if x.rank == 4 {
            let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            guard y.shape == [n, c, h, w] else { throw KernelError("layout_nhwc_to_nchw: Out \(y.shape) for X \(x.shape)") }
            qtop_reorder_nhwc_to_nchw_f32(x.f32, y.f32, Int32(n), Int32(c), Int32(h), Int32(w), nativePoolHandle(io.threads))
        } else {
            y.data.copyMemory(from: x.data, byteCount: x.count * 4)
        }
    }
}

/// Int8-path helper kernels outside the conv/matmul families. Call from `KernelLibrary.standard` after
/// `registerNativeKernels`.
public func registerNativeInt8LayoutKernels(_ r: KernelRegistry) {
    r.register(KernelEntry(op: "layout_nhwc_to_nchw", precision: .f32, implementation: "reorder", isa: .generic, priority: 1) { _ in
        .ready(NativeLayoutNHWCToNCHWKernel())
    })
}
