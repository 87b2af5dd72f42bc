import XCTest
import QtopFormat
import QtopGraph
@testable import QtopRuntime

// Hand-checked cases for the fp32 / QDQ reference kernels. Every expected value is worked out in the comment
// next to it; tolerance is 1e-5 relative (exact where the arithmetic is exact).

/// Builds a one-node graph, asks the registry's reference entry to make a kernel and runs it.
enum RefHarness {
    static let registry: KernelRegistry = {
        let r = KernelRegistry()
        registerReferenceKernels(r)
        return r
    }()

    struct Out {
        let slot: String
        let dtype: DType
        let shape: [Int]
        init(_ slot: String, _ shape: [Int], _ dtype: DType = .f32) {
            self.slot = slot
            self.shape = shape
            self.dtype = dtype
        }
    }

    static func make(_ op: String, precision: Precision, inputs: [(String, [HostTensor])], outputs: [Out],
                     attrs: [(String, AttrValue)], constants: Set<String>) -> (KernelBuild, Graph, Node) {
        var values: [String: ValueInfo] = [:]
        var inSlots: [Slot] = []
        for (slot, ts) in inputs {
            var names: [String] = []
            for (i, t) in ts.enumerated() {
                let name = "\(slot)_\(i)"
                names.append(name)
                values[name] = ValueInfo(name: name, dtype: t.dtype, shape: t.shape, persistable: constants.contains(slot),
                                         constant: constants.contains(slot) ? t : nil)
            }
            inSlots.append(Slot(slot, names))
        }
        var outSlots: [String: [String]] = [:]
        var outOrder: [String] = []
        for (i, o) in outputs.enumerated() {
            let name = "\(o.slot)_out\(i)"
            values[name] = ValueInfo(name: name, dtype: o.dtype, shape: o.shape)
            if outSlots[o.slot] == nil { outOrder.append(o.slot) }
            outSlots[o.slot, default: []].append(name)
        }
        let node = Node(id: 0, type: op, inputs: inSlots, outputs: outOrder.map { Slot($0, outSlots[$0]!) },
                        attrs: Attributes(attrs.map { (name: $0.0, value: $0.1) }), provenance: [op])
        let graph = Graph(nodes: [node], values: values, inputs: [], outputs: [])
        guard let entry = registry.candidates(for: op).first(where: { $0.implementation == "ref" && $0.precision == precision }) else {
            return (.rejected("no reference entry for \(op) \(precision)"), graph, node)
        }
        let ctx = KernelBuildContext(node: node, graph: graph, isaCap: .generic, available: [.generic])
        do { return (try entry.make(ctx), graph, node) } catch { return (.rejected("make threw \(error)"), graph, node) }
    }

    /// Runs `op` and returns the outputs by slot (in the order given).
    static func run(_ op: String, precision: Precision = .f32, inputs: [(String, [HostTensor])], outputs: [Out],
                    attrs: [(String, AttrValue)] = [], constants: Set<String> = [],
                    file: StaticString = #filePath, line: UInt = #line) throws -> [String: [HostTensor]] {
        let (build, _, _) = make(op, precision: precision, inputs: inputs, outputs: outputs, attrs: attrs, constants: constants)
        guard case .ready(let kernel) = build else {
            if case .rejected(let why) = build { XCTFail("\(op) rejected: \(why)", file: file, line: line) }
            throw KernelError("not ready")
        }
        var outHosts: [String: [HostTensor]] = [:]
        for o in outputs { outHosts[o.slot, default: []].append(HostTensor(dtype: o.dtype, shape: o.shape)) }
        let io = KernelIO(inputs: Dictionary(uniqueKeysWithValues: inputs.map { ($0.0, $0.1.map(Tensor.init)) }),
                          outputs: outHosts.mapValues { $0.map(Tensor.init) }, threads: .serial)
        try kernel.run(io)
        return outHosts
    }

    /// Single-output convenience: returns the output's values as Float.
    static func f(_ op: String, precision: Precision = .f32, inputs: [(String, [HostTensor])], out: Out,
                  attrs: [(String, AttrValue)] = [], constants: Set<String> = [],
                  file: StaticString = #filePath, line: UInt = #line) throws -> [Float] {
        try run(op, precision: precision, inputs: inputs, outputs: [out], attrs: attrs, constants: constants,
                file: file, line: line)[out.slot]![0].floatValues()
    }
}

func t32(_ shape: [Int], _ v: [Float]) -> HostTensor { HostTensor(shape: shape, floats: v) }

func tI64(_ shape: [Int], _ v: [Int64]) -> HostTensor {
    v.withUnsafeBytes { HostTensor(dtype: .i64, shape: shape, bytes: $0) }
}

func tI8(_ shape: [Int], _ v: [Int8]) -> HostTensor {
    v.withUnsafeBytes { HostTensor(dtype: .i8, shape: shape, bytes: $0) }
}

func tU8(_ shape: [Int], _ v: [UInt8]) -> HostTensor {
    v.withUnsafeBytes { HostTensor(dtype: .u8, shape: shape, bytes: $0) }
}

func assertClose(_ a: [Float], _ b: [Float], rel: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "count", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() {
        if x.isNaN || y.isNaN {
            XCTAssertTrue(x.isNaN && y.isNaN, "[\(i)] \(x) vs \(y)", file: file, line: line)
        } else if x.isInfinite || y.isInfinite {
            XCTAssertEqual(x, y, "[\(i)]", file: file, line: line)
        } else {
            XCTAssertLessThanOrEqual(abs(x - y), rel * max(abs(y), 1e-6), "[\(i)] got \(x), want \(y) in \(a)", file: file, line: line)
        }
    }
}

