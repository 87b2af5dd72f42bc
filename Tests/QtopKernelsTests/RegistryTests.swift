import CQtopKernels
import QtopFormat
import QtopGraph
import QtopRuntime
import XCTest

/// The Swift wrappers: registration, dispatch under an ISA cap, and running through the Kernel protocol.
final class RegistryTests: XCTestCase {
    func choose(_ r: KernelRegistry, _ node: Node, _ g: Graph, cap: ISALevel) throws -> (Kernel, String, [String]) {
        let avail = NativeCPU.isaSet
        let ctx = KernelBuildContext(node: node, graph: g, isaCap: cap, available: avail)
        var rejected: [String] = []
        for e in r.candidates(for: node.type) {
            if !avail.contains(e.isa) || e.isa > cap { rejected.append("\(e.execType): cap/cpu"); continue }
            switch try e.make(ctx) {
            case .ready(let k): return (k, e.execType.description, rejected)
            case .rejected(let why): rejected.append("\(e.execType): \(why)")
            }
        }
        throw KernelError("nothing: \(rejected)")
    }

    func qconvGraph(kh: Int, groups: Int, ic: Int, oc: Int, residual: Bool) -> (Graph, Node, HostTensor) {
        var r = XorShift(11)
        let x = HostTensor(dtype: .u8, shape: [1, 6, 7, ic])
        for i in 0..<x.shape.reduce(1, *) { x.pointer(as: UInt8.self)[i] = r.byte() }
        let f = HostTensor(dtype: .i8, shape: [oc, ic / groups, kh, kh])
        for i in 0..<f.shape.reduce(1, *) { f.pointer(as: Int8.self)[i] = Int8(bitPattern: r.byte()) }
        let b = HostTensor(shape: [oc], floats: (0..<oc).map { Float($0) * 0.25 - 1 })
        var values: [String: ValueInfo] = [
            "x": ValueInfo(name: "x", dtype: .u8, shape: [1, 6, 7, ic]),
            "w": ValueInfo(name: "w", dtype: .i8, shape: f.shape, persistable: true, constant: f),
            "b": ValueInfo(name: "b", dtype: .f32, shape: [oc], persistable: true, constant: b),
            "y": ValueInfo(name: "y", dtype: .i8, shape: [1, 6, 7, oc]),
        ]
        var inputs = [Slot("Input", ["x"]), Slot("Filter", ["w"]), Slot("Bias", ["b"])]
        if residual {
            values["r"] = ValueInfo(name: "r", dtype: .f32, shape: [1, 6, 7, oc])
            inputs.append(Slot("Residual", ["r"]))
        }
        let p = kh / 2
        let attrs = Attributes([
            ("strides", .ints([1, 1])), ("paddings", .ints([p, p, p, p])), ("dilations", .ints([1, 1])), ("groups", .int(groups)),
            ("in_scale", .float(4)), ("weight_scales", .floats((0..<oc).map { 1 + Float($0) / 10 })),
            ("activation", .string("hard_swish")), ("out_dtype", .string("s8")), ("out_scale", .float(6)),
        ])
        let node = Node(id: 0, type: "qconv2d", inputs: inputs, outputs: [Slot("Output", ["y"])], attrs: attrs, provenance: ["conv"])
        return (Graph(nodes: [node], values: values, inputs: ["x"], outputs: ["y"]), node, x)
    }

    func runNode(_ k: Kernel, _ x: HostTensor, _ oc: Int, threads: ThreadContext, residual: HostTensor? = nil) throws -> [Int8] {
        let y = HostTensor(dtype: .i8, shape: [1, 6, 7, oc])
        var ins: [String: [Tensor]] = ["Input": [Tensor(x)]]
        if let residual { ins["Residual"] = [Tensor(residual)] }
        try k.run(KernelIO(inputs: ins, outputs: ["Output": [Tensor(y)]], threads: threads))
        return Array(UnsafeBufferPointer(start: y.pointer(as: Int8.self), count: 6 * 7 * oc))
    }

    func testQConvDispatchAndCap() throws {
        let pool = NativeThreadPool(threads: 2)
        let reg = KernelRegistry()
        registerNativeKernels(reg)
        for (kh, groups, ic, oc, fam) in [(1, 1, 16, 24, "conv1x1"), (3, 1, 5, 20, "conv"), (3, 12, 12, 12, "dwconv"), (3, 2, 8, 6, "conv")] {
            let (g, node, x) = qconvGraph(kh: kh, groups: groups, ic: ic, oc: oc, residual: false)
            let (kRef, tRef, _) = try choose(reg, node, g, cap: .generic)
            XCTAssertEqual(tRef, "\(fam):generic:i8")
            let ref = try runNode(kRef, x, oc, threads: .serial)
            for cap in NativeCPU.usableISAs where cap.isX86 || cap == .generic {
                let (k, t, rejected) = try choose(reg, node, g, cap: cap)
                XCTAssertTrue(t.hasPrefix("\(fam):"), t)
                let isa = ISALevel(rawValue: String(t.split(separator: ":")[1]))!
                XCTAssertLessThanOrEqual(isa, cap)
                if fam == "dwconv" && cap == .avx2_vnni {
                    XCTAssertEqual(t, "dwconv:avx2:i8")
                    XCTAssertTrue(rejected.contains { $0.contains("avx2_vnni: no depthwise kernel at this level") }, "\(rejected)")
                } else {
                    XCTAssertEqual(isa, cap)
                }
                XCTAssertEqual(try runNode(k, x, oc, threads: pool.threadContext), ref, "\(t)")
            }
        }
    }

