import Foundation
import QtopFormat
import QtopGraph
import QtopTestSupport
import XCTest

final class ParamsReaderTests: XCTestCase {
    func loadError(_ path: String) -> String? {
        do {
            _ = try ModelLoader.load(path)
            return nil
        } catch let e as FormatError {
            return e.description
        } catch {
            return "unexpected error type: \(error)"
        }
    }

    func testTinyModelLoadsWithStoredShapes() throws {
        let dir = makeTempDir()
        let path = TinyModel.convRelu().write(to: dir)
        let m = try ModelLoader.load(path)
        XCTAssertEqual(m.graph.nodes.map(\.type), ["feed", "conv2d", "relu", "fetch"])
        XCTAssertEqual(m.graph.inputs, ["x"])
        XCTAssertEqual(m.graph.outputs, ["relu_out"])
        XCTAssertEqual(m.graph.values["conv_w"]?.constant?.shape, [3, 2, 3, 3])
        XCTAssertEqual(m.graph.values["conv_w"]?.constant?.floatValues()[8] ?? 0, Float(1) * 0.1 - 0.3, accuracy: 1e-7)
        XCTAssertEqual(m.graph.values["conv_out"]?.shape, [-1, 3, 4, 4])
    }

    func testMissingFile() {
        let e = loadError("/nonexistent/dir/model.pdmodel")
        XCTAssertNotNil(e)
        XCTAssertTrue(e!.contains("/nonexistent/dir/model.pdmodel"), e!)
        XCTAssertTrue(e!.contains("no such file"), e!)
    }

    func testDirectoryWithoutModel() {
        let dir = makeTempDir()
        let e = loadError(dir)
        XCTAssertTrue(e?.contains("directory holds no model") == true, e ?? "loaded")
    }

    func testDirectoryLayouts() throws {
        let m = TinyModel.convRelu()
        let d1 = makeTempDir()
        FileManager.default.createFile(atPath: d1 + "/inference.pdmodel", contents: Data(m.programBytes()))
        FileManager.default.createFile(atPath: d1 + "/inference.pdiparams", contents: Data(m.paramsBytes()))
        XCTAssertEqual(try ModelLoader.load(d1).graph.nodes.count, 4)
        let d2 = makeTempDir()
        FileManager.default.createFile(atPath: d2 + "/__model__", contents: Data(m.programBytes()))
        FileManager.default.createFile(atPath: d2 + "/__params__", contents: Data(m.paramsBytes()))
        XCTAssertEqual(try ModelLoader.load(d2).graph.nodes.count, 4)
        // Old non-combined layout: one file per parameter next to __model__.
        let d3 = makeTempDir()
        FileManager.default.createFile(atPath: d3 + "/__model__", contents: Data(m.programBytes()))
        let p = m.params[0]
        FileManager.default.createFile(atPath: d3 + "/conv_w", contents: Data(TinyModel.tensorBytes(dtype: p.dtype, dims: p.dims, data: p.bytes)))
        XCTAssertEqual(try ModelLoader.load(d3).graph.values["conv_w"]?.constant?.shape, [3, 2, 3, 3])
        // Path without extension.
        let d4 = makeTempDir()
        m.write(to: d4, name: "net")
        XCTAssertEqual(try ModelLoader.load(d4 + "/net").graph.nodes.count, 4)
    }

