import Foundation

/// The PIR file's JSON as `JSONDecoder` sees it: typed `Decodable` structs for exactly the keys qtop reads (the
/// rest — `OA`, `DA`, `QA`, layouts, lods — is skipped by the parser, never materialised). Typed decoding is
/// about 2.5× faster than `JSONSerialization` + casts on large programs. Shapes of values are checked here only
/// as far as JSON types go; `PIRReader` checks what they mean.
enum PIRJSON {
    struct File: Decodable {
        let base_code: Base?
        let program: Program?
    }

    struct Base: Decodable {
        let magic: String?
        let version: Int?
        let trainable: Bool?
    }

    struct Program: Decodable { let regions: [Region] }
    struct Region: Decodable { let blocks: [Block] }
    struct Block: Decodable {
        let args: [Value]?
        let ops: [Op]
    }

    /// A result or block argument: `{"%": id, "TT": type}`.
    struct Value: Decodable {
        let id: Int
        let type: PIRType
        enum CodingKeys: String, CodingKey { case id = "%", type = "TT" }
        init(from d: Decoder) throws {
            let c = try d.container(keyedBy: CodingKeys.self)
            id = try c.decode(Int.self, forKey: .id)
            type = try c.decode(TypeBox.self, forKey: .type).type
        }
    }

    struct Operand: Decodable {
        let id: Int
        enum CodingKeys: String, CodingKey { case id = "%" }
    }

    struct NamedAttr: Decodable {
        let name: String
        let value: PIRAttr
        enum CodingKeys: String, CodingKey { case name = "N", value = "AT" }
        init(from d: Decoder) throws {
            let c = try d.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            value = try c.decode(AttrBox.self, forKey: .value).attr
        }
    }

    /// An op, or a parameter (`"#": "p"`, whose `A` is `[.., .., .., NAME]` and `O` one value).
    struct Op: Decodable {
        let tag: String
        var inputs: [Int] = []
        var outputs: [Value] = []
        var attrs: [NamedAttr] = []
        var parameterName: String?
        var hasRegions = false
        enum CodingKeys: String, CodingKey { case tag = "#", I, O, A, regions }

        init(from d: Decoder) throws {
            let c = try d.container(keyedBy: CodingKeys.self)
            tag = try c.decode(String.self, forKey: .tag)
            if tag == "p" {
                // [is_distributed, is_parameter, need_clip, NAME]: flags skipped unread, the name last.
                var a = try c.nestedUnkeyedContainer(forKey: .A)
                let n = a.count ?? 0
                while !a.isAtEnd && a.currentIndex < n - 1 { _ = try a.decode(Skip.self) }
                if !a.isAtEnd { parameterName = try a.decode(String.self) }
                outputs = [try c.decode(Value.self, forKey: .O)]
                return
            }
            inputs = try c.decodeIfPresent([Operand].self, forKey: .I)?.map(\.id) ?? []
            outputs = try c.decodeIfPresent([Value].self, forKey: .O) ?? []
            attrs = try c.decodeIfPresent([NamedAttr].self, forKey: .A) ?? []
            if c.contains(.regions) { hasRegions = !(try c.decode([Skip].self, forKey: .regions)).isEmpty }
        }
    }

    /// Anything, unread.
    struct Skip: Decodable { init(from d: Decoder) throws {} }

    static func corrupt(_ c: KeyedDecodingContainer<TypeBox.CodingKeys>, _ what: String) -> DecodingError {
        DecodingError.dataCorruptedError(forKey: .data, in: c, debugDescription: what)
    }

