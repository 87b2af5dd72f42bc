import Foundation
@testable import QtopFormat
import QtopGraph
import QtopTestSupport
import XCTest

/// A hand-written PIR program in the layout Paddle 3.3.1 writes: parameter `w` [2], input `x` [-1, 2],
/// `add(x, w)` → `relu_` → fetch. `%OPS%` in `template` can be replaced to build variants.
enum TinyPIR {
    static func tensor(_ dims: String, _ dtype: String = "0.t_f32") -> String {
        "{\"#\":\"0.t_dtensor\",\"D\":[{\"#\":\"\(dtype)\"},\(dims),\"NCHW\",[],0]}"
    }
    static let param = "{\"#\":\"p\",\"A\":[0,1,1,\"w\"],\"DA\":[],\"O\":{\"%\":1,\"TT\":\(tensor("[2]"))},\"OA\":[1,0,1],\"QA\":[]}"
    static let data = """
    {"#":"1.data","A":[{"N":"name","AT":{"#":"0.a_str","D":"x"}},{"N":"shape","AT":{"#":"1.a_intarray","D":[-1,2]}},\
    {"N":"dtype","AT":{"#":"1.a_dtype","D":"float32"}},{"N":"place","AT":{"#":"1.a_place","D":[0,0,""]}}],\
    "I":[],"O":[{"%":2,"TT":\(tensor("[-1,2]"))}]}
    """
    static let add = "{\"#\":\"1.add\",\"A\":[{\"N\":\"struct_name\",\"AT\":{\"#\":\"0.a_str\",\"D\":\"/Net/\"}}],\"I\":[{\"%\":2},{\"%\":1}],\"O\":[{\"%\":3,\"TT\":\(tensor("[-1,2]"))}]}"
    static let relu = "{\"#\":\"1.relu_\",\"A\":[],\"I\":[{\"%\":3}],\"O\":[{\"%\":4,\"TT\":\(tensor("[-1,2]"))}]}"
    static let fetch = """
    {"#":"1.fetch","A":[{"N":"name","AT":{"#":"0.a_str","D":"fetch_name_0"}},{"N":"col","AT":{"#":"0.a_i32","D":0}}],\
    "I":[{"%":4}],"O":[{"%":5,"TT":\(tensor("[-1,2]"))}]}
    """

    static func program(_ ops: [String], version: String = "4", magic: String = "pir") -> String {
        "{\"base_code\":{\"magic\":\"\(magic)\",\"trainable\":false,\"version\":\(version)},\"program\":{\"regions\":[{\"#\":\"region_0\",\"blocks\":[{\"#\":\"block_0\",\"args\":[],\"ops\":[" +
            ops.joined(separator: ",") + "]}]}]}}"
    }

    static var standard: String { program([param, data, add, relu, fetch]) }

    static let weights: [Float] = [0.5, -2]
    static var params: Data {
        Data(TinyModel.tensorBytes(dtype: .f32, dims: [2], data: weights.withUnsafeBytes { Array($0) }))
    }

    /// Reads and imports in process, as `ModelLoader` does for files.
    static func load(_ json: String, params: Data = TinyPIR.params) throws -> Graph {
        let p = try PIRReader.decode(Data(json.utf8), file: "m.json")
        let tensors = try ParamsReader.decodeCombined(params, declared: p.storedParameters(), file: "m.pdiparams")
        return try PIRImport.buildGraph(program: p, params: tensors, file: "m.json")
    }
}

final class PIRReaderTests: XCTestCase {
    func error(_ json: String, params: Data = TinyPIR.params) -> String? {
        do {
            _ = try TinyPIR.load(json, params: params)
            return nil
        } catch let e as FormatError {
            return e.description
        } catch {
            return "unexpected error type: \(error)"
        }
    }

    func assertError(_ json: String, params: Data = TinyPIR.params, _ needle: String, file: StaticString = #filePath, line: UInt = #line) {
        let e = error(json, params: params)
        XCTAssertNotNil(e, "expected an error containing '\(needle)'", file: file, line: line)
        XCTAssertTrue(e?.contains(needle) ?? false, e ?? "", file: file, line: line)
        XCTAssertFalse(e?.contains("\n") ?? false, "one line: \(e ?? "")", file: file, line: line)
    }

