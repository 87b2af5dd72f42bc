import Foundation
import SwiftProtobuf

/// Reads Paddle's persistable-tensor stream (`.pdiparams`, `__params__`, or one file per parameter).
///
/// Per tensor, little-endian: u32 version · u64 lod_level · per level (u64 byte_size + offsets) · u32 tensor_version ·
/// i32 desc_size · TensorDesc protobuf · raw data. The dtype and dims stored here win over the program's VarDesc
/// (PTQ writes int8 weights that the program declares FP32, and 0-d or [1, C] scales declared [1] or [C]).
public enum ParamsReader {
    public static let maxParamsBytes = 16 << 30
    static let maxDescBytes = 1 << 20
    static let maxLoDLevels = 16
    static let maxRank = 16

    /// A declared parameter: its name and what the program says about it (used to reconcile and to report).
    public struct Declared: Sendable {
        public let name: String
        public let dtype: DType?
        public let dims: [Int]
        public init(name: String, dtype: DType?, dims: [Int]) {
            self.name = name
            self.dtype = dtype
            self.dims = dims
        }
    }

    /// The stored parameters of `program`, in Paddle's byte-wise name order, read from `files.params`.
    public static func load(program: ProgramDesc, files: ModelFiles) throws -> [String: HostTensor] {
        try load(declared: storedParameters(of: program), files: files)
    }

    /// The `declared` parameters (already in Paddle's byte-wise name order) read from `files.params`.
    public static func load(declared: [Declared], files: ModelFiles) throws -> [String: HostTensor] {
        switch files.params {
        case .combined(let path):
            let data = try readFileBounded(path, limit: maxParamsBytes)
            return try decodeCombined(data, declared: declared, file: path)
        case .separate(let dir):
            var out: [String: HostTensor] = [:]
            for d in declared {
                let path = (dir as NSString).appendingPathComponent(d.name)
                guard FileManager.default.fileExists(atPath: path) else {
                    throw FormatError(file: path, "parameter file for '\(d.name)' is missing")
                }
                let data = try readFileBounded(path, limit: maxParamsBytes)
                var cursor = Cursor(data: data, file: path)
                out[d.name] = try readTensor(&cursor, declared: d)
                if cursor.remaining != 0 {
                    throw FormatError(file: path, "\(cursor.remaining) bytes of trailing garbage after parameter '\(d.name)'")
                }
            }
            return out
        case .none(let expected):
            if declared.isEmpty { return [:] }
            throw FormatError(file: expected, "parameter file not found (the program has \(declared.count) parameters)")
        }
    }

    /// `load(declared:files:)`, taking the tensors from `prefetched` when they line up with `declared` one to one
    /// (count, and element count wherever the program knows the dims); otherwise reading again by name, so an error
    /// names the parameter exactly as without a prefetch.
    public static func load(declared: [Declared], files: ModelFiles, prefetched: ParamsPrefetch?) throws -> [String: HostTensor] {
        if let tensors = prefetched?.wait(), tensors.count == declared.count {
            var out: [String: HostTensor] = [:]
            out.reserveCapacity(tensors.count)
            for (d, t) in zip(declared, tensors) {
                if d.dims.allSatisfy({ $0 >= 0 }) {
                    var numel = 1
                    for dim in d.dims {
                        let (m, overflow) = numel.multipliedReportingOverflow(by: dim)
                        if overflow { return try load(declared: declared, files: files) }
                        numel = m
                    }
                    if numel != t.count { return try load(declared: declared, files: files) }
                }
                out[d.name] = t
            }
            if out.count == declared.count { return out }
        }
        return try load(declared: declared, files: files)
    }

    /// Persistable tensors of block 0 sorted byte-wise by name, as Paddle writes them.
    public static func storedParameters(of program: ProgramDesc) -> [Declared] {
        guard let block = program.blocks.first else { return [] }
        return block.vars.filter { $0.isStoredParameter }
            .sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
            .map { Declared(name: $0.name, dtype: $0.tensorDType, dims: $0.tensorDims) }
    }

    public static func decodeCombined(_ data: Data, declared: [Declared], file: String) throws -> [String: HostTensor] {
        var cursor = Cursor(data: data, file: file)
        var out: [String: HostTensor] = [:]
        out.reserveCapacity(declared.count)
        for (i, d) in declared.enumerated() {
            if cursor.remaining == 0 {
                throw FormatError(file: file, "ends after \(i) of \(declared.count) parameters: tensor '\(d.name)' is missing")
            }
            out[d.name] = try readTensor(&cursor, declared: d)
        }
        if cursor.remaining != 0 {
            throw FormatError(file: file, "\(cursor.remaining) bytes of trailing garbage after the last parameter (params do not match the program?)")
        }
        return out
    }

