import Foundation
import QtopFormat
import QtopGraph

/// The PIR reader and its import into the graph IR: `.json` bytes → PIRReader.decode → PIRImport.buildGraph with
/// zero-filled parameters made from the program's own declarations (bounded, so a mutated huge parameter is a
/// rejection, not an allocation), then shape inference over the result.
enum PIRJSONTarget {
    /// Parameters larger than this are not materialised (the reader and import are what is fuzzed, not the allocator).
    static let maxParameterBytes = 16 << 20

    static func run(_ data: Data) {
        guard let program = try? PIRReader.decode(data, file: "fuzz.json") else { return }
        var params: [String: HostTensor] = [:]
        var budget = maxParameterBytes
        for p in program.storedParameters() {
            let shape = p.dims.map { max($0, 0) }
            var count = 1
            for d in shape {
                let (m, overflow) = count.multipliedReportingOverflow(by: d)
                if overflow { return }
                count = m
            }
            let dtype = p.dtype ?? .f32
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            if overflow || bytes > budget { return }
            budget -= bytes
            params[p.name] = HostTensor(dtype: dtype, shape: shape)
        }
        guard var graph = try? PIRImport.buildGraph(program: program, params: params, file: "fuzz.json") else { return }
        ShapeInference.run(&graph)
    }
}
