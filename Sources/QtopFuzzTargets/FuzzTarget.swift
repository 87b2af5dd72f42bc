import Foundation
import QtopFormat
import SwiftProtobuf

/// One coverage-guided fuzz target: a name (the `QTOP_FUZZ_TARGET` value and the regression folder name) and an
/// in-process entry point that must return normally on every input — a thrown error is a clean rejection, a trap is
/// a finding. The libFuzzer driver (`Sources/qtop-fuzz`, built only with `QTOP_FUZZ=1`) and the regression tests
/// (`Tests/QtopFuzzTests`) both call `run`, so a committed crash input replays exactly what the fuzzer ran.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `.pdmodel` bytes → ProgramReader.decode.
    case pdmodel
    /// Container(program, params) → ParamsReader.decodeCombined against the program's declared parameters.
    case pdiparams
    /// `.npy` bytes → Npy.decode.
    case npy
    /// Container(program, params) → load → passes (int8 and fp32) → plan; an empty params half means zero
    /// parameters from the program's declarations. Glue in `PipelineTarget.swift`.
    case pipeline
    /// Paddle 3 `.json` bytes → PIRReader.decode → PIRImport.buildGraph → shape inference. Glue in `PIRJSONTarget.swift`.
    case pirjson

    /// Whether the driver's structure-aware mutator should treat the input as (a container holding) a ProgramDesc.
    public var carriesProgram: Bool { self == .pdmodel || self == .pdiparams || self == .pipeline }

    /// Runs one input. Errors are swallowed: rejecting bad input with an error is the expected outcome.
    public func run(_ data: Data) {
        switch self {
        case .pdmodel: _ = try? ProgramReader.decode(data, file: "fuzz.pdmodel")
        case .pdiparams: ParamsTarget.run(data)
        case .npy: _ = try? Npy.decode(data, file: "fuzz.npy")
        case .pipeline: PipelineTarget.run(data)
        case .pirjson: PIRJSONTarget.run(data)
        }
    }
}

/// Two files in one fuzz input: `u32 LE length of the program` · program bytes · params bytes. A length past the end
/// means "all program, no params", so every byte string is a valid container.
public enum FuzzContainer {
    public static func split(_ data: Data) -> (program: Data, params: Data) {
        guard data.count >= 4 else { return (Data(), Data()) }
        let b = data.startIndex
        let n = Int(data[b]) | Int(data[b + 1]) << 8 | Int(data[b + 2]) << 16 | Int(data[b + 3]) << 24
        let programEnd = b + 4 + min(n, data.count - 4)
        return (data.subdata(in: (b + 4)..<programEnd), data.subdata(in: programEnd..<data.endIndex))
    }

    public static func join(program: Data, params: Data) -> Data {
        let n = UInt32(program.count)
        var out = Data([UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)])
        out.append(program)
        out.append(params)
        return out
    }
}

/// The params reader on its own: the program only supplies the declared parameter list (names, dtypes, dims), so
/// it is decoded without the inference-program checks.
enum ParamsTarget {
    static func run(_ data: Data) {
        let (programBytes, params) = FuzzContainer.split(data)
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = 64
        guard let program = try? ProgramDesc(serializedBytes: programBytes, partial: true, options: options) else { return }
        _ = try? ParamsReader.decodeCombined(params, declared: ParamsReader.storedParameters(of: program), file: "fuzz.pdiparams")
    }
}
