import Foundation
import QtopFormat

/// A model with a fixed input and Paddle's own output(s) for it, as written by samples/generate.py and
/// scripts/export_vision_models.py (NAME.input.npy, NAME.output.npy or NAME.output0.npy, NAME.output1.npy ...).
public struct ReferenceCase {
    public let name: String
    public let model: String
    public let input: HostTensor
    public let outputs: [HostTensor]

    /// Every model in `dir` (`.pdmodel` or Paddle 3 PIR `.json`) that has an input and output(s) saved beside it.
    public static func all(in dir: String) throws -> [ReferenceCase] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var out: [ReferenceCase] = []
        for f in files.sorted() where f.hasSuffix(".pdmodel") || (f.hasSuffix(".json") && f != "manifest.json") {
            let base = String(f.dropLast(f.hasSuffix(".json") ? ".json".count : ".pdmodel".count))
            let inPath = "\(dir)/\(base).input.npy"
            guard FileManager.default.fileExists(atPath: inPath) else { continue }
            var outs: [HostTensor] = []
            if FileManager.default.fileExists(atPath: "\(dir)/\(base).output.npy") {
                outs = [try Npy.read("\(dir)/\(base).output.npy")]
            } else {
                var i = 0
                while FileManager.default.fileExists(atPath: "\(dir)/\(base).output\(i).npy") {
                    outs.append(try Npy.read("\(dir)/\(base).output\(i).npy"))
                    i += 1
                }
            }
            guard !outs.isEmpty else { continue }
            out.append(ReferenceCase(name: base, model: "\(dir)/\(f)", input: try Npy.read(inPath), outputs: outs))
        }
        return out
    }
}

/// max |a - b| / max |b| (0 when b is all zeros and a equals it).
public func relativeMaxError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    var maxDiff: Float = 0, maxRef: Float = 0
    for i in 0..<a.count {
        maxDiff = max(maxDiff, abs(a[i] - b[i]))
        maxRef = max(maxRef, abs(b[i]))
    }
    return maxRef == 0 ? maxDiff : maxDiff / maxRef
}

/// Cosine similarity of two vectors.
public func cosine(_ a: [Float], _ b: [Float]) -> Double {
    var ab = 0.0, aa = 0.0, bb = 0.0
    for i in 0..<a.count {
        ab += Double(a[i]) * Double(b[i])
        aa += Double(a[i]) * Double(a[i])
        bb += Double(b[i]) * Double(b[i])
    }
    return aa == 0 || bb == 0 ? (aa == bb ? 1 : 0) : ab / (aa.squareRoot() * bb.squareRoot())
}
