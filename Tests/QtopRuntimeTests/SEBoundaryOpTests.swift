import XCTest
import QtopFormat
import QtopGraph
@testable import QtopRuntime

/// The SE-block and neck ops of lower-int8 and fuse-se-add (global_avg_pool_nhwc, scale_channels_nhwc with and without
/// the FPN Addend, qnearest_interp, qconcat): hand-checked
/// reference cases, and every native entry at every ISA this CPU has giving the reference's bytes.
final class SEBoundaryOpTests: XCTestCase {
    typealias O = RefHarness.Out

    func testGlobalAvgPoolNHWC() throws {
        // NHWC [1, 2, 2, 2]: c0 = 1, 2, 3, 4 → 2.5; c1 = -1, 0, 0, 5 → 1
        let r = try RefHarness.f("global_avg_pool_nhwc", inputs: [("X", [t32([1, 2, 2, 2], [1, -1, 2, 0, 3, 0, 4, 5])])], out: O("Out", [1, 2, 1, 1]))
        XCTAssertEqual(r, [2.5, 1])
    }

    func testScaleChannelsQuantizedAndResidual() throws {
        // NHWC [1, 1, 2, 2]: pixels (c0, c1) = (2, 4), (-3, 1); s = [0.5, 2]
        let x = t32([1, 1, 2, 2], [2, 4, -3, 1]), s = t32([1, 2, 1, 1], [0.5, 2])
        // y = x·s = (1, 8), (-1.5, 2); range 127 → step 1: s8 (1, 8), (-2, 2) (half to even), u8 clamps -2 to 0
        let q = try RefHarness.run("scale_channels_nhwc", inputs: [("X", [x]), ("Scale", [s])], outputs: [O("Out", [1, 1, 2, 2], .i8)],
                                   attrs: [("out_dtype", .string("s8")), ("out_scale", .float(127))])
        XCTAssertEqual(q["Out"]![0].int64Values(), [1, 8, -2, 2])
        let u = try RefHarness.run("scale_channels_nhwc", inputs: [("X", [x]), ("Scale", [s])], outputs: [O("Out", [1, 1, 2, 2], .u8)],
                                   attrs: [("out_dtype", .string("u8")), ("out_scale", .float(127))])
        XCTAssertEqual(u["Out"]![0].int64Values(), [1, 8, 0, 2])
        // residual: x + x·s = (3, 12), (-4.5, 3), written NCHW: c0 = [3, -4.5], c1 = [12, 3]
        let r = try RefHarness.f("scale_channels_nhwc", inputs: [("X", [x]), ("Scale", [s])], out: O("Out", [1, 2, 1, 2]),
                                 attrs: [("residual", .bool(true))])
        XCTAssertEqual(r, [3, -4.5, 12, 3])
    }

    func testScaleChannelsWithAddend() throws {
        // NHWC [1, 1, 2, 2]: pixels (c0, c1) = (2, 4), (-3, 1); s = [0.5, 2]; z NCHW: c0 = [0.5, 1], c1 = [-20, 0.25]
        let x = t32([1, 1, 2, 2], [2, 4, -3, 1]), s = t32([1, 2, 1, 1], [0.5, 2]), z = t32([1, 2, 1, 2], [0.5, 1, -20, 0.25])
        // x + x·s = (3, 12), (-4.5, 3); + z = (3.5, -8), (-3.5, 3.25); NCHW: c0 = [3.5, -3.5], c1 = [-8, 3.25]
        let r = try RefHarness.f("scale_channels_nhwc", inputs: [("X", [x]), ("Scale", [s]), ("Addend", [z])], out: O("Out", [1, 2, 1, 2]),
                                 attrs: [("residual", .bool(true))])
        XCTAssertEqual(r, [3.5, -3.5, -8, 3.25])
        // requantized s8 NHWC, range 127 (step 1): (3.5, -8), (-3.5, 3.25) → (4, -8), (-4, 3) (half to even)
        let q = try RefHarness.run("scale_channels_nhwc", inputs: [("X", [x]), ("Scale", [s]), ("Addend", [z])],
                                   outputs: [O("Out", [1, 1, 2, 2], .i8)],
                                   attrs: [("residual", .bool(true)), ("out_dtype", .string("s8")), ("out_scale", .float(127))])
        XCTAssertEqual(q["Out"]![0].int64Values(), [4, -8, -4, 3])
        // addend_upsample 2: X NHWC [1, 2, 2, 1] = 1, 2, 3, 4 (s = 2) adds the one coarse value 10 everywhere
        let u = try RefHarness.f("scale_channels_nhwc", inputs: [("X", [t32([1, 2, 2, 1], [1, 2, 3, 4])]), ("Scale", [t32([1, 1, 1, 1], [2])]),
                                                              ("Addend", [t32([1, 1, 1, 1], [10])])],
                                 out: O("Out", [1, 1, 2, 2]), attrs: [("addend_upsample", .int(2))])
        XCTAssertEqual(u, [12, 14, 16, 18])
    }

