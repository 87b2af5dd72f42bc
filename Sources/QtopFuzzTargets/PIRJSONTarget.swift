import Foundation
import QtopFormat
import QtopGraph

/// The PIR reader (one decoder, and split across decoders: they must agree) and its import into the graph IR: `.json` bytes → PIRReader.decode → PIRImport.buildGraph with
/// zero-filled parameters made from the program's own declarations (bounded, so a mutated huge parameter is a
/// rejection, not an allocation), then shape inference over the result.
enum PIRJSONTarget {
    /// Parameters larger than this are not materialised (the reader and import are what is fuzzed, not the allocator).
    static let maxParameterBytes = 16 << 20

    static func run(_ data: Data) {
        let program = try? PIRReader.decode(data, file: "fuzz.json", stripes: 1)
        // Differential: the split decoder (block 0's op list cut into parts) must read what one decoder reads.
        let split = try? PIRReader.decode(data, file: "fuzz.json", stripes: 3)
        precondition((program == nil) == (split == nil) && program?.ops.count == split?.ops.count
            && program?.parameters.count == split?.parameters.count, "split PIR decode differs from one decoder")
        guard let program else { return }
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
