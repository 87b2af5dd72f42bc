import Foundation
import SwiftProtobuf

public typealias ProgramDesc = Paddle_Framework_Proto_ProgramDesc
public typealias BlockDesc = Paddle_Framework_Proto_BlockDesc
public typealias OpDesc = Paddle_Framework_Proto_OpDesc
public typealias VarDesc = Paddle_Framework_Proto_VarDesc

/// Decodes a `.pdmodel` (ProgramDesc, proto2) and checks that it is a usable inference program.
public enum ProgramReader {
    /// Programs larger than this are refused before reading (real ones are a few MB).
    public static let maxProgramBytes = 512 << 20

    public static func read(_ path: String) throws -> ProgramDesc {
        let data = try readFileBounded(path, limit: maxProgramBytes)
        return try decode(data, file: path)
    }

    public static func decode(_ data: Data, file: String) throws -> ProgramDesc {
        guard !data.isEmpty else { throw FormatError(file: file, "empty file, expected a Paddle program (.pdmodel)") }
        let program: ProgramDesc
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            program = try ProgramDesc(serializedBytes: data, partial: true, options: options)
        } catch {
            throw FormatError(file: file, "not a valid Paddle program: protobuf decoding failed (\(describe(error)))")
        }
        try validate(program, file: file)
        return program
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case BinaryDecodingError.truncated: return "truncated data"
        case BinaryDecodingError.malformedProtobuf: return "malformed data"
        case BinaryDecodingError.invalidUTF8: return "invalid UTF-8 in a string"
        case BinaryDecodingError.messageDepthLimit: return "nesting too deep"
        default: return String(describing: error)
        }
    }

    /// Structural checks that turn a garbled-but-decodable file into a clear error instead of a confusing graph.
    static func validate(_ program: ProgramDesc, file: String) throws {
        guard let block = program.blocks.first else {
            throw FormatError(file: file, "not a valid Paddle program: it has no blocks")
        }
        guard !block.ops.isEmpty else { throw FormatError(file: file, "not a valid Paddle program: block 0 has no ops") }
        var declared = Set<String>()
        for v in block.vars {
            guard !v.name.isEmpty else { throw FormatError(file: file, "not a valid Paddle program: a variable has no name") }
            // qtop's kernels hold extents in 32 bits; Paddle writes -1 for an extent known only at run time.
            if let bad = v.tensorDims.first(where: { $0 < -1 || $0 > Int(Int32.max) }) {
                throw FormatError(file: file, "variable '\(v.name)' declares dimension \(bad) in \(v.tensorDims) (dims are -1 for dynamic or 0…\(Int32.max))")
            }
            declared.insert(v.name)
        }
        for (i, op) in block.ops.enumerated() {
            guard !op.type.isEmpty else { throw FormatError(file: file, "not a valid Paddle program: op #\(i) has no type") }
            for slot in op.inputs + op.outputs {
                for arg in slot.arguments where !declared.contains(arg) {
                    throw FormatError(file: file, "op #\(i) (\(op.type)) uses variable '\(arg)' that block 0 does not declare (truncated or corrupt program?)")
                }
            }
        }
        if !block.ops.contains(where: { $0.type == "feed" }) {
            throw FormatError(file: file, "not an inference program: block 0 has no feed op")
        }
        if !block.ops.contains(where: { $0.type == "fetch" }) {
            throw FormatError(file: file, "not an inference program: block 0 has no fetch op")
        }
    }
}

extension VarDesc {
    /// True for tensors stored in the params file: persistable LoD tensors other than feed/fetch holders.
    public var isStoredParameter: Bool {
        persistable && type.type == .lodTensor && name != "feed" && name != "fetch"
    }

    /// The declared element type, when this is a dense tensor of a type qtop knows.
    public var tensorDType: DType? {
        guard type.hasLodTensor else { return nil }
        return DType(paddleCode: type.lodTensor.tensor.dataType.rawValue)
    }

    public var tensorDims: [Int] {
        type.hasLodTensor ? type.lodTensor.tensor.dims.map { Int($0) } : []
    }
}
