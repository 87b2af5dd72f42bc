import CQtopKernels
import QtopFormat
import QtopGraph
import QtopRuntime
import XCTest

/// Attribute decoding of the Swift wrappers for the remaining op types.
final class WrapperOpTests: XCTestCase {
    let pool = NativeThreadPool(threads: 2)

    func testNativeLayoutNHWCToNCHW() throws {
        let reg = KernelRegistry()
        registerNativeInt8LayoutKernels(reg)
        for (n, h, w, c) in [(1, 7, 7, 37), (2, 3, 5, 16), (1, 1, 1, 3)] {
            let xs = (0..<n * h * w * c).map { Float($0) * 0.5 - 3 }
            let x = HostTensor(shape: [n, h, w, c], floats: xs)
            let values: [String: ValueInfo] = ["x": ValueInfo(name: "x", dtype: .f32, shape: [n, h, w, c]),
                                               "y": ValueInfo(name: "y", dtype: .f32, shape: [n, c, h, w])]
            let node = Node(id: 0, type: "layout_nhwc_to_nchw", inputs: [Slot("X", ["x"])], outputs: [Slot("Out", ["y"])], provenance: ["t"])
            let (k, t) = try reg.firstKernel(for: node, values, cap: .generic)
            XCTAssertEqual(t, "reorder:generic:fp32")
            for threaded in [false, true] {
                let y = HostTensor(dtype: .f32, shape: [n, c, h, w])
                try k.run(KernelIO(inputs: ["X": [Tensor(x)]], outputs: ["Out": [Tensor(y)]], threads: threaded ? pool.threadContext : .serial))
                var want = [Float](repeating: 0, count: xs.count)
                for ni in 0..<n { for yi in 0..<h { for xi in 0..<w { for ci in 0..<c {
                    want[((ni * c + ci) * h + yi) * w + xi] = xs[((ni * h + yi) * w + xi) * c + ci]
                } } } }
                XCTAssertEqual(y.floatValues(), want)
            }
        }
    }

    func testFusedConv2dNCHW() throws {
        let reg = KernelRegistry()
        registerNativeKernels(reg)
        var r = XorShift(21)
        // hard_sigmoid (MobileNetV3's SE gate) has no C epilogue code: native conv, then the reference function
        for (type, groups, kh, ic, oc, act) in [("fused_conv2d", 2, 3, 6, 8, "relu6"), ("conv2d", 1, 1, 5, 7, ""), ("depthwise_conv2d", 4, 3, 4, 4, ""),
                                                ("fused_conv2d", 1, 5, 3, 9, "relu6"), ("fused_conv2d", 1, 1, 8, 6, "hard_sigmoid")] {
            let (n, h, w) = (2, 7, 6)
            let x = HostTensor(shape: [n, ic, h, w], floats: (0..<n * ic * h * w).map { _ in r.float(-1, 1) })
            let f = HostTensor(shape: [oc, ic / groups, kh, kh], floats: (0..<oc * ic / groups * kh * kh).map { _ in r.float(-1, 1) })
            let b = HostTensor(shape: [oc], floats: (0..<oc).map { _ in r.float(-1, 1) })
            let fused = type == "fused_conv2d"
            let (oh, ow) = ((h + 2 - kh) / 2 + 1, (w + 2 - kh) / 2 + 1)   // stride 2, paddings [1, 1]
            let res = HostTensor(shape: [n, oc, oh, ow], floats: (0..<n * oc * oh * ow).map { _ in r.float(-1, 1) })
            var values: [String: ValueInfo] = [
                "x": ValueInfo(name: "x", dtype: .f32, shape: x.shape),
                "f": ValueInfo(name: "f", dtype: .f32, shape: f.shape, persistable: true, constant: f),
                "y": ValueInfo(name: "y", dtype: .f32, shape: [n, oc, oh, ow]),
            ]
            var ins = [Slot("Input", ["x"]), Slot("Filter", ["f"])]
            if fused {
                values["b"] = ValueInfo(name: "b", dtype: .f32, shape: [oc], persistable: true, constant: b)
                values["r"] = ValueInfo(name: "r", dtype: .f32, shape: res.shape)
                ins += [Slot("Bias", ["b"]), Slot("ResidualData", ["r"])]
            }
            var attrs = Attributes([("strides", .ints([2, 2])), ("paddings", .ints([1, 1])), ("dilations", .ints([1, 1])), ("groups", .int(groups))])
            if fused { attrs["fuse_activation"] = .string(act) }
            if act == "hard_sigmoid" { attrs["fuse_alpha"] = .float(1.0 / 6.0); attrs["fuse_beta"] = .float(0.5) }
            let node = Node(id: 0, type: type, inputs: ins, outputs: [Slot("Output", ["y"])], attrs: attrs, provenance: [type])
            for cap in NativeCPU.usableISAs {
                let (k, t) = try reg.firstKernel(for: node, values, cap: cap)
                let fam = groups == ic && ic == oc ? "dwconv" : kh == 1 ? "conv1x1" : "conv"
                XCTAssertTrue(t.hasPrefix(fam + ":"), t)
                let y = HostTensor(dtype: .f32, shape: [n, oc, oh, ow])
                var inputs: [String: [Tensor]] = ["Input": [Tensor(x)]]
                if fused { inputs["ResidualData"] = [Tensor(res)] }
                try k.run(KernelIO(inputs: inputs, outputs: ["Output": [Tensor(y)]], threads: pool.threadContext))
                let xs = x.floatValues(), fs = f.floatValues(), bs = b.floatValues(), rs = res.floatValues(), ys = y.floatValues()
                let icg = ic / groups, ocg = oc / groups
                for ni in 0..<n { for o in 0..<oc { for oy in 0..<oh { for ox in 0..<ow {
                    var s: Float = fused ? bs[o] : 0
                    for i in 0..<icg { for ky in 0..<kh { for kx in 0..<kh {
                        let iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx
                        if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
                        s += xs[((ni * ic + (o / ocg) * icg + i) * h + iy) * w + ix] * fs[((o * icg + i) * kh + ky) * kh + kx]
                    } } }
                    let oi = ((ni * oc + o) * oh + oy) * ow + ox
                    if act == "relu6" { s = min(max(s + rs[oi], 0), 6) }
                    if act == "hard_sigmoid" { s = min(max((s + rs[oi]) * (1.0 / 6.0) + 0.5, 0), 1) }
                    XCTAssertEqual(ys[oi], s, accuracy: 1e-4, "\(type) \(t) at \(oi)")
                } } } }
            }
        }
    }

