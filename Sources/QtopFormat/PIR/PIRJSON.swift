import Foundation

/// The PIR file's JSON as `JSONDecoder` sees it: exactly the keys qtop reads (the rest — `OA`, `DA`, `QA`,
/// layouts, lods, other regions and blocks — is skipped by the parser, never materialised). Shapes of values are
/// checked here only as far as JSON types go; `PIRReader` checks what they mean.
///
/// Why it reads containers by hand: Foundation's decoder is cheap for arrays and numbers but costly for each JSON
/// object and each keyed lookup (its keyed container is generic over the key type and builds a dictionary of the
/// object's keys). Objects are decoded with one `nestedContainer` each and no `Decodable` type per level: 17% fewer
/// instructions than a `Decodable` struct per level (callgrind, 2.9 MB program). `JSONSerialization` is slower still
/// (its parse alone costs what this whole decode does). `PIRStripes` cuts large files into parts for several cores.
enum PIRJSON {
    /// The string that stands in for block 0's op list in the rest of a split file (see `PIRStripes`).
    struct SplitMarker: Sendable {
        let text: String
        static let key = CodingUserInfoKey(rawValue: "qtop.pir.split-marker")!
    }

    /// A run of block 0's ops, cut out of a split file as its own JSON array.
    struct OpList: Decodable {
        var file: File
        init(from d: Decoder) throws {
            var u = try d.unkeyedContainer()
            var ops: [Op] = []
            ops.reserveCapacity(u.count ?? 0)
            while !u.isAtEnd { ops.append(try Op(u.nestedContainer(keyedBy: Op.Key.self))) }
            file = File(base_code: nil, program: Program(block: Block(ops: ops)))
        }
    }

    struct File: Decodable {
        let base_code: Base?
        var program: Program?
    }

    struct Base: Decodable {
        let magic: String?
        let version: Int?
        let trainable: Bool?
    }

    /// `program.regions[0].blocks[0]`, or nil when either list is empty.
    struct Program: Decodable {
        var block: Block?
        enum Key: String, CodingKey { case regions, blocks }
        init(block: Block?) { self.block = block }
        init(from d: Decoder) throws {
            var regions = try d.container(keyedBy: Key.self).nestedUnkeyedContainer(forKey: .regions)
            guard !regions.isAtEnd else { block = nil; return }
            var blocks = try regions.nestedContainer(keyedBy: Key.self).nestedUnkeyedContainer(forKey: .blocks)
            guard !blocks.isAtEnd else { block = nil; return }
            block = try Block(blocks.nestedContainer(keyedBy: Block.Key.self), marker: d.userInfo[SplitMarker.key] as? SplitMarker)
        }
    }

    struct Block {
        var args: [Value] = []
        var ops: [Op] = []
        /// True when the op list was the split marker (`PIRStripes`): the ops come from the other decoders.
        var markerSeen = false
        enum Key: String, CodingKey { case args, ops }

        init(ops: [Op]) { self.ops = ops }

        init(_ c: KeyedDecodingContainer<Key>, marker: SplitMarker?) throws {
            if c.contains(.args) {
                var u = try c.nestedUnkeyedContainer(forKey: .args)
                while !u.isAtEnd { args.append(try Value(u.nestedContainer(keyedBy: Value.Key.self))) }
            }
            var u = try c.nestedUnkeyedContainer(forKey: .ops)
            if let marker {
                // Anything but exactly [marker] means the cut list was not this block's: the caller starts over.
                guard u.count == 1, try u.decode(String.self) == marker.text else {
                    throw DecodingError.dataCorruptedError(in: u, debugDescription: "split marker not in block 0")
                }
                markerSeen = true
                return
            }
            ops.reserveCapacity(u.count ?? 0)
            while !u.isAtEnd { ops.append(try Op(u.nestedContainer(keyedBy: Op.Key.self))) }
        }
    }