typealias O = RefHarness.Out

final class ReferenceOpTests: XCTestCase {
    // X = [[1,2,3],[4,5,6],[7,8,9]]
    let x33 = t32([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])
    // W = [[1,0],[0,1]]: out(y,x) = X(y+a, x+b) + X(y+a+1, x+b+1) for padding offsets a, b
    let wDiag = t32([1, 1, 2, 2], [1, 0, 0, 1])
    let wOnes = t32([1, 1, 2, 2], [1, 1, 1, 1])

    func conv(_ attrs: [(String, AttrValue)], w: HostTensor? = nil, out: [Int], op: String = "conv2d") throws -> [Float] {
        try RefHarness.f(op, inputs: [("Input", [x33]), ("Filter", [w ?? wDiag])], out: O("Output", out), attrs: attrs)
    }

    func testConvNoPadding() throws {
        // [1+5, 2+6, 4+8, 5+9]
        assertClose(try conv([("strides", .ints([1, 1])), ("paddings", .ints([0, 0]))], out: [1, 1, 2, 2]), [6, 8, 12, 14])
    }

    func testConvPaddingAndStride() throws {
        // pad 1, stride 2, out 2x2: (0,0): only w11 hits X(0,0)=1; (0,1): w11 hits X(0,2)=3; (1,0): X(2,0)=7;
        // (1,1): w00 hits X(1,1)=5, w11 hits X(2,2)=9 → 14
        assertClose(try conv([("strides", .ints([2, 2])), ("paddings", .ints([1, 1]))], out: [1, 1, 2, 2]), [1, 3, 7, 14])
    }

    func testConvAsymmetricPaddings() throws {
        // paddings [top 1, bottom 0, left 0, right 1]: out(y,x) = X(y-1, x) + X(y, x+1), out 3x3
        // y0: [0+2, 0+3, 0+0]; y1: [1+5, 2+6, 3+0]; y2: [4+8, 5+9, 6+0]
        assertClose(try conv([("paddings", .ints([1, 0, 0, 1]))], out: [1, 1, 3, 3]), [2, 3, 0, 6, 8, 3, 12, 14, 6])
    }

    func testConvDilation() throws {
        // 2x2 ones dilated by 2 touch the corners: 1 + 3 + 7 + 9
        assertClose(try conv([("dilations", .ints([2, 2]))], w: wOnes, out: [1, 1, 1, 1]), [20])
    }

    func testConvSameAndValid() throws {
        // SAME, k2 s2 on 3: out 2, pad_sum = (2-1)*2+2-3 = 1 → top 0 bottom 1 (same for width)
        // (0,0): 1+2+4+5 = 12; (0,1): 3+6 = 9; (1,0): 7+8 = 15; (1,1): 9
        assertClose(try conv([("strides", .ints([2, 2])), ("padding_algorithm", .string("SAME")), ("paddings", .ints([3, 3]))],
                             w: wOnes, out: [1, 1, 2, 2]), [12, 9, 15, 9])
        // VALID ignores the paddings attribute: 2x2 sums [12, 16, 24, 28]
        assertClose(try conv([("padding_algorithm", .string("VALID")), ("paddings", .ints([5, 5]))], w: wOnes, out: [1, 1, 2, 2]),
                    [12, 16, 24, 28])
    }

    func testConvGroupsAndDepthwise() throws {
        // X channels [1,2,3,4], groups 2, W[0] = [1,1] on ch 0,1 → 3; W[1] = [1,-1] on ch 2,3 → -1
        let x = t32([1, 4, 1, 1], [1, 2, 3, 4]), w = t32([2, 2, 1, 1], [1, 1, 1, -1])
        assertClose(try RefHarness.f("conv2d", inputs: [("Input", [x]), ("Filter", [w])], out: O("Output", [1, 2, 1, 1]),
                                     attrs: [("groups", .int(2))]), [3, -1])
        // depthwise: [2,3] * [10,100] → [20, 300]
        let xd = t32([1, 2, 1, 1], [2, 3]), wd = t32([2, 1, 1, 1], [10, 100])
        assertClose(try RefHarness.f("depthwise_conv2d", inputs: [("Input", [xd]), ("Filter", [wd])], out: O("Output", [1, 2, 1, 1]),
                                     attrs: [("groups", .int(2))]), [20, 300])
        // the same with the filter as a graph constant (decoded at make time), stored as int8 values
        assertClose(try RefHarness.f("depthwise_conv2d", inputs: [("Input", [xd]), ("Filter", [tI8([2, 1, 1, 1], [10, 100])])],
                                     out: O("Output", [1, 2, 1, 1]), attrs: [("groups", .int(2))], constants: ["Filter"]), [20, 300])
    }

    func testFusedConvBiasResidualActivation() throws {
        // conv [2*1, 2*-3] = [2, -6]; + bias 1 → [3, -5]; + residual 0.5 → [3.5, -4.5]; relu → [3.5, 0]
        let x = t32([1, 1, 1, 1], [2]), w = t32([2, 1, 1, 1], [1, -3])
        let inputs: [(String, [HostTensor])] = [("Input", [x]), ("Filter", [w]), ("Bias", [t32([2], [1, 1])]),
                                                ("ResidualData", [t32([1, 2, 1, 1], [0.5, 0.5])])]
        assertClose(try RefHarness.f("fused_conv2d", inputs: inputs, out: O("Output", [1, 2, 1, 1]), attrs: [("activation", .string("relu"))]),
                    [3.5, 0])
        // hard_swish on [3.5, -4.5]: 3.5*min(6.5,6)/6 = 3.5; -4.5 → 0
        assertClose(try RefHarness.f("fused_conv2d", inputs: inputs, out: O("Output", [1, 2, 1, 1]),
                                     attrs: [("activation", .string("hard_swish"))]), [3.5, 0])
    }

