import Foundation

/// Where a model's program and parameters live on disk.
///
/// Accepts `dir/x.pdmodel` or `dir/x.json` (Paddle 3 PIR; params at `dir/x.pdiparams`), the prefix `dir/x` when
/// `dir/x.json` or `dir/x.pdmodel` exists, or a directory holding `inference.json` / `inference.pdmodel`
/// (+ `inference.pdiparams`) or `__model__` (+ `__params__`, or one file per parameter). When both a `.json` and a
/// `.pdmodel` match, the `.json` (what Paddle 3 itself loads) is taken and `note` says so.
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
    /// A remark for the user about the choice made (e.g. which of two programs was taken), else nil.
    public let note: String?

    public init(program: String, params: Params, note: String? = nil) {
        self.program = program
        self.params = params
        self.note = note
    }

    /// The program is a Paddle 3 PIR JSON file rather than a legacy protobuf `.pdmodel`.
    public var isPIR: Bool { program.hasSuffix(".json") }

    func noting(_ note: String?) -> ModelFiles { ModelFiles(program: program, params: params, note: note) }

    /// `json` when only it exists or both do (then with a note naming both), else `pdmodel`, else nil.
    static func pick(json: String, pdmodel: String, in place: String) -> (String, String?)? {
        let fm = FileManager.default
        let j = fm.fileExists(atPath: json), m = fm.fileExists(atPath: pdmodel)
        if j && m {
            let jn = (json as NSString).lastPathComponent, mn = (pdmodel as NSString).lastPathComponent
            return (json, "\(place) has both \(jn) and \(mn); using \(jn) (name the .pdmodel file to use it instead)")
        }
        if j { return (json, nil) }
        if m { return (pdmodel, nil) }
        return nil
    }

    public static func resolve(_ path: String) throws -> ModelFiles {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
            if !path.hasSuffix(".pdmodel"), !path.hasSuffix(".json"),
               let (p, note) = pick(json: path + ".json", pdmodel: path + ".pdmodel", in: path + ".*") {
                return try resolve(p).noting(note)
            }
            throw FormatError(file: path, "no such file or directory")
        }
        if isDir.boolValue {
            let dir = (path as NSString).standardizingPath
            func inDir(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
            if let (p, note) = pick(json: inDir("inference.json"), pdmodel: inDir("inference.pdmodel"), in: path) {
                let q = inDir("inference.pdiparams")
                return ModelFiles(program: p, params: fm.fileExists(atPath: q) ? .combined(q) : .none(expected: q), note: note)
            }
            let candidates: [(String, String)] = [("__model__", "__params__"), ("model.pdmodel", "model.pdiparams")]
            for (prog, par) in candidates {
                let p = inDir(prog)
                guard fm.fileExists(atPath: p) else { continue }
                let q = inDir(par)
                if fm.fileExists(atPath: q) { return ModelFiles(program: p, params: .combined(q)) }
                if prog == "__model__" { return ModelFiles(program: p, params: .separate(directory: dir)) }
                return ModelFiles(program: p, params: .none(expected: q))
            }
            throw FormatError(file: path, "directory holds no model (expected inference.json, inference.pdmodel or __model__)")
        }
        let base = path.hasSuffix(".pdmodel") ? String(path.dropLast(".pdmodel".count))
            : path.hasSuffix(".json") ? String(path.dropLast(".json".count)) : path
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
