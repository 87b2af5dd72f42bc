import Foundation

/// NumPy `.npy` files (format versions 1.0–3.0), C order, little-endian numeric dtypes.
public enum Npy {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] // \x93NUMPY
    public static let maxBytes = 4 << 30

    public static func read(_ path: String) throws -> HostTensor {
        let data = try readFileBounded(path, limit: maxBytes)
        return try decode(data, file: path)
    }

    public static func decode(_ data: Data, file: String) throws -> HostTensor {
        var c = Cursor(data: data, file: file)
        let head = try c.bytes(min(6, data.count), "the .npy magic")
        guard Array(head) == magic else { throw FormatError(file: file, "not a .npy file (bad magic)") }
        let major = try c.load(UInt8.self, "the .npy version")
        _ = try c.load(UInt8.self, "the .npy version")
        let headerLen: Int
        switch major {
        case 1: headerLen = Int(try c.load(UInt16.self, "the .npy header length"))
        case 2, 3: headerLen = Int(try c.u32("the .npy header length"))
        default: throw FormatError(file: file, "unsupported .npy format version \(major)")
        }
        guard headerLen <= 1 << 20, headerLen <= c.remaining else {
            throw FormatError(file: file, "truncated .npy header")
        }
        let headerData = try c.bytes(headerLen, "the .npy header")
        guard let header = String(data: headerData, encoding: .utf8) ?? String(data: headerData, encoding: .isoLatin1) else {
            throw FormatError(file: file, "unreadable .npy header")
        }
        let descr = try field(header, "descr", file: file)
        let fortran = try field(header, "fortran_order", file: file)
        let shapeText = try field(header, "shape", file: file)
        switch fortran {
        case "False", "false", "0": break
        case "True", "true", "1":
            throw FormatError(file: file, "Fortran-order arrays are not supported; save with np.ascontiguousarray")
        default:
            throw FormatError(file: file, "malformed .npy header: fortran_order is '\(fortran.prefix(32))', expected False or True")
        }
        let dtype = try parseDescr(descr, file: file)
        let shape = try parseShape(shapeText, file: file)
        var numel = 1
        for d in shape {
            let (m, o) = numel.multipliedReportingOverflow(by: d)
            guard !o else { throw FormatError(file: file, "shape \(shape) overflows") }
            numel = m
        }
        let (byteCount, overflow) = numel.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw FormatError(file: file, "shape \(shape) of \(dtype.paddleName) overflows") }
        guard byteCount <= c.remaining else {
            throw FormatError(file: file, "truncated: shape \(shape) of \(dtype.paddleName) needs \(byteCount) bytes of data, file has \(c.remaining)")
        }
        if c.remaining > byteCount {
            throw FormatError(file: file, "\(c.remaining - byteCount) bytes of trailing garbage after the array data")
        }
        return try c.withBytes(byteCount, "array data") { HostTensor(dtype: dtype, shape: shape, bytes: $0) }
    }

    /// Extracts the text after `'key':` up to the next top-level comma or closing brace.
    static func field(_ header: String, _ key: String, file: String) throws -> String {
        guard let r = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else {
            throw FormatError(file: file, "malformed .npy header: no '\(key)'")
        }
        var s = header[r.upperBound...].drop(while: { $0 == " " })
        guard s.first == ":" else { throw FormatError(file: file, "malformed .npy header near '\(key)'") }
        s = s.dropFirst().drop(while: { $0 == " " })
        if s.first == "(" {
            guard let close = s.firstIndex(of: ")") else { throw FormatError(file: file, "malformed .npy shape") }
            return String(s[s.startIndex...close])
        }
        let end = s.firstIndex(where: { $0 == "," || $0 == "}" }) ?? s.endIndex
        return String(s[s.startIndex..<end]).trimmingCharacters(in: CharacterSet(charactersIn: " '\""))
    }

    static func parseDescr(_ d: String, file: String) throws -> DType {
        let big = d.hasPrefix(">")
        let code = d.trimmingCharacters(in: CharacterSet(charactersIn: "<>|="))
        if big && !["i1", "u1", "b1"].contains(code) {
            throw FormatError(file: file, "big-endian arrays ('\(d)') are not supported")
        }
        switch code {
        case "f4": return .f32
        case "f8": return .f64
        case "f2": return .f16
        case "i1": return .i8
        case "u1": return .u8
        case "i2": return .i16
        case "i4": return .i32
        case "i8": return .i64
        case "b1": return .bool
        default: throw FormatError(file: file, "unsupported .npy dtype '\(d)' (supported: float32/64/16, int8/16/32/64, uint8, bool)")
        }
    }

    static func parseShape(_ s: String, file: String) throws -> [Int] {
        let inner = s.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        if inner.isEmpty { return [] }
        var dims: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "L"))
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0, v <= Int(Int32.max) else { throw FormatError(file: file, "malformed .npy shape \(s)") }
            dims.append(v)
        }
        guard dims.count <= 16 else { throw FormatError(file: file, "implausible .npy rank \(dims.count)") }
        return dims
    }

    static func descr(_ t: DType) -> String {
        switch t {
        case .f32: return "<f4"
        case .f64: return "<f8"
        case .f16: return "<f2"
        case .bf16: return "<u2" // NumPy has no bfloat16; the raw bits are written
        case .i8: return "|i1"
        case .u8: return "|u1"
        case .i16: return "<i2"
        case .i32: return "<i4"
        case .i64: return "<i8"
        case .bool: return "|b1"
        }
    }

    public static func encode(_ t: HostTensor) -> Data {
        let shape = t.shape.isEmpty ? "()" : (t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")")
        var header = "{'descr': '\(descr(t.dtype))', 'fortran_order': False, 'shape': \(shape), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data(magic)
        out.append(contentsOf: [1, 0])
        let len = UInt16(header.utf8.count)
        out.append(contentsOf: [UInt8(len & 0xff), UInt8(len >> 8)])
        out.append(header.data(using: .utf8)!)
        out.append(Data(bytes: t.raw, count: t.byteCount))
        return out
    }

    public static func write(_ t: HostTensor, to path: String) throws {
        do {
            try encode(t).write(to: URL(fileURLWithPath: path))
        } catch {
            throw FormatError(file: path, "cannot write (\(error.localizedDescription))")
        }
    }
}
