import QtopFormat
import QtopGraph
@testable import QtopRuntime
import XCTest

/// Unsupported attribute combinations are rejected at plan time with the reason in the dispatch decision, and a
/// malformed attribute fails the plan with a clear error (never a trap).
final class SpecDispatchTests: XCTestCase {
    /// feed x (u8 NHWC [1, 4, 4, 2]) → qpool2d → y.
    func poolGraph(_ attrs: [(String, AttrValue)]) -> Graph {
        let feed = Node(id: 0, type: "feed", inputs: [Slot("X", ["feed"])], outputs: [Slot("Out", ["x"])], provenance: ["x"])
        let pool = Node(id: 1, type: "qpool2d", inputs: [Slot("X", ["x"])], outputs: [Slot("Out", ["y"])],
                        attrs: Attributes(attrs.map { ($0.0, $0.1) }), provenance: ["y"])
        return Graph(nodes: [feed, pool], values: ["x": ValueInfo(name: "x", dtype: .u8, shape: [1, 4, 4, 2]),
                                                   "y": ValueInfo(name: "y", dtype: nil, shape: nil)],
                     inputs: ["x"], outputs: ["y"])
    }

    let maxPool: [(String, AttrValue)] = [("pooling_type", .string("max")), ("ksize", .ints([2, 2])), ("strides", .ints([2, 2])),
                                          ("in_scale", .float(2))]

    func testNativeMaxPoolRejectsRequantizationAndTheOracleRunsIt() throws {
        let registry = KernelLibrary.standard()
        let e = try Executor(graph: poolGraph(maxPool + [("out_scale", .float(4))]), registry: registry, options: PlanOptions())
        let d = e.steps[1].decision
        XCTAssertEqual(d.implementation, "ref")
        XCTAssertTrue(d.rejected.contains { $0.implementation == "pool" && $0.reason.contains("out_scale ≠ in_scale") }, "\(d.rejected)")
        // window maxima are 3·[10, 11, 14, 15, 26, 27, 30, 31]; the oracle halves them (range 2 → 4), ties to even
        let x = HostTensor(dtype: .u8, shape: [1, 4, 4, 2])
        for i in 0..<32 { x.pointer(as: UInt8.self)[i] = UInt8(i * 3) }
        let y = try e.run(["x": x])[0]
        XCTAssertEqual(y.int64Values(), [15, 16, 21, 22, 39, 40, 45, 46])

        // the same pool with equal ranges runs natively
        let plain = try Executor(graph: poolGraph(maxPool), registry: registry, options: PlanOptions())
        XCTAssertEqual(plain.steps[1].decision.implementation, "pool")
        XCTAssertEqual(try plain.run(["x": x])[0].int64Values(), [30, 33, 42, 45, 78, 81, 90, 93])
    }

    func testMalformedAttributeFailsThePlanWithTheReason() {
        let registry = KernelLibrary.standard()
        XCTAssertThrowsError(try Executor(graph: poolGraph(maxPool.map { $0.0 == "ksize" ? ($0.0, .ints([2, 2, 2])) : $0 }), registry: registry,
                                          options: PlanOptions())) { e in
            XCTAssertTrue("\(e)".contains("attribute 'ksize' must have 1 or 2 values, got 3"), "\(e)")
        }
    }
}
