import CQtopKernels
import QtopFormat
import QtopGraph

// The data path of attention blocks (SVTR / ERNIE / the PP-OCR rec neck): matmul_v2 / matmul of two activations
// (batched, trans_x / trans_y, broadcast batch dims; C: f32_bmm.c on the ISA row's fp32 GEMM; in int8 graphs qbmm,
// q8_bmm.c on the row's s16 int8 GEMM, bit-exact with the integer oracle at every ISA), transpose2
// (f32_bmm_transpose.c), slice by contiguous runs, and inference dropout as a copy or one multiply. Shapes are
// resolved once per plan; each kernel checks the tensors it gets against them.

private func knownShape(_ s: [Int]) -> Bool { !s.isEmpty && s.allSatisfy { $0 > 0 } }

/// Paddle's matmul shapes with batch broadcasting laid out as matrix indices: output matrix b reads X matrix
/// `xoff[b]` and Y matrix `yoff[b]`.
struct BatchedMatMulLayout: Equatable {
    let batch: Int, m: Int, k: Int, n: Int
    let transX: Bool, transY: Bool
    let xCount: Int, yCount: Int
    let xoff: [Int64], yoff: [Int64]

    /// nil with the reason when the shapes do not multiply.
    static func make(x x0: [Int], y y0: [Int], transX: Bool, transY: Bool) -> (BatchedMatMulLayout?, String) {
        guard !x0.isEmpty, !y0.isEmpty else { return (nil, "0-D operand") }
        // 1-D X is a row vector, 1-D Y a column vector; transposes do not apply to them
        let xs = x0.count == 1 ? [1, x0[0]] : x0, ys = y0.count == 1 ? [y0[0], 1] : y0
        let tx = x0.count == 1 ? false : transX, ty = y0.count == 1 ? false : transY
        let (xr, xc) = (xs[xs.count - 2], xs[xs.count - 1]), (yr, yc) = (ys[ys.count - 2], ys[ys.count - 1])
        let m = tx ? xc : xr, k = tx ? xr : xc, k2 = ty ? yc : yr, n = ty ? yr : yc
        guard k == k2 else { return (nil, "inner dimensions \(k) vs \(k2)") }
        let bx = Array(xs.dropLast(2)), by = Array(ys.dropLast(2))
        let rank = max(bx.count, by.count)
        let bxa = Array(repeating: 1, count: rank - bx.count) + bx, bya = Array(repeating: 1, count: rank - by.count) + by
        var batch = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            guard bxa[i] == bya[i] || bxa[i] == 1 || bya[i] == 1 else { return (nil, "batch dims \(bx) vs \(by)") }
            batch[i] = max(bxa[i], bya[i])
        }
        let count = batch.reduce(1, *)
        func strides(_ d: [Int]) -> [Int] {
            var s = [Int](repeating: 0, count: rank), acc = 1
            for i in stride(from: rank - 1, through: 0, by: -1) { s[i] = d[i] == 1 ? 0 : acc; acc *= d[i] }
            return s
        }
        let sx = strides(bxa), sy = strides(bya)
        var xo = [Int64](), yo = [Int64]()
        xo.reserveCapacity(count); yo.reserveCapacity(count)
        var idx = [Int](repeating: 0, count: rank)
        var a = 0, b = 0
        for _ in 0..<count {
            xo.append(Int64(a)); yo.append(Int64(b))
            var d = rank - 1
            while d >= 0 {
                idx[d] += 1; a += sx[d]; b += sy[d]
                if idx[d] < batch[d] { break }
                a -= sx[d] * idx[d]; b -= sy[d] * idx[d]; idx[d] = 0
                d -= 1
            }
        }
        return (BatchedMatMulLayout(batch: count, m: m, k: k, n: n, transX: tx, transY: ty, xCount: x0.reduce(1, *),
                                    yCount: y0.reduce(1, *), xoff: xo, yoff: yo), "")
    }

    /// True when output matrix b reads matrices b of both operands (no broadcasting): the C kernel then needs no
    /// offset tables.
    var identity: Bool { xoff.count == batch && yoff.count == batch && xoff.enumerated().allSatisfy { $0.element == Int64($0.offset) }
        && yoff.enumerated().allSatisfy { $0.element == Int64($0.offset) } }

    /// X, Y and Out of a run, checked against this layout (f32, the planned element counts): what both batched
    /// matmul kernels read before calling C.
    func operands(_ io: KernelIO, op: String) throws -> (x: Tensor, y: Tensor, out: Tensor) {
        let x = try io.input("X"), y = try io.input("Y"), out = try io.output("Out")
        guard x.dtype == .f32, y.dtype == .f32, out.dtype == .f32, x.count == xCount, y.count == yCount,
              out.count == batch * m * n else {
            throw KernelError("\(op) planned for \(xCount) × \(yCount) values, got \(x.shape) × \(y.shape)")
        }
        return (x, y, out)
    }

    /// Calls `body` with the X and Y offset tables, or with nil for both when `direct` (the layout is the identity,
    /// worked out once at build time).
    func withOffsets<R>(direct: Bool, _ body: (UnsafePointer<Int64>?, UnsafePointer<Int64>?) -> R) -> R {
        if direct { return body(nil, nil) }
        return xoff.withUnsafeBufferPointer { xo in yoff.withUnsafeBufferPointer { yo in body(xo.baseAddress, yo.baseAddress) } }
    }
}

