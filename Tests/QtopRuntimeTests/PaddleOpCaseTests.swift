import Foundation
import QtopFormat
import QtopGraph
import QtopTestSupport
import XCTest
@testable import QtopRuntime

/// Single-op cases run through paddlepaddle 3.3.1 by scripts/op_cases_math.py (Tests/Fixtures/ops/math:
/// cases.json + .npy inputs and Paddle's outputs), replayed on qtop's reference kernels. Float outputs agree within
/// 1e-5 · max(|paddle|, 1) per element; integer and bool outputs exactly; shapes and dtypes exactly.
final class PaddleOpCaseTests: XCTestCase {
    struct Case {
        let name: String, op: String
        let attrs: [(String, AttrValue)]
        let inputs: [(String, [HostTensor])]
        let outputs: [(String, [HostTensor])]
    }

    static let dir = RepoPaths.root + "/Tests/Fixtures/ops/math"

    static func attr(_ v: [Any]) throws -> AttrValue {
        guard v.count == 2, let kind = v[0] as? String else { throw KernelError("bad attribute \(v)") }
        let x = v[1]
        switch kind {
        case "bool": return .bool(x as! Bool)
        case "int": return .int((x as! NSNumber).intValue)
        case "float": return .float((x as! NSNumber).floatValue)
        case "string": return .string(x as! String)
        case "ints": return .ints((x as! [NSNumber]).map(\.intValue))
        case "floats": return .floats((x as! [NSNumber]).map(\.floatValue))
        case "bools": return .bools(x as! [Bool])
        default: throw KernelError("unknown attribute kind \(kind)")
        }
    }

