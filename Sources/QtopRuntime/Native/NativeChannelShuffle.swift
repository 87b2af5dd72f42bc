import QtopFormat
import QtopGraph

// fused_channel_shuffle (ChannelShuffleSpec): concat along axis 1 → channel shuffle → split along axis 1, moving
// bytes only (any dtype). The reference walks every element through the spec's index rule; the fast kernel copies
// whole channel planes, the source of each output plane worked out once per plan.

/// The plan of one node: per output tensor, per channel, the input it copies and the channel there.
struct ShufflePlan {
    let inputChannels: [Int]
    let outputChannels: [Int]
    /// (input, channel) per output channel, output 0 first.
    let sources: [(input: Int, channel: Int)]
    /// Elements per channel plane (product of the dims after axis 1) and images (axis 0).
    let plane: Int, batch: Int

    init(_ ctx: KernelBuildContext) throws {
        let spec = try ctx.spec(ChannelShuffleSpec.self)
        let ins = ctx.node.inputs("X").map(ctx.shape), outs = ctx.node.outputs("Out").map(ctx.shape)
        guard let first = ins.first, first.count >= 2, first.allSatisfy({ $0 > 0 }),
              ins.allSatisfy({ $0.count == first.count && $0[0] == first[0] && Array($0[2...]) == Array(first[2...]) }),
              !outs.isEmpty, outs.allSatisfy({ $0.count == first.count && $0[0] == first[0] && Array($0[2...]) == Array(first[2...]) && $0[1] > 0 })
        else { throw KernelError("fused_channel_shuffle: inputs \(ins) and outputs \(outs) need known shapes equal outside axis 1") }
        inputChannels = ins.map { $0[1] }
        outputChannels = outs.map { $0[1] }
        let secs = try spec.outputSections(channels: inputChannels.reduce(0, +), outputs: outs.count)
        guard secs == outputChannels else { throw KernelError("fused_channel_shuffle: outputs \(outs) do not match sections \(secs)") }
        sources = try spec.sources(inputChannels: inputChannels)
        plane = first[2...].reduce(1, *)
        batch = first[0]
    }

    /// Checks the run's tensors against the plan: counts and one element size for all.
    func check(_ xs: [Tensor], _ ys: [Tensor]) throws -> Int {
        guard xs.count == inputChannels.count, ys.count == outputChannels.count, let size = xs.first?.dtype.byteSize,
              zip(xs, inputChannels).allSatisfy({ $0.count == batch * $1 * plane && $0.dtype.byteSize == size }),
              zip(ys, outputChannels).allSatisfy({ $0.count == batch * $1 * plane && $0.dtype.byteSize == size }) else {
            throw KernelError("fused_channel_shuffle: tensors \(xs.map(\.shape)) → \(ys.map(\.shape)) differ from the plan")
        }
        return size
    }
}

/// Element by element, from the spec's rule (the oracle of the plane copies).
func makeReferenceChannelShuffle(_ ctx: KernelBuildContext) throws -> KernelBuild {
    let spec = try ctx.spec(ChannelShuffleSpec.self)
    let p = try ShufflePlan(ctx)
    let total = p.inputChannels.reduce(0, +), per = total / spec.groups
    return refReady { io in
        let xs = io.inputs["X"] ?? [], ys = io.outputs["Out"] ?? []
        let size = try p.check(xs, ys)
        // concatenated channel index → (input, channel)
        var owner: [(Int, Int)] = []
        for (k, c) in p.inputChannels.enumerated() { for ch in 0..<c { owner.append((k, ch)) } }
        var c = 0
        for (o, oc) in p.outputChannels.enumerated() {
            for local in 0..<oc {
                let (k, ch) = owner[(c % spec.groups) * per + c / spec.groups]
                for n in 0..<p.batch {
                    for i in 0..<p.plane {
                        let src = ((n * p.inputChannels[k] + ch) * p.plane + i) * size
                        let dst = ((n * oc + local) * p.plane + i) * size
                        (ys[o].data + dst).copyMemory(from: xs[k].data + src, byteCount: size)
                    }
                }
                c += 1
            }
        }
    }
}

/// One memcpy per output plane; planes spread over the threads in runs of about 64 KiB.
final class PlaneShuffleKernel: Kernel {
    let plan: ShufflePlan
    /// Per output plane of one image, in order: output tensor, channel there, input tensor, channel there.
    let dstT: [Int], dstC: [Int], srcT: [Int], srcC: [Int]

    init(_ plan: ShufflePlan) {
        self.plan = plan
        var dt: [Int] = [], dc: [Int] = []
        for (o, oc) in plan.outputChannels.enumerated() { for c in 0..<oc { dt.append(o); dc.append(c) } }
        dstT = dt; dstC = dc
        srcT = plan.sources.map(\.input); srcC = plan.sources.map(\.channel)
    }

    func run(_ io: KernelIO) throws {
        let xs = io.inputs["X"] ?? [], ys = io.outputs["Out"] ?? []
        let size = try plan.check(xs, ys)
        let planeBytes = plan.plane * size, perImage = dstT.count
        let src = xs.map { UnsafeRawPointer($0.data) }, dst = ys.map(\.data)
        let inC = plan.inputChannels, outC = plan.outputChannels
        let total = plan.batch * perImage
        parallelChunks(io.threads, total, grain: max(1, 65536 / max(planeBytes, 1))) { range in
            for j in range {
                let n = j / perImage, k = j - n * perImage
                let s = src[srcT[k]] + (n * inC[srcT[k]] + srcC[k]) * planeBytes
                let d = dst[dstT[k]] + (n * outC[dstT[k]] + dstC[k]) * planeBytes
                d.copyMemory(from: s, byteCount: planeBytes)
            }
        }
    }
}

func makePlaneChannelShuffle(_ ctx: KernelBuildContext) throws -> KernelBuild {
    if let big = oversizedTensor(ctx) { return .rejected(big) }
    return .ready(PlaneShuffleKernel(try ShufflePlan(ctx)))
}

/// The reference ("ref", with the reference kernels).
func registerReferenceChannelShuffle(_ r: KernelRegistry) {
    r.addReference("fused_channel_shuffle") { ctx in try makeReferenceChannelShuffle(ctx) }
}

/// The plane-copy kernel ("planes", generic ISA, priority 1: ahead of "ref").
func registerChannelShuffleKernels(_ r: KernelRegistry) {
    r.register(KernelEntry(op: "fused_channel_shuffle", precision: .f32, implementation: "planes", isa: .generic, priority: 1) { ctx in
        try makePlaneChannelShuffle(ctx)
    })
}