    /// A result or block argument: `{"%": id, "TT": type}`.
    struct Value {
        let id: Int
        let type: PIRType
        enum Key: String, CodingKey { case id = "%", type = "TT" }
        init(_ c: KeyedDecodingContainer<Key>) throws {
            id = try c.decode(Int.self, forKey: .id)
            type = try PIRJSON.type(c.nestedContainer(keyedBy: Tagged.self, forKey: .type))
        }
    }

    /// An op, or a parameter (`"#": "p"`, whose `A` is `[.., .., .., NAME]` and `O` one value).
    struct Op {
        let tag: String
        var inputs: [Int] = []
        var outputs: [Value] = []
        var attrs: [(name: String, value: PIRAttr)] = []
        var parameterName: String?
        var hasRegions = false
        enum Key: String, CodingKey { case tag = "#", I, O, A, regions }
        enum Operand: String, CodingKey { case id = "%" }
        enum Named: String, CodingKey { case name = "N", value = "AT" }

        init(_ c: KeyedDecodingContainer<Key>) throws {
            tag = try c.decode(String.self, forKey: .tag)
            if tag == "p" {
                // [is_distributed, is_parameter, need_clip, NAME]: flags skipped unread, the name last.
                var a = try c.nestedUnkeyedContainer(forKey: .A)
                let n = a.count ?? 0
                while !a.isAtEnd && a.currentIndex < n - 1 { _ = try a.decode(Skip.self) }
                if !a.isAtEnd { parameterName = try a.decode(String.self) }
                outputs = [try Value(c.nestedContainer(keyedBy: Value.Key.self, forKey: .O))]
                return
            }
            if c.contains(.I) {
                var u = try c.nestedUnkeyedContainer(forKey: .I)
                inputs.reserveCapacity(u.count ?? 0)
                while !u.isAtEnd { inputs.append(try u.nestedContainer(keyedBy: Operand.self).decode(Int.self, forKey: .id)) }
            }
            if c.contains(.O) {
                var u = try c.nestedUnkeyedContainer(forKey: .O)
                outputs.reserveCapacity(u.count ?? 0)
                while !u.isAtEnd { outputs.append(try Value(u.nestedContainer(keyedBy: Value.Key.self))) }
            }
            if c.contains(.A) {
                var u = try c.nestedUnkeyedContainer(forKey: .A)
                attrs.reserveCapacity(u.count ?? 0)
                while !u.isAtEnd {
                    let a = try u.nestedContainer(keyedBy: Named.self)
                    attrs.append((try a.decode(String.self, forKey: .name), try attr(a.nestedContainer(keyedBy: Tagged.self, forKey: .value))))
                }
            }
            if c.contains(.regions) { hasRegions = try c.nestedUnkeyedContainer(forKey: .regions).count ?? 0 > 0 }
        }
    }

    /// Anything, unread.
    struct Skip: Decodable { init(from d: Decoder) throws {} }

    /// `{"#": tag}` or `{"#": tag, "D": data}`: types and attributes.
    enum Tagged: String, CodingKey { case tag = "#", data = "D" }

    static func corrupt(_ c: KeyedDecodingContainer<Tagged>, _ what: String) -> DecodingError {
        DecodingError.dataCorruptedError(forKey: .data, in: c, debugDescription: what)
    }

    /// The tag without its dialect prefix: `0.t_f32` → `t_f32`.
    static func local(_ tag: String) -> String {
        guard let dot = tag.firstIndex(of: ".") else { return tag }
        return String(tag[tag.index(after: dot)...])
    }

    static func ints(_ u: inout UnkeyedDecodingContainer) throws -> [Int] {
        var xs: [Int] = []
        xs.reserveCapacity(u.count ?? 0)
        while !u.isAtEnd { xs.append(try u.decode(Int.self)) }
        return xs
    }

