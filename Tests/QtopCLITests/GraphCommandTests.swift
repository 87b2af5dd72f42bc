import Foundation
import QtopTestSupport
import XCTest

/// `qtop graph` through the real binary: the JSON contract, and one-line errors with exit status 2.
final class GraphCommandTests: XCTestCase {
    func testJSONContractOnTinyModel() throws {
        let dir = makeTempDir()
        let path = TinyModel.convRelu().write(to: dir)
        let r = try QtopBinary.run(["graph", path, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(obj["model"] as? String, path)
        let inputs = try XCTUnwrap(obj["inputs"] as? [[String: Any]])
        XCTAssertEqual(inputs.first?["name"] as? String, "x")
        XCTAssertEqual(inputs.first?["shape"] as? [Int], [-1, 2, 4, 4])
        XCTAssertEqual(inputs.first?["dtype"] as? String, "float32")
        let ops = try XCTUnwrap(obj["ops"] as? [[String: Any]])
        XCTAssertEqual(ops.map { $0["type"] as? String }, ["feed", "conv2d", "relu", "fetch"])
        XCTAssertEqual(ops[1]["name"] as? String, "conv_out")
        let ins = try XCTUnwrap(ops[1]["inputs"] as? [String: [String]])
        XCTAssertEqual(ins["Filter"], ["conv_w"])
        let attrs = try XCTUnwrap(ops[1]["attrs"] as? [String: Any])
        XCTAssertEqual(attrs["strides"] as? [Int], [1, 1])
        XCTAssertEqual(attrs["padding_algorithm"] as? String, "EXPLICIT")
    }

    func testTextListing() throws {
        let dir = makeTempDir()
        let r = try QtopBinary.run(["graph", TinyModel.convRelu().write(to: dir)])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("conv2d  conv_out"), r.stdout)
        XCTAssertTrue(r.stdout.contains("conv_out [?,3,4,4] float32"), r.stdout)
    }

    func assertOneLineError(_ args: [String], contains needle: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try QtopBinary.run(args)
        XCTAssertEqual(r.status, 2, "exit status for \(args): \(r.stderr)", file: file, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "stderr: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(needle), "stderr: \(r.stderr)", file: file, line: line)
    }

    func testBadFilesExitTwoWithOneLine() throws {
        let dir = makeTempDir()
        let m = TinyModel.convRelu()
        let path = m.write(to: dir)
        try assertOneLineError(["graph", dir + "/missing.pdmodel"], contains: "missing.pdmodel")
        try assertOneLineError(["graph", makeTempDir()], contains: "directory holds no model")
        let bytes = m.programBytes()
        try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: path))
        try assertOneLineError(["graph", path], contains: path)
        try Data(m.programBytes()).write(to: URL(fileURLWithPath: path))
        try Data(m.paramsBytes() + [9, 9]).write(to: URL(fileURLWithPath: dir + "/model.pdiparams"))
        try assertOneLineError(["graph", path], contains: "trailing garbage")
        try Data(m.paramsBytes().prefix(40)).write(to: URL(fileURLWithPath: dir + "/model.pdiparams"))
        try assertOneLineError(["graph", path], contains: "model.pdiparams")
    }

    func testBadFlagExitsTwo() throws {
        try assertOneLineError(["graph", "--no-such-flag"], contains: "no-such-flag")
    }
}