    func testTruncatedProgram() throws {
        let dir = makeTempDir()
        let path = TinyModel.convRelu().write(to: dir)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for cut in [1, bytes.count / 3, bytes.count / 2, bytes.count - 3] {
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: path))
            let e = loadError(path)
            XCTAssertNotNil(e, "cut at \(cut) loaded")
            XCTAssertTrue(e!.hasPrefix(path), e!)
        }
    }

    func testCorruptProgram() throws {
        let dir = makeTempDir()
        let path = TinyModel.convRelu().write(to: dir)
        var rng = SystemRandomNumberGenerator()
        let garbage = Data((0..<500).map { _ in UInt8.random(in: 0...255, using: &rng) })
        try garbage.write(to: URL(fileURLWithPath: path))
        let e = loadError(path)
        XCTAssertTrue(e?.hasPrefix(path + ": ") == true, e ?? "loaded")
        try Data().write(to: URL(fileURLWithPath: path))
        XCTAssertTrue(loadError(path)?.contains("empty file") == true)
    }

    func testTruncatedParams() throws {
        let dir = makeTempDir()
        let path = TinyModel.convRelu().write(to: dir)
        let pp = dir + "/model.pdiparams"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: pp))
        for cut in [2, 10, 30, bytes.count - 1] {
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: pp))
            let e = loadError(path)
            XCTAssertTrue(e?.hasPrefix(pp + ": ") == true, "cut \(cut): \(e ?? "loaded")")
        }
        try Data().write(to: URL(fileURLWithPath: pp))
        XCTAssertTrue(loadError(path)?.contains("tensor 'conv_w' is missing") == true, loadError(path) ?? "loaded")
    }

    func testMissingParamsFile() throws {
        let dir = makeTempDir()
        let path = TinyModel.convRelu().write(to: dir)
        try FileManager.default.removeItem(atPath: dir + "/model.pdiparams")
        XCTAssertTrue(loadError(path)?.contains("parameter file not found") == true)
    }

    func testTrailingGarbage() throws {
        let dir = makeTempDir()
        let m = TinyModel.convRelu()
        let path = m.write(to: dir)
        try Data(m.paramsBytes() + [1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/model.pdiparams"))
        XCTAssertTrue(loadError(path)?.contains("3 bytes of trailing garbage") == true, loadError(path) ?? "loaded")
    }

    func testMissingTensorAmongSeveral() throws {
        var m = TinyModel.convRelu()
        m.addParam("zz_extra", floats: [1, 2], dims: [2])
        let dir = makeTempDir()
        let path = m.write(to: dir)
        // Drop the last tensor (name order) from the stream.
        let full = m.paramsBytes()
        let last = TinyModel.tensorBytes(dtype: .f32, dims: [2], data: [Float(1), 2].withUnsafeBytes { Array($0) })
        try Data(full.dropLast(last.count)).write(to: URL(fileURLWithPath: dir + "/model.pdiparams"))
        XCTAssertTrue(loadError(path)?.contains("'zz_extra' is missing") == true, loadError(path) ?? "loaded")
    }

    /// The params file is read on another thread before names are known; the tensors it hands over are the ones the
    /// named reader gives, and when they do not line up with the program the named reader's error is the one seen.
    func testPrefetchedParamsMatchTheNamedReader() throws {
        var m = TinyModel.convRelu()
        m.addParam("zz_extra", floats: [1, 2], dims: [2])
        let dir = makeTempDir()
        let path = m.write(to: dir)
        let files = try ModelFiles.resolve(path)
        let program = try ProgramReader.read(files.program)
        let declared = ParamsReader.storedParameters(of: program)
        let named = try ParamsReader.load(declared: declared, files: files)
        let prefetch = try XCTUnwrap(ParamsPrefetch.start(files))
        let fetched = try ParamsReader.load(declared: declared, files: files, prefetched: prefetch)
        XCTAssertEqual(Set(fetched.keys), Set(named.keys))
        for (k, t) in named {
            XCTAssertEqual(fetched[k]?.shape, t.shape, k)
            XCTAssertEqual(fetched[k]?.dtype, t.dtype, k)
            XCTAssertEqual(fetched[k]?.floatValues(), t.floatValues(), k)
        }
        // One declaration more than the file holds: the named reader's message, naming the missing tensor.
        let more = declared + [ParamsReader.Declared(name: "zzz_more", dtype: .f32, dims: [1])]
        XCTAssertThrowsError(try ParamsReader.load(declared: more, files: files, prefetched: ParamsPrefetch.start(files))) {
            XCTAssertTrue("\($0)".contains("'zzz_more' is missing"), "\($0)")
        }
        // Element counts that differ from the declaration go to the named reader too.
        let wrong = declared.map { $0.name == "zz_extra" ? ParamsReader.Declared(name: $0.name, dtype: .f32, dims: [3]) : $0 }
        XCTAssertThrowsError(try ParamsReader.load(declared: wrong, files: files, prefetched: ParamsPrefetch.start(files))) {
            XCTAssertTrue("\($0)".contains("cannot be reconciled"), "\($0)")
        }
    }

    func testDimsThatCannotBeReconciled() throws {
        var m = TinyModel.convRelu()
        // Stored as 72 elements where the program declares 54.
        m.params[0] = ("conv_w", .f32, [4, 2, 3, 3], [Float](repeating: 0, count: 72).withUnsafeBytes { Array($0) })
        let dir = makeTempDir()
        let path = m.write(to: dir)
        let e = loadError(path)
        XCTAssertTrue(e?.contains("cannot be reconciled") == true, e ?? "loaded")
    }

    func testWrongByteCount() throws {
        var m = TinyModel.convRelu()
        m.params[0].bytes.removeLast(8)
        let dir = makeTempDir()
        let path = m.write(to: dir)
        let e = loadError(path)
        XCTAssertTrue(e?.contains("needs 216 bytes") == true, e ?? "loaded")
    }

    func testHugeSizesAreRefusedBeforeAllocating() throws {
        let dir = makeTempDir()
        let path = TinyModel.convRelu().write(to: dir)
        // A tensor description claiming dims of 2^31-1 each: must fail on the byte count, not allocate.
        var td = Paddle_Framework_Proto_VarType.TensorDesc()
        td.dataType = .fp32
        td.dims = [2_147_483_647, 2_147_483_647]
        let desc: [UInt8] = try td.serializedBytes()
        var bytes: [UInt8] = [0, 0, 0, 0] + [UInt8](repeating: 0, count: 8) + [0, 0, 0, 0]
        withUnsafeBytes(of: Int32(desc.count).littleEndian) { bytes += $0 }
        bytes += desc
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/model.pdiparams"))
        XCTAssertNotNil(loadError(path))
        // A desc_size of 2 GB.
        var bad: [UInt8] = [0, 0, 0, 0] + [UInt8](repeating: 0, count: 8) + [0, 0, 0, 0]
        withUnsafeBytes(of: Int32.max.littleEndian) { bad += $0 }
        try Data(bad).write(to: URL(fileURLWithPath: dir + "/model.pdiparams"))
        XCTAssertTrue(loadError(path)?.contains("implausible tensor description size") == true)
        // A LoD level count of 2^60.
        var lod: [UInt8] = [0, 0, 0, 0]
        withUnsafeBytes(of: UInt64(1 << 60).littleEndian) { lod += $0 }
        try Data(lod).write(to: URL(fileURLWithPath: dir + "/model.pdiparams"))
        XCTAssertTrue(loadError(path)?.contains("implausible LoD level") == true)
    }

    /// Declared dims whose product overflows Int are an error, not a trap (fuzz regression
    /// pdiparams/declared-dims-overflow.bin).
    func testDeclaredDimsOverflow() {
        let stored = TinyModel.tensorBytes(dtype: .f32, dims: [1], data: [0, 0, 128, 63])
        let declared = [ParamsReader.Declared(name: "w", dtype: .f32, dims: [1 << 40, 1 << 40])]
        XCTAssertThrowsError(try ParamsReader.decodeCombined(Data(stored), declared: declared, file: "p.pdiparams")) {
            XCTAssertTrue("\($0)".contains("element count overflows"), "\($0)")
        }
    }

    /// A stored data type qtop cannot use is named as Paddle names it, never by a generated Swift case name.
    func testUnsupportedStoredTypeUsesPaddleName() {
        var td = Paddle_Framework_Proto_VarType.TensorDesc()
        td.dataType = .lodTensor
        td.dims = [1]
        let desc: [UInt8] = try! td.serializedBytes()
        var bytes: [UInt8] = [0, 0, 0, 0] + [UInt8](repeating: 0, count: 8) + [0, 0, 0, 0]
        withUnsafeBytes(of: Int32(desc.count).littleEndian) { bytes += $0 }
        bytes += desc + [0, 0, 0, 0]
        let declared = [ParamsReader.Declared(name: "w", dtype: .f32, dims: [1])]
        XCTAssertThrowsError(try ParamsReader.decodeCombined(Data(bytes), declared: declared, file: "p.pdiparams")) {
            XCTAssertTrue("\($0)".contains("unsupported data type LOD_TENSOR"), "\($0)")
            XCTAssertFalse("\($0)".contains("lodTensor"), "\($0)")
        }
    }

    /// PTQ writes int8 weights declared FP32, and 0-d / [1, C] scales declared [1] / [C]; the stored form wins.
    func testStoredDtypeAndDimsWin() throws {
        var m = TinyModel.convRelu()
        m.addParam("w_int8", int8: [-128, -1, 0, 127], dims: [4], declared: .f32)
        m.addParam("scale0d", floats: [0.5], dims: [], declaredDims: [1])
        m.addParam("scale1c", floats: [1, 2, 3], dims: [1, 3], declaredDims: [3])
        let dir = makeTempDir()
        let g = try ModelLoader.load(m.write(to: dir)).graph
        XCTAssertEqual(g.values["w_int8"]?.dtype, .i8)
        XCTAssertEqual(g.values["w_int8"]?.constant?.floatValues(), [-128, -1, 0, 127])
        XCTAssertEqual(g.values["scale0d"]?.shape, [])
        XCTAssertEqual(g.values["scale0d"]?.constant?.floatValues(), [0.5])
        XCTAssertEqual(g.values["scale1c"]?.shape, [1, 3])
    }

    func testEveryDtypeAndLoD() throws {
        let declared = ParamsReader.Declared(name: "t", dtype: nil, dims: [2])
        func roundTrip(_ dt: DType, _ raw: [UInt8], lod: [[UInt64]] = []) throws -> [Float] {
            let bytes = TinyModel.tensorBytes(dtype: dt, dims: [2], data: raw, lod: lod)
            let t = try ParamsReader.decodeCombined(Data(bytes), declared: [declared], file: "x")["t"]!
            XCTAssertEqual(t.dtype, dt)
            return t.floatValues()
        }
        XCTAssertEqual(try roundTrip(.f32, [Float(1.5), -2].withUnsafeBytes { Array($0) }), [1.5, -2])
        XCTAssertEqual(try roundTrip(.f64, [Double(1.5), -2].withUnsafeBytes { Array($0) }), [1.5, -2])
        XCTAssertEqual(try roundTrip(.f16, [UInt16(0x3C00), 0xC000].withUnsafeBytes { Array($0) }), [1, -2])
        XCTAssertEqual(try roundTrip(.bf16, [UInt16(0x3FC0), 0xC000].withUnsafeBytes { Array($0) }), [1.5, -2])
        XCTAssertEqual(try roundTrip(.i8, [0xFF, 0x7F]), [-1, 127])
        XCTAssertEqual(try roundTrip(.u8, [0xFF, 0x7F]), [255, 127])
        XCTAssertEqual(try roundTrip(.i16, [Int16(-300), 300].withUnsafeBytes { Array($0) }), [-300, 300])
        XCTAssertEqual(try roundTrip(.i32, [Int32(-70000), 5].withUnsafeBytes { Array($0) }), [-70000, 5])
        XCTAssertEqual(try roundTrip(.i64, [Int64(-7), 1 << 40].withUnsafeBytes { Array($0) }), [-7, Float(1 << 40)])
        XCTAssertEqual(try roundTrip(.bool, [1, 0]), [1, 0])
        XCTAssertEqual(try roundTrip(.f32, [Float(3), 4].withUnsafeBytes { Array($0) }, lod: [[0, 1, 2], [0, 2]]), [3, 4])
    }
}