    func testNaNAndInfPropagate() throws {
        // relu: NaN → 0 as Paddle's CPU relu does (x > 0 ? x : 0); -inf → 0; +inf stays
        let r = try RefHarness.f("relu", inputs: [("X", [t32([4], [.nan, -.infinity, .infinity, -1])])], out: O("Out", [4]))
        XCTAssertEqual(r, [0, 0, .infinity, 0])
        // relu6 propagates NaN (min(max(x, 0), 6) with std::max/min), as Paddle does
        let r6 = try RefHarness.f("relu6", inputs: [("X", [t32([2], [.nan, 7])])], out: O("Out", [2]))
        XCTAssertTrue(r6[0].isNaN)
        XCTAssertEqual(r6[1], 6)
        // max pool: y = y > x ? y : x — a NaN is replaced by a later element, a trailing NaN wins (as Paddle)
        let mp = try RefHarness.f("pool2d", inputs: [("X", [t32([1, 2, 1, 2], [.nan, 1, 1, .nan])])], out: O("Out", [1, 2, 1, 1]),
                                  attrs: [("pooling_type", .string("max")), ("ksize", .ints([1, 2]))])
        XCTAssertEqual(mp[0], 1)
        XCTAssertTrue(mp[1].isNaN)
        // conv: a NaN input poisons the outputs whose window covers it; others stay finite
        let x = t32([1, 1, 1, 3], [1, .nan, 2])
        let c = try RefHarness.f("conv2d", inputs: [("Input", [x]), ("Filter", [t32([1, 1, 1, 1], [2])])], out: O("Output", [1, 1, 1, 3]))
        XCTAssertEqual(c[0], 2)
        XCTAssertTrue(c[1].isNaN)
        XCTAssertEqual(c[2], 4)
        // add: NaN + 1 = NaN, inf + -inf = NaN, inf + 1 = inf
        let a = try RefHarness.f("elementwise_add", inputs: [("X", [t32([3], [.nan, .infinity, .infinity])]), ("Y", [t32([3], [1, -.infinity, 1])])],
                                 out: O("Out", [3]))
        XCTAssertTrue(a[0].isNaN)
        XCTAssertTrue(a[1].isNaN)
        XCTAssertEqual(a[2], .infinity)
    }

    func testBatchNorm() throws {
        // ch0: (x-1)/sqrt(3+1)*1+0 → [0, 0.5]; ch1: (x-3)/sqrt(15+1)*2+1 → [1, 1.5]
        let inputs: [(String, [HostTensor])] = [
            ("X", [t32([1, 2, 1, 2], [1, 2, 3, 4])]), ("Scale", [t32([2], [1, 2])]), ("Bias", [t32([2], [0, 1])]),
            ("Mean", [t32([2], [1, 3])]), ("Variance", [t32([2], [3, 15])]),
        ]
        assertClose(try RefHarness.f("batch_norm", inputs: inputs, out: O("Y", [1, 2, 1, 2]), attrs: [("epsilon", .float(1))]),
                    [0, 0.5, 1, 1.5])
    }

    func testActivations() throws {
        func act(_ op: String, _ x: [Float], _ attrs: [(String, AttrValue)] = []) throws -> [Float] {
            try RefHarness.f(op, inputs: [("X", [t32([x.count], x)])], out: O("Out", [x.count]), attrs: attrs)
        }
        assertClose(try act("relu6", [-1, 3, 7]), [0, 3, 6])
        // hard_swish: 1*min(4,6)/6 = 2/3; -4 → 0; 4 → 4*6/6 = 4
        assertClose(try act("hard_swish", [1, -4, 4]), [2.0 / 3.0, 0, 4])
        // hard_sigmoid slope 0.2 offset 0.5: 1 → 0.7, 3 → 1.1 → 1, -3 → -0.1 → 0
        assertClose(try act("hard_sigmoid", [1, 3, -3], [("slope", .float(0.2)), ("offset", .float(0.5))]), [0.7, 1, 0])
        // Paddle 2.x nn.Hardsigmoid: slope 1/6, offset 0.5: 3 → 1, 0 → 0.5
        assertClose(try act("hard_sigmoid", [3, 0], [("slope", .float(0.1666667)), ("offset", .float(0.5))]), [1, 0.5])
        assertClose(try act("leaky_relu", [-2, 3], [("alpha", .float(0.1))]), [-0.2, 3])
        assertClose(try act("sigmoid", [0]), [0.5])
        // swish/silu(1) = 1/(1+e^-1) = 0.7310586; swish beta 2 at 1: 1/(1+e^-2) = 0.8807971
        assertClose(try act("silu", [1]), [0.7310586])
        assertClose(try act("swish", [1], [("beta", .float(2))]), [0.8807971])
        assertClose(try act("tanh", [0.5]), [0.46211716])
        // gelu(1) = 0.5*(1+erf(1/sqrt 2)) = 0.8413447; tanh form 0.5*(1+tanh(0.7978846*1.044715)) = 0.8411920
        assertClose(try act("gelu", [1]), [0.8413447])
        assertClose(try act("gelu", [1], [("approximate", .bool(true))]), [0.841192])
        assertClose(try act("exp", [1]), [2.7182817])
        assertClose(try act("sqrt", [9]), [3])
        assertClose(try act("abs", [-2.5]), [2.5])
        // scale: 2x+1 vs 2(x+1)
        assertClose(try act("scale", [3], [("scale", .float(2)), ("bias", .float(1))]), [7])
        assertClose(try act("scale", [3], [("scale", .float(2)), ("bias", .float(1)), ("bias_after_scale", .bool(false))]), [8])
        // int64 scale casts scale and bias to the element type (paddle 3.3.1: [3, 5] * 2.5 + 1 → [7, 11])
        let si = try RefHarness.run("scale", inputs: [("X", [tI64([2], [3, 5])])], outputs: [O("Out", [2], .i64)],
                                    attrs: [("scale", .float(2.5)), ("bias", .float(1))])
        XCTAssertEqual(si["Out"]![0].int64Values(), [7, 11])
        // dropout at inference
        assertClose(try act("dropout", [4], [("dropout_prob", .float(0.25)), ("dropout_implementation", .string("downgrade_in_infer"))]), [3])
        assertClose(try act("dropout", [4], [("dropout_prob", .float(0.25)), ("dropout_implementation", .string("upscale_in_train"))]), [4])
        assertClose(try act("clip", [-1, 0.5, 2], [("min", .float(0)), ("max", .float(1))]), [0, 0.5, 1])
        // Min tensor overrides the attribute
        let c = try RefHarness.f("clip", inputs: [("X", [t32([2], [-1, 2])]), ("Min", [t32([1], [-0.5])])], out: O("Out", [2]),
                                 attrs: [("min", .float(0)), ("max", .float(1))])
        assertClose(c, [-0.5, 1])
    }