    /// `{"#": tag}` or `{"#": tag, "D": data}`; `0.t_dtensor` data is `[element type, dims, layout, lod, offset]`.
    struct TypeBox: Decodable {
        let type: PIRType
        enum CodingKeys: String, CodingKey { case tag = "#", data = "D" }
        init(from d: Decoder) throws {
            let c = try d.container(keyedBy: CodingKeys.self)
            let tag = try c.decode(String.self, forKey: .tag)
            if tag == "NULL" { type = .null; return }
            switch tag.split(separator: ".", maxSplits: 1).last.map(String.init) ?? tag {
            case "t_dtensor":
                var u = try c.nestedUnkeyedContainer(forKey: .data)
                let element = try u.decode(TypeBox.self).type
                guard case .other(let etag) = element else { throw PIRJSON.corrupt(c, "a dense tensor's element type is not a scalar type") }
                let dims = try u.decode([Int].self)
                type = .tensor(element: etag.split(separator: ".", maxSplits: 1).last.map(String.init) ?? etag, dims: dims)
            case "t_vec":
                type = .vector(try c.decode([TypeBox].self, forKey: .data).map(\.type))
            default:
                type = .other(tag)
            }
        }
    }

    /// `{"#": tag, "D": data}` with data decoded by the tag.
    struct AttrBox: Decodable {
        let attr: PIRAttr
        enum CodingKeys: String, CodingKey { case tag = "#", data = "D" }
        init(from d: Decoder) throws {
            let c = try d.container(keyedBy: CodingKeys.self)
            let tag = try c.decode(String.self, forKey: .tag)
            func bad(_ what: String) -> DecodingError { DecodingError.dataCorruptedError(forKey: .data, in: c, debugDescription: what) }
            switch tag {
            case "0.a_bool": attr = .bool(try c.decode(Bool.self, forKey: .data))
            case "0.a_i32":
                let v = try c.decode(Int.self, forKey: .data)
                guard v >= Int(Int32.min), v <= Int(Int32.max) else { throw bad("\(tag) value \(v) is out of range") }
                attr = .i32(v)
            case "0.a_i64": attr = .i64(try c.decode(Int.self, forKey: .data))
            case "0.a_index": attr = .index(try c.decode(Int.self, forKey: .data))
            // Paddle's JSON writer stores NaN and infinities as null.
            case "0.a_f32": attr = .f32(Float(try c.decodeIfPresent(Double.self, forKey: .data) ?? .nan))
            case "0.a_f64": attr = .f64(try c.decodeIfPresent(Double.self, forKey: .data) ?? .nan)
            case "0.a_str": attr = .string(try c.decode(String.self, forKey: .data))
            case "0.a_tensorname": attr = .tensorName(try c.decode(String.self, forKey: .data))
            case "0.a_array": attr = .array(try c.decode([AttrBox].self, forKey: .data).map(\.attr))
            case "0.a_type": attr = .type(try c.decode(TypeBox.self, forKey: .data).type)
            case "0.a_c64", "0.a_c128":
                let xs = try c.decode([Double].self, forKey: .data)
                guard xs.count == 2 else { throw bad("\(tag) needs [real, imaginary]") }
                attr = .complex(xs[0], xs[1])
            case "1.a_intarray": attr = .intArray(try c.decode([Int].self, forKey: .data))
            case "1.a_scalar":
                var u = try c.nestedUnkeyedContainer(forKey: .data)
                let dt = try u.decode(String.self)
                if dt == "bool" { attr = .scalar(dtype: dt, value: try u.decode(Bool.self) ? 1 : 0); return }
                attr = .scalar(dtype: dt, value: try u.decodeNil() ? .nan : try u.decode(Double.self))
            case "1.a_dtype": attr = .dataType(try c.decode(String.self, forKey: .data))
            case "1.a_place":
                var u = try c.nestedUnkeyedContainer(forKey: .data)
                attr = .place(type: try u.decode(Int.self), device: try u.decode(Int.self), deviceType: try u.decode(String.self))
            case "1.a_layout", "1.a_data_layout": attr = .layout(try c.decode(String.self, forKey: .data))
            default: throw bad("unknown attribute tag '\(tag)'")
            }
        }
    }

    /// `program.regions[0].blocks[0].ops[12].A[3]` for a decoding error's location.
    static func path(_ keys: [CodingKey]) -> String {
        var s = ""
        for k in keys {
            if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
        }
        return s.isEmpty ? "the top level" : s
    }
}