    /// `0.t_dtensor` data is `[element type, dims, layout, lod, offset]`; `0.t_vec` data a list of types.
    static func type(_ c: KeyedDecodingContainer<Tagged>) throws -> PIRType {
        let tag = try c.decode(String.self, forKey: .tag)
        if tag == "NULL" { return .null }
        switch local(tag) {
        case "t_dtensor":
            var u = try c.nestedUnkeyedContainer(forKey: .data)
            let element = try u.nestedContainer(keyedBy: Tagged.self).decode(String.self, forKey: .tag)
            let scalar = local(element)
            guard element != "NULL", scalar != "t_dtensor", scalar != "t_vec" else {
                throw corrupt(c, "a dense tensor's element type is not a scalar type")
            }
            var dims = try u.nestedUnkeyedContainer()
            return .tensor(element: scalar, dims: try ints(&dims))
        case "t_vec":
            var u = try c.nestedUnkeyedContainer(forKey: .data)
            var xs: [PIRType] = []
            while !u.isAtEnd { xs.append(try type(u.nestedContainer(keyedBy: Tagged.self))) }
            return .vector(xs)
        default:
            return .other(tag)
        }
    }

    /// An attribute value, decoded by its tag.
    static func attr(_ c: KeyedDecodingContainer<Tagged>) throws -> PIRAttr {
        let tag = try c.decode(String.self, forKey: .tag)
        switch tag {
        case "0.a_bool": return .bool(try c.decode(Bool.self, forKey: .data))
        case "0.a_i32":
            let v = try c.decode(Int.self, forKey: .data)
            guard v >= Int(Int32.min), v <= Int(Int32.max) else { throw corrupt(c, "\(tag) value \(v) is out of range") }
            return .i32(v)
        case "0.a_i64": return .i64(try c.decode(Int.self, forKey: .data))
        case "0.a_index": return .index(try c.decode(Int.self, forKey: .data))
        // Paddle's JSON writer stores NaN and infinities as null.
        case "0.a_f32": return .f32(Float(try c.decodeIfPresent(Double.self, forKey: .data) ?? .nan))
        case "0.a_f64": return .f64(try c.decodeIfPresent(Double.self, forKey: .data) ?? .nan)
        case "0.a_str": return .string(try c.decode(String.self, forKey: .data))
        case "0.a_tensorname": return .tensorName(try c.decode(String.self, forKey: .data))
        case "0.a_array":
            var u = try c.nestedUnkeyedContainer(forKey: .data)
            var xs: [PIRAttr] = []
            xs.reserveCapacity(u.count ?? 0)
            while !u.isAtEnd { xs.append(try attr(u.nestedContainer(keyedBy: Tagged.self))) }
            return .array(xs)
        case "0.a_type": return .type(try type(c.nestedContainer(keyedBy: Tagged.self, forKey: .data)))
        case "0.a_c64", "0.a_c128":
            var u = try c.nestedUnkeyedContainer(forKey: .data)
            guard u.count == 2 else { throw corrupt(c, "\(tag) needs [real, imaginary]") }
            return .complex(try u.decode(Double.self), try u.decode(Double.self))
        case "1.a_intarray":
            var u = try c.nestedUnkeyedContainer(forKey: .data)
            return .intArray(try ints(&u))
        case "1.a_scalar":
            var u = try c.nestedUnkeyedContainer(forKey: .data)
            let dt = try u.decode(String.self)
            if dt == "bool" { return .scalar(dtype: dt, value: try u.decode(Bool.self) ? 1 : 0) }
            return .scalar(dtype: dt, value: try u.decodeNil() ? .nan : try u.decode(Double.self))
        case "1.a_dtype": return .dataType(try c.decode(String.self, forKey: .data))
        case "1.a_place":
            var u = try c.nestedUnkeyedContainer(forKey: .data)
            return .place(type: try u.decode(Int.self), device: try u.decode(Int.self), deviceType: try u.decode(String.self))
        case "1.a_layout", "1.a_data_layout": return .layout(try c.decode(String.self, forKey: .data))
        default: throw corrupt(c, "unknown attribute tag '\(tag)'")
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