    func testMoreActivations() throws {
        func act(_ op: String, _ x: [Float], _ attrs: [(String, AttrValue)] = []) throws -> [Float] {
            try RefHarness.f(op, inputs: [("X", [t32([x.count], x)])], out: O("Out", [x.count]), attrs: attrs)
        }
        // elu: e^-1 - 1 = -0.63212055
        assertClose(try act("elu", [-1, 2], [("alpha", .float(1))]), [-0.63212055, 2])
        // softplus(0) = ln 2; beta 2 at 1: ln(1 + e^2)/2 = 1.063464; 30 * 1 > 20 → 30
        assertClose(try act("softplus", [0, 30]), [0.6931472, 30])
        assertClose(try act("softplus", [1], [("beta", .float(2))]), [1.063464])
        // mish(1) = tanh(ln(1 + e)) = 0.8650984
        assertClose(try act("mish", [1]), [0.8650984])
        // prelu channel mode on NCHW [1,2,1,2]: ch0 * 0.1, ch1 * 0.5 for negatives
        let x = t32([1, 2, 1, 2], [-1, 2, -3, 4])
        assertClose(try RefHarness.f("prelu", inputs: [("X", [x]), ("Alpha", [t32([2], [0.1, 0.5])])], out: O("Out", [1, 2, 1, 2]),
                                     attrs: [("mode", .string("channel"))]), [-0.1, 2, -1.5, 4])
        assertClose(try RefHarness.f("prelu", inputs: [("X", [x]), ("Alpha", [t32([1], [0.25])])], out: O("Out", [1, 2, 1, 2]),
                                     attrs: [("mode", .string("all"))]), [-0.25, 2, -0.75, 4])
    }

    func testFusedConvPaddleActivationAttributes() throws {
        // conv + bias + residual = [3.5, -4.5] as in testFusedConvBiasResidualActivation
        let inputs: [(String, [HostTensor])] = [("Input", [t32([1, 1, 1, 1], [2])]), ("Filter", [t32([2, 1, 1, 1], [1, -3])]),
                                                ("Bias", [t32([2], [1, 1])]), ("ResidualData", [t32([1, 2, 1, 1], [0.5, 0.5])])]
        // Paddle's own attribute names: relu6 bound in fuse_alpha (3) → [3, 0]
        assertClose(try RefHarness.f("fused_conv2d", inputs: inputs, out: O("Output", [1, 2, 1, 1]),
                                     attrs: [("fuse_activation", .string("relu6")), ("fuse_alpha", .float(3))]), [3, 0])
        // leaky_relu alpha 0.1 → [3.5, -0.45]
        assertClose(try RefHarness.f("fused_conv2d", inputs: inputs, out: O("Output", [1, 2, 1, 1]),
                                     attrs: [("activation", .string("leaky_relu")), ("fuse_alpha", .float(0.1))]), [3.5, -0.45])
        // no activation
        assertClose(try RefHarness.f("fused_conv2d", inputs: inputs, out: O("Output", [1, 2, 1, 1]), attrs: []), [3.5, -4.5])
    }

    func pool(_ x: HostTensor, _ attrs: [(String, AttrValue)], out: [Int]) throws -> [Float] {
        try RefHarness.f("pool2d", inputs: [("X", [x])], out: O("Out", out), attrs: attrs)
    }

    func testPoolCeilModeAndExclusive() throws {
        let base: [(String, AttrValue)] = [("ksize", .ints([2, 2])), ("strides", .ints([2, 2])), ("ceil_mode", .bool(true))]
        // windows rows [0,2) [2,3), cols the same
        assertClose(try pool(x33, base + [("pooling_type", .string("max"))], out: [1, 1, 2, 2]), [5, 6, 8, 9])
        // exclusive: [12/4, 9/2, 15/2, 9/1]
        assertClose(try pool(x33, base + [("pooling_type", .string("avg"))], out: [1, 1, 2, 2]), [3, 4.5, 7.5, 9])
        // non-exclusive: Paddle divides by the window clipped to [-pad, in + pad) (no padding here), so a ceil_mode
        // window hanging past the input is not counted at k*k: same as exclusive (checked against paddle 3.3.1)
        assertClose(try pool(x33, base + [("pooling_type", .string("avg")), ("exclusive", .bool(false))], out: [1, 1, 2, 2]),
                    [3, 4.5, 7.5, 9])
    }

