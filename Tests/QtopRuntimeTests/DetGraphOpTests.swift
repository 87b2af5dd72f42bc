import XCTest
import QtopFormat
import QtopGraph
@testable import QtopRuntime

/// The det neck's data-movement and RSE ops outside int8: native concat (every axis), native nearest interp (NCHW
/// and NHWC, integer and fractional scales, align_corners both ways) and scale_residual (x + x·s, its own scale
/// per batch or shared): every native entry at every usable ISA, serial and on two threads, writes the reference
/// kernel's bytes; scale_residual is also checked by hand.
final class DetGraphOpTests: XCTestCase {
    typealias O = RefHarness.Out

    func testScaleResidualByHand() throws {
        // X [1, 2, 1, 2] = c0 [1, -2], c1 [3, 0.5]; s = [0.5, -1] → c0 [1.5, -3], c1 [0, 0]
        let r = try RefHarness.f("scale_residual", inputs: [("X", [t32([1, 2, 1, 2], [1, -2, 3, 0.5])]), ("Scale", [t32([1, 2, 1, 1], [0.5, -1])])],
                                 out: O("Out", [1, 2, 1, 2]))
        XCTAssertEqual(r, [1.5, -3, 0, 0])
        // with Addend [0.25, 1, -1, 2]: [1.75, -2, -1, 2]
        let a = try RefHarness.f("scale_residual", inputs: [("X", [t32([1, 2, 1, 2], [1, -2, 3, 0.5])]), ("Scale", [t32([1, 2, 1, 1], [0.5, -1])]),
                                                          ("Addend", [t32([1, 2, 1, 2], [0.25, 1, -1, 2])])], out: O("Out", [1, 2, 1, 2]))
        XCTAssertEqual(a, [1.75, -2, -1, 2])
    }

    func testNativeMatchesReferenceOnEveryISA() throws {
        var rng = SystemRandomNumberGenerator()
        func floats(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -6...6, using: &rng) } }
        let a = t32([2, 3, 5, 7], floats(210)), b = t32([2, 4, 5, 7], floats(280)), c = t32([2, 3, 1, 7], floats(42))
        let d = t32([2, 3, 5, 2], floats(60)), e = t32([1, 3, 5, 7], floats(105))
        let x = t32([2, 19, 5, 11], floats(2 * 19 * 55))
        let nhwc = t32([2, 5, 11, 19], floats(2 * 19 * 55))
        var cases: [(String, [(String, [HostTensor])], [O], [(String, AttrValue)])] = [
            ("concat", [("X", [a, e, a])], [O("Out", [5, 3, 5, 7])], [("axis", .int(0))]),
            ("concat", [("X", [a, b, a])], [O("Out", [2, 10, 5, 7])], [("axis", .int(1))]),
            ("concat", [("X", [a, c])], [O("Out", [2, 3, 6, 7])], [("axis", .int(-2))]),
            ("concat", [("X", [a, d, a])], [O("Out", [2, 3, 5, 16])], [("axis", .int(3))]),
            ("concat", [("X", [x])], [O("Out", [2, 19, 5, 11])], [("axis", .int(1))]),
            ("scale_residual", [("X", [x]), ("Scale", [t32([2, 19, 1, 1], floats(38))])], [O("Out", [2, 19, 5, 11])], []),
            ("scale_residual", [("X", [x]), ("Scale", [t32([1, 19, 1, 1], floats(19))])], [O("Out", [2, 19, 5, 11])], []),
            ("scale_residual", [("X", [x]), ("Scale", [t32([2, 19, 1, 1], floats(38))]), ("Addend", [t32([2, 19, 5, 11], floats(2 * 19 * 55))])],
             [O("Out", [2, 19, 5, 11])], []),
        ]
        // nearest: 2x (the widening loop), 3x, a fractional scale, an explicit size with align_corners, a shrink
        let sizes: [(Int, Int, [(String, AttrValue)])] = [
            (10, 22, [("scale", .floats([2, 2])), ("align_corners", .bool(false))]),
            (15, 33, [("scale", .floats([3, 3])), ("align_corners", .bool(false))]),
            (7, 17, [("scale", .floats([1.5, 1.6])), ("align_corners", .bool(false))]),
            (12, 9, [("out_h", .int(12)), ("out_w", .int(9)), ("align_corners", .bool(true))]),
            (3, 4, [("out_h", .int(3)), ("out_w", .int(4)), ("align_corners", .bool(false))]),
        ]
        for (oh, ow, attrs) in sizes {
            cases.append(("nearest_interp_v2", [("X", [x])], [O("Out", [2, 19, oh, ow])], attrs + [("interp_method", .string("nearest"))]))
            cases.append(("nearest_interp_v2", [("X", [nhwc])], [O("Out", [2, oh, ow, 19])],
                          attrs + [("interp_method", .string("nearest")), ("data_layout", .string("NHWC"))]))
        }
        let registry = KernelLibrary.standard()
        let pool = NativeThreadPool(threads: 2)
        func bytes(_ t: HostTensor) -> [UInt8] { Array(UnsafeRawBufferPointer(start: t.raw, count: t.byteCount)) }
        for (op, inputs, outputs, attrs) in cases {
            let want = try RefHarness.run(op, inputs: inputs, outputs: outputs, attrs: attrs)[outputs[0].slot]![0]
            let (_, graph, node) = RefHarness.make(op, precision: .f32, inputs: inputs, outputs: outputs, attrs: attrs, constants: [])
            var ran = 0
            for e in registry.candidates(for: op) where e.implementation != "ref" && NativeCPU.usableISAs.contains(e.isa) {
                let ctx = KernelBuildContext(node: node, graph: graph, isaCap: e.isa, available: NativeCPU.usableISAs)
                guard case .ready(let k) = try e.make(ctx) else { XCTFail("\(op) \(e.execType) rejected"); continue }
                for threads in [ThreadContext.serial, pool.threadContext] {
                    let got = HostTensor(dtype: outputs[0].dtype, shape: outputs[0].shape)
                    let io = KernelIO(inputs: Dictionary(uniqueKeysWithValues: inputs.map { ($0.0, $0.1.map(Tensor.init)) }),
                                      outputs: [outputs[0].slot: [Tensor(got)]], threads: threads)
                    try k.run(io)
                    XCTAssertEqual(bytes(got), bytes(want), "\(op) \(attrs) at \(e.execType) threads \(threads.count)")
                }
                ran += 1
            }
            XCTAssertGreaterThan(ran, 0, "\(op): no native entry ran")
        }
    }
}
