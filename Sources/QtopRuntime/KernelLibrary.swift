/// The standard kernel set: Swift reference kernels (the oracle, always present) plus the native C kernels per ISA.
public enum KernelLibrary {
    public static func standard(pool: NativeThreadPool?) -> KernelRegistry {
        let r = KernelRegistry()
        registerReferenceKernels(r)
        registerNativeKernels(r, pool: pool)
        registerNativeInt8LayoutKernels(r, pool: pool)
        return r
    }
}