final class NativeFBMMKernel: Kernel {
    let layout: BatchedMatMulLayout
    let isa: Int32
    let alpha: Float
    let direct: Bool

    init(layout: BatchedMatMulLayout, isa: Int32, alpha: Float) {
        self.layout = layout; self.isa = isa; self.alpha = alpha
        direct = layout.identity
    }

    func run(_ io: KernelIO) throws {
        let l = layout
        let (x, y, out) = try l.operands(io, op: "matmul")
        var d = qtop_fbmm_desc(batch: Int32(l.batch), m: Int32(l.m), k: Int32(l.k), n: Int32(l.n),
                               trans_x: l.transX ? 1 : 0, trans_y: l.transY ? 1 : 0, alpha: alpha)
        let pool = nativePoolHandle(io.threads)
        let ok = l.withOffsets(direct: direct) { qtop_fbmm_run(&d, isa, x.f32, y.f32, out.f32, $0, $1, pool) }
        guard ok == 1 else { throw KernelError("matmul: no fp32 GEMM at this ISA") }
    }
}

/// matmul_v2 / matmul whose Y is an activation (or any shape the constant-weight GEMM does not take: trans_x,
/// batched Y). A 2-D constant Y is left to the "gemm" entry, which packs it once.
func makeFBMM(_ ctx: KernelBuildContext, isa: ISALevel) throws -> KernelBuild {
    if let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    let spec = try ctx.spec(MatMulSpec.self)
    let xs = ctx.inputShape("X"), ys = ctx.inputShape("Y")
    guard knownShape(xs), knownShape(ys) else { return .rejected("X and Y need known shapes, got \(xs) and \(ys)") }
    guard ctx.inputDType("X") == .f32, ctx.inputDType("Y") == .f32 else { return .rejected("X and Y must be f32") }
    if let w = ctx.constant("Y"), w.shape.count == 2, xs.count >= 2, !spec.transX, spec.alpha == 1 {
        return .rejected("constant 2-D Y: the gemm entry packs it once")
    }
    let (layout, why) = BatchedMatMulLayout.make(x: xs, y: ys, transX: spec.transX, transY: spec.transY)
    guard let layout else { return .rejected(why) }
    let os = ctx.outputShape("Out")
    if knownShape(os), os.reduce(1, *) != layout.batch * layout.m * layout.n { return .rejected("Out \(os) does not hold the product") }
    guard layout.batch <= Int(Int32.max), layout.k <= Int(Int32.max) else { return .rejected("too large") }
    var d = qtop_fbmm_desc(batch: Int32(layout.batch), m: Int32(layout.m), k: Int32(layout.k), n: Int32(layout.n),
                           trans_x: 0, trans_y: 0, alpha: spec.alpha)
    var buf = [CChar](repeating: 0, count: 256)
    if qtop_fbmm_query(&d, isa.cValue, ctx.isaCap.cValue, &buf, buf.count) == 0 { return .rejected(whyString(buf)) }
    return .ready(NativeFBMMKernel(layout: layout, isa: isa.cValue, alpha: spec.alpha))
}

// MARK: - qbmm (int8 products of two fake-quantized activations, q8_bmm.c)

final class NativeQBMMKernel: Kernel {
    let layout: BatchedMatMulLayout
    let isa: Int32
    let xScale: Float, yScale: Float
    let direct: Bool

    init(layout: BatchedMatMulLayout, isa: Int32, xScale: Float, yScale: Float) {
        self.layout = layout; self.isa = isa; self.xScale = xScale; self.yScale = yScale
        direct = layout.identity
    }

