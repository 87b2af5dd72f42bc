import Foundation
import QtopFormat
import QtopTestSupport
import XCTest

/// Crash classes of the hostile-file issue that only show through the CLI's own limits (the fuzz target caps plans at
/// 512 MB, so there the memory figure refuses them first): the committed regression programs run through the real
/// binary with a memory limit high enough that only the extent checks stand between them and the kernels.
final class HostileModelCommandTests: XCTestCase {
    static let regressions = "\(RepoPaths.root)/Tests/QtopFuzzTests/Regressions"

    /// Writes the program of a pipeline regression container (u32 LE length · program; no params half) as
    /// `dir/model.pdmodel`.
    func unpack(_ name: String, into dir: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(Self.regressions)/pipeline/\(name)"))
        let n = Int(data[0]) | Int(data[1]) << 8 | Int(data[2]) << 16 | Int(data[3]) << 24
        let path = "\(dir)/model.pdmodel"
        try data.subdata(in: 4..<(4 + n)).write(to: URL(fileURLWithPath: path))
        return path
    }

    func assertOneLine(_ r: QtopRun, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 2, r.stderr, file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(text), r.stderr, file: file, line: line)
    }

    /// An empty constant reshaped to [0, 1, 2^31, 1] needs no memory, so only the extent bound keeps the 2^31 out of
    /// the kernels' 32-bit descriptors (a trap) and the pooling window tables (2^31 entries), in every mode.
    func testComputedExtentOver32BitsIsRefusedBeforeTheKernels() throws {
        let model = try unpack("extent-2p31-through-reshape.bin", into: makeTempDir())
        for mode in ["reference", "fp32"] {
            let r = try QtopBinary.run(["run", model, "--mode", mode, "--max-memory", "1T"])
            assertOneLine(r, contains: "2147483648")
        }
    }

    /// A model input declared with a dim of 2^31: the program reader refuses it, naming the variable.
    func testDeclaredDimOver32BitsIsAReaderError() throws {
        let model = try unpack("input-dim-2p31.bin", into: makeTempDir())
        let r = try QtopBinary.run(["run", model, "--max-memory", "1T"])
        assertOneLine(r, contains: "variable 'x' declares dimension 2147483648")
        XCTAssertTrue(r.stderr.contains("model.pdmodel"), r.stderr)
    }

    /// A batch of 0 from an .npy input: the same one-line rule in every mode (reference mode once said something odd).
    func testZeroBatchInputIsOneRuleInEveryMode() throws {
        let dir = makeTempDir()
        let model = TinyModel.convRelu().write(to: dir)
        try Npy.write(HostTensor(shape: [0, 2, 4, 4], floats: []), to: "\(dir)/empty.npy")
        for mode in ["reference", "fp32", "int8"] {
            let r = try QtopBinary.run(["run", model, "--mode", mode, "--input", "x=\(dir)/empty.npy"])
            assertOneLine(r, contains: "input 'x': dim 0 must be positive, got 0 in [0,2,4,4]")
        }
    }

    /// An input dim of 10^9 into pool2d: refused with the plan's figure before any window table is built.
    func testHugeInputDimIsRefusedByTheMemoryFigure() throws {
        let model = try unpack("input-dim-1e9-pool.bin", into: makeTempDir())
        let r = try QtopBinary.run(["run", model, "--mode", "reference", "--max-memory", "1G"])
        assertOneLine(r, contains: "more than the memory limit of 1.0 GB")
    }
}
