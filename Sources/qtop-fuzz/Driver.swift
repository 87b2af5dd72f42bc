import CQtopFuzz
import Foundation
import QtopFuzzTargets

// libFuzzer entry points for every FuzzTarget. Build with `-sanitize=fuzzer` (scripts/fuzz.sh); pick the target
// with QTOP_FUZZ_TARGET=pdmodel|pdiparams|npy|pipeline|pirjson. libFuzzer supplies `main`.

nonisolated(unsafe) var target = FuzzTarget.npy


@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let name = ProcessInfo.processInfo.environment["QTOP_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTarget(rawValue: name) else {
        let all = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
        FileHandle.standardError.write("qtop-fuzz: set QTOP_FUZZ_TARGET=\(all)\n".data(using: .utf8)!)
        exit(2)
    }
    target = t
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Data(bytes: $0, count: size) } ?? Data()
    target.run(bytes)
    return 0
}

/// Structure-aware for targets that carry a program (3 in 4 mutations decode → mutate fields → re-encode), plain
/// byte mutation otherwise and whenever the program does not decode. For containers, the params half gets the
/// byte mutations so the params reader sees damaged streams against a sound program.
@_cdecl("LLVMFuzzerCustomMutator")
public func fuzzerCustomMutator(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int, _ seed: UInt32) -> Int {
    func bytes() -> Int { LLVMFuzzerMutate(data, size, maxSize) }
    guard target.carriesProgram, seed % 4 != 0 else { return bytes() }
    let input = Data(bytes: data, count: size)
    var mutator = ProgramMutator(seed: UInt64(seed))
    let out: Data
    if target == .pdmodel {
        guard let m = mutator.mutate(encoded: input) else { return bytes() }
        out = m
    } else {
        var (program, params) = FuzzContainer.split(input)
        if seed % 2 == 0, !params.isEmpty {
            let cap = max(params.count, maxSize - program.count - 4)
            guard cap > 0 else { return bytes() }
            var buf = [UInt8](params) + [UInt8](repeating: 0, count: cap - params.count)
            let n = LLVMFuzzerMutate(&buf, params.count, cap)
            params = Data(buf[0..<n])
        } else {
            guard let m = mutator.mutate(encoded: program) else { return bytes() }
            program = m
        }
        out = FuzzContainer.join(program: program, params: params)
    }
    guard out.count <= maxSize else { return bytes() }
    out.copyBytes(to: data, count: out.count)
    return out.count
}
