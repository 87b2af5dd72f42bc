import CQtopKernels
import QtopFormat
import QtopGraph
import QtopRuntime
import XCTest

/// The native fp32 pool2d (f32_pool.c) against the Swift reference pool: max and whole-plane windows bit for bit,
/// other avg windows within float rounding (summed row by row); and the same bits on every ISA row and thread count.
final class Float32PoolTests: XCTestCase {
    let pool = NativeThreadPool(threads: 2)

    /// The kernel `reg` builds for `node` at `isa` exactly (nil when that row does not apply on this CPU).
    func build(_ reg: KernelRegistry, _ node: Node, _ values: [String: ValueInfo], isa: ISALevel) throws -> (Kernel, String)? {
        let g = Graph(nodes: [node], values: values, inputs: [], outputs: [])
        let ctx = KernelBuildContext(node: node, graph: g, isaCap: isa, available: NativeCPU.isaSet)
        for e in reg.candidates(for: node.type) where e.isa == isa {
            if case .ready(let k) = try e.make(ctx) { return (k, e.execType.description) }
        }
        return nil
    }

    typealias A = [(name: String, value: AttrValue)]

    func testNativePoolMatchesReferenceOnEveryISA() throws {
        let native = KernelRegistry()
        registerNativeKernels(native)
        let refReg = KernelRegistry()
        registerReferenceKernels(refReg)
        var r = XorShift(99)
        let maxT: A = [("pooling_type", .string("max"))]
        let avgT: A = [("pooling_type", .string("avg"))]
        func k(_ k: Int, _ s: Int, _ p: Int) -> A { [("ksize", .ints([k, k])), ("strides", .ints([s, s])), ("paddings", .ints([p, p]))] }
        let ceilNonExcl: A = [("ceil_mode", .bool(true)), ("exclusive", .bool(false))]
        let ceilExcl: A = [("ceil_mode", .bool(true)), ("exclusive", .bool(true))]
        let global: A = [("global_pooling", .bool(true))]
        let adaptive: A = [("adaptive", .bool(true)), ("ksize", .ints([3, 3]))]
        let adaptive1: A = [("adaptive", .bool(true)), ("ksize", .ints([1, 1]))]
        let same: A = [("ksize", .ints([2, 2])), ("strides", .ints([2, 2])), ("padding_algorithm", .string("SAME"))]
        // (n, c, h, w, oh, ow, attrs, regular): regular = the row-by-row route applies
        let cases: [(Int, Int, Int, Int, Int, Int, A)] = [
            (2, 3, 9, 11, 5, 6, maxT + k(3, 2, 1)),
            (1, 5, 112, 112, 56, 56, maxT + k(3, 2, 1)),            // ShuffleNet's stem pool: several 16-column blocks
            (2, 3, 9, 10, 5, 6, avgT + k(3, 2, 1) + ceilNonExcl),
            (2, 3, 9, 10, 5, 6, avgT + k(3, 2, 1) + ceilExcl),
            (1, 4, 20, 37, 20, 37, avgT + k(5, 1, 2)),              // stride 1, 5×5, partial last block
            (1, 4, 20, 37, 20, 37, maxT + k(5, 1, 2)),
            (1, 3, 17, 17, 6, 6, avgT + k(3, 3, 1)),                // stride 3: the generic row inside the SIMD rows
            (2, 3, 7, 7, 1, 1, avgT + global),
            (1, 6, 28, 29, 1, 1, avgT + global),                    // 812 values: 12 lane blocks and a partial one
            (1, 6, 14, 14, 1, 1, maxT + global),
            (1, 2, 3, 5, 1, 1, avgT + global),                      // fewer values than one lane block
            (2, 3, 7, 8, 3, 3, avgT + adaptive),                    // irregular windows: the window walk
            (1, 3, 8, 8, 1, 1, avgT + adaptive1),
            (2, 3, 6, 6, 3, 3, maxT + same),
            (1, 2, 8, 12, 4, 6, avgT + same),
        ]
        let isas = [ISALevel.generic, .avx2, .avx512_core].filter { NativeCPU.usableISAs.contains($0) }
        for (ci, cs) in cases.enumerated() {
            let (n, c, h, w, oh, ow, attrs) = cs
            let x = HostTensor(shape: [n, c, h, w], floats: (0..<n * c * h * w).map { _ in r.float(-2, 2) })
            let values: [String: ValueInfo] = [
                "x": ValueInfo(name: "x", dtype: .f32, shape: x.shape),
                "y": ValueInfo(name: "y", dtype: .f32, shape: [n, c, oh, ow]),
            ]
            let node = Node(id: 0, type: "pool2d", inputs: [Slot("X", ["x"])], outputs: [Slot("Out", ["y"])],
                            attrs: Attributes(attrs), provenance: ["pool2d"])
            guard let (kr, _) = try build(refReg, node, values, isa: .generic) else { return XCTFail("no reference pool") }
            let want = HostTensor(dtype: .f32, shape: [n, c, oh, ow])
            try kr.run(KernelIO(inputs: ["X": [Tensor(x)]], outputs: ["Out": [Tensor(want)]], threads: .serial))
            let isMax = attrs.contains { $0.name == "pooling_type" && $0.value == .string("max") }
            var first: [Float]?
            for isa in isas {
                guard let (kn, tn) = try build(native, node, values, isa: isa) else { return XCTFail("case \(ci): no native pool at \(isa)") }
                XCTAssertEqual(tn, "pool:\(isa.rawValue):fp32")
                for threads in [ThreadContext.serial, pool.threadContext] {
                    let got = HostTensor(dtype: .f32, shape: [n, c, oh, ow])
                    try kn.run(KernelIO(inputs: ["X": [Tensor(x)]], outputs: ["Out": [Tensor(got)]], threads: threads))
                    let g = got.floatValues(), wv = want.floatValues()
                    if let first { XCTAssertEqual(g, first, "case \(ci): \(isa) differs from the generic row") } else { first = g }
                    if isMax || oh * ow == 1 {
                        XCTAssertEqual(g, wv, "case \(ci) \(isa)")
                    } else {
                        for (a, b) in zip(g, wv) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b)) * Float(h * w), "case \(ci) \(isa)") }
                    }
                }
            }
        }
    }
}

