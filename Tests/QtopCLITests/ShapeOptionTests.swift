import Foundation
import QtopFormat
import QtopTestSupport
import XCTest

/// `--shape` on run, report, bench, passes and the UI (checked before the screen is taken) through the real binary, on a tiny conv whose height and width are
/// unknown ([-1,2,-1,-1]): the unknown dims are named with a `--shape` that works, bad shapes are one line, exit 2.
final class ShapeOptionTests: XCTestCase {
    var dir = ""
    var model = ""

    override func setUp() {
        dir = makeTempDir()
        model = TinyModel.convRelu(inputDims: [-1, 2, -1, -1]).write(to: dir)
    }

    func assertFails(_ args: [String], _ expected: String..., file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try QtopBinary.run(args)
        XCTAssertEqual(r.status, 2, r.stderr, file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr, file: file, line: line)
        for e in expected { XCTAssertTrue(r.stderr.contains(e), "\(r.stderr) lacks \(e)", file: file, line: line) }
    }

    func testUnknownDimsAreNamedWithTheFlagToPass() throws {
        for cmd in ["run", "report", "bench"] {
            try assertFails([cmd, model], "model.pdmodel: input 'x' has unknown dims [-1,2,-1,-1]; pass --shape x=[1,2,640,640]")
        }
    }

    func testShapeFormsRunAtThatShape() throws {
        let r = try QtopBinary.run(["run", model, "--shape", "x=[2,2,5,7]", "--output", dir + "/y.npy"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Npy.read(dir + "/y.npy").shape, [2, 3, 5, 7])
        let bare = try QtopBinary.run(["run", model, "--shape", "[1,2,3,3]", "--output", dir + "/z.npy"])
        XCTAssertEqual(bare.status, 0, bare.stderr)
        XCTAssertEqual(try Npy.read(dir + "/z.npy").shape, [1, 3, 3, 3])
        let rep = try QtopBinary.run(["report", model, "--shape", "x=[1,2,6,6]", "-n", "1", "--json"])
        XCTAssertEqual(rep.status, 0, rep.stderr)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(rep.stdout.utf8)) as? [String: Any])
        let bench = try QtopBinary.run(["bench", model, "--shape", "x=[1,2,6,6]", "-n", "2", "--json"])
        XCTAssertEqual(bench.status, 0, bench.stderr)
        let passes = try QtopBinary.run(["passes", model, "--shape", "x=[1,2,6,6]", "--target", "fp32", "--json"])
        XCTAssertEqual(passes.status, 0, passes.stderr)
    }

    func testInputFileGivesTheShape() throws {
        try Npy.write(HostTensor(shape: [1, 2, 3, 5], floats: [Float](repeating: 0.5, count: 30)), to: dir + "/x.npy")
        let r = try QtopBinary.run(["run", model, "--input", "x=\(dir)/x.npy", "--output", dir + "/y.npy"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Npy.read(dir + "/y.npy").shape, [1, 3, 3, 5])
        try assertFails(["run", model, "--input", "x=\(dir)/x.npy", "--shape", "x=[1,2,4,4]"], "contradicts the shape of its --input [1,2,3,5]")
    }

    func testBadShapesAreOneLineExitTwo() throws {
        let cases: [(String, String)] = [
            ("y=[1,2,4,4]", "no input named 'y'"),
            ("x=[1,2,4]", "input 'x' has 4 dims [-1,2,-1,-1], got 3"),
            ("x=[1,3,4,4]", "dim 1 is fixed at 2"),
            ("x=[1,2,0,4]", "dim 2 must be positive, got 0"),
            ("x=[1,2,-4,4]", "dim 2 must be positive, got -4"),
            ("x=[1,2,4,4294967296]", "dim 3 is too large"),
            ("x=[1,2,99999999999999999999999,4]", "too large"),
            ("x=[1,2,2147483647,2147483647]", "more than 4294967296 elements"),
            ("x=[1,2,a,4]", "not a whole number"),
        ]
        for cmd in ["run", "report", "bench", "passes", "ui"] {
            for (spec, expected) in cases { try assertFails([cmd, model, "--shape", spec], "qtop: --shape: ", expected) }
        }
    }

    func testFixedModelsKeepTheirDefaultBatch() throws {
        let fixed = TinyModel.convRelu().write(to: dir, name: "fixed")
        let r = try QtopBinary.run(["run", fixed, "--output", dir + "/f.npy"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Npy.read(dir + "/f.npy").shape, [1, 3, 4, 4])
        try assertFails(["run", fixed, "--shape", "x=[1,2,8,8]"], "dim 2 is fixed at 4")
    }
}
