/// The standard kernel set: Swift reference kernels (the oracle, always present) plus the native C kernels per ISA.
public enum KernelLibrary {
    public static func standard() -> KernelRegistry {
        let r = KernelRegistry()
        registerReferenceKernels(r)
        registerNativeKernels(r)
        registerNativeMathKernels(r)
        registerNativeInt8LayoutKernels(r)
        registerNativeAttentionKernels(r)
        return r
    }
}
