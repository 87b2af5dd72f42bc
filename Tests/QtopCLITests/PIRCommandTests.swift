import Foundation
import QtopTestSupport
import XCTest

/// Paddle 3 PIR programs through the real binary: discovery (`x.json`, a directory, a path prefix) with the
/// one-line note when both program formats are present, the `graph --json` contract, and one-line errors.
final class PIRCommandTests: XCTestCase {
    /// A directory holding the pir_fp32 sample as inference.json + inference.pdiparams (and, with `legacy`, the
    /// shapes_fp32 sample as inference.pdmodel too).
    func modelDir(legacy: Bool) throws -> String {
        let dir = makeTempDir("qtop-pir")
        let fm = FileManager.default
        try fm.copyItem(atPath: RepoPaths.sample("pir_fp32.json"), toPath: dir + "/inference.json")
        try fm.copyItem(atPath: RepoPaths.sample("pir_fp32.pdiparams"), toPath: dir + "/inference.pdiparams")
        if legacy { try fm.copyItem(atPath: RepoPaths.sample("shapes_fp32.pdmodel"), toPath: dir + "/inference.pdmodel") }
        return dir
    }

    func testDirectoryAndPrefixDiscovery() throws {
        let only = try modelDir(legacy: false)
        var r = try QtopBinary.run(["graph", only])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        XCTAssertTrue(r.stdout.contains("conv2d  pd_op.conv2d_0"), r.stdout)

        let both = try modelDir(legacy: true)
        for path in [both, both + "/inference"] {
            r = try QtopBinary.run(["graph", path])
            XCTAssertEqual(r.status, 0, r.stderr)
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("using inference.json"), r.stderr)
            XCTAssertTrue(r.stdout.contains("pd_op.conv2d_0"), r.stdout)
        }
    }

    func testGraphJSONContract() throws {
        let r = try QtopBinary.run(["graph", RepoPaths.sample("pir_int8.json"), "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(Set(obj.keys), ["model", "inputs", "outputs", "ops", "values"])
        let ops = try XCTUnwrap(obj["ops"] as? [[String: Any]])
        for op in ops {
            XCTAssertTrue(Set(op.keys).isSuperset(of: ["name", "type", "inputs", "outputs", "attrs"]), "\(op.keys)")
        }
        let conv = try XCTUnwrap(ops.first { $0["type"] as? String == "conv2d" })
        XCTAssertTrue((conv["layer_path"] as? String)?.hasPrefix("/") ?? false)
        XCTAssertTrue((conv["name"] as? String)?.hasPrefix("pd_op.conv2d") ?? false)
        let q = try XCTUnwrap(ops.first { $0["type"] as? String == "quantize_linear" })
        let quant = try XCTUnwrap(q["quant"] as? [String: Any])
        XCTAssertEqual(quant["bit_length"] as? Int, 8)
        XCTAssertEqual((quant["scales"] as? [Double])?.count, 1)
    }

    func testBadJSONExitsTwoWithOneLine() throws {
        let dir = try modelDir(legacy: false)
        let path = dir + "/inference.json"
        let text = try Data(contentsOf: URL(fileURLWithPath: path))
        try text.prefix(text.count / 3).write(to: URL(fileURLWithPath: path))
        let r = try QtopBinary.run(["graph", dir])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("inference.json") && r.stderr.contains("not valid JSON"), r.stderr)
    }
}