    func testTinyProgramImportsToLegacyVocabulary() throws {
        let g = try TinyPIR.load(TinyPIR.standard)
        XCTAssertEqual(g.nodes.map(\.type), ["feed", "elementwise_add", "relu", "fetch"])
        XCTAssertEqual(g.inputs, ["x"])
        XCTAssertEqual(g.outputs, ["pd_op.relu__0"])
        let add = g.nodes[1]
        XCTAssertEqual(add.inputs, [Slot("X", ["x"]), Slot("Y", ["w"])])
        XCTAssertEqual(add.attrs.int("axis", default: 0), -1)
        XCTAssertEqual(add.layerPath, "/Net/")
        XCTAssertNil(add.attrs["struct_name"])
        XCTAssertEqual(add.provenance, ["pd_op.add_0"])
        XCTAssertEqual(g.values["w"]?.constant?.floatValues(), TinyPIR.weights)
        XCTAssertEqual(g.values["pd_op.relu__0"]?.shape, [-1, 2])
    }

    func testEveryAttributeTag() throws {
        let attrs = """
        [{"N":"a","AT":{"#":"0.a_i32","D":-3}},{"N":"b","AT":{"#":"0.a_i64","D":9007199254740993}},\
        {"N":"c","AT":{"#":"0.a_f32","D":0.25}},{"N":"d","AT":{"#":"0.a_f64","D":null}},{"N":"e","AT":{"#":"0.a_bool","D":true}},\
        {"N":"f","AT":{"#":"0.a_str","D":"s"}},{"N":"g","AT":{"#":"0.a_array","D":[{"#":"0.a_i64","D":1},{"#":"0.a_i64","D":2}]}},\
        {"N":"h","AT":{"#":"1.a_intarray","D":[3,-1]}},{"N":"i","AT":{"#":"1.a_scalar","D":["float32",1.5]}},\
        {"N":"j","AT":{"#":"1.a_dtype","D":"int8"}},{"N":"k","AT":{"#":"1.a_place","D":[1,0,""]}},\
        {"N":"l","AT":{"#":"0.a_index","D":7}},{"N":"m","AT":{"#":"0.a_tensorname","D":"t"}},\
        {"N":"n","AT":{"#":"0.a_c64","D":[1.0,2.0]}},{"N":"o","AT":{"#":"0.a_type","D":{"#":"0.t_f32"}}},\
        {"N":"p","AT":{"#":"0.a_array","D":[]}},{"N":"q","AT":{"#":"1.a_layout","D":"NHWC"}}]
        """
        let op = "{\"#\":\"1.some_future_op\",\"A\":\(attrs),\"I\":[{\"%\":2},{\"%\":0}],\"O\":[{\"%\":6,\"TT\":\(TinyPIR.tensor("[-1,2]"))},{\"%\":0,\"TT\":{\"#\":\"NULL\"}}]}"
        let p = try PIRReader.decode(Data(TinyPIR.program([TinyPIR.param, TinyPIR.data, op]).utf8), file: "m.json")
        let a = try XCTUnwrap(p.ops.last)
        XCTAssertEqual(a.name, "pd_op.some_future_op")
        XCTAssertEqual(a.inputs, [2, 0])
        XCTAssertEqual(a.attr("a"), .i32(-3))
        XCTAssertEqual(a.attr("b"), .i64(9007199254740993))
        XCTAssertEqual(a.attr("c"), .f32(0.25))
        XCTAssertTrue(a.attr("d")?.double?.isNaN ?? false)
        XCTAssertEqual(a.attr("e"), .bool(true))
        XCTAssertEqual(a.attr("g")?.ints, [1, 2])
        XCTAssertEqual(a.attr("h"), .intArray([3, -1]))
        XCTAssertEqual(a.attr("i"), .scalar(dtype: "float32", value: 1.5))
        XCTAssertEqual(a.attr("j"), .dataType("int8"))
        XCTAssertEqual(a.attr("k"), .place(type: 1, device: 0, deviceType: ""))
        XCTAssertEqual(a.attr("l"), .index(7))
        XCTAssertEqual(a.attr("n"), .complex(1, 2))
        XCTAssertEqual(a.attr("o"), .type(.other("0.t_f32")))
        XCTAssertEqual(a.attr("q"), .layout("NHWC"))
        // An op qtop has no name for loads with positional slots and its PIR name; only running it would fail.
        let g = try TinyPIR.load(TinyPIR.program([TinyPIR.param, TinyPIR.data, op, TinyPIR.fetch.replacingOccurrences(of: "{\"%\":4}", with: "{\"%\":6}")]))
        let n = try XCTUnwrap(g.nodes.first { $0.type == "pd_op.some_future_op" })
        XCTAssertEqual(n.inputs, [Slot("in0", ["x"]), Slot("in1", [])])
        XCTAssertEqual(n.attrs["b"], .long(9007199254740993))
        XCTAssertEqual(n.attrs["g"], .longs([1, 2]))
    }

