import Foundation
import QtopTestSupport
import XCTest

/// A model with an op type qtop does not know ("frobnicate"): `graph` and `passes` still show it; run, report and
/// bench stop with one line naming the op type and the node, exit status 2.
final class UnknownOpCommandTests: XCTestCase {
    /// feed(x [-1,2,4,4]) → conv2d → frobnicate → fetch.
    func model() -> String {
        var m = TinyModel()
        m.addHolder("feed", type: .feedMinibatch)
        m.addHolder("fetch", type: .fetchList)
        m.addVar("x", dims: [-1, 2, 4, 4])
        m.addParam("conv_w", floats: (0..<54).map { Float($0 % 7) * 0.1 - 0.3 }, dims: [3, 2, 3, 3])
        m.addVar("conv_out", dims: [-1, 3, 4, 4])
        m.addVar("frob_out", dims: [-1, 3, 4, 4])
        m.addOp("feed", inputs: ["X": ["feed"]], outputs: ["Out": ["x"]], int: ["col": 0])
        m.addOp("conv2d", inputs: ["Input": ["x"], "Filter": ["conv_w"]], outputs: ["Output": ["conv_out"]],
                ints: ["strides": [1, 1], "paddings": [1, 1], "dilations": [1, 1]], int: ["groups": 1],
                strings: ["padding_algorithm": "EXPLICIT", "data_format": "NCHW"])
        m.addOp("frobnicate", inputs: ["X": ["conv_out"]], outputs: ["Out": ["frob_out"]], floats: ["level": 11])
        m.addOp("fetch", inputs: ["X": ["frob_out"]], outputs: ["Out": ["fetch"]], int: ["col": 0])
        return m.write(to: makeTempDir())
    }

    func testGraphAndPassesShowItRunReportBenchFailWithOneLine() throws {
        let path = model()
        let g = try QtopBinary.run(["graph", path])
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertTrue(g.stdout.contains("frobnicate"), g.stdout)
        let p = try QtopBinary.run(["passes", path, "--target", "fp32"])
        XCTAssertEqual(p.status, 0, p.stderr)
        XCTAssertTrue(p.stdout.contains("dead-code"), p.stdout)
        for cmd in [["run", path], ["report", path, "-n", "1"], ["bench", path, "-n", "1"]] {
            let r = try QtopBinary.run(cmd)
            XCTAssertEqual(r.status, 2, "\(cmd): \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(cmd): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("unknown op type 'frobnicate' (node 'frob_out')"), "\(cmd): \(r.stderr)")
        }
    }
}