    func testPoolPaddingExclusiveAvg() throws {
        // X 2x2 [1,2,3,4], k2 s1 pad1 → 3x3; corners see one element, edges two, the centre four
        let x = t32([1, 1, 2, 2], [1, 2, 3, 4])
        let a: [(String, AttrValue)] = [("pooling_type", .string("avg")), ("ksize", .ints([2, 2])), ("strides", .ints([1, 1])),
                                        ("paddings", .ints([1, 1]))]
        assertClose(try pool(x, a, out: [1, 1, 3, 3]), [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4])
        assertClose(try pool(x, a + [("exclusive", .bool(false))], out: [1, 1, 3, 3]), [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1])
        // max with padding ignores the padded cells
        assertClose(try pool(x, [("pooling_type", .string("max")), ("ksize", .ints([2, 2])), ("paddings", .ints([1, 1]))], out: [1, 1, 3, 3]),
                    [1, 2, 2, 3, 4, 4, 3, 4, 4])
    }

    func testPoolAsymmetricPaddingNonExclusive() throws {
        let a: [(String, AttrValue)] = [("pooling_type", .string("avg")), ("ksize", .ints([2, 2])), ("strides", .ints([2, 2])),
                                        ("exclusive", .bool(false))]
        // [top 0, bottom 1, left 0, right 1]: the padded window is bounded by in + pad_top (Paddle's CPU functor), so the
        // last window covers 1 row/col: [12/4, 9/2, 15/2, 9/1] (paddle 3.3.1 agrees)
        assertClose(try pool(x33, a + [("paddings", .ints([0, 1, 0, 1]))], out: [1, 1, 2, 2]), [3, 4.5, 7.5, 9])
        // [top 1, bottom 0, left 1, right 0]: every window counts 2x2: [1/4, (2+3)/4, (4+7)/4, 28/4]
        assertClose(try pool(x33, a + [("paddings", .ints([1, 0, 1, 0]))], out: [1, 1, 2, 2]), [0.25, 1.25, 2.75, 7])
    }

    func testPoolAdaptiveGlobalSameValid() throws {
        // adaptive 5 → 3: [0,2) [1,4) [3,5): avg [1.5, 3, 4.5], max [2, 4, 5]
        let x = t32([1, 1, 1, 5], [1, 2, 3, 4, 5])
        assertClose(try pool(x, [("pooling_type", .string("avg")), ("adaptive", .bool(true)), ("ksize", .ints([1, 3]))], out: [1, 1, 1, 3]),
                    [1.5, 3, 4.5])
        assertClose(try pool(x, [("pooling_type", .string("max")), ("adaptive", .bool(true)), ("ksize", .ints([1, 3]))], out: [1, 1, 1, 3]),
                    [2, 4, 5])
        // global avg of 1..9 = 5
        assertClose(try pool(x33, [("pooling_type", .string("avg")), ("global_pooling", .bool(true)), ("ksize", .ints([1, 1]))], out: [1, 1, 1, 1]),
                    [5])
        // SAME k2 s2 on 3x3: pad bottom/right 1 → same windows as ceil mode
        let same: [(String, AttrValue)] = [("ksize", .ints([2, 2])), ("strides", .ints([2, 2])), ("padding_algorithm", .string("SAME"))]
        assertClose(try pool(x33, same + [("pooling_type", .string("avg"))], out: [1, 1, 2, 2]), [3, 4.5, 7.5, 9])
        // VALID k2 s1: 2x2 maxima [5,6,8,9]
        assertClose(try pool(x33, [("pooling_type", .string("max")), ("ksize", .ints([2, 2])), ("padding_algorithm", .string("VALID")),
                                   ("paddings", .ints([1, 1]))], out: [1, 1, 2, 2]), [5, 6, 8, 9])
    }

    func bin(_ op: String, _ x: HostTensor, _ y: HostTensor, out: [Int], axis: Int = -1) throws -> [Float] {
        try RefHarness.f(op, inputs: [("X", [x]), ("Y", [y])], out: O("Out", out), attrs: [("axis", .int(axis))])
    }

    func testElementwiseBroadcasting() throws {
        let x23 = t32([2, 3], [1, 2, 3, 4, 5, 6])
        // trailing alignment: + [10,20,30] per row
        assertClose(try bin("elementwise_add", x23, t32([3], [10, 20, 30]), out: [2, 3]), [11, 22, 33, 14, 25, 36])
        // axis=1 with Y [C] on NCHW [1,2,1,2]: ch0 + 10, ch1 + 100
        assertClose(try bin("elementwise_add", t32([1, 2, 1, 2], [1, 2, 3, 4]), t32([2], [10, 100]), out: [1, 2, 1, 2], axis: 1),
                    [11, 12, 103, 104])
        // axis=0: Y [2] scales rows
        assertClose(try bin("elementwise_mul", x23, t32([2], [2, -1]), out: [2, 3], axis: 0), [2, 4, 6, -4, -5, -6])
        // X smaller than Y: [1,2,3] - rows of Y
        assertClose(try bin("elementwise_sub", t32([3], [1, 2, 3]), t32([2, 3], [1, 1, 1, 2, 2, 2]), out: [2, 3]), [0, 1, 2, -1, 0, 1])
        // Y [C,1,1] trailing ones at axis 1 on NCHW
        assertClose(try bin("elementwise_div", t32([1, 2, 1, 2], [2, 4, 6, 8]), t32([2, 1, 1], [2, 4]), out: [1, 2, 1, 2], axis: 1),
                    [1, 2, 1.5, 2])
        assertClose(try bin("elementwise_max", t32([3], [1, 5, -1]), t32([1], [2]), out: [3]), [2, 5, 2])
        assertClose(try bin("elementwise_min", t32([3], [1, 5, -1]), t32([1], [2]), out: [3]), [1, 2, -1])
        assertClose(try bin("elementwise_pow", t32([2], [2, 3]), t32([1], [2]), out: [2]), [4, 9])
        // int64 shape arithmetic
        let r = try RefHarness.run("elementwise_add", inputs: [("X", [tI64([2], [1, 2])]), ("Y", [tI64([1], [3])])],
                                   outputs: [O("Out", [2], .i64)])
        XCTAssertEqual(r["Out"]![0].int64Values(), [4, 5])
    }

