import CQtopKernels
import QtopFormat
import QtopGraph

/// Native `concat` on any axis (f32_layout.c): output row o of `outer` is each input's row o in turn, copied with
/// memcpy in byte ranges split over the pool. Byte copies only, so it equals the reference for any dtype; it
/// registers for f32 (the precision its exec type names) and leaves other dtypes to the reference.
final class NativeConcatKernel: Kernel {
    let axis: Int
    init(axis: Int) { self.axis = axis }

    func run(_ io: KernelIO) throws {
        let xs = io.inputs["X"] ?? [], out = try io.output("Out")
        guard !xs.isEmpty, axis < out.rank else { throw KernelError("concat: no inputs or axis \(axis) for \(out.shape)") }
        let outer = out.shape[..<axis].reduce(1, *), size = out.dtype.byteSize
        var rowBytes: [Int64] = [], extent = 0
        for t in xs {
            guard t.rank == out.rank, t.dtype == out.dtype, t.shape[..<axis] == out.shape[..<axis], t.shape[(axis + 1)...] == out.shape[(axis + 1)...] else {
                throw KernelError("concat: input \(t.shape) vs output \(out.shape)")
            }
            extent += t.shape[axis]
            rowBytes.append(Int64(t.count / max(outer, 1) * size))
        }
        guard extent == out.shape[axis] else { throw KernelError("concat: inputs sum to \(extent) along axis, output has \(out.shape[axis])") }
        let srcs: [UnsafeRawPointer?] = xs.map { UnsafeRawPointer($0.data) }
        guard qtop_concat_bytes(srcs, rowBytes, Int32(xs.count), out.data, Int64(outer), nativePoolHandle(io.threads)) == 1 else {
            throw KernelError("concat: bad arguments")
        }
    }
}

func makeNativeConcat(_ ctx: KernelBuildContext) throws -> KernelBuild {
    if let why = nativeISAGate(.generic, ctx) { return .rejected(why) }
    let spec = try ctx.spec(ConcatSpec.self)
    guard ctx.node.input("AxisTensor") == nil else { return .rejected("axis from an AxisTensor input") }
    let ins = ctx.node.inputs("X")
    guard !ins.isEmpty, ins.count <= Int(Int32.max), ins.allSatisfy({ ctx.graph.values[$0]?.dtype == .f32 }), ctx.outputDType("Out") == .f32 else {
        return .rejected("X and Out must be f32")
    }
    let rank = ctx.outputShape("Out").count
    guard rank > 0 else { return .rejected("Out needs a known rank") }
    let axis = spec.axis < 0 ? spec.axis + rank : spec.axis
    guard axis >= 0, axis < rank else { return .rejected("axis \(spec.axis) for rank \(rank)") }
    return .ready(NativeConcatKernel(axis: axis))
}

/// Generic ISA, priority 1: ahead of the reference (no ISA-specific code; memcpy is the vector loop).
func registerNativeConcat(_ r: KernelRegistry) {
    r.register(KernelEntry(op: "concat", precision: .f32, implementation: "concat", isa: .generic, priority: 1) { ctx in
        try makeNativeConcat(ctx)
    })
}
