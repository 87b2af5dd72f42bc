import Foundation
import QtopFormat
import QtopTestSupport
import XCTest

/// `qtop run`, `report`, `bench` and `passes` through the real binary on a tiny model: JSON contracts, .npy I/O,
/// and one-line errors with exit status 2.
final class RuntimeCommandTests: XCTestCase {
    var dir = ""
    var model = ""

    override func setUp() {
        dir = makeTempDir()
        model = TinyModel.convRelu().write(to: dir)
    }

    func json(_ r: QtopRun) throws -> [String: Any] {
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
    }

    func testRunWritesOutputsThatMatchTheReferenceMode() throws {
        let x = HostTensor(shape: [2, 2, 4, 4], floats: (0..<64).map { Float($0 % 9) * 0.25 - 1 })
        try Npy.write(x, to: dir + "/x.npy")
        var outs: [[Float]] = []
        for mode in ["reference", "fp32"] {
            let r = try QtopBinary.run(["run", model, "--mode", mode, "--input", "x=\(dir)/x.npy", "--output", "\(dir)/\(mode).npy"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let y = try Npy.read("\(dir)/\(mode).npy")
            XCTAssertEqual(y.shape, [2, 3, 4, 4])
            outs.append(y.floatValues())
        }
        XCTAssertLessThanOrEqual(relativeMaxError(outs[1], outs[0]), 1e-5)
        XCTAssertTrue(outs[0].allSatisfy { $0 >= 0 }, "relu output must be non-negative")
        // Output directory form, single-input shorthand.
        let r = try QtopBinary.run(["run", model, "--input", "\(dir)/x.npy", "--output-dir", "\(dir)/outs"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir)/outs/relu_out.npy"))
    }

    func testRunInputErrors() throws {
        try Npy.write(HostTensor(shape: [1, 3, 4, 4], floats: [Float](repeating: 0, count: 48)), to: dir + "/wrong.npy")
        let wrongShape = try QtopBinary.run(["run", model, "--input", "x=\(dir)/wrong.npy"])
        XCTAssertEqual(wrongShape.status, 2)
        XCTAssertTrue(wrongShape.stderr.contains("wrong.npy") && wrongShape.stderr.contains("does not match"), wrongShape.stderr)
        let i64 = HostTensor(dtype: .i64, shape: [1, 2, 4, 4])
        try Npy.write(i64, to: dir + "/int.npy")
        let wrongType = try QtopBinary.run(["run", model, "--input", "x=\(dir)/int.npy"])
        XCTAssertEqual(wrongType.status, 2)
        XCTAssertTrue(wrongType.stderr.contains("dtype int64"), wrongType.stderr)
        let missingName = try QtopBinary.run(["run", model, "--input", "nope=\(dir)/wrong.npy"])
        XCTAssertEqual(missingName.status, 2)
        XCTAssertTrue(missingName.stderr.contains("no input named 'nope'"), missingName.stderr)
        try Data([0x93, 0x4E, 0x55]).write(to: URL(fileURLWithPath: dir + "/corrupt.npy"))
        let corrupt = try QtopBinary.run(["run", model, "--input", "x=\(dir)/corrupt.npy"])
        XCTAssertEqual(corrupt.status, 2)
        XCTAssertEqual(corrupt.stderr.split(separator: "\n").count, 1, corrupt.stderr)
        let badMode = try QtopBinary.run(["run", model, "--mode", "int4"])
        XCTAssertEqual(badMode.status, 2)
        XCTAssertTrue(badMode.stderr.contains("unknown mode"), badMode.stderr)
        let badISA = try QtopBinary.run(["run", model, "--isa", "avx9000"])
        XCTAssertEqual(badISA.status, 2)
    }

    /// A negative count is a value to reject with its rule, not a missing value (`-1` looks like a flag).
    func testNegativeCounts() throws {
        for args in [["report", model, "-n", "-1"], ["bench", model, "-n", "-1"], ["bench", model, "-t", "-1"]] {
            let r = try QtopBinary.run(args)
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(args[2] == "-n" ? "-n must be" : "-t must be"), r.stderr)
        }
    }

    /// A plan over --max-memory is refused with its figure before anything is allocated; a bad size is one line.
    func testMaxMemory() throws {
        let small = try QtopBinary.run(["run", model, "--max-memory", "100"])
        XCTAssertEqual(small.status, 2, small.stderr)
        XCTAssertEqual(small.stderr.split(separator: "\n").count, 1, small.stderr)
        XCTAssertTrue(small.stderr.contains("more than the memory limit of 100 B"), small.stderr)
        let bad = try QtopBinary.run(["run", model, "--max-memory", "lots"])
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("--max-memory"), bad.stderr)
        let enough = try QtopBinary.run(["run", model, "--max-memory", "1G"])
        XCTAssertEqual(enough.status, 0, enough.stderr)
    }

    func testNaNAndInfPropagateWithoutCrashing() throws {
        var v = [Float](repeating: 0.5, count: 32)
        v[0] = .nan
        v[5] = .infinity
        try Npy.write(HostTensor(shape: [1, 2, 4, 4], floats: v), to: dir + "/nan.npy")
        let r = try QtopBinary.run(["run", model, "--mode", "reference", "--input", "\(dir)/nan.npy", "--output", "\(dir)/o.npy",
                                    "--dump-values", "\(dir)/values"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // NaN reaches the convolution's output; Paddle's CPU relu then maps NaN to 0, so the model output is finite.
        let conv = try Npy.read("\(dir)/values/conv_out.npy").floatValues()
        XCTAssertTrue(conv.contains { $0.isNaN }, "NaN input must propagate through conv")
        let o = try Npy.read("\(dir)/o.npy").floatValues()
        XCTAssertTrue(o.allSatisfy { !$0.isNaN }, "relu maps NaN to 0 as Paddle's CPU kernel does")
    }

    func testReportJSONContract() throws {
        let obj = try json(try QtopBinary.run(["report", model, "-n", "3", "--json", "--sort", "time"]))
        let layers = try XCTUnwrap(obj["layers"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(layers.count, 2)
        for key in ["name", "status", "layer_type", "exec_type", "isa", "precision", "out_precision", "real_ms", "cpu_ms", "percent"] {
            XCTAssertNotNil(layers[0][key], "missing \(key)")
        }
        XCTAssertNotNil(obj["total_ms"] as? Double)
        let executed = layers.filter { $0["status"] as? String == "EXECUTED" }
        let share = executed.compactMap { $0["percent"] as? Double }.reduce(0, +)
        XCTAssertEqual(share, 100, accuracy: 0.5)
        let times = layers.compactMap { $0["real_ms"] as? Double }
        XCTAssertEqual(times, times.sorted(by: >), "--sort time orders by time")
    }

    /// "precision" is what the kernel computed in (the exec type's last part), "out_precision" what it wrote:
    /// shapes_int8 has qconv2d layers that compute in i8 and write f32 (before a float residual or pool).
    func testReportPrecisionIsTheComputePrecision() throws {
        let sample = RepoPaths.sample("shapes_int8.pdmodel")
        let obj = try json(try QtopBinary.run(["report", sample, "-n", "1", "--json", "--sort", "order", "--isa", "generic"]))
        let layers = try XCTUnwrap(obj["layers"] as? [[String: Any]])
        for l in layers where l["status"] as? String == "EXECUTED" {
            let exec = try XCTUnwrap(l["exec_type"] as? String)
            XCTAssertEqual(l["precision"] as? String, exec.split(separator: ":").last.map { $0.uppercased() }, "\(l)")
        }
        let mixed = layers.filter { $0["layer_type"] as? String == "qconv2d" && $0["out_precision"] as? String == "FP32" }
        XCTAssertFalse(mixed.isEmpty, "expected a qconv2d writing f32 in shapes_int8")
        for l in mixed { XCTAssertEqual(l["precision"] as? String, "I8", "\(l)") }
        for l in layers where l["status"] as? String != "EXECUTED" {
            XCTAssertEqual(l["precision"] as? String, "-")
            XCTAssertEqual(l["out_precision"] as? String, "-")
        }
    }

    func testReportCSVAndTable() throws {
        let csv = try QtopBinary.run(["report", model, "-n", "2", "--csv"])
        XCTAssertEqual(csv.status, 0, csv.stderr)
        XCTAssertTrue(csv.stdout.hasPrefix("layerName;execStatus;layerType;execType;realTime (ms);cpuTime (ms)"))
        let table = try QtopBinary.run(["report", model, "-n", "2", "--dispatch", "--isa", "generic"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("Total time"), table.stdout)
        XCTAssertTrue(table.stdout.contains("above the ISA cap generic") || table.stdout.contains("CPU lacks"), table.stdout)
    }

    func testBenchJSONContract() throws {
        let obj = try json(try QtopBinary.run(["bench", model, "-n", "5", "--json", "--threads", "1"]))
        let lat = try XCTUnwrap(obj["latency_ms"] as? [String: Double])
        for k in ["median", "p90", "min", "max"] { XCTAssertNotNil(lat[k], k) }
        XCTAssertLessThanOrEqual(lat["min"]!, lat["median"]!)
        XCTAssertLessThanOrEqual(lat["median"]!, lat["max"]!)
        XCTAssertEqual(obj["iterations"] as? Int, 5)
        XCTAssertEqual(obj["threads"] as? Int, 1)
        XCTAssertGreaterThan(obj["throughput_fps"] as? Double ?? 0, 0)
        XCTAssertNotNil(obj["isa"] as? String)
        XCTAssertNotNil(obj["precision"] as? String)
        let tp = try json(try QtopBinary.run(["bench", model, "-n", "4", "--json", "--threads", "2", "--hint", "throughput"]))
        XCTAssertEqual(tp["threads"] as? Int, 2)
        XCTAssertEqual(tp["streams"] as? Int, 2, "throughput: one stream per thread")
        XCTAssertEqual(tp["iterations"] as? Int, 4, "-n counts the inferences of all streams")
        let one = try json(try QtopBinary.run(["bench", model, "-n", "3", "--json", "--threads", "2", "--hint", "throughput", "--streams", "1"]))
        XCTAssertEqual(one["streams"] as? Int, 1)
        XCTAssertEqual(one["threads"] as? Int, 2)
        let bad = try QtopBinary.run(["bench", model, "-n", "1", "--streams", "0"])
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("--streams"), bad.stderr)
    }

    func testPassesJSONContractAndStopAfter() throws {
        let obj = try json(try QtopBinary.run(["passes", model, "--json"]))
        let passes = try XCTUnwrap(obj["passes"] as? [[String: Any]])
        XCTAssertFalse(passes.isEmpty)
        for key in ["name", "nodes_before", "nodes_after", "changes"] { XCTAssertNotNil(passes[0][key], key) }
        let final = try XCTUnwrap((obj["final"] as? [String: Any])?["ops"] as? [[String: Any]])
        for key in ["name", "type", "precision", "fused_from"] { XCTAssertNotNil(final[0][key], key) }
        let first = try XCTUnwrap(passes.first?["name"] as? String)
        let stopped = try json(try QtopBinary.run(["passes", model, "--json", "--stop-after", first]))
        XCTAssertEqual((stopped["passes"] as? [Any])?.count, 1)
        let bad = try QtopBinary.run(["passes", model, "--stop-after", "no-such-pass"])
        XCTAssertEqual(bad.status, 2)
    }
}
