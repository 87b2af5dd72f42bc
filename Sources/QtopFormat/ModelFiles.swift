import Foundation

/// Where a model's program and parameters live on disk.
///
/// Accepts `dir/x.pdmodel` (params at `dir/x.pdiparams`), `dir/x` when `dir/x.pdmodel` exists, or a directory
/// holding `inference.pdmodel` (+ `inference.pdiparams`) or `__model__` (+ `__params__`, or one file per parameter).
public struct ModelFiles: Sendable, Equatable {
    public enum Params: Sendable, Equatable {
        /// All persistable tensors concatenated in name order in one file.
        case combined(String)
        /// Paddle's old non-combined layout: one file per parameter, named after it, in this directory.
        case separate(directory: String)
        /// No parameter file was found; loading fails if the program needs parameters.
        case none(expected: String)
    }

    public let program: String
    public let params: Params

    public init(program: String, params: Params) {
        self.program = program
        self.params = params
    }

    public static func resolve(_ path: String) throws -> ModelFiles {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
            if !path.hasSuffix(".pdmodel"), fm.fileExists(atPath: path + ".pdmodel") {
                return try resolve(path + ".pdmodel")
            }
            throw FormatError(file: path, "no such file or directory")
        }
        if isDir.boolValue {
            let dir = (path as NSString).standardizingPath
            let candidates: [(String, String)] = [("inference.pdmodel", "inference.pdiparams"), ("__model__", "__params__"),
                                                  ("model.pdmodel", "model.pdiparams")]
            for (prog, par) in candidates {
                let p = (dir as NSString).appendingPathComponent(prog)
                guard fm.fileExists(atPath: p) else { continue }
                let q = (dir as NSString).appendingPathComponent(par)
                if fm.fileExists(atPath: q) { return ModelFiles(program: p, params: .combined(q)) }
                if prog == "__model__" { return ModelFiles(program: p, params: .separate(directory: dir)) }
                return ModelFiles(program: p, params: .none(expected: q))
            }
            throw FormatError(file: path, "directory holds no model (expected inference.pdmodel or __model__)")
        }
        let base = path.hasSuffix(".pdmodel") ? String(path.dropLast(".pdmodel".count)) : path
        let paramsPath = base + ".pdiparams"
        if fm.fileExists(atPath: paramsPath) { return ModelFiles(program: path, params: .combined(paramsPath)) }
        if (path as NSString).lastPathComponent == "__model__" {
            let dir = (path as NSString).deletingLastPathComponent
            let combined = ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent("__params__")
            if fm.fileExists(atPath: combined) { return ModelFiles(program: path, params: .combined(combined)) }
            return ModelFiles(program: path, params: .separate(directory: dir.isEmpty ? "." : dir))
        }
        return ModelFiles(program: path, params: .none(expected: paramsPath))
    }
}

/// Reads a whole file, refusing anything larger than `limit` bytes so a bad path can never trigger a huge allocation.
func readFileBounded(_ path: String, limit: Int) throws -> Data {
    let fm = FileManager.default
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw FormatError(file: path, "no such file") }
    guard !isDir.boolValue else { throw FormatError(file: path, "is a directory, expected a file") }
    let attrs = try? fm.attributesOfItem(atPath: path)
    let size = (attrs?[.size] as? NSNumber)?.intValue ?? 0
    guard size <= limit else { throw FormatError(file: path, "file is \(size) bytes, larger than the \(limit)-byte limit") }
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    } catch {
        throw FormatError(file: path, "cannot read file (\(error.localizedDescription))")
    }
}
