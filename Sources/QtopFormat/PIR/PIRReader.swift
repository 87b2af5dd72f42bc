import Foundation

/// Reads a Paddle 3 PIR program (`inference.json`, written by `paddle.jit.save` / `save_inference_model` since
/// Paddle 3.0) with Foundation's JSON parser and checks it: magic and version, dialects, value numbering (every
/// operand defined before use, no id defined twice), types and dims, attribute tags. Control-flow ops (ops that
/// hold regions: `pd_op.if`, `pd_op.while`) are refused with their name.
///
/// Layout (keys from Paddle's `serialize_deserialize/include/schema.h`): `{"base_code": {"magic": "pir",
/// "version": N, "trainable": B}, "program": {"regions": [{"blocks": [{"args": [], "ops": [OP…]}]}]}}`;
/// an op is `{"#": "<dialect id>.<name>", "I": [{"%": id}], "O": [{"%": id, "TT": TYPE}], "A": [{"N", "AT"}], "OA": […]}`,
/// a parameter `{"#": "p", "A": [.., .., .., NAME], "O": {"%": id, "TT": TYPE}}`. Dialect ids: 0 builtin,
/// 1 pd_op, 2 cf, 3 custom_op, 4 dist.
public enum PIRReader {
    /// Programs larger than this are refused before reading.
    public static let maxProgramBytes = 1 << 30
    /// `base_code.version` values written by Paddle 3.0 … 3.3 (the patch files 1…4 of `serialize_deserialize/patch`).
    /// Later versions only retype attributes (int32 → int64, float → double), which this reader accepts either way.
    public static let supportedVersions = 1...4
    static let maxRank = 16
    /// Known (non-dynamic) dims of one tensor may not describe more elements than this.
    static let maxElements = 1 << 40
    static let dialects = ["0": "builtin", "1": "pd_op", "2": "cf", "3": "custom_op", "4": "dist"]

    public static func read(_ path: String) throws -> PIRProgram {
        let data = try readFileBounded(path, limit: maxProgramBytes)
        return try decode(data, file: path)
    }