    func testQMatMulQPoolQuantizeDequantize() throws {
        let reg = KernelRegistry()
        registerNativeKernels(reg)
        var r = XorShift(8)
        // quantize f32 NCHW [1,3,2,2] → s8 NHWC, then dequantize back
        let x = HostTensor(shape: [1, 3, 2, 2], floats: (0..<12).map { _ in r.float(-3, 3) })
        let qv: [String: ValueInfo] = ["x": ValueInfo(name: "x", dtype: .f32, shape: [1, 3, 2, 2]), "q": ValueInfo(name: "q", dtype: .i8, shape: [1, 2, 2, 3])]
        let qn = Node(id: 0, type: "quantize", inputs: [Slot("X", ["x"])], outputs: [Slot("Out", ["q"])],
                      attrs: Attributes([("scale", .float(3)), ("out_dtype", .string("s8"))]), provenance: ["q"])
        let (qk, qt) = try reg.firstKernel(for: qn, qv, cap: NativeCPU.bestISA)
        XCTAssertEqual(qt, "reorder:\(NativeCPU.bestISA.rawValue):i8")
        let q = HostTensor(dtype: .i8, shape: [1, 2, 2, 3])
        try qk.run(KernelIO(inputs: ["X": [Tensor(x)]], outputs: ["Out": [Tensor(q)]], threads: .serial))
        let xs = x.floatValues()
        for c in 0..<3 { for p in 0..<4 {
            XCTAssertEqual(q.pointer(as: Int8.self)[p * 3 + c], Int8(min(max((xs[c * 4 + p] * (Float(127) / 3)).rounded(.toNearestOrEven), -128), 127)))
        } }
        let dv: [String: ValueInfo] = ["q": ValueInfo(name: "q", dtype: .i8, shape: [1, 2, 2, 3]), "z": ValueInfo(name: "z", dtype: .f32, shape: [1, 3, 2, 2])]
        let dn = Node(id: 1, type: "dequantize", inputs: [Slot("X", ["q"])], outputs: [Slot("Out", ["z"])], attrs: Attributes([("scale", .float(3))]), provenance: ["d"])
        let (dk, _) = try reg.firstKernel(for: dn, dv, cap: NativeCPU.bestISA)
        let z = HostTensor(dtype: .f32, shape: [1, 3, 2, 2])
        try dk.run(KernelIO(inputs: ["X": [Tensor(q)]], outputs: ["Out": [Tensor(z)]], threads: .serial))
        for i in 0..<12 { XCTAssertEqual(z.floatValues()[i], xs[i], accuracy: 3.0 / 127) }

        // qpool2d global average, s8 → u8
        let pv: [String: ValueInfo] = ["q": ValueInfo(name: "q", dtype: .i8, shape: [1, 2, 2, 3]), "p": ValueInfo(name: "p", dtype: .u8, shape: [1, 1, 1, 3])]
        let pn = Node(id: 2, type: "qpool2d", inputs: [Slot("X", ["q"])], outputs: [Slot("Out", ["p"])],
                      attrs: Attributes([("pooling_type", .string("avg")), ("ksize", .ints([2, 2])), ("global_pooling", .bool(true)),
                                         ("in_scale", .float(3)), ("out_scale", .float(2)), ("out_dtype", .string("u8"))]), provenance: ["p"])
        let (pk, pt) = try reg.firstKernel(for: pn, pv, cap: NativeCPU.bestISA)
        XCTAssertEqual(pt, "pool:\(NativeCPU.bestISA.rawValue):i8")
        let p = HostTensor(dtype: .u8, shape: [1, 1, 1, 3])
        try pk.run(KernelIO(inputs: ["X": [Tensor(q)]], outputs: ["Out": [Tensor(p)]], threads: .serial))
        for c in 0..<3 {
            var s: Int32 = 0
            for i in 0..<4 { s += Int32(q.pointer(as: Int8.self)[i * 3 + c]) }
            let y = Float(s) * ((Float(3) / 127) / 4)
            XCTAssertEqual(p.pointer(as: UInt8.self)[c], UInt8(min(max((y * (Float(127) / 2)).rounded(.toNearestOrEven), 0), 127)))
        }

        // qmatmul u8 [5, 9] × s8 [9, 20] → f32, equal on every ISA
        let a = HostTensor(dtype: .u8, shape: [5, 9]), wq = HostTensor(dtype: .i8, shape: [9, 20])
        for i in 0..<45 { a.pointer(as: UInt8.self)[i] = r.byte() }
        for i in 0..<180 { wq.pointer(as: Int8.self)[i] = Int8(bitPattern: r.byte()) }
        let mv: [String: ValueInfo] = ["a": ValueInfo(name: "a", dtype: .u8, shape: [5, 9]),
                                       "w": ValueInfo(name: "w", dtype: .i8, shape: [9, 20], persistable: true, constant: wq),
                                       "o": ValueInfo(name: "o", dtype: .f32, shape: [5, 20])]
        let mn = Node(id: 3, type: "qmatmul", inputs: [Slot("X", ["a"]), Slot("Y", ["w"])], outputs: [Slot("Out", ["o"])],
                      attrs: Attributes([("in_scale", .float(2)), ("weight_scales", .floats([0.5])), ("activation", .string("none")),
                                         ("out_dtype", .string("f32"))]), provenance: ["m"])
        var outs: [[Float]] = []
        for cap in NativeCPU.usableISAs where !cap.isARM {
            let (mk, mt) = try reg.firstKernel(for: mn, mv, cap: cap)
            XCTAssertTrue(mt.hasPrefix("gemm:"), mt)
            let o = HostTensor(dtype: .f32, shape: [5, 20])
            try mk.run(KernelIO(inputs: ["X": [Tensor(a)]], outputs: ["Out": [Tensor(o)]], threads: pool.threadContext))
            outs.append(o.floatValues())
        }
        for o in outs { XCTAssertEqual(o, outs[0]) }
        for i in 0..<5 { for j in 0..<20 {
            var acc: Int32 = 0
            for k in 0..<9 { acc += Int32(a.pointer(as: UInt8.self)[i * 9 + k]) * Int32(wq.pointer(as: Int8.self)[k * 20 + j]) }
            XCTAssertEqual(outs[0][i * 20 + j], Float(acc) * ((Float(2) / 127) * (Float(0.5) / 127)) + 0)
        } }
    }
}