    func run(_ io: KernelIO) throws {
        let l = layout
        let (x, y, out) = try l.operands(io, op: "qbmm")
        var d = qtop_qbmm_desc(batch: Int32(l.batch), m: Int32(l.m), k: Int32(l.k), n: Int32(l.n), trans_x: l.transX ? 1 : 0,
                               trans_y: l.transY ? 1 : 0, x_range: xScale, y_range: yScale)
        let pool = nativePoolHandle(io.threads)
        let ok = l.withOffsets(direct: direct) { qtop_qbmm_run(&d, isa, x.f32, y.f32, out.f32, $0, $1, pool) }
        guard ok == 1 else { throw KernelError("qbmm: no kernel at this ISA") }
    }
}

func makeQBMM(_ ctx: KernelBuildContext, isa: ISALevel) throws -> KernelBuild {
    if isa != .generic, let why = nativeISAGate(isa, ctx) { return .rejected(why) }
    if let big = oversizedTensor(ctx) { return .rejected(big) }
    let spec = try ctx.spec(QBMMSpec.self)
    let xs = ctx.inputShape("X"), ys = ctx.inputShape("Y")
    guard knownShape(xs), knownShape(ys) else { return .rejected("X and Y need known shapes, got \(xs) and \(ys)") }
    guard ctx.inputDType("X") == .f32, ctx.inputDType("Y") == .f32 else { return .rejected("X and Y must be f32") }
    let (layout, why) = BatchedMatMulLayout.make(x: xs, y: ys, transX: spec.transX, transY: spec.transY)
    guard let layout else { return .rejected(why) }
    guard layout.batch <= Int(Int32.max) else { return .rejected("too many matrices") }
    var d = qtop_qbmm_desc(batch: Int32(layout.batch), m: Int32(layout.m), k: Int32(layout.k), n: Int32(layout.n),
                           trans_x: 0, trans_y: 0, x_range: spec.xScale, y_range: spec.yScale)
    var buf = [CChar](repeating: 0, count: 256)
    if qtop_qbmm_query(&d, isa.cValue, ctx.isaCap.cValue, &buf, buf.count) == 0 { return .rejected(whyString(buf)) }
    return .ready(NativeQBMMKernel(layout: layout, isa: isa.cValue, xScale: spec.xScale, yScale: spec.yScale))
}

// MARK: - transpose2

func makeFastTranspose(_ ctx: KernelBuildContext) throws -> KernelBuild {
    let spec = try ctx.spec(TransposeSpec.self)
    let xs = ctx.inputShape("X")
    guard knownShape(xs), xs.count <= 8 else { return .rejected("X needs a known shape of rank 1…8, got \(xs)") }
    guard let dt = ctx.inputDType("X"), dt.byteSize == 4 else { return .rejected("4-byte elements only") }
    let perm = try spec.permutation(rank: xs.count)
    let dims = xs.map { Int64($0) }, cperm = perm.map { Int32($0) }
    let count = xs.reduce(1, *)
    return .ready(SwiftFastKernel { io in
        let x = try io.input("X"), y = try io.output("Out")
        guard x.shape == xs, y.count == count, x.dtype.byteSize == 4, y.dtype.byteSize == 4 else {
            throw KernelError("transpose planned for \(xs), got \(x.shape)")
        }
        let ok = dims.withUnsafeBufferPointer { dp in
            cperm.withUnsafeBufferPointer { pp in
                qtop_transpose_4b(x.data, y.data, Int32(xs.count), dp.baseAddress, pp.baseAddress, nativePoolHandle(io.threads))
            }
        }
        guard ok == 1 else { throw KernelError("transpose: bad permutation \(perm) for \(xs)") }
    })
}

// MARK: - slice

/// A slice window (stride 1 on every axis) as runs of contiguous bytes: `runs` runs of `runBytes`, run r starting
/// at input byte `offsets[r]`, written back to back.
struct SliceRuns: Equatable {
    let runBytes: Int
    let offsets: [Int]

    init?(_ w: SliceWindow, elementSize: Int, maxRuns: Int = 1 << 20) {
        let rank = w.inShape.count
        guard rank > 0, w.step.allSatisfy({ $0 == 1 }), w.count.allSatisfy({ $0 >= 0 }) else { return nil }
        // the run: trailing axes taken whole, plus the first axis (from the end) that is cut
        var inner = rank - 1
        var run = w.count[inner]
        while inner > 0 && w.count[inner] == w.inShape[inner] {
            inner -= 1
            run *= w.count[inner]
        }
        let outer = w.count[..<inner].reduce(1, *)
        guard outer <= maxRuns else { return nil }
        var strides = [Int](repeating: 1, count: rank), acc = 1
        for i in stride(from: rank - 1, through: 0, by: -1) { strides[i] = acc; acc *= w.inShape[i] }
        let base = zip(w.start, strides).reduce(0) { $0 + $1.0 * $1.1 }
        var offs = [Int]()
        offs.reserveCapacity(outer)
        var idx = [Int](repeating: 0, count: inner), off = base
        for _ in 0..<outer {
            offs.append(off * elementSize)
            var d = inner - 1
            while d >= 0 {
                idx[d] += 1; off += strides[d]
                if idx[d] < w.count[d] { break }
                off -= strides[d] * idx[d]; idx[d] = 0
                d -= 1
            }
        }
        runBytes = run * elementSize
        offsets = offs
    }
}

