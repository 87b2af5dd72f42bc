import Foundation
import QtopFormat
import QtopGraph
@testable import QtopRuntime
import QtopTestSupport
import XCTest

/// Shape ops, matmul_v2 and multiclass_nms3 against paddlepaddle 3.3.1 (fixtures written by
/// scripts/op_cases_shape.py): each case runs as a one-op model through the executor (spec → shape inference →
/// reference kernel, run-time-sized outputs included), and the ops that fold also through `ShapeFolding` with
/// constant inputs. Float outputs within 1e-5 of max |ref|, integers exact, shapes equal.
final class ShapeOpFixtureTests: XCTestCase {
    static let dir = RepoPaths.root + "/Tests/QtopRuntimeTests/Fixtures/ops_shape"

    struct Case {
        let name: String, op: String
        let attrs: [(String, AttrValue)]
        let inputs: [(slot: String, name: String, value: HostTensor)]
        let outputs: [(slot: String, name: String, value: HostTensor)]
    }

    static func cases() throws -> [Case] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/cases.json"))
        let list = try JSONSerialization.jsonObject(with: data) as! [[String: Any]]
        // X0, X1 (stack) and Out0, Out1 … (split) are the arguments of one slot.
        func slot(_ key: String) -> String { key.count > 1 && key.last!.isNumber && key.hasPrefix("X") || key.hasPrefix("Out") && key != "Out" ? String(key.prefix { !$0.isNumber }) : key }
        return try list.map { c in
            var attrs: [(String, AttrValue)] = []
            for (k, v) in (c["attrs"] as! [String: [Any]]).sorted(by: { $0.key < $1.key }) {
                switch v[0] as! String {
                case "b": attrs.append((k, .bool(v[1] as! Bool)))
                case "i": attrs.append((k, .int((v[1] as! NSNumber).intValue)))
                case "f": attrs.append((k, .float((v[1] as! NSNumber).floatValue)))
                case "s": attrs.append((k, .string(v[1] as! String)))
                default: attrs.append((k, .ints((v[1] as! [NSNumber]).map(\.intValue))))
                }
            }
            let ins = try (c["inputs"] as! [String: String]).sorted { $0.key < $1.key }.map {
                (slot: slot($0.key), name: "in_\($0.key)", value: try Npy.read(dir + "/" + $0.value))
            }
            let outs = try (c["outputs"] as! [String: String]).sorted { $0.key < $1.key }.map {
                (slot: slot($0.key), name: "out_\($0.key)", value: try Npy.read(dir + "/" + $0.value))
            }
            return Case(name: c["name"] as! String, op: c["op"] as! String, attrs: attrs, inputs: ins, outputs: outs)
        }
    }

    /// feed per input → the op → fetch per output, inputs declared with their fixture shapes.
    static func graph(_ c: Case, constantInputs: Bool = false) -> Graph {
        var values: [String: ValueInfo] = [:]
        var nodes: [Node] = []
        func slots(_ list: [(slot: String, name: String, value: HostTensor)]) -> [Slot] {
            var order: [String] = [], args: [String: [String]] = [:]
            for x in list {
                if args[x.slot] == nil { order.append(x.slot) }
                args[x.slot, default: []].append(x.name)
            }
            return order.map { Slot($0, args[$0]!) }
        }
        for (i, x) in c.inputs.enumerated() {
            values[x.name] = ValueInfo(name: x.name, dtype: x.value.dtype, shape: x.value.shape, constant: constantInputs ? x.value : nil)
            if !constantInputs {
                nodes.append(Node(id: nodes.count, type: "feed", inputs: [Slot("X", ["feed"])], outputs: [Slot("Out", [x.name])],
                                  attrs: Attributes([("col", .int(i))]), provenance: [x.name]))
            }
        }
        for o in c.outputs { values[o.name] = ValueInfo(name: o.name, dtype: nil, shape: nil) }
        nodes.append(Node(id: nodes.count, type: c.op, inputs: slots(c.inputs), outputs: slots(c.outputs),
                          attrs: Attributes(c.attrs.map { (name: $0.0, value: $0.1) }), provenance: [c.name]))
        for (i, o) in c.outputs.enumerated() {
            nodes.append(Node(id: nodes.count, type: "fetch", inputs: [Slot("X", [o.name])], outputs: [Slot("Out", ["fetch"])],
                              attrs: Attributes([("col", .int(i))]), provenance: ["fetch"]))
        }
        return Graph(nodes: nodes, values: values, inputs: constantInputs ? [] : c.inputs.map(\.name), outputs: c.outputs.map(\.name))
    }

    func compare(_ got: HostTensor, _ want: HostTensor, _ what: String) {
        XCTAssertEqual(got.shape, want.shape, "\(what): shape")
        guard got.shape == want.shape else { return }
        if want.dtype.isFloatingPoint {
            XCTAssertEqual(got.dtype, want.dtype, what)
            let err = relativeMaxError(got.floatValues(), want.floatValues())
            XCTAssertLessThanOrEqual(err, 1e-5, "\(what): relative max error \(err)")
        } else {
            XCTAssertEqual(got.int64Values(), want.int64Values(), what)
        }
    }

    func testReferenceKernelsMatchPaddle() throws {
        let registry = KernelRegistry()
        registerReferenceKernels(registry)
        let cases = try Self.cases()
        XCTAssertGreaterThanOrEqual(cases.count, 45)
        var compared = 0
        for c in cases {
            let e = try Executor(graph: Self.graph(c), registry: registry, options: PlanOptions(referenceOnly: true))
            let outs = try e.run(Dictionary(uniqueKeysWithValues: c.inputs.map { ($0.name, $0.value) }))
            XCTAssertEqual(outs.count, c.outputs.count, c.name)
            for (got, want) in zip(outs, c.outputs) { compare(got, want.value, "\(c.name) \(want.slot)") }
            compared += outs.count
        }
        XCTAssertGreaterThanOrEqual(compared, 60)
    }

    /// The folder computes the same values the kernels do (ops it folds, on constant inputs).
    func testFoldingMatchesPaddle() throws {
        var folded = 0
        for c in try Self.cases() where ["slice", "strided_slice", "stack", "fill_constant", "fill_any_like", "reshape2", "squeeze2", "unsqueeze2", "concat"].contains(c.op) {
            let (g, done) = ShapeFolding.fold(Self.graph(c, constantInputs: true), scope: .allSmallValues)
            XCTAssertEqual(done.count, 1, c.name)
            for o in c.outputs {
                guard let got = g.values[o.name]?.constant else { XCTFail("\(c.name): \(o.name) not folded"); continue }
                compare(got, o.value, "\(c.name) folded")
            }
            folded += 1
        }
        XCTAssertGreaterThanOrEqual(folded, 24)
    }

    /// Bounds from tensors win over the attributes (StartsTensor, EndsTensorList of 0-D values), and empty
    /// slots (as Paddle writes them) count as absent: slice0 again, its attributes replaced by placeholders.
    func testSliceBoundsFromTensors() throws {
        let c = try XCTUnwrap(try Self.cases().first { $0.name == "slice0" })
        var g = Self.graph(c)
        func int32(_ name: String, _ v: [Int64], _ shape: [Int]) {
            g.values[name] = ValueInfo(name: name, dtype: .i32, shape: shape, persistable: true, constant: .ints(v, dtype: .i32, shape: shape))
        }
        int32("starts", [-2, 1], [2])
        int32("end0", [2147483647], [])
        int32("end1", [-1], [])
        let i = g.nodes.firstIndex { $0.type == "slice" }!
        let n = g.nodes[i]
        g.nodes[i] = n.with(inputs: n.inputs + [Slot("StartsTensor", ["starts"]), Slot("EndsTensorList", ["end0", "end1"]),
                                                Slot("StartsTensorList", []), Slot("EndsTensor", [])],
                            attrs: Attributes(n.attrs.entries.map { ($0.name, ["starts", "ends"].contains($0.name) ? .ints([-1, -1]) : $0.value) }))
        let registry = KernelRegistry()
        registerReferenceKernels(registry)
        let e = try Executor(graph: g, registry: registry, options: PlanOptions(referenceOnly: true))
        let out = try e.run([c.inputs[0].name: c.inputs[0].value])
        compare(out[0], c.outputs[0].value, "slice0 with tensor bounds")
    }

    /// The LoD form of multiclass_nms3 needs RoisNum (Paddle itself crashes without it): a clear error naming it,
    /// and RoisNum counts that run past the rows are a kernel error, not a trap.
    func testNMSLoDFormNeedsRoisNum() throws {
        let c = try XCTUnwrap(try Self.cases().first { $0.name == "nms_lod0" })
        let registry = KernelRegistry()
        registerReferenceKernels(registry)
        let noRois = Case(name: c.name, op: c.op, attrs: c.attrs, inputs: c.inputs.filter { $0.slot != "RoisNum" }, outputs: c.outputs)
        XCTAssertThrowsError(try Executor(graph: Self.graph(noRois), registry: registry, options: PlanOptions(referenceOnly: true))) {
            XCTAssertTrue("\($0)".contains("RoisNum"), "\($0)")
        }
        let e = try Executor(graph: Self.graph(c), registry: registry, options: PlanOptions(referenceOnly: true))
        var feeds = Dictionary(uniqueKeysWithValues: c.inputs.map { ($0.name, $0.value) })
        let rois = try XCTUnwrap(c.inputs.first { $0.slot == "RoisNum" })
        feeds[rois.name] = .ints([4, 0, 6], dtype: .i32, shape: [3])
        XCTAssertThrowsError(try e.run(feeds)) { XCTAssertTrue("\($0)".contains("RoisNum[2] = 6"), "\($0)") }
    }
}