    static func load() throws -> [Case] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/cases.json"))
        let root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        func tensors(_ d: [String: Any]) throws -> [(String, [HostTensor])] {
            try d.keys.sorted().map { slot in (slot, try (d[slot] as! [String]).map { try Npy.read(dir + "/" + $0) }) }
        }
        return try (root["cases"] as! [[String: Any]]).map { c in
            let attrs = try (c["attrs"] as! [String: [Any]]).sorted { $0.key < $1.key }.map { ($0.key, try attr($0.value)) }
            return Case(name: c["name"] as! String, op: c["op"] as! String, attrs: attrs,
                        inputs: try tensors(c["inputs"] as! [String: Any]), outputs: try tensors(c["outputs"] as! [String: Any]))
        }
    }

    /// Runs one case on the reference kernel (or on `entry` with the weights as constants and `threads`);
    /// returns the failures (empty when it matches Paddle) and the outputs.
    static func check(_ c: Case, entry: KernelEntry? = nil, threads: ThreadContext = .serial,
                      isas: Set<ISALevel> = [.generic]) -> (fails: [String], outputs: [String: [HostTensor]]) {
        let outs = c.outputs.flatMap { slot, ts in ts.map { RefHarness.Out(slot, $0.shape, $0.dtype) } }
        var build: KernelBuild
        if let entry {
            let (_, graph, node) = RefHarness.make(c.op, precision: .f32, inputs: c.inputs, outputs: outs, attrs: c.attrs,
                                                   constants: ["Filter", "Scale", "Bias"])
            let ctx = KernelBuildContext(node: node, graph: graph, isaCap: .avx512_vnni, available: isas)
            do { build = try entry.make(ctx) } catch { build = .rejected("\(error)") }
        } else {
            build = RefHarness.make(c.op, precision: .f32, inputs: c.inputs, outputs: outs, attrs: c.attrs, constants: []).0
        }
        let label = entry.map { "\(c.name) [\($0.execType)]" } ?? c.name
        guard case .ready(let kernel) = build else {
            if case .rejected(let why) = build { return (["\(label): rejected: \(why)"], [:]) }
            return (["\(label): not ready"], [:])
        }
        var hosts: [String: [HostTensor]] = [:]
        for o in outs { hosts[o.slot, default: []].append(HostTensor(dtype: o.dtype, shape: o.shape)) }
        let io = KernelIO(inputs: Dictionary(uniqueKeysWithValues: c.inputs.map { ($0.0, $0.1.map(Tensor.init)) }),
                          outputs: hosts.mapValues { $0.map(Tensor.init) }, threads: threads)
        do { try kernel.run(io) } catch { return (["\(label): \(error)"], [:]) }
        var fails: [String] = []
        for (slot, wants) in c.outputs {
            for (i, want) in wants.enumerated() {
                let got = hosts[slot]![i]
                if want.dtype.isFloatingPoint {
                    let a = got.floatValues(), b = want.floatValues()
                    for k in 0..<b.count {
                        let ok = a[k].isNaN ? b[k].isNaN : abs(a[k] - b[k]) <= 1e-5 * max(abs(b[k]), 1)
                        if !ok { fails.append("\(label) \(slot)[\(k)]: qtop \(a[k]), paddle \(b[k])"); break }
                    }
                } else if got.int64Values() != want.int64Values() {
                    fails.append("\(label) \(slot): qtop \(got.int64Values()), paddle \(want.int64Values())")
                }
            }
        }
        return (fails, hosts)
    }

    func testEveryCaseMatchesPaddle() throws {
        let cases = try Self.load()
        XCTAssertGreaterThan(cases.count, 100)
        var fails: [String] = []
        for c in cases { fails += Self.check(c).fails }
        XCTAssertTrue(fails.isEmpty, "\(fails.count) mismatches:\n" + fails.joined(separator: "\n"))
    }

    /// The fast kernels (interp, conv2d_transpose per ISA, layer_norm, activations, elementwise, softmax) on every
    /// fixture case they accept, on two threads: within tolerance of Paddle, and bit-exact with the reference except
    /// the SIMD exp-based ops and layer_norm.
    func testFastKernelsMatchPaddleAndReference() throws {
        let library = KernelLibrary.standard()
        let pool = NativeThreadPool(threads: 2)
        var fails: [String] = [], ran: Set<String> = []
        for c in try Self.load() {
            let reference = Self.check(c).outputs
            for entry in library.candidates(for: c.op) where entry.implementation != "ref" && entry.precision == .f32 {
                guard NativeCPU.usableISAs.contains(entry.isa) else { continue }
                let (f, outs) = Self.check(c, entry: entry, threads: pool.threadContext, isas: NativeCPU.usableISAs)
                // a fast kernel may decline a case (NHWC, shapes it does not cover): that is a rejection, not a result
                if f.count == 1, f[0].contains("rejected:") { continue }
                fails += f
                ran.insert("\(c.op) \(entry.execType)")
                // f32_ops.c's polynomial exp and lane sums are within tolerance of Paddle, not bit-exact with the reference
                let approximate = ["eltwise_exp", "lnorm8", "softmax8"].contains(entry.implementation)
                if entry.implementation != "deconv" && !approximate {
                    for (slot, ts) in outs where ts.map({ $0.floatValues() }) != reference[slot]?.map({ $0.floatValues() }) {
                        fails.append("\(c.name) [\(entry.execType)] \(slot): differs from the reference kernel")
                    }
                }
            }
        }
        for op in ["nearest_interp_v2", "bilinear_interp_v2", "conv2d_transpose", "layer_norm", "gelu", "sigmoid", "swish"] {
            XCTAssertTrue(ran.contains { $0.hasPrefix(op + " ") }, "no fast kernel ran for \(op): \(ran.sorted())")
        }
        XCTAssertTrue(fails.isEmpty, "\(fails.count) mismatches:\n" + fails.joined(separator: "\n"))
    }

    /// Every op type the fixtures cover has a spec whose shape rule gives Paddle's output shapes and dtypes.
    func testShapeRulesMatchPaddle() throws {
        var fails: [String] = []
        for c in try Self.load() {
            let outs = c.outputs.flatMap { slot, ts in ts.map { RefHarness.Out(slot, $0.shape, $0.dtype) } }
            let (_, graph, node) = RefHarness.make(c.op, precision: .f32, inputs: c.inputs, outputs: outs, attrs: c.attrs, constants: [])
            let ctx = ShapeContext(node: node, values: graph.values)
            guard case .success(let d)? = node.decoded else { fails.append("\(c.name): no spec"); continue }
            do {
                guard let inferred = try d.spec.inferOutputs(ctx) else { continue }
                for v in inferred {
                    guard let want = graph.values[v.name], let wantShape = want.shape else { continue }
                    // run-time sizes (SizeTensor, OutSize, Scale, Paddings) leave -1 where Paddle knows the value
                    let shapeOK = v.shape.count == wantShape.count && zip(v.shape, wantShape).allSatisfy { $0 == $1 || $0 == -1 }
                    if !shapeOK || (v.dtype != nil && v.dtype != want.dtype) {
                        fails.append("\(c.name) \(v.name): inferred \(v.shape) \(v.dtype?.paddleName ?? "-"), paddle \(wantShape) \(want.dtype?.paddleName ?? "-")")
                    }
                }
            } catch { fails.append("\(c.name): \(error)") }
        }
        XCTAssertTrue(fails.isEmpty, fails.joined(separator: "\n"))
    }

    /// Malformed attributes and inputs are clear rejections naming the op and the problem, never traps.
    func testBadAttributesAndInputsAreClearErrors() throws {
        let x = t32([1, 1, 2, 2], [1, 2, 3, 4])
        func rejected(_ op: String, _ inputs: [(String, [HostTensor])], _ out: RefHarness.Out,
                      _ attrs: [(String, AttrValue)], _ want: String, line: UInt = #line) {
            let (build, _, _) = RefHarness.make(op, precision: .f32, inputs: inputs, outputs: [out], attrs: attrs, constants: [])
            guard case .rejected(let why) = build else { return XCTFail("\(op) accepted \(attrs)", line: line) }
            XCTAssertTrue(why.contains(want), "\(op): '\(why)' does not say '\(want)'", line: line)
        }
        rejected("bilinear_interp_v2", [("X", [x])], O("Out", [1, 1, 4, 4]), [("align_mode", .int(2))], "align_mode")
        rejected("nearest_interp_v2", [("X", [x])], O("Out", [1, 1, 4, 4]), [("interp_method", .string("bicubic"))], "interp_method")
        rejected("nearest_interp_v2", [("X", [x])], O("Out", [1, 1, 4, 4]), [("scale", .floats([2, -1]))], "scale")
        rejected("conv2d_transpose", [("Input", [x]), ("Filter", [t32([1, 1, 1, 1], [1])])], O("Output", [1, 1, 2, 2]),
                 [("padding_algorithm", .string("FULL"))], "padding_algorithm")
        rejected("arg_max", [("X", [x])], O("Out", [1, 2, 2], .i64), [("dtype", .int(5))], "dtype")
        rejected("cast", [("X", [x])], O("Out", [1, 1, 2, 2], .i32), [("out_dtype", .int(99))], "out_dtype")
        rejected("pad3d", [("X", [x])], O("Out", [1, 1, 2, 2]), [("mode", .string("edge"))], "mode")
        rejected("pixel_shuffle", [("X", [x])], O("Out", [1, 1, 2, 2]), [("upscale_factor", .int(0))], "upscale_factor")

        // shape rules: geometry that does not fit throws a sentence, not a trap
        let ln = try LayerNormSpec.decodeForTest([("begin_norm_axis", .int(3))])
        XCTAssertThrowsError(try ln.split([2, 3, 4]))
        let ct = try ConvTransposeSpec.decodeForTest([("strides", .ints([2, 2])), ("output_size", .ints([9, 9]))])
        XCTAssertThrowsError(try ct.resolve(inH: 2, inW: 2, kH: 3, kW: 3)) { e in
            XCTAssertTrue("\(e)".contains("output_size 9"), "\(e)")
        }
        let interp = try InterpSpec.decodeForTest([("out_h", .int(-1)), ("out_w", .int(-1))])
        XCTAssertThrowsError(try interp.outputSize(inH: 4, inW: 4, sizeTensor: nil, outSize: [0, 5], scaleTensor: nil))
        XCTAssertThrowsError(try interp.outputSize(inH: 4, inW: 4, sizeTensor: [1 << 40, 2], outSize: nil, scaleTensor: nil))
        let pad = try Pad3dSpec.decodeForTest([("mode", .string("reflect"))])
        XCTAssertThrowsError(try pad.outputShape([1, 1, 2, 2, 2], paddings: [2, 0, 0, 0, 0, 0]))
    }
}

extension OpSpec {
    /// Decodes a one-node graph of this spec's first op type with `attrs`.
    static func decodeForTest(_ attrs: [(String, AttrValue)]) throws -> Self {
        let node = Node(id: 0, type: opTypes[0], inputs: [], outputs: [], attrs: Attributes(attrs.map { (name: $0.0, value: $0.1) }),
                        provenance: [opTypes[0]])
        return try node.spec(Self.self)
    }
}