    func testQNearestInterpCopiesPaddlesIndices() throws {
        // NHWC [1, 1, 2, 1] = [5, -7], scale 2 (align_corners false): columns 0, 0, 1, 1; rows 0, 0
        let r = try RefHarness.run("qnearest_interp", precision: .i8, inputs: [("X", [tI8([1, 1, 2, 1], [5, -7])])],
                                   outputs: [O("Out", [1, 2, 4, 1], .i8)],
                                   attrs: [("data_layout", .string("NHWC")), ("scale", .floats([2, 2])), ("align_corners", .bool(false))])
        XCTAssertEqual(r["Out"]![0].int64Values(), [5, 5, -7, -7, 5, 5, -7, -7])
    }

    /// Every native candidate at every usable ISA writes the reference's bytes (shapes with channel and pixel tails).
    func testNativeMatchesReferenceOnEveryISA() throws {
        var rng = SystemRandomNumberGenerator()
        func floats(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -6...6, using: &rng) } }
        let (n, h, w, c) = (2, 5, 11, 19)
        let x = t32([n, h, w, c], floats(n * h * w * c)), s = t32([n, c, 1, 1], floats(n * c).map { abs($0) / 6 })
        let z = t32([n, c, h, w], floats(n * h * w * c))
        // a row of 37 pixels: four 8-pixel blocks and a tail in the addend path
        let xw = t32([1, 2, 37, c], floats(74 * c)), sw = t32([1, c, 1, 1], floats(c).map { abs($0) / 6 }), zw = t32([1, c, 2, 37], floats(74 * c))
        // more than the 256-channel addend tile, with a channel tail
        let xc = t32([1, 1, 9, 265], floats(9 * 265)), sc = t32([1, 265, 1, 1], floats(265).map { abs($0) / 6 }), zc = t32([1, 265, 1, 9], floats(9 * 265))
        // the FPN addend at half the extents (addend_upsample 2): 4×22 pixels read a 2×11 addend
        let xu = t32([n, 4, 22, c], floats(n * 88 * c)), zu = t32([n, c, 2, 11], floats(n * 22 * c))
        let qx = tI8([n, 3, 5, c], (0..<(n * 15 * c)).map { _ in Int8.random(in: -128...127, using: &rng) })
        let qu = tU8([n, 3, 5, c], (0..<(n * 15 * c)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let cases: [(String, [(String, [HostTensor])], [O], [(String, AttrValue)])] = [
            ("global_avg_pool_nhwc", [("X", [x])], [O("Out", [n, c, 1, 1])], []),
            ("scale_channels_nhwc", [("X", [x]), ("Scale", [s])], [O("Out", [n, h, w, c], .i8)], [("out_dtype", .string("s8")), ("out_scale", .float(4))]),
            ("scale_channels_nhwc", [("X", [x]), ("Scale", [s])], [O("Out", [n, h, w, c], .u8)], [("out_dtype", .string("u8")), ("out_scale", .float(4)), ("residual", .bool(true))]),
            ("scale_channels_nhwc", [("X", [x]), ("Scale", [s])], [O("Out", [n, c, h, w])], [("residual", .bool(true))]),
            ("scale_channels_nhwc", [("X", [x]), ("Scale", [s]), ("Addend", [z])], [O("Out", [n, c, h, w])], [("residual", .bool(true))]),
            ("scale_channels_nhwc", [("X", [x]), ("Scale", [s]), ("Addend", [z])], [O("Out", [n, h, w, c], .i8)],
             [("residual", .bool(true)), ("out_dtype", .string("s8")), ("out_scale", .float(4))]),
            ("scale_channels_nhwc", [("X", [x]), ("Scale", [s]), ("Addend", [z])], [O("Out", [n, h, w, c], .u8)],
             [("out_dtype", .string("u8")), ("out_scale", .float(4))]),
            ("scale_channels_nhwc", [("X", [xw]), ("Scale", [sw]), ("Addend", [zw])], [O("Out", [1, 2, 37, c], .i8)],
             [("residual", .bool(true)), ("out_dtype", .string("s8")), ("out_scale", .float(4))]),
            ("scale_channels_nhwc", [("X", [xw]), ("Scale", [sw]), ("Addend", [zw])], [O("Out", [1, c, 2, 37])], [("residual", .bool(true))]),
            ("scale_channels_nhwc", [("X", [xc]), ("Scale", [sc]), ("Addend", [zc])], [O("Out", [1, 1, 9, 265], .u8)],
             [("residual", .bool(true)), ("out_dtype", .string("u8")), ("out_scale", .float(4))]),
            ("scale_channels_nhwc", [("X", [xu]), ("Scale", [s]), ("Addend", [zu])], [O("Out", [n, 4, 22, c], .i8)],
             [("residual", .bool(true)), ("out_dtype", .string("s8")), ("out_scale", .float(4)), ("addend_upsample", .int(2))]),
            ("scale_channels_nhwc", [("X", [xu]), ("Scale", [s]), ("Addend", [zu])], [O("Out", [n, c, 4, 22])],
             [("residual", .bool(true)), ("addend_upsample", .int(2))]),
            ("layout_nhwc_to_nchw", [("X", [x])], [O("Out", [n, c, h, w])], []),
            ("qnearest_interp", [("X", [qx])], [O("Out", [n, 12, 10, c], .i8)],
             [("data_layout", .string("NHWC")), ("out_h", .int(12)), ("out_w", .int(10)), ("align_corners", .bool(true))]),
            ("qconcat", [("X", [qx, qx, qu])], [O("Out", [n, 3, 5, 3 * c], .i8)],
             [("axis", .int(3)), ("in_scales", .floats([4, 2.5, 4])), ("out_scale", .float(4))]),
            ("qconcat", [("X", [qx, qu])], [O("Out", [n, 3, 5, 2 * c], .u8)],
             [("axis", .int(3)), ("in_scales", .floats([4, 4])), ("out_scale", .float(4))]),
        ]
        let registry = KernelLibrary.standard()
        let pool = NativeThreadPool(threads: 2)
        func bytes(_ t: HostTensor) -> [UInt8] { Array(UnsafeRawBufferPointer(start: t.raw, count: t.byteCount)) }
        for (op, inputs, outputs, attrs) in cases {
            let want = try RefHarness.run(op, precision: registry.candidates(for: op).first { $0.implementation == "ref" }!.precision,
                                          inputs: inputs, outputs: outputs, attrs: attrs)[outputs[0].slot]![0]
            let (_, graph, node) = RefHarness.make(op, precision: .f32, inputs: inputs, outputs: outputs, attrs: attrs, constants: [])
            var ran = 0
            for e in registry.candidates(for: op) where e.implementation != "ref" && NativeCPU.usableISAs.contains(e.isa) {
                let ctx = KernelBuildContext(node: node, graph: graph, isaCap: e.isa, available: NativeCPU.usableISAs)
                guard case .ready(let k) = try e.make(ctx) else { XCTFail("\(op) \(e.isa) rejected"); continue }
                for threads in [ThreadContext.serial, pool.threadContext] {
                    let got = HostTensor(dtype: outputs[0].dtype, shape: outputs[0].shape)
                    let io = KernelIO(inputs: Dictionary(uniqueKeysWithValues: inputs.map { ($0.0, $0.1.map(Tensor.init)) }),
                                      outputs: [outputs[0].slot: [Tensor(got)]], threads: threads)
                    try k.run(io)
                    XCTAssertEqual(bytes(got), bytes(want), "\(op) \(attrs.map(\.0)) at \(e.isa)")
                }
                ran += 1
            }
            XCTAssertGreaterThan(ran, 0, "\(op): no native entry ran")
        }
    }
}