    static func readTensor(_ c: inout Cursor, declared d: Declared) throws -> HostTensor {
        let what = "parameter '\(d.name)'"
        let version = try c.u32(what)
        guard version == 0 else { throw c.error("\(what): unsupported tensor version \(version) (corrupt file or params do not match the program)") }
        let lodLevel = try c.u64(what)
        guard lodLevel <= UInt64(maxLoDLevels) else { throw c.error("\(what): implausible LoD level count \(lodLevel) (corrupt file?)") }
        for _ in 0..<Int(lodLevel) {
            let size = try c.u64(what)
            guard size <= UInt64(c.remaining) else { throw c.error("\(what): LoD of \(size) bytes runs past the end of the file (truncated?)") }
            try c.skip(Int(size), what)
        }
        let tensorVersion = try c.u32(what)
        guard tensorVersion == 0 else { throw c.error("\(what): unsupported tensor version \(tensorVersion) (corrupt file?)") }
        let descSize = try c.i32(what)
        guard descSize >= 0, descSize <= maxDescBytes, Int(descSize) <= c.remaining else {
            throw c.error("\(what): implausible tensor description size \(descSize) (truncated or corrupt file?)")
        }
        let descBytes = try c.bytes(Int(descSize), what)
        let desc: Paddle_Framework_Proto_VarType.TensorDesc
        do {
            desc = try Paddle_Framework_Proto_VarType.TensorDesc(serializedBytes: descBytes, partial: true)
        } catch {
            throw c.error("\(what): tensor description is not valid protobuf (corrupt file?)")
        }
        guard let dtype = DType(paddleCode: desc.dataType.rawValue) else {
            throw c.error("\(what): unsupported data type \(DType.paddleTypeName(code: desc.dataType.rawValue)) in the params file")
        }
        guard desc.dims.count <= maxRank else { throw c.error("\(what): implausible rank \(desc.dims.count)") }
        var numel = 1
        var dims: [Int] = []
        for dim in desc.dims {
            guard dim >= 0, dim <= Int64(Int32.max) else { throw c.error("\(what): invalid dimension \(dim) in stored dims \(desc.dims)") }
            dims.append(Int(dim))
            let (m, overflow) = numel.multipliedReportingOverflow(by: Int(dim))
            guard !overflow else { throw c.error("\(what): stored dims \(desc.dims) overflow") }
            numel = m
        }
        let (byteCount, overflow) = numel.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, byteCount <= c.remaining else {
            throw c.error("\(what): needs \(byteCount) bytes of \(dtype.paddleName) data for dims \(dims) but only \(c.remaining) remain (truncated, or params do not match the program)")
        }
        // Stored dims win, but they must describe the same number of elements the program expects.
        let declaredKnown = d.dims.allSatisfy { $0 >= 0 }
        if declaredKnown {
            var declaredNumel = 1
            for dim in d.dims {
                let (m, overflow) = declaredNumel.multipliedReportingOverflow(by: dim)
                guard !overflow else {
                    throw c.error("\(what): the program declares dims \(d.dims), whose element count overflows (corrupt program?)")
                }
                declaredNumel = m
            }
            if declaredNumel != numel {
                throw c.error("\(what): stored dims \(dims) (\(numel) elements) cannot be reconciled with the program's \(d.dims) (\(declaredNumel) elements)")
            }
        }
        let tensor = try c.withBytes(byteCount, what) { HostTensor(dtype: dtype, shape: dims, bytes: $0) }
        return tensor
    }
}

/// A bounds-checked little-endian reader over a (usually memory-mapped) file.
struct Cursor {
    let data: Data
    let file: String
    var offset: Int

    init(data: Data, file: String) {
        self.data = data
        self.file = file
        self.offset = data.startIndex
    }

    var remaining: Int { data.endIndex - offset }

    func error(_ message: String) -> FormatError { FormatError(file: file, message) }

    mutating func need(_ n: Int, _ what: String) throws {
        guard n >= 0, n <= remaining else {
            throw error("unexpected end of file while reading \(what) at byte \(offset - data.startIndex) (truncated?)")
        }
    }

    mutating func load<T: FixedWidthInteger>(_: T.Type, _ what: String) throws -> T {
        try need(MemoryLayout<T>.size, what)
        var v: T = 0
        withUnsafeMutableBytes(of: &v) { dst in
            data.copyBytes(to: dst.bindMemory(to: UInt8.self), from: offset..<(offset + MemoryLayout<T>.size))
        }
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func u32(_ what: String) throws -> UInt32 { try load(UInt32.self, what) }
    mutating func u64(_ what: String) throws -> UInt64 { try load(UInt64.self, what) }
    mutating func i32(_ what: String) throws -> Int32 { try load(Int32.self, what) }

    mutating func skip(_ n: Int, _ what: String) throws {
        try need(n, what)
        offset += n
    }

    mutating func bytes(_ n: Int, _ what: String) throws -> Data {
        try need(n, what)
        defer { offset += n }
        return data.subdata(in: offset..<(offset + n))
    }

    mutating func withBytes<R>(_ n: Int, _ what: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try need(n, what)
        defer { offset += n }
        return try data.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[(offset - data.startIndex)..<(offset - data.startIndex + n)]))
        }
    }
}

/// A combined params file read on another thread while the program is decoded: every tensor in file order, before
/// their names are known (names come from the program, sorted). `ParamsReader.load(declared:files:prefetched:)`
/// matches them up; any read error here just leaves nothing prefetched, and the named reader reports it.
public final class ParamsPrefetch: @unchecked Sendable {
    private let finished = DispatchSemaphore(value: 0)
    /// Written once by the reading thread before `finished` is signalled; nil when the walk failed.
    private var tensors: [HostTensor]?

    /// Starts reading `files.params` when it is one combined file; nil otherwise.
    public static func start(_ files: ModelFiles) -> ParamsPrefetch? {
        guard case .combined(let path) = files.params else { return nil }
        let p = ParamsPrefetch()
        DispatchQueue.global(qos: .userInitiated).async {
            p.tensors = try? ParamsPrefetch.readAll(path)
            p.finished.signal()
        }
        return p
    }

    static func readAll(_ path: String) throws -> [HostTensor] {
        let data = try readFileBounded(path, limit: ParamsReader.maxParamsBytes)
        var cursor = Cursor(data: data, file: path)
        var out: [HostTensor] = []
        // Unknown dims skip the reconciliation, which the match does against the program's declarations.
        while cursor.remaining > 0 {
            out.append(try ParamsReader.readTensor(&cursor, declared: .init(name: "#\(out.count)", dtype: nil, dims: [-1])))
        }
        return out
    }

    /// Blocks until the read is done (callable more than once).
    func wait() -> [HostTensor]? {
        finished.wait()
        finished.signal()
        return tensors
    }
}
