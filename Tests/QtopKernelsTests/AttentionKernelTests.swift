import CQtopKernels
import QtopFormat
import QtopGraph
import QtopRuntime
import XCTest

/// The attention data path in fp32 (NativeAttention.swift: bmm, transpose2, slice, dropout) against the Swift
/// reference kernels: the batched matmul within float rounding (its sums run in the GEMM's order) at every ISA
/// this machine has, threaded and not; the memory moves bit for bit.
final class AttentionKernelTests: XCTestCase {
    let pool = NativeThreadPool(threads: 2)
    let reference: KernelRegistry = {
        let r = KernelRegistry()
        registerReferenceKernels(r)
        return r
    }()
    let native: KernelRegistry = {
        let r = KernelRegistry()
        registerNativeAttentionKernels(r)
        return r
    }()

    func info(_ name: String, _ shape: [Int], _ dt: DType = .f32) -> ValueInfo { ValueInfo(name: name, dtype: dt, shape: shape) }

    func testBatchedMatMulMatchesReference() throws {
        var r = XorShift(7)
        // (X shape, Y shape, trans_x, trans_y): attention (Q·Kᵀ with and without trans_y, attn·V), broadcast batch
        // dims, 1-D operands, trans_x, K past the 256 block, partial register tiles
        let cases: [([Int], [Int], Bool, Bool)] = [
            ([1, 8, 40, 15], [1, 8, 15, 40], false, false), ([1, 2, 9, 16], [1, 2, 9, 16], false, true),
            ([1, 8, 40, 40], [1, 8, 40, 15], false, false), ([2, 1, 5, 7], [3, 7, 6], false, false),
            ([4, 7, 5], [7, 6], true, false), ([7], [3, 7, 2], false, false), ([3, 5, 300], [300], false, false),
            ([2, 33, 300], [2, 45, 300], false, true), ([1, 17, 19], [1, 17, 23], true, false), ([4, 3], [5, 4], true, true),
        ]
        for (xs, ys, tx, ty) in cases {
            let x = HostTensor(shape: xs, floats: (0..<xs.reduce(1, *)).map { _ in r.float(-1, 1) })
            let y = HostTensor(shape: ys, floats: (0..<ys.reduce(1, *)).map { _ in r.float(-1, 1) })
            let os = try MatMulSpec.shape(xs, ys, tx: tx, ty: ty)
            let values = ["x": info("x", xs), "y": info("y", ys), "o": info("o", os)]
            let node = Node(id: 0, type: "matmul_v2", inputs: [Slot("X", ["x"]), Slot("Y", ["y"])], outputs: [Slot("Out", ["o"])],
                            attrs: Attributes([("trans_x", .bool(tx)), ("trans_y", .bool(ty))]), provenance: ["mm"])
            let want = HostTensor(dtype: .f32, shape: os)
            let (rk, _) = try reference.firstKernel(for: node, values, cap: .generic)
            try rk.run(KernelIO(inputs: ["X": [Tensor(x)], "Y": [Tensor(y)]], outputs: ["Out": [Tensor(want)]], threads: .serial))
            let wv = want.floatValues()
            let scale = max(wv.map { abs($0) }.max() ?? 1, 1)
            for cap in NativeCPU.usableISAs where cap == .generic || cap.isX86 {
                let (k, t) = try native.firstKernel(for: node, values, cap: cap)
                XCTAssertTrue(t.hasPrefix("bmm:"), t)
                for threaded in [false, true] {
                    let o = HostTensor(dtype: .f32, shape: os)
                    try k.run(KernelIO(inputs: ["X": [Tensor(x)], "Y": [Tensor(y)]], outputs: ["Out": [Tensor(o)]],
                                       threads: threaded ? pool.threadContext : .serial))
                    let err = zip(o.floatValues(), wv).map { abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThanOrEqual(err, 1e-5 * scale, "\(xs)×\(ys) tx \(tx) ty \(ty) at \(t), threaded \(threaded)")
                }
            }
        }
    }

    func testLegacyMatMulAlphaAndConstantYRouting() throws {
        var r = XorShift(9)
        let xs = [2, 3, 4], ys = [2, 4, 5]
        let x = HostTensor(shape: xs, floats: (0..<24).map { _ in r.float(-1, 1) })
        let y = HostTensor(shape: ys, floats: (0..<40).map { _ in r.float(-1, 1) })
        let values = ["x": info("x", xs), "y": info("y", ys), "o": info("o", [2, 3, 5])]
        let node = Node(id: 0, type: "matmul", inputs: [Slot("X", ["x"]), Slot("Y", ["y"])], outputs: [Slot("Out", ["o"])],
                        attrs: Attributes([("alpha", .float(0.25))]), provenance: ["mm"])
        let want = HostTensor(dtype: .f32, shape: [2, 3, 5]), got = HostTensor(dtype: .f32, shape: [2, 3, 5])
        try reference.firstKernel(for: node, values, cap: .generic).0.run(KernelIO(inputs: ["X": [Tensor(x)], "Y": [Tensor(y)]], outputs: ["Out": [Tensor(want)]], threads: .serial))
        try native.firstKernel(for: node, values, cap: .generic).0.run(KernelIO(inputs: ["X": [Tensor(x)], "Y": [Tensor(y)]], outputs: ["Out": [Tensor(got)]], threads: .serial))
        for (a, b) in zip(got.floatValues(), want.floatValues()) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // a constant 2-D Y is the packed-weight GEMM's ("gemm"), not this entry's
        let w = HostTensor(shape: [4, 5], floats: (0..<20).map { _ in r.float(-1, 1) })
        let cvalues = ["x": info("x", xs), "w": ValueInfo(name: "w", dtype: .f32, shape: [4, 5], persistable: true, constant: w),
                       "o": info("o", [2, 3, 5])]
        let cnode = Node(id: 0, type: "matmul_v2", inputs: [Slot("X", ["x"]), Slot("Y", ["w"])], outputs: [Slot("Out", ["o"])], provenance: ["fc"])
        XCTAssertThrowsError(try native.firstKernel(for: cnode, cvalues, cap: .generic))
    }

    func testTransposeBitIdentical() throws {
        var r = XorShift(3)
        let cases: [([Int], [Int])] = [
            ([1, 40, 3, 8, 15], [2, 0, 3, 1, 4]), ([1, 8, 40, 15], [0, 1, 3, 2]), ([1, 8, 40, 15], [0, 2, 1, 3]),
            ([1, 120, 40], [0, 2, 1]), ([2, 3, 1, 5], [3, 2, 0, 1]), ([17, 9], [1, 0]), ([4, 1, 1], [2, 1, 0]),
            ([3, 5, 7, 2], [1, 3, 0, 2]), ([6], [0]),
            // past the serial bound (32768 elements): the threaded split
            ([2, 64, 3, 8, 40], [2, 0, 3, 1, 4]), ([1, 256, 160], [0, 2, 1]), ([4, 64, 160], [1, 0, 2]),
        ]
        for (xs, perm) in cases {
            let x = HostTensor(shape: xs, floats: (0..<xs.reduce(1, *)).map { _ in r.float(-1, 1) })
            let os = perm.map { xs[$0] }
            let values = ["x": info("x", xs), "o": info("o", os)]
            let node = Node(id: 0, type: "transpose2", inputs: [Slot("X", ["x"])], outputs: [Slot("Out", ["o"])],
                            attrs: Attributes([("axis", .ints(perm))]), provenance: ["t"])
            let want = HostTensor(dtype: .f32, shape: os)
            try reference.firstKernel(for: node, values, cap: .generic).0.run(KernelIO(inputs: ["X": [Tensor(x)]], outputs: ["Out": [Tensor(want)]], threads: .serial))
            let (k, t) = try native.firstKernel(for: node, values, cap: .generic)
            XCTAssertEqual(t, "transpose:generic:fp32")
            for threaded in [false, true] {
                let o = HostTensor(dtype: .f32, shape: os)
                try k.run(KernelIO(inputs: ["X": [Tensor(x)]], outputs: ["Out": [Tensor(o)]], threads: threaded ? pool.threadContext : .serial))
                XCTAssertEqual(o.floatValues().map(\.bitPattern), want.floatValues().map(\.bitPattern), "\(xs) perm \(perm)")
            }
        }
    }

    func testSliceBitIdentical() throws {
        var r = XorShift(5)
        // (shape, axes, starts, ends, decrease_axis)
        let cases: [([Int], [Int], [Int], [Int], [Int])] = [
            ([3, 1, 8, 40, 15], [0], [1], [2], [0]), ([3, 1, 8, 40, 15], [0], [2], [3], []), ([4, 6, 5], [1, 2], [1, 0], [5, 5], []),
            ([4, 6, 5], [2], [-3], [100], []), ([4, 6, 5], [0, 2], [1, 1], [3, 4], []), ([5, 7], [1], [2], [2], []),
        ]
        for (xs, axes, starts, ends, dec) in cases {
            let x = HostTensor(shape: xs, floats: (0..<xs.reduce(1, *)).map { _ in r.float(-1, 1) })
            var attrs = Attributes([("axes", .ints(axes)), ("starts", .ints(starts)), ("ends", .ints(ends))])
            if !dec.isEmpty { attrs["decrease_axis"] = .ints(dec) }
            let probe = Node(id: 0, type: "slice", inputs: [Slot("Input", ["x"])], outputs: [Slot("Out", ["o"])], attrs: attrs, provenance: ["s"])
            let spec = try probe.spec(SliceSpec.self)
            let os = try spec.window(xs, starts: starts, ends: ends, strides: spec.strides).outShape
            let values = ["x": info("x", xs), "o": info("o", os)]
            let want = HostTensor(dtype: .f32, shape: os)
            try reference.firstKernel(for: probe, values, cap: .generic).0.run(KernelIO(inputs: ["Input": [Tensor(x)]], outputs: ["Out": [Tensor(want)]], threads: .serial))
            let (k, t) = try native.firstKernel(for: probe, values, cap: .generic)
            XCTAssertEqual(t, "slice:generic:fp32")
            for threaded in [false, true] {
                let o = HostTensor(dtype: .f32, shape: os)
                try k.run(KernelIO(inputs: ["Input": [Tensor(x)]], outputs: ["Out": [Tensor(o)]], threads: threaded ? pool.threadContext : .serial))
                XCTAssertEqual(o.floatValues().map(\.bitPattern), want.floatValues().map(\.bitPattern), "\(xs) \(axes) \(starts) \(ends)")
            }
        }
    }

    func testDropoutBitIdentical() throws {
        let xs = [2, 3, 50]
        let x = HostTensor(shape: xs, floats: (0..<300).map { Float($0) * 0.37 - 20 })
        for impl in ["upscale_in_train", "downgrade_in_infer"] {
            let node = Node(id: 0, type: "dropout", inputs: [Slot("X", ["x"])], outputs: [Slot("Out", ["o"])],
                            attrs: Attributes([("dropout_implementation", .string(impl)), ("dropout_prob", .float(0.1)), ("is_test", .bool(true))]),
                            provenance: ["d"])
            let values = ["x": info("x", xs), "o": info("o", xs)]
            let want = HostTensor(dtype: .f32, shape: xs), got = HostTensor(dtype: .f32, shape: xs)
            try reference.firstKernel(for: node, values, cap: .generic).0.run(KernelIO(inputs: ["X": [Tensor(x)]], outputs: ["Out": [Tensor(want)]], threads: .serial))
            try native.firstKernel(for: node, values, cap: .generic).0.run(KernelIO(inputs: ["X": [Tensor(x)]], outputs: ["Out": [Tensor(got)]], threads: pool.threadContext))
            XCTAssertEqual(got.floatValues().map(\.bitPattern), want.floatValues().map(\.bitPattern), impl)
        }
    }
}