func makeFastSlice(_ ctx: KernelBuildContext) throws -> KernelBuild {
    let spec = try ctx.spec(SliceSpec.self)
    for s in ["StartsTensor", "StartsTensorList", "EndsTensor", "EndsTensorList", "StridesTensor", "StridesTensorList"]
        where !ctx.node.inputs(s).isEmpty {
        return .rejected("bounds come from \(s) at run time")
    }
    let xs = ctx.inputShape("Input")
    guard knownShape(xs), let dt = ctx.inputDType("Input"), dt.byteSize > 0 else { return .rejected("Input needs a known shape") }
    let w = try spec.window(xs, starts: spec.starts, ends: spec.ends, strides: spec.strides)
    guard let runs = SliceRuns(w, elementSize: dt.byteSize) else { return .rejected("strided or too many runs") }
    let outBytes = w.outShape.reduce(1, *) * dt.byteSize
    guard runs.runBytes * runs.offsets.count == outBytes else { return .rejected("window does not tile the output") }
    return .ready(SwiftFastKernel { io in
        let x = try io.input("Input"), y = try io.output("Out")
        guard x.shape == xs, x.dtype.byteSize == dt.byteSize, y.byteCount == outBytes else {
            throw KernelError("slice planned for \(xs), got \(x.shape)")
        }
        let src = UnsafeRawPointer(x.data), dst = y.data, n = runs.runBytes
        runs.offsets.withUnsafeBufferPointer { offs in
            parallelChunks(io.threads, offs.count, grain: max(1, 65536 / max(n, 1))) { range in
                for r in range { (dst + r * n).copyMemory(from: src + offs[r], byteCount: n) }
            }
        }
    })
}

// MARK: - dropout (inference)

func makeFastDropout(_ ctx: KernelBuildContext) throws -> KernelBuild {
    let spec = try ctx.spec(DropoutSpec.self)
    guard ctx.inputDType("X") == .f32 else { return .rejected("X must be f32") }
    let keep = 1 - spec.prob, identity = spec.upscaleInTrain
    return .ready(SwiftFastKernel { io in
        let x = try io.input("X"), y = try io.output("Out")
        try requireF32(x, "dropout")
        try requireSameCount(x, y, "dropout")
        let xp = x.f32, yp = y.f32
        if identity {
            if xp != yp { yp.update(from: xp, count: x.count) }
            return
        }
        parallelChunks(io.threads, x.count, grain: 16384) { range in
            for i in range { yp[i] = xp[i] * keep }
        }
    })
}

/// Registers the attention data-path kernels: "bmm" per fp32 ISA and qbmm's per int8 ISA (the generic rows at
/// priority 1, ahead of the Swift reference / oracle), transpose2 / slice / dropout at generic priority 1 (memory
/// moves; bit-identical to the reference).
public func registerNativeAttentionKernels(_ r: KernelRegistry) {
    for isa: ISALevel in [.avx512_core, .avx2, .generic] {
        for op in ["matmul_v2", "matmul"] {
            r.register(KernelEntry(op: op, precision: .f32, implementation: "bmm", isa: isa, priority: isa == .generic ? 1 : 0) { ctx in
                try makeFBMM(ctx, isa: isa)
            })
        }
    }
    for isa: ISALevel in [.avx512_core, .avx2, .generic] {
        r.register(KernelEntry(op: "qbmm", precision: .i8, implementation: "bmm", isa: isa, priority: isa == .generic ? 1 : 0) { ctx in
            try makeQBMM(ctx, isa: isa)
        })
    }
    for op in TransposeSpec.opTypes {
        r.register(KernelEntry(op: op, precision: .f32, implementation: "transpose", isa: .generic, priority: 1) { ctx in
            try makeFastTranspose(ctx)
        })
    }
    r.register(KernelEntry(op: "slice", precision: .f32, implementation: "slice", isa: .generic, priority: 1) { ctx in
        try makeFastSlice(ctx)
    })
    r.register(KernelEntry(op: "dropout", precision: .f32, implementation: "dropout", isa: .generic, priority: 1) { ctx in
        try makeFastDropout(ctx)
    })
}