    // A = [[1,2,3],[4,5,6]], B = [[1,0],[0,1],[1,1]], A·B = [[4,5],[10,11]]
    let a = t32([2, 3], [1, 2, 3, 4, 5, 6]), b = t32([3, 2], [1, 0, 0, 1, 1, 1])

    func testMatMulV2() throws {
        func mm(_ x: HostTensor, _ y: HostTensor, _ out: [Int], tx: Bool = false, ty: Bool = false) throws -> [Float] {
            try RefHarness.f("matmul_v2", inputs: [("X", [x]), ("Y", [y])], out: O("Out", out),
                             attrs: [("trans_x", .bool(tx)), ("trans_y", .bool(ty))])
        }
        assertClose(try mm(a, b, [2, 2]), [4, 5, 10, 11])
        // A stored transposed (3x2), B stored transposed (2x3)
        assertClose(try mm(t32([3, 2], [1, 4, 2, 5, 3, 6]), b, [2, 2], tx: true), [4, 5, 10, 11])
        assertClose(try mm(a, t32([2, 3], [1, 0, 1, 0, 1, 1]), [2, 2], ty: true), [4, 5, 10, 11])
        // batch broadcast: X [2,1,3] (rows of A as batches) · B [3,2]
        assertClose(try mm(t32([2, 1, 3], [1, 2, 3, 4, 5, 6]), b, [2, 1, 2]), [4, 5, 10, 11])
        // batch broadcast on Y: A [2,3] · Y [2,3,2] (B and 2B)
        assertClose(try mm(a, t32([2, 3, 2], [1, 0, 0, 1, 1, 1, 2, 0, 0, 2, 2, 2]), [2, 2, 2]), [4, 5, 10, 11, 8, 10, 20, 22])
        // 1-D: dot product 1*4+2*5+3*6 = 32; matrix · vector: A·[1,1,1] = [6, 15]
        assertClose(try mm(t32([3], [1, 2, 3]), t32([3], [4, 5, 6]), []), [32])
        assertClose(try mm(a, t32([3], [1, 1, 1]), [2]), [6, 15])
    }

    func testMatMulV1MulFC() throws {
        assertClose(try RefHarness.f("matmul", inputs: [("X", [a]), ("Y", [b])], out: O("Out", [2, 2]), attrs: [("alpha", .float(2))]),
                    [8, 10, 20, 22])
        assertClose(try RefHarness.f("mul", inputs: [("X", [t32([2, 1, 3], [1, 2, 3, 4, 5, 6])]), ("Y", [b])], out: O("Out", [2, 2]),
                                     attrs: [("x_num_col_dims", .int(1))]), [4, 5, 10, 11])
        // fc: A·B + [1, -20] = [[5,-15],[11,-9]] → relu [[5,0],[11,0]]
        assertClose(try RefHarness.f("fc", inputs: [("Input", [a]), ("W", [b]), ("Bias", [t32([2], [1, -20])])], out: O("Out", [2, 2]),
                                     attrs: [("in_num_col_dims", .int(1)), ("activation_type", .string("relu"))]), [5, 0, 11, 0])
    }

    func testShapeOps() throws {
        // transpose [2,3] → [3,2]
        assertClose(try RefHarness.f("transpose2", inputs: [("X", [a])], out: O("Out", [3, 2]), attrs: [("axis", .ints([1, 0]))]),
                    [1, 4, 2, 5, 3, 6])
        // NCHW [1,2,1,2] → NHWC via perm [0,2,3,1]
        assertClose(try RefHarness.f("transpose2", inputs: [("X", [t32([1, 2, 1, 2], [1, 2, 3, 4])])], out: O("Out", [1, 1, 2, 2]),
                                     attrs: [("axis", .ints([0, 2, 3, 1]))]), [1, 3, 2, 4])
        // reshape copies bytes, also for int64
        let r = try RefHarness.run("reshape2", inputs: [("X", [tI64([2, 2], [1, 2, 3, 4])])], outputs: [O("Out", [4], .i64)],
                                   attrs: [("shape", .ints([4]))])
        XCTAssertEqual(r["Out"]![0].int64Values(), [1, 2, 3, 4])
        assertClose(try RefHarness.f("flatten_contiguous_range", inputs: [("X", [a])], out: O("Out", [6])), [1, 2, 3, 4, 5, 6])
        assertClose(try RefHarness.f("unsqueeze2", inputs: [("X", [a])], out: O("Out", [1, 2, 3]), attrs: [("axes", .ints([0]))]),
                    [1, 2, 3, 4, 5, 6])
        // concat along axis 1: [[1],[2]] ++ [[3,4],[5,6]] → [[1,3,4],[2,5,6]]
        assertClose(try RefHarness.f("concat", inputs: [("X", [t32([2, 1], [1, 2]), t32([2, 2], [3, 4, 5, 6])])], out: O("Out", [2, 3]),
                                     attrs: [("axis", .int(1))]), [1, 3, 4, 2, 5, 6])
        let ci = try RefHarness.run("concat", inputs: [("X", [tI64([1], [7]), tI64([2], [8, 9])])], outputs: [O("Out", [3], .i64)],
                                    attrs: [("axis", .int(0))])
        XCTAssertEqual(ci["Out"]![0].int64Values(), [7, 8, 9])
        // split A along axis 1 into sections [1, 2]
        let s = try RefHarness.run("split", inputs: [("X", [a])], outputs: [O("Out", [2, 1]), O("Out", [2, 2])],
                                   attrs: [("axis", .int(1)), ("sections", .ints([1, 2]))])
        XCTAssertEqual(s["Out"]![0].floatValues(), [1, 4])
        XCTAssertEqual(s["Out"]![1].floatValues(), [2, 3, 5, 6])
    }