    func testConstantOperandsBecomeAttributes() throws {
        let full = """
        {"#":"1.full_int_array","A":[{"N":"value","AT":{"#":"0.a_array","D":[{"#":"0.a_i64","D":2},{"#":"0.a_i64","D":1}]}},\
        {"N":"dtype","AT":{"#":"1.a_dtype","D":"int64"}},{"N":"place","AT":{"#":"1.a_place","D":[1,0,""]}}],\
        "I":[],"O":[{"%":7,"TT":\(TinyPIR.tensor("[2]", "0.t_i64"))}]}
        """
        let reshape = "{\"#\":\"1.reshape\",\"A\":[],\"I\":[{\"%\":4},{\"%\":7}],\"O\":[{\"%\":8,\"TT\":\(TinyPIR.tensor("[2,1]"))}]}"
        let fetch = TinyPIR.fetch.replacingOccurrences(of: "{\"%\":4}", with: "{\"%\":8}")
        let g = try TinyPIR.load(TinyPIR.program([TinyPIR.param, TinyPIR.data, TinyPIR.add, TinyPIR.relu, full, reshape, fetch]))
        XCTAssertFalse(g.nodes.contains { $0.type.contains("full") })
        let r = try XCTUnwrap(g.nodes.first { $0.type == "reshape2" })
        XCTAssertEqual(r.inputs, [Slot("X", ["pd_op.relu__0"])])
        XCTAssertEqual(r.attrs.ints("shape", default: []), [2, 1])
    }