    public static func decode(_ data: Data, file: String) throws -> PIRProgram {
        guard !data.isEmpty else { throw FormatError(file: file, "empty file, expected a Paddle PIR program (.json)") }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw FormatError(file: file, "not a Paddle PIR program: the file is not valid JSON (truncated or corrupt?)")
        }
        var d = Decoder(file: file)
        return try d.program(root)
    }

    /// Walks the parsed JSON once; `path` names where a problem is, for the one-line error.
    struct Decoder {
        let file: String
        var defined = Set<Int>()

        func fail(_ what: String) -> FormatError { FormatError(file: file, "not a valid PIR program: \(what)") }

        mutating func program(_ root: Any) throws -> PIRProgram {
            guard let top = root as? [String: Any] else { throw fail("the top level is not a JSON object") }
            guard let base = top["base_code"] as? [String: Any] else {
                throw FormatError(file: file, "not a Paddle PIR program: no \"base_code\" object (is this a Paddle 3 inference.json?)")
            }
            guard let magic = base["magic"] as? String, magic == "pir" else {
                throw FormatError(file: file, "not a Paddle PIR program: base_code.magic is \(describe(base["magic"])), expected \"pir\"")
            }
            guard let version = int(base["version"]) else { throw fail("base_code.version is \(describe(base["version"])), expected an integer") }
            guard PIRReader.supportedVersions.contains(version) else {
                throw FormatError(file: file, "PIR version \(version) is not one qtop reads (\(PIRReader.supportedVersions.lowerBound)–\(PIRReader.supportedVersions.upperBound): Paddle 3.0–3.3)")
            }
            let trainable = (base["trainable"] as? Bool) ?? false
            guard let prog = top["program"] as? [String: Any], let regions = prog["regions"] as? [Any],
                  let region = regions.first as? [String: Any], let blocks = region["blocks"] as? [Any],
                  let block = blocks.first as? [String: Any] else {
                throw fail("no program.regions[0].blocks[0] object")
            }
            guard let ops = block["ops"] as? [Any] else { throw fail("block 0 has no \"ops\" array") }
            if let args = block["args"] as? [Any] {
                for (i, a) in args.enumerated() { _ = try value(a, at: "block 0 argument #\(i)") }
            }
            var params: [PIRParameter] = []
            var out: [PIROp] = []
            out.reserveCapacity(ops.count)
            for (i, raw) in ops.enumerated() {
                guard let o = raw as? [String: Any], let tag = o["#"] as? String else { throw fail("op #\(i) is not an object with a \"#\" name") }
                if tag == "p" {
                    params.append(try parameter(o, index: i))
                } else {
                    out.append(try op(o, tag: tag, index: i))
                }
            }
            return PIRProgram(version: version, trainable: trainable, parameters: params, ops: out)
        }

        mutating func parameter(_ o: [String: Any], index i: Int) throws -> PIRParameter {
            guard let a = o["A"] as? [Any], let name = a.last as? String, !name.isEmpty else {
                throw fail("parameter op #\(i) has no name (its \"A\" array must end with the parameter's name)")
            }
            let v = try value(o["O"] as Any, at: "parameter '\(name)'")
            guard case .tensor = v.type else { throw fail("parameter '\(name)' is not a dense tensor") }
            return PIRParameter(name: name, value: v)
        }

        mutating func op(_ o: [String: Any], tag: String, index i: Int) throws -> PIROp {
            let dot = tag.firstIndex(of: ".")
            guard let dot, dot != tag.startIndex else { throw fail("op #\(i) has a malformed name '\(tag)'") }
            let dialectID = String(tag[..<dot]), opName = String(tag[tag.index(after: dot)...])
            guard let dialect = PIRReader.dialects[dialectID] else {
                throw FormatError(file: file, "op #\(i) '\(tag)' is in unknown dialect \(dialectID) (known: 0 builtin, 1 pd_op, 2 cf, 3 custom_op, 4 dist)")
            }
            let name = "\(dialect).\(opName)"
            guard !opName.isEmpty else { throw fail("op #\(i) has an empty name") }
            if let regions = o["regions"] as? [Any], !regions.isEmpty {
                throw FormatError(file: file, "op #\(i) \(name) holds control-flow regions; qtop runs straight-line programs only")
            }
            if dialect == "cf" {
                throw FormatError(file: file, "op #\(i) \(name) is control flow; qtop runs straight-line programs only")
            }
            guard let ins = (o["I"] ?? [Any]()) as? [Any] else { throw fail("op #\(i) \(name): \"I\" is not an array") }
            var inputs: [Int] = []
            inputs.reserveCapacity(ins.count)
            for (k, x) in ins.enumerated() {
                guard let e = x as? [String: Any], let id = int(e["%"]) else { throw fail("op #\(i) \(name): operand #\(k) has no value id") }
                if id != 0 && !defined.contains(id) {
                    throw FormatError(file: file, "op #\(i) \(name) reads value %\(id) that no earlier op defines (truncated or corrupt program?)")
                }
                inputs.append(id)
            }
            guard let outs = (o["O"] ?? [Any]()) as? [Any] else { throw fail("op #\(i) \(name): \"O\" is not an array") }
            var outputs: [PIRValue] = []
            outputs.reserveCapacity(outs.count)
            for (k, x) in outs.enumerated() { outputs.append(try value(x, at: "op #\(i) \(name) result #\(k)")) }
            var attrs: [(name: String, value: PIRAttr)] = []
            if let a = o["A"] {
                guard let list = a as? [Any] else { throw fail("op #\(i) \(name): \"A\" is not an array") }
                attrs.reserveCapacity(list.count)
                for x in list {
                    guard let e = x as? [String: Any], let n = e["N"] as? String, let at = e["AT"] else {
                        throw fail("op #\(i) \(name): an attribute is not {\"N\": name, \"AT\": value}")
                    }
                    attrs.append((n, try attr(at, at: "op #\(i) \(name) attribute '\(n)'")))
                }
            }
            return PIROp(index: i, name: name, dialect: dialect, opName: opName, inputs: inputs, outputs: outputs, attrs: attrs)
        }

        /// A result or block argument: `{"%": id, "TT": TYPE}`; defines `id` (0 = null result, defines nothing).
        mutating func value(_ raw: Any, at path: String) throws -> PIRValue {
            guard let e = raw as? [String: Any], let id = int(e["%"]) else { throw fail("\(path) has no value id") }
            let t = try type(e["TT"] as Any, at: path)
            if id != 0 {
                guard defined.insert(id).inserted else { throw fail("\(path) defines value %\(id) a second time") }
            }
            return PIRValue(id: id, type: t)
        }

        func type(_ raw: Any, at path: String) throws -> PIRType {
            guard let e = raw as? [String: Any], let tag = e["#"] as? String else { throw fail("\(path) has no type") }
            if tag == "NULL" { return .null }
            let short = tag.split(separator: ".", maxSplits: 1).last.map(String.init) ?? tag
            switch short {
            case "t_dtensor":
                guard let d = e["D"] as? [Any], d.count >= 2 else { throw fail("\(path): dense tensor type without [dtype, dims, …]") }
                guard let et = d[0] as? [String: Any], let etag = et["#"] as? String else { throw fail("\(path): dense tensor type without an element type") }
                let element = etag.split(separator: ".", maxSplits: 1).last.map(String.init) ?? etag
                guard let rawDims = d[1] as? [Any] else { throw fail("\(path): dims are not an array") }
                return .tensor(element: element, dims: try dims(rawDims, at: path))
            case "t_vec":
                guard let d = e["D"] as? [Any] else { throw fail("\(path): vector type without its element types") }
                return .vector(try d.enumerated().map { try type($0.element, at: "\(path) element #\($0.offset)") })
            default:
                return .other(tag)
            }
        }

        func dims(_ raw: [Any], at path: String) throws -> [Int] {
            guard raw.count <= PIRReader.maxRank else { throw fail("\(path): implausible rank \(raw.count)") }
            var out: [Int] = []
            var numel = 1
            for x in raw {
                guard let v = int(x), v >= -1, v <= Int(Int32.max) else {
                    throw FormatError(file: file, "\(path): invalid dimension \(describe(x)) (dims are -1 for dynamic or 0…\(Int32.max))")
                }
                out.append(v)
                if v > 0 {
                    let (m, o) = numel.multipliedReportingOverflow(by: v)
                    guard !o, m <= PIRReader.maxElements else { throw FormatError(file: file, "\(path): implausible dims \(out)… (too many elements)") }
                    numel = m
                }
            }
            return out
        }

        func attr(_ raw: Any, at path: String) throws -> PIRAttr {
            guard let e = raw as? [String: Any], let tag = e["#"] as? String else { throw fail("\(path) has no attribute tag") }
            let d = e["D"]
            func bad() -> FormatError { fail("\(path): \(tag) value \(describe(d)) has the wrong type") }
            switch tag {
            case "0.a_bool":
                guard let b = bool(d) else { throw bad() }
                return .bool(b)
            case "0.a_i32":
                guard let v = int(d), v >= Int(Int32.min), v <= Int(Int32.max) else { throw bad() }
                return .i32(v)
            case "0.a_i64":
                guard let v = int(d) else { throw bad() }
                return .i64(v)
            case "0.a_index":
                guard let v = int(d) else { throw bad() }
                return .index(v)
            case "0.a_f32":
                guard let v = double(d) else { throw bad() }
                return .f32(Float(v))
            case "0.a_f64":
                guard let v = double(d) else { throw bad() }
                return .f64(v)
            case "0.a_str":
                guard let s = d as? String else { throw bad() }
                return .string(s)
            case "0.a_tensorname":
                guard let s = d as? String else { throw bad() }
                return .tensorName(s)
            case "0.a_array":
                guard let xs = d as? [Any] else { throw bad() }
                return .array(try xs.enumerated().map { try attr($0.element, at: "\(path)[\($0.offset)]") })
            case "0.a_type":
                return .type(try type(d as Any, at: path))
            case "0.a_c64", "0.a_c128":
                guard let xs = d as? [Any], xs.count == 2, let re = double(xs[0]), let im = double(xs[1]) else { throw bad() }
                return .complex(re, im)
            case "1.a_intarray":
                guard let xs = d as? [Any] else { throw bad() }
                var out: [Int] = []
                out.reserveCapacity(xs.count)
                for x in xs {
                    guard let v = int(x) else { throw bad() }
                    out.append(v)
                }
                return .intArray(out)
            case "1.a_scalar":
                guard let xs = d as? [Any], xs.count >= 2, let dt = xs[0] as? String else { throw bad() }
                if let b = xs[1] as? Bool, dt == "bool" { return .scalar(dtype: dt, value: b ? 1 : 0) }
                guard let v = double(xs[1]) else { throw bad() }
                return .scalar(dtype: dt, value: v)
            case "1.a_dtype":
                guard let s = d as? String else { throw bad() }
                return .dataType(s)
            case "1.a_place":
                guard let xs = d as? [Any], xs.count == 3, let t = int(xs[0]), let dev = int(xs[1]), let dt = xs[2] as? String else { throw bad() }
                return .place(type: t, device: dev, deviceType: dt)
            case "1.a_layout", "1.a_data_layout":
                guard let s = d as? String else { throw bad() }
                return .layout(s)
            default:
                throw FormatError(file: file, "\(path): unknown attribute tag '\(tag)'")
            }
        }
    }

    /// An exact integer (JSON integers, or floats with an integral value in range); nil for anything else.
    static func int(_ x: Any?) -> Int? {
        guard let n = x as? NSNumber, !isBoolean(n) else { return nil }
        switch UInt8(bitPattern: n.objCType.pointee) {
        case UInt8(ascii: "Q"), UInt8(ascii: "L"), UInt8(ascii: "I"), UInt8(ascii: "S"), UInt8(ascii: "C"):
            let u = n.uint64Value
            return u <= UInt64(Int.max) ? Int(u) : nil
        case UInt8(ascii: "q"), UInt8(ascii: "l"), UInt8(ascii: "i"), UInt8(ascii: "s"), UInt8(ascii: "c"):
            return Int(n.int64Value)
        default:
            let d = n.doubleValue
            guard d.isFinite, d == d.rounded(), abs(d) < 9.0e15 else { return nil }
            return Int(d)
        }
    }

    static func double(_ x: Any?) -> Double? {
        // Paddle's JSON writer stores NaN and infinities as null.
        if x is NSNull { return .nan }
        guard let n = x as? NSNumber, !isBoolean(n) else { return nil }
        return n.doubleValue
    }

    static func bool(_ x: Any?) -> Bool? {
        guard let n = x as? NSNumber else { return nil }
        if isBoolean(n) { return n.boolValue }
        if let i = int(n), i == 0 || i == 1 { return i == 1 }
        return nil
    }

    /// JSON `true` / `false` arrive as Foundation's boolean NSNumber subclass.
    static let booleanClass = ObjectIdentifier(type(of: NSNumber(value: true)))
    static func isBoolean(_ n: NSNumber) -> Bool { ObjectIdentifier(type(of: n)) == booleanClass }

    /// A short rendering of a JSON value for messages.
    static func describe(_ x: Any?) -> String {
        guard let x else { return "missing" }
        if x is NSNull { return "null" }
        if let s = x as? String { return "\"\(s.prefix(40))\"" }
        if let n = x as? NSNumber { return isBoolean(n) ? (n.boolValue ? "true" : "false") : n.stringValue }
        if x is [Any] { return "an array" }
        if x is [String: Any] { return "an object" }
        return "\(type(of: x))"
    }
}

extension PIRReader.Decoder {
    func int(_ x: Any?) -> Int? { PIRReader.int(x) }
    func double(_ x: Any?) -> Double? { PIRReader.double(x) }
    func bool(_ x: Any?) -> Bool? { PIRReader.bool(x) }
    func describe(_ x: Any?) -> String { PIRReader.describe(x) }
}