    func testSoftmaxAndReductions() throws {
        // softmax [1,2,3]: e^(x-3) = [e^-2, e^-1, 1], Σ = 1.5032147 → [0.09003057, 0.24472847, 0.66524096]
        assertClose(try RefHarness.f("softmax", inputs: [("X", [t32([1, 3], [1, 2, 3])])], out: O("Out", [1, 3])),
                    [0.09003057, 0.24472847, 0.66524096])
        // log_softmax = x - 3 - log Σ = x - 3.4076059
        assertClose(try RefHarness.f("log_softmax", inputs: [("X", [t32([1, 3], [1, 2, 3])])], out: O("Out", [1, 3])),
                    [-2.4076059, -1.4076059, -0.40760596])
        // softmax along axis 0 of [[0,0],[ln3, 0]]: column 0 → [1/4, 3/4], column 1 → [1/2, 1/2]
        assertClose(try RefHarness.f("softmax", inputs: [("X", [t32([2, 2], [0, 0, Float(log(3.0)), 0])])], out: O("Out", [2, 2]),
                                     attrs: [("axis", .int(0))]), [0.25, 0.5, 0.75, 0.5])
        assertClose(try RefHarness.f("mean", inputs: [("X", [a])], out: O("Out", [])), [3.5])
        assertClose(try RefHarness.f("reduce_mean", inputs: [("X", [a])], out: O("Out", [2, 1]),
                                     attrs: [("dim", .ints([1])), ("keep_dim", .bool(true))]), [2, 5])
        assertClose(try RefHarness.f("reduce_sum", inputs: [("X", [a])], out: O("Out", []), attrs: [("reduce_all", .bool(true))]), [21])
        assertClose(try RefHarness.f("reduce_max", inputs: [("X", [a])], out: O("Out", [3]), attrs: [("dim", .ints([0]))]), [4, 5, 6])
    }

    // MARK: QDQ

    func ql(_ op: String, _ x: HostTensor, scale: HostTensor, attrs: [(String, AttrValue)]) throws -> [Float] {
        try RefHarness.f(op, inputs: [("X", [x]), ("Scale", [scale]), ("ZeroPoint", [t32([1], [0])])], out: O("Y", x.shape), attrs: attrs)
    }

    func testQuantizeLinearRounding() throws {
        // Scale 127: inv_s = 1/127, 127 * inv_s == 1 exactly in Float, so x*… is x itself.
        let x = t32([7], [2.5, 3.5, -2.5, 200, -200, -127.6, 0.4])
        // round_type 0: half to even, clamp [-128, 127]
        XCTAssertEqual(try ql("quantize_linear", x, scale: t32([1], [127]), attrs: [("round_type", .int(0)), ("quant_axis", .int(-1))]),
                       [2, 4, -2, 127, -128, -128, 0])
        // round_type 1: clip to [-S, S] then half away from zero → [-127, 127]
        XCTAssertEqual(try ql("quantize_linear", x, scale: t32([1], [127]), attrs: [("round_type", .int(1)), ("quant_axis", .int(-1))]),
                       [3, 4, -3, 127, -127, -127, 0])
        // 0-d scale tensor works the same
        XCTAssertEqual(try ql("quantize_linear", t32([1], [2.5]), scale: t32([], [127]), attrs: []), [2])
    }

    func testQuantizeLinearMirrorsPaddleArithmeticOrder() throws {
        // S = 0.1, x = -0.09330709 (0xbdbf17ca): Paddle computes (127 * (1/S)) * x = -118.50001 → -119, while the
        // naive x * 127 / S = -118.5 would round (half to even) to -118.
        let x = t32([1], [Float(bitPattern: 0xbdbf17ca)])
        XCTAssertEqual(try ql("quantize_linear", x, scale: t32([1], [0.1]), attrs: [("round_type", .int(0))]), [-119])
        XCTAssertEqual(try ql("quantize_linear", x, scale: t32([1], [0.1]), attrs: [("round_type", .int(1))]), [-119])
        // bit_length 4 → qmax 7, S = 7: 7 * (1/7) == 1 in Float; 2.5 → 2, 100 → 7, -100 → -8
        XCTAssertEqual(try ql("quantize_linear", t32([3], [2.5, 100, -100]), scale: t32([1], [7]), attrs: [("bit_length", .int(4))]),
                       [2, 7, -8])
    }