    func testSampleProgram() throws {
        let path = RepoPaths.sample("pir_fp32.json")
        let p = try PIRReader.read(path)
        XCTAssertEqual(p.version, 4)
        XCTAssertEqual(p.ops.first?.name, "pd_op.data")
        XCTAssertEqual(p.ops.last?.name, "pd_op.fetch")
        // .pdiparams holds the parameters sorted byte-wise by name (what Paddle's save_vars_pir writes).
        let names = p.storedParameters().map(\.name)
        XCTAssertEqual(names, names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        let g = try ModelLoader.load(path).graph
        let types = Set(g.nodes.map(\.type))
        for t in ["feed", "conv2d", "batch_norm", "relu", "pool2d", "elementwise_add", "reshape2", "flatten_contiguous_range",
                  "matmul_v2", "softmax", "fetch"] {
            XCTAssertTrue(types.contains(t), "no \(t) in \(types.sorted())")
        }
        // Layer paths from struct_name on every op inside a sub-layer.
        for n in g.nodes where ["conv2d", "batch_norm", "pool2d", "matmul_v2"].contains(n.type) {
            XCTAssertTrue(n.layerPath?.hasPrefix("/") ?? false, "\(n.name): layer path \(n.layerPath ?? "nil")")
        }
        let pool = try XCTUnwrap(g.nodes.first { $0.type == "pool2d" })
        XCTAssertEqual(pool.attrs.ints("ksize", default: []), [2, 2])
        XCTAssertTrue(pool.name.hasPrefix("pd_op.pool2d"))
        XCTAssertEqual(g.values[g.inputs[0]]?.shape, [-1, 3, 32, 32])
    }

    func testBadProgramsGiveOneLine() {
        assertError("", "empty file")
        assertError("{\"base_code\": {\"magic\": \"pir\"", "not valid JSON")
        assertError("not json at all", "not valid JSON")
        assertError(TinyPIR.program([TinyPIR.param], magic: "pdmodel"), "base_code.magic")
        assertError(TinyPIR.program([TinyPIR.param], version: "99"), "PIR version 99")
        assertError(TinyPIR.program([TinyPIR.param], version: "\"4\""), "version")
        assertError(TinyPIR.standard.replacingOccurrences(of: "1.relu_", with: "7.relu_"), "unknown dialect 7")
        assertError(TinyPIR.standard.replacingOccurrences(of: "{\"%\":3}],\"O\"", with: "{\"%\":42}],\"O\""), "value %42")
        assertError(TinyPIR.standard.replacingOccurrences(of: "[-1,2]", with: "[-1,99999999999]"), "invalid dimension")
        assertError(TinyPIR.standard.replacingOccurrences(of: "[-1,2]", with: "[2147483647,2147483647,2147483647]"), "too many elements")
        assertError(TinyPIR.standard.replacingOccurrences(of: "0.a_str", with: "0.a_wat"), "unknown attribute tag")
        let loop = "{\"#\":\"1.while\",\"A\":[],\"I\":[{\"%\":2}],\"O\":[],\"regions\":[{\"#\":\"region_1\",\"blocks\":[]}]}"
        assertError(TinyPIR.program([TinyPIR.param, TinyPIR.data, loop]), "pd_op.while")
        assertError(TinyPIR.standard.replacingOccurrences(of: "\"%\":4,", with: "\"%\":3,"), "a second time")
    }

    func testWrongJSONTypesGiveOneLine() {
        // Where the reader expects an integer, a string, an array or an object, any other JSON value is refused
        // with one line naming the place: never a trap on overflow, fractions, or a bool read as a number.
        let std = TinyPIR.standard
        let cases: [(String, String)] = [
            ("{\"%\":3}],\"O\"", "{\"%\":\"3\"}],\"O\""),
            ("{\"%\":3}],\"O\"", "{\"%\":3.5}],\"O\""),
            ("{\"%\":3}],\"O\"", "{\"%\":1e300}],\"O\""),
            ("{\"%\":3}],\"O\"", "{\"%\":18446744073709551615}],\"O\""),
            ("{\"%\":3}],\"O\"", "{\"%\":true}],\"O\""),
            ("{\"%\":3}],\"O\"", "3],\"O\""),
            ("\"I\":[{\"%\":3}]", "\"I\":{\"%\":3}"),
            ("[-1,2]", "[-1,\"2\"]"),
            ("[-1,2]", "[-1,2.5]"),
            ("[-1,2]", "{\"a\":2}"),
            ("\"#\":\"1.relu_\"", "\"#\":7"),
            ("\"0.a_i32\",\"D\":0", "\"0.a_i32\",\"D\":\"0\""),
            ("\"0.a_i32\",\"D\":0", "\"0.a_i32\",\"D\":2147483648"),
            ("\"0.a_i32\",\"D\":0", "\"0.a_i32\",\"D\":false"),
            ("\"0.a_str\",\"D\":\"x\"", "\"0.a_str\",\"D\":1"),
            ("\"1.a_intarray\",\"D\":[-1,2]", "\"1.a_intarray\",\"D\":[-1,9223372036854775808]"),
            ("\"A\":[0,1,1,\"w\"]", "\"A\":[0,1,1,2]"),
            ("\"args\":[]", "\"args\":{}"),
        ]
        for (from, to) in cases {
            XCTAssertTrue(std.contains(from), from)
            let bad = std.replacingOccurrences(of: from, with: to)
            let e = error(bad)
            XCTAssertNotNil(e, to)
            XCTAssertFalse(e?.contains("\n") ?? true, e ?? "")
            XCTAssertTrue(e?.hasPrefix("m.json: not a valid PIR program: ") ?? false, e ?? "")
        }
    }

    /// Large files are decoded by several workers, each materialising one run of ops: any split must give the
    /// program (and, for a bad file, the error) that one decoder gives.
    func testStripedDecodingMatchesOneDecoder() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: RepoPaths.sample("pir_fp32.json")))
        let one = try PIRReader.decode(data, file: "m.json", stripes: 1)
        for k in [2, 3, 7, one.ops.count + one.parameters.count + 5] {
            let p = try PIRReader.decode(data, file: "m.json", stripes: k)
            XCTAssertEqual(p.parameters.map(\.name), one.parameters.map(\.name), "stripes \(k)")
            XCTAssertEqual(p.parameters.map(\.value.type), one.parameters.map(\.value.type), "stripes \(k)")
            XCTAssertEqual(p.ops.count, one.ops.count, "stripes \(k)")
            for (a, b) in zip(p.ops, one.ops) {
                XCTAssertEqual(a.index, b.index)
                XCTAssertEqual(a.name, b.name)
                XCTAssertEqual(a.inputs, b.inputs)
                XCTAssertEqual(a.outputs.map(\.id), b.outputs.map(\.id))
                XCTAssertEqual(a.outputs.map(\.type), b.outputs.map(\.type))
                XCTAssertEqual(a.attrs.map(\.name), b.attrs.map(\.name))
                // NaN attributes (Paddle writes null) are equal to nothing: compare their descriptions.
                XCTAssertEqual(a.attrs.map { "\($0.value)" }, b.attrs.map { "\($0.value)" })
            }
        }
        // An error in any run is the one a single decoder reports, whichever worker meets it.
        let text = String(decoding: data, as: UTF8.self)
        let ids = text.components(separatedBy: "{\"%\":")
        XCTAssertGreaterThan(ids.count, 8)
        for cut in [1, ids.count / 2, ids.count - 1] {
            var broken = ids
            broken[cut] = "-0.5,\"x\":" + broken[cut]
            let bad = Data(broken.joined(separator: "{\"%\":").utf8)
            var messages: [String] = []
            for k in [1, 2, 3, 5] {
                do {
                    _ = try PIRReader.decode(bad, file: "m.json", stripes: k)
                    messages.append("loaded")
                } catch let e as FormatError {
                    messages.append(e.description)
                }
            }
            XCTAssertNotEqual(messages[0], "loaded", "cut \(cut)")
            XCTAssertEqual(Set(messages).count, 1, "cut \(cut): \(messages)")
        }
    }

    /// The splitter only locates block 0's op list and the commas between ops: brackets, commas and escaped quotes
    /// inside strings do not count, and anything malformed gives no split (the whole text then goes to one decoder).
    func testOpListSplitFindsBoundariesBetweenOps() throws {
        func split(_ text: String, _ parts: Int) -> OpListSplit.Split? {
            Array(text.utf8).withUnsafeBytes { OpListSplit.find(in: $0, parts: parts) }
        }
        let tricky = TinyPIR.add.replacingOccurrences(of: "\"/Net/\"", with: "\"/N[e{t,\\\"],}/\"")
        let ops = [TinyPIR.param, TinyPIR.data, tricky, TinyPIR.relu, TinyPIR.fetch]
        let text = TinyPIR.program(ops)
        let bytes = Array(text.utf8)
        for parts in 1...7 {
            let s = try XCTUnwrap(split(text, parts), "parts \(parts)")
            XCTAssertEqual(bytes[s.open], UInt8(ascii: "["))
            XCTAssertEqual(bytes[s.close], UInt8(ascii: "]"))
            XCTAssertEqual(s.cuts.first, s.open)
            XCTAssertEqual(s.cuts.last, s.close)
            XCTAssertLessThanOrEqual(s.cuts.count - 1, parts)
            // The parts, joined again, are the op list; each part is whole ops.
            let pieces = zip(s.cuts, s.cuts.dropFirst()).map { String(decoding: bytes[($0 + 1)..<$1], as: UTF8.self) }
            XCTAssertEqual(pieces.joined(separator: ","), ops.joined(separator: ","), "parts \(parts)")
            for piece in pieces { XCTAssertTrue(ops.contains { piece.hasPrefix($0) && (piece == $0 || piece.dropFirst($0.count).hasPrefix(",")) }, piece) }
        }
        XCTAssertGreaterThan(try XCTUnwrap(split(text, 5)).cuts.count, 3, "a five-op list cut in five gives several parts")
        XCTAssertNil(split(String(text.dropLast(12)), 2), "truncated inside the op list")
        XCTAssertNil(split(text.replacingOccurrences(of: "\"ops\"", with: "\"opz\""), 2), "no op list")
        XCTAssertNil(split("{\"a\":\"unterminated", 2))
    }

    /// A decoy "ops" list met before block 0's (here inside base_code, at block depth) is cut and then refused by
    /// the marker check: the result is what one decoder reads.
    func testSplitFallsBackWhenTheCutListIsNotBlockZeros() throws {
        let decoy = "\"x\":[{\"y\":[{\"ops\":[\(TinyPIR.param),\(TinyPIR.param)]}]}],"
        let text = TinyPIR.standard.replacingOccurrences(of: "{\"magic\"", with: "{\(decoy)\"magic\"")
        let data = Data(text.utf8)
        let s = try XCTUnwrap(data.withUnsafeBytes { OpListSplit.find(in: $0, parts: 2) })
        XCTAssertLessThan(s.close, text.utf8.count / 2, "the decoy is the list found")
        let one = try PIRReader.decode(data, file: "m.json", stripes: 1)
        let two = try PIRReader.decode(data, file: "m.json", stripes: 2)
        XCTAssertEqual(one.ops.map(\.name), two.ops.map(\.name))
        XCTAssertEqual(one.parameters.map(\.name), two.parameters.map(\.name))
        XCTAssertEqual(two.ops.count, 4)
    }

    func testParamsThatDoNotMatch() {
        assertError(TinyPIR.standard, params: Data(), "tensor 'w' is missing")
        let three = Data(TinyModel.tensorBytes(dtype: .f32, dims: [3], data: [Float](repeating: 1, count: 3).withUnsafeBytes { Array($0) }))
        assertError(TinyPIR.standard, params: three, "cannot be reconciled")
        assertError(TinyPIR.standard, params: TinyPIR.params.prefix(30), "'w'")
        assertError(TinyPIR.standard, params: TinyPIR.params + Data([1, 2, 3]), "trailing garbage")
    }
}
