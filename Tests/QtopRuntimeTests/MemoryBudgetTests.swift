import Foundation
import QtopGraph
import QtopRuntime
import QtopTestSupport
import XCTest

final class MemoryBudgetTests: XCTestCase {
    func testSizesSaturateInsteadOfTrapping() {
        XCTAssertEqual(MemoryBudget.bytes(shape: [2, 3], elementBytes: 4), 24)
        XCTAssertEqual(MemoryBudget.bytes(shape: [-1, 3], elementBytes: 4), 12)
        XCTAssertEqual(MemoryBudget.bytes(shape: [1 << 40, 1 << 40], elementBytes: 4), .max)
        XCTAssertEqual(MemoryBudget.total([.max, 1]), .max)
        XCTAssertEqual(MemoryBudget.format(.max), "more than 8 EB")
        XCTAssertEqual(MemoryBudget.format(3 << 30), "3.0 GB")
        XCTAssertEqual(MemoryBudget.format(35 << 40), "35 TB")
        XCTAssertEqual(MemoryBudget.format(100), "100 B")
    }

    func testParse() {
        XCTAssertEqual(MemoryBudget.parse("512M"), 512 << 20)
        XCTAssertEqual(MemoryBudget.parse("1.5GB"), 3 << 29)
        XCTAssertEqual(MemoryBudget.parse("2GiB"), 2 << 30)
        XCTAssertEqual(MemoryBudget.parse("4096"), 4096)
        for bad in ["", "-1G", "0", "G", "1X", "nan", "1e30T"] { XCTAssertNil(MemoryBudget.parse(bad), bad) }
    }

    /// A plan over the limit is refused with its figure, before any buffer is allocated.
    func testPlanOverTheLimitIsRefused() throws {
        let path = TinyModel.convRelu().write(to: makeTempDir())
        let graph = try ModelLoader.load(path).graph
        let registry = KernelLibrary.standard()
        XCTAssertNoThrow(try Executor(graph: graph, registry: registry, options: PlanOptions()))
        XCTAssertThrowsError(try Executor(graph: graph, registry: registry, options: PlanOptions(maxMemory: 100))) {
            XCTAssertTrue("\($0)".contains("more than the memory limit of 100 B"), "\($0)")
        }
        // An input of 10^9 × 10^9 elements: refused by its element count or the memory figure, not by a failed allocation.
        XCTAssertThrowsError(try Executor(graph: graph, registry: registry, options: PlanOptions(),
                                          inputShapes: [graph.inputs[0]: [1_000_000_000, 2, 1_000_000_000, 4]])) {
            XCTAssertTrue("\($0)".contains("memory limit") || "\($0)".contains("elements"), "\($0)")
        }
    }
}
