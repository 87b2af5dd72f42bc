import Foundation
import QtopFormat
import QtopFuzzTargets
import QtopTestSupport
import XCTest

/// Replays every committed fuzzer finding (Regressions/<target>/<file>) in process through the same entry point the
/// fuzzer ran. Each must end in a clean error or a success; a trap kills the test run, naming the file first.
/// Inputs listed in Regressions/opspec-pending.txt crash in shape inference / passes / runtime and wait for the
/// OpSpec layer (issue 12); they are skipped, by name, until that lands — then delete their lines.
final class FuzzRegressionTests: XCTestCase {
    static let folder = "\(RepoPaths.root)/Tests/QtopFuzzTests/Regressions"

    /// "target/file" entries of the pending list (text before any '#', blank lines ignored).
    static func pending() throws -> Set<String> {
        let text = try String(contentsOfFile: "\(folder)/opspec-pending.txt", encoding: .utf8)
        return Set(text.split(separator: "\n").compactMap { line in
            let entry = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let t = entry.trimmingCharacters(in: .whitespaces)
            return t.isEmpty ? nil : t
        })
    }

    static func inputs(_ target: FuzzTarget) throws -> [String] {
        let dir = "\(folder)/\(target.rawValue)"
        return try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.hasPrefix(".") }.sorted()
    }

    func testEveryTargetHasAFolder() throws {
        for t in FuzzTarget.allCases {
            var isDir: ObjCBool = false
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(Self.folder)/\(t.rawValue)", isDirectory: &isDir) && isDir.boolValue,
                          "Regressions/\(t.rawValue) is missing")
        }
    }

    func testPendingEntriesExist() throws {
        for entry in try Self.pending() {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(Self.folder)/\(entry)"), "opspec-pending.txt lists missing \(entry)")
        }
    }

    func testReplayFixed() throws {
        let pending = try Self.pending()
        var replayed = 0
        for t in FuzzTarget.allCases {
            for file in try Self.inputs(t) where !pending.contains("\(t.rawValue)/\(file)") {
                let data = try Data(contentsOf: URL(fileURLWithPath: "\(Self.folder)/\(t.rawValue)/\(file)"))
                print("fuzz regression: \(t.rawValue)/\(file)")
                t.run(data)
                replayed += 1
            }
        }
        XCTAssertGreaterThan(replayed, 0, "no regression inputs found under \(Self.folder)")
    }

    /// Every crash class of the hostile-files issue keeps at least one committed input (the fuzzer's findings, or the
    /// hand-made ones from scripts/fuzz-regressions.py). The CLI-only classes live in the CLI tests: `-n -1`
    /// (RuntimeCommandTests.testNegativeCounts), batch 0 and the 2^31 extents past the 512 MB cap
    /// (HostileModelCommandTests); the Paddle type name in messages is ParamsReaderTests' job.
    func testEveryIssueClassHasAnInput() {
        let classes: [(String, [String])] = [
            ("short or empty attribute lists", ["pipeline/conv-short-strides.bin", "pipeline/conv-one-stride-for-two-axes.bin",
                                                "pipeline/pool-short-ksize.bin", "pipeline/pool-empty-strides.bin",
                                                "pipeline/adaptive-pool-empty-ksize.bin"]),
            ("axis out of range", ["pipeline/concat-axis-out-of-range.bin", "pipeline/flatten-axis-out-of-range.bin",
                                   "pipeline/split-axis-out-of-range.bin"]),
            ("zero stride", ["pipeline/conv-zero-stride.bin", "pipeline/pool-zero-stride.bin"]),
            ("parameter dims product overflow", ["pdiparams/declared-dims-overflow.bin"]),
            ("reshape shape product overflow", ["pipeline/reshape-attr-product-overflow.bin",
                                                "pipeline/reshape-shape-tensor-overflow.bin",
                                                "pipeline/reshape-shape-tensor-list-overflow.bin"]),
            (".npy count × size overflow", ["npy/bytes-overflow.npy"]),
            ("bit widths of 64", ["pipeline/quant-bit-length-out-of-range.bin", "pipeline/quantize-bit-length-64.bin",
                                  "pipeline/fake-quant-bits-64.bin"]),
            ("2^31 extents", ["pdmodel/input-dim-2p31.pdmodel", "pipeline/input-dim-2p31.bin",
                              "pipeline/extent-2p31-through-reshape.bin"]),
            ("10^9 input dim", ["pipeline/input-dim-1e9-pool.bin"]),
            ("fortran_order true", ["npy/fortran-order-true.npy"]),
        ]
        for (what, files) in classes {
            for f in files {
                XCTAssertTrue(FileManager.default.fileExists(atPath: "\(Self.folder)/\(f)"), "\(what): \(f) is missing")
            }
        }
    }

    func testReplayPendingOpSpec() throws {
        let pending = try Self.pending().sorted()
        if !pending.isEmpty {
            throw XCTSkip("\(pending.count) inputs wait for the OpSpec layer (opspec-pending.txt): \(pending.joined(separator: ", "))")
        }
    }

    /// The container format must round-trip, and a short or overlong length must still split without trapping.
    func testContainer() {
        let joined = FuzzContainer.join(program: Data([1, 2, 3]), params: Data([4, 5]))
        XCTAssertEqual(FuzzContainer.split(joined).program, Data([1, 2, 3]))
        XCTAssertEqual(FuzzContainer.split(joined).params, Data([4, 5]))
        XCTAssertEqual(FuzzContainer.split(Data([0xff, 0xff, 0xff, 0xff, 9])).program, Data([9]))
        XCTAssertEqual(FuzzContainer.split(Data([1])).program, Data())
    }

    /// The structure-aware mutator keeps programs decodable and actually changes them.
    func testMutatorKeepsProgramsParseable() throws {
        let seed = try Data(contentsOf: URL(fileURLWithPath: RepoPaths.sample("shapes_int8.pdmodel")))
        var changed = 0
        for s in 0..<40 {
            var m = ProgramMutator(seed: UInt64(s))
            let out = try XCTUnwrap(m.mutate(encoded: seed), "seed \(s)")
            XCTAssertNoThrow(try ProgramDesc(serializedBytes: out, partial: true), "seed \(s)")
            if out != seed { changed += 1 }
        }
        XCTAssertGreaterThan(changed, 30)
    }
}