    func testResidualThroughWrapper() throws {
        let reg = KernelRegistry()
        registerNativeKernels(reg)
        let (g, node, x) = qconvGraph(kh: 1, groups: 1, ic: 8, oc: 16, residual: true)
        let res = HostTensor(shape: [1, 6, 7, 16], floats: (0..<6 * 7 * 16).map { Float($0 % 13) - 6 })
        let (kRef, _, _) = try choose(reg, node, g, cap: .generic)
        let ref = try runNode(kRef, x, 16, threads: .serial, residual: res)
        let (k, t, _) = try choose(reg, node, g, cap: NativeCPU.bestISA)
        XCTAssertEqual(try runNode(k, x, 16, threads: .serial, residual: res), ref, t)
        let (_, noRes, _) = qconvGraph(kh: 1, groups: 1, ic: 8, oc: 16, residual: false)
        XCTAssertEqual(noRes.inputs.count, 3)
    }

    func testFloatEntriesAndRejections() throws {
        let reg = KernelRegistry()
        registerNativeKernels(reg)
        XCTAssertFalse(reg.candidates(for: "fused_conv2d").isEmpty)
        XCTAssertFalse(reg.candidates(for: "fc").isEmpty)
        XCTAssertFalse(reg.candidates(for: "qpool2d").isEmpty)
        let w = HostTensor(shape: [6, 4], floats: (0..<24).map { Float($0) / 10 })
        let b = HostTensor(shape: [4], floats: [1, 2, 3, 4])
        let values: [String: ValueInfo] = [
            "x": ValueInfo(name: "x", dtype: .f32, shape: [3, 6]),
            "w": ValueInfo(name: "w", dtype: .f32, shape: [6, 4], persistable: true, constant: w),
            "b": ValueInfo(name: "b", dtype: .f32, shape: [4], persistable: true, constant: b),
            "y": ValueInfo(name: "y", dtype: .f32, shape: [3, 4]),
        ]
        let node = Node(id: 0, type: "fc", inputs: [Slot("Input", ["x"]), Slot("W", ["w"]), Slot("Bias", ["b"])],
                        outputs: [Slot("Out", ["y"])], attrs: Attributes([("in_num_col_dims", .int(1)), ("activation_type", .string("relu"))]),
                        provenance: ["fc"])
        let g = Graph(nodes: [node], values: values, inputs: ["x"], outputs: ["y"])
        let (k, t, _) = try choose(reg, node, g, cap: NativeCPU.bestISA)
        XCTAssertTrue(t.hasPrefix("gemm:") && t.hasSuffix(":fp32"), t)
        let x = HostTensor(shape: [3, 6], floats: (0..<18).map { Float($0) - 9 })
        let y = HostTensor(dtype: .f32, shape: [3, 4])
        try k.run(KernelIO(inputs: ["Input": [Tensor(x)]], outputs: ["Out": [Tensor(y)]], threads: .serial))
        for i in 0..<3 { for j in 0..<4 {
            var s: Float = [1, 2, 3, 4][j]
            for kk in 0..<6 { s += (Float(i * 6 + kk) - 9) * (Float(kk * 4 + j) / 10) }
            XCTAssertEqual(y.pointer(as: Float.self)[i * 4 + j], max(s, 0), accuracy: 1e-4)
        } }
        // fp32 at avx512_vnni is not a level fp32 kernels exist for: capped to avx512_core when available.
        if NativeCPU.isaSet.contains(.avx512_core) {
            let (_, t2, _) = try choose(reg, node, g, cap: .avx512_vnni)
            XCTAssertEqual(t2, "gemm:avx512_core:fp32")
        }
    }
    /// Each extent fits Int32, but 65536 × 65536 planes do not: every native pool2d entry must refuse the node
    /// (their C side takes 32-bit plane counts) instead of trapping on the conversion; nothing is allocated here.
    func testTensorsPastInt32ElementsStayOffNativeKernels() throws {
        let reg = KernelRegistry()
        registerNativeKernels(reg)
        let big = [65536, 65536, 1, 1]
        let values: [String: ValueInfo] = [
            "x": ValueInfo(name: "x", dtype: .f32, shape: big), "y": ValueInfo(name: "y", dtype: .f32, shape: big),
        ]
        let attrs = Attributes([("pooling_type", .string("max")), ("ksize", .ints([1, 1])), ("strides", .ints([1, 1])),
                                ("paddings", .ints([0, 0]))])
        let node = Node(id: 0, type: "pool2d", inputs: [Slot("X", ["x"])], outputs: [Slot("Out", ["y"])], attrs: attrs,
                        provenance: ["pool"])
        let g = Graph(nodes: [node], values: values, inputs: ["x"], outputs: ["y"])
        let ctx = KernelBuildContext(node: node, graph: g, isaCap: .avx512_vnni, available: NativeCPU.isaSet)
        var native = 0
        for e in reg.candidates(for: "pool2d") {
            guard case .rejected(let why) = try e.make(ctx) else { XCTFail("\(e.execType) accepted a 2^32-element tensor"); continue }
            native += 1
            XCTAssertTrue(why.contains("elements"), "\(e.execType): \(why)")
        }
        XCTAssertGreaterThan(native, 0, "no native pool2d entry to check")
    }
}