    func testDequantizeLinearPerChannel() throws {
        // axis 0: rows scaled by 127/127 = 1 and 254/127 = 2
        let q = tI8([2, 3], [1, -2, 3, 4, -5, 6])
        XCTAssertEqual(try ql("dequantize_linear", q, scale: t32([2], [127, 254]), attrs: [("quant_axis", .int(0))]), [1, -2, 3, 8, -10, 12])
        // axis 1 with a [1, C] scale tensor: columns scaled by 1, 2
        let q2 = t32([2, 2], [1, 2, 3, 4])
        XCTAssertEqual(try ql("dequantize_linear", q2, scale: t32([1, 2], [127, 254]), attrs: [("quant_axis", .int(1))]), [1, 4, 3, 8])
        // weights: X and Scale constants are folded at make time, same values
        let w = try RefHarness.f("dequantize_linear", inputs: [("X", [q]), ("Scale", [t32([2], [127, 254])]), ("ZeroPoint", [t32([1], [0])])],
                                 out: O("Y", [2, 3]), attrs: [("quant_axis", .int(0))], constants: ["X", "Scale"])
        XCTAssertEqual(w, [1, -2, 3, 8, -10, 12])
        // quant_axis 2 of a [1,2,2] tensor: last-axis channels
        XCTAssertEqual(try ql("dequantize_linear", t32([1, 2, 2], [1, 1, 1, 1]), scale: t32([2], [127, 254]), attrs: [("quant_axis", .int(2))]),
                       [1, 2, 1, 2])
        // per-tensor: x * 63.5 / 127 = x / 2
        XCTAssertEqual(try ql("dequantize_linear", q2, scale: t32([1], [63.5]), attrs: [("quant_axis", .int(-1))]), [0.5, 1, 1.5, 2])
    }

    func testOnlyObserverIsIdentity() throws {
        let x = t32([3], [0.3, -7.77, 1e-8])
        for op in ["quantize_linear", "dequantize_linear"] {
            XCTAssertEqual(try ql(op, x, scale: t32([1], [1]), attrs: [("only_observer", .bool(true))]), [0.3, -7.77, 1e-8])
        }
    }

    func testLegacyFakeQuantOps() throws {
        // moving-average QDQ with InScale 127 (round_type default 1): 2.5 → 3, -2.5 → -3, 200 → 127
        assertClose(try RefHarness.f("fake_quantize_dequantize_moving_average_abs_max",
                                     inputs: [("X", [t32([3], [2.5, -2.5, 200])]), ("InScale", [t32([1], [127])])], out: O("Out", [3]),
                                     attrs: [("bit_length", .int(8)), ("is_test", .bool(true))]), [3, -3, 127])
        // abs-max QDQ: s = 4, 127/4 = 31.75: 1 → 31.75 → 32 → 32*4/127; 0.5 → 15.875 → 16; -2 → -63.5 → -64; 4 → 127 → 4
        assertClose(try RefHarness.f("fake_quantize_dequantize_abs_max", inputs: [("X", [t32([4], [1, 0.5, -2, 4])])], out: O("Out", [4])),
                    [128.0 / 127, 64.0 / 127, -256.0 / 127, 4])
        // channel-wise QDQ along axis 0: row scales [1, 4]; -0.5 → -63.5 → -64 → -64/127; 2 → 63.5 → 64 → 256/127
        assertClose(try RefHarness.f("fake_channel_wise_quantize_dequantize_abs_max", inputs: [("X", [t32([2, 2], [1, -0.5, 2, 4])])],
                                     out: O("Out", [2, 2]), attrs: [("quant_axis", .int(0))]), [1, -64.0 / 127, 256.0 / 127, 4])
        // quantize-only with InScale 127: grid values
        assertClose(try RefHarness.f("fake_quantize_moving_average_abs_max",
                                     inputs: [("X", [t32([3], [2.5, -2.5, 200])]), ("InScale", [t32([1], [127])])], out: O("Out", [3]),
                                     attrs: [("is_test", .bool(true))]), [3, -3, 127])
        assertClose(try RefHarness.f("fake_quantize_range_abs_max",
                                     inputs: [("X", [t32([2], [1.5, -0.5])]), ("InScale", [t32([1], [127])])], out: O("Out", [2]),
                                     attrs: [("is_test", .bool(true)), ("round_type", .int(0))]), [2, -0])
        // dequantize: 10 * 2 / 127
        assertClose(try RefHarness.f("fake_dequantize_max_abs", inputs: [("X", [t32([2], [10, -20])]), ("Scale", [t32([1], [2])])],
                                     out: O("Out", [2]), attrs: [("max_range", .float(127))]), [20.0 / 127, -40.0 / 127])
        // channel-wise dequantize, one scale tensor along axis 0: rows * [1, 2] / 127
        assertClose(try RefHarness.f("fake_channel_wise_dequantize_max_abs",
                                     inputs: [("X", [t32([2, 2], [127, 127, 127, -127])]), ("Scales", [t32([2], [1, 2])])],
                                     out: O("Out", [2, 2]), attrs: [("quant_bits", .ints([8])), ("quant_axis", .int(0))]), [1, 1, 2, -2])
        // two scale tensors: x * s1[c] * s2 / (127*127): 16129 * [1,2] * 3 / 16129 = [3, 6]
        assertClose(try RefHarness.f("fake_channel_wise_dequantize_max_abs",
                                     inputs: [("X", [t32([1, 2], [16129, 16129])]), ("Scales", [t32([2], [1, 2]), t32([1], [3])])],
                                     out: O("Out", [1, 2]), attrs: [("quant_bits", .ints([8, 8]))]), [3, 6])
    }

    /// Every op qtop decodes (has a spec for) has a reference kernel: the specs are the list of ops qtop knows.
    func testEveryOpWithASpecHasAReferenceKernel() {
        let ops = OpSpecs.byType.keys.filter { $0 != "feed" && $0 != "fetch" }.sorted()
        XCTAssertTrue(ops.contains("conv2d") && ops.contains("qconv2d") && QuantOpNames.paddle.isSubset(of: ops))
        for op in ops {
            XCTAssertTrue(RefHarness.registry.candidates(for: op).contains { $0.implementation == "ref" && $0.isa == .generic },
                          "\(op) not registered")
        }
    }
}
