import Foundation

/// Reads a Paddle 3 PIR program (`inference.json`, written by `paddle.jit.save` / `save_inference_model` since
/// Paddle 3.0) with Foundation's `JSONDecoder` (`PIRJSON`; large files on several cores: `PIRStripes`) and checks
/// it: magic and version, dialects, value numbering (every operand defined before use, no id defined twice), dims,
/// attribute tags. Control-flow ops (ops that hold regions: `pd_op.if`, `pd_op.while`) are refused with their name.
///
/// Layout (keys from Paddle's `serialize_deserialize/include/schema.h`): `{"base_code": {"magic": "pir",
/// "version": N, "trainable": B}, "program": {"regions": [{"blocks": [{"args": [], "ops": [OP…]}]}]}}`;
/// an op is `{"#": "<dialect id>.<name>", "I": [{"%": id}], "O": [{"%": id, "TT": TYPE}], "A": [{"N", "AT"}], "OA": […]}`,
/// a parameter `{"#": "p", "A": [.., .., .., NAME], "O": {"%": id, "TT": TYPE}}`. Dialect ids: 0 builtin,
/// 1 pd_op, 2 cf, 3 custom_op, 4 dist. Value id 0 is "no value" (an absent optional operand or result).
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

    /// `stripes`: how many decoders share the ops (default: by size and cores); the result is the same for any.
    public static func decode(_ data: Data, file: String, stripes: Int? = nil) throws -> PIRProgram {
        guard !data.isEmpty else { throw FormatError(file: file, "empty file, expected a Paddle PIR program (.json)") }
        let raw: PIRJSON.File
        do {
            raw = try PIRStripes.decode(data, stripes: stripes ?? PIRStripes.count(forBytes: data.count))
        } catch let e as DecodingError {
            throw describe(e, file: file, data: data)
        } catch {
            throw FormatError(file: file, "not a Paddle PIR program: the file is not valid JSON (truncated or corrupt?)")
        }
        var c = Checker(file: file)
        return try c.program(raw)
    }

    /// One line for a decoding error: invalid JSON, or where the structure differs from a PIR program.
    static func describe(_ e: DecodingError, file: String, data: Data) -> FormatError {
        switch e {
        case .dataCorrupted(let ctx) where ctx.codingPath.isEmpty:
            // Syntax errors, and numbers that do not fit where an integer belongs (1e300, 2^64, 3.5): the decoder
            // reports both as invalid JSON without a place. Only the numbers pass a parse that reads nothing.
            if (try? JSONDecoder().decode(PIRJSON.Skip.self, from: data)) != nil {
                return FormatError(file: file, "not a valid PIR program: a number does not fit where an integer belongs (a fraction, or out of range)")
            }
            let why = ctx.debugDescription.split(separator: "\n").first.map(String.init) ?? ""
            if why.isEmpty || why.contains("valid JSON") {
                return FormatError(file: file, "not a Paddle PIR program: the file is not valid JSON (truncated or corrupt?)")
            }
            return FormatError(file: file, "not a valid PIR program: \(why.prefix(160))")
        case .dataCorrupted(let ctx):
            return FormatError(file: file, "not a valid PIR program: at \(PIRJSON.path(ctx.codingPath)): \(ctx.debugDescription)")
        case .keyNotFound(let key, let ctx):
            return FormatError(file: file, "not a valid PIR program: at \(PIRJSON.path(ctx.codingPath)): no \"\(key.stringValue)\"")
        case .typeMismatch(let type, let ctx), .valueNotFound(let type, let ctx):
            return FormatError(file: file, "not a valid PIR program: at \(PIRJSON.path(ctx.codingPath)): expected \(readable(type))")
        @unknown default:
            return FormatError(file: file, "not a valid PIR program")
        }
    }

    static func readable(_ t: Any.Type) -> String {
        switch t {
        case is Int.Type: return "an integer"
        case is Double.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default: return String(describing: t).contains("Array") ? "an array" : "an object"
        }
    }

    /// The checks behind the JSON types: what the values mean.
    struct Checker {
        let file: String
        var defined = Set<Int>()

        func fail(_ what: String) -> FormatError { FormatError(file: file, "not a valid PIR program: \(what)") }

        mutating func program(_ raw: PIRJSON.File) throws -> PIRProgram {
            guard let base = raw.base_code else {
                throw FormatError(file: file, "not a Paddle PIR program: no \"base_code\" object (is this a Paddle 3 inference.json?)")
            }
            guard base.magic == "pir" else {
                throw FormatError(file: file, "not a Paddle PIR program: base_code.magic is \(base.magic.map { "\"\($0.prefix(40))\"" } ?? "missing"), expected \"pir\"")
            }
            guard let version = base.version else { throw fail("base_code.version is missing") }
            guard PIRReader.supportedVersions.contains(version) else {
                throw FormatError(file: file, "PIR version \(version) is not one qtop reads (\(PIRReader.supportedVersions.lowerBound)–\(PIRReader.supportedVersions.upperBound): Paddle 3.0–3.3)")
            }
            guard let block = raw.program?.block else { throw fail("no program.regions[0].blocks[0]") }
            for (i, a) in block.args.enumerated() { _ = try value(a, at: "block 0 argument #\(i)") }
            var params: [PIRParameter] = []
            var ops: [PIROp] = []
            ops.reserveCapacity(block.ops.count)
            for (i, o) in block.ops.enumerated() {
                if o.tag == "p" {
                    guard let name = o.parameterName, !name.isEmpty, let out = o.outputs.first else {
                        throw fail("parameter op #\(i) has no name (its \"A\" array must end with the parameter's name)")
                    }
                    let v = try value(out, at: "parameter '\(name)'")
                    guard case .tensor = v.type else { throw fail("parameter '\(name)' is not a dense tensor") }
                    params.append(PIRParameter(name: name, value: v))
                } else {
                    ops.append(try op(o, index: i))
                }
            }
            return PIRProgram(version: version, trainable: base.trainable ?? false, parameters: params, ops: ops)
        }

        mutating func op(_ o: PIRJSON.Op, index i: Int) throws -> PIROp {
            let tag = o.tag
            guard let dot = tag.firstIndex(of: "."), dot != tag.startIndex else { throw fail("op #\(i) has a malformed name '\(tag.prefix(60))'") }
            let dialectID = String(tag[..<dot]), opName = String(tag[tag.index(after: dot)...])
            guard let dialect = PIRReader.dialects[dialectID] else {
                throw FormatError(file: file, "op #\(i) '\(tag.prefix(60))' is in unknown dialect \(dialectID.prefix(20)) (known: 0 builtin, 1 pd_op, 2 cf, 3 custom_op, 4 dist)")
            }
            guard !opName.isEmpty else { throw fail("op #\(i) has an empty name") }
            let name = "\(dialect).\(opName)"
            if o.hasRegions { throw FormatError(file: file, "op #\(i) \(name) holds control-flow regions; qtop runs straight-line programs only") }
            if dialect == "cf" { throw FormatError(file: file, "op #\(i) \(name) is control flow; qtop runs straight-line programs only") }
            for id in o.inputs where id != 0 && !defined.contains(id) {
                throw FormatError(file: file, "op #\(i) \(name) reads value %\(id) that no earlier op defines (truncated or corrupt program?)")
            }
            var outputs: [PIRValue] = []
            outputs.reserveCapacity(o.outputs.count)
            for (k, v) in o.outputs.enumerated() { outputs.append(try value(v, at: "op #\(i) \(name) result #\(k)")) }
            return PIROp(index: i, name: name, dialect: dialect, opName: opName, inputs: o.inputs, outputs: outputs,
                         attrs: o.attrs)
        }

        /// Defines a value (id 0 defines nothing) after checking its dims.
        mutating func value(_ v: PIRJSON.Value, at path: @autoclosure () -> String) throws -> PIRValue {
            try check(v.type, at: path)
            if v.id != 0 {
                guard defined.insert(v.id).inserted else { throw fail("\(path()) defines value %\(v.id) a second time") }
            }
            return PIRValue(id: v.id, type: v.type)
        }

        func check(_ t: PIRType, at path: () -> String) throws {
            switch t {
            case .tensor(_, let dims):
                guard dims.count <= PIRReader.maxRank else { throw fail("\(path()): implausible rank \(dims.count)") }
                var numel = 1
                for v in dims {
                    guard v >= -1, v <= Int(Int32.max) else {
                        throw FormatError(file: file, "\(path()): invalid dimension \(v) (dims are -1 for dynamic or 0…\(Int32.max))")
                    }
                    if v > 0 {
                        let (m, o) = numel.multipliedReportingOverflow(by: v)
                        guard !o, m <= PIRReader.maxElements else { throw FormatError(file: file, "\(path()): implausible dims \(dims) (too many elements)") }
                        numel = m
                    }
                }
            case .vector(let xs):
                for x in xs { try check(x, at: path) }
            case .null, .other:
                break
            }
        }
    }
}
