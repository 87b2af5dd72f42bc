/// A kernel whose `run` may be called from several threads at once, each call with its own `KernelIO`: everything
/// it keeps after preparation is read only (packed weights, window tables, C handles whose run paths take their
/// scratch per calling thread). `Executor.stream(threads:)` shares such kernels between streams, so a model's
/// weights are packed once however many streams run; every other kernel is built once per stream.
///
/// Declaring a kernel shared is a promise about its run path, so each conformance below names why it holds.
/// A kernel that caches per-shape tables at run time or keeps scratch arrays (the interp kernels do) must not
/// conform; closure kernels (`ReferenceKernel`, `SwiftFastKernel`) do not either, as nothing checks what their
/// closures capture.
public protocol StreamSharedKernel: Kernel {}

/// qtop_qconv_run2 reads the handle only; im2col rows and depthwise offsets come from qtop__tls_scratch.
extension NativeQConvKernel: StreamSharedKernel {}
/// A qconv handle underneath (see above).
extension NativeQMatMulKernel: StreamSharedKernel {}
/// qtop_qpool_run reads the window tables; the average pool's accumulators are per-thread scratch.
extension NativeQPoolKernel: StreamSharedKernel {}
/// Stateless reorders.
extension NativeQuantizeKernel: StreamSharedKernel {}
extension NativeDequantizeKernel: StreamSharedKernel {}
extension NativeLayoutNHWCToNCHWKernel: StreamSharedKernel {}
/// qtop_fconv_run reads the packed weights; its im2col matrix is per calling thread (col_scratch).
extension NativeFConvKernel: StreamSharedKernel {}
/// qtop_fmatmul_run packs A into a buffer of its own call.
extension NativeFMatMulKernel: StreamSharedKernel {}
/// Window tables are `let` arrays; the C loop writes only the output.
extension NativeFPoolKernel: StreamSharedKernel {}
