import ArgumentParser
import Foundation
import QtopFormat
import QtopGraph
import QtopPipeline
import QtopProfile
import QtopRuntime

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run",
        abstract: "Run the model once on .npy inputs (or seeded random ones) and write the outputs as .npy.")

    @OptionGroup var model: ModelArgument
    @OptionGroup var runtime: RuntimeOptions

    @Option(name: .customLong("input"), help: "NAME=FILE.npy for each model input (FILE.npy alone when the model has one input).")
    var inputs: [String] = []

    @Option(help: "Write the (single) output to this .npy file.")
    var output: String?

    @Option(help: "Write every output to DIR/NAME.npy.")
    var outputDir: String?

    @Option(help: "Also write every intermediate value the plan computes to DIR/VALUE.npy (for comparing with Paddle layer by layer).")
    var dumpValues: String?

    @Option(help: "Seed for random inputs when none are given.")
    var seed: UInt64 = 42

    func run() throws {
        if output != nil && outputDir != nil { throw CLIError("give --output or --output-dir, not both") }
        let path = try model.resolvedPath()
        let loaded = try loadModel(path)
        let given = try readInputs(loaded.graph)
        let shapes = given.mapValues(\.shape)
        let prepared = try Prepared(model, runtime, inputShapes: shapes)
        var feeds = given
        if feeds.isEmpty { feeds = Engine.randomInputs(for: prepared.executor, seed: seed) }
        let outs: [HostTensor]
        if let dir = dumpValues { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var dumpError: Error?
        do {
            outs = try prepared.executor.run(feeds, observe: dumpValues.map { dir in { _, name, t in
                do { try Npy.write(t.copyToHost(), to: (dir as NSString).appendingPathComponent(safeFileName(name) + ".npy")) } catch { dumpError = error }
            } })
        } catch { throw CLIError("\(path): \(error)") }
        if let dumpError { throw dumpError }
        let names = prepared.executor.graph.outputs
        if let output {
            guard outs.count == 1 else { throw CLIError("the model has \(outs.count) outputs; use --output-dir") }
            try Npy.write(outs[0], to: output)
        } else if let dir = outputDir {
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (name, t) in zip(names, outs) {
                try Npy.write(t, to: (dir as NSString).appendingPathComponent(safeFileName(name) + ".npy"))
            }
        }
        for (name, t) in zip(names, outs) { print(summary(name, t)) }
    }

    func readInputs(_ g: Graph) throws -> [String: HostTensor] {
        var out: [String: HostTensor] = [:]
        for spec in inputs {
            let name: String, file: String
            if let eq = spec.firstIndex(of: "=") {
                name = String(spec[..<eq])
                file = String(spec[spec.index(after: eq)...])
            } else {
                guard g.inputs.count == 1 else {
                    throw CLIError("--input \(spec): the model has \(g.inputs.count) inputs (\(g.inputs.joined(separator: ", "))); use NAME=FILE.npy")
                }
                name = g.inputs[0]
                file = spec
            }
            guard g.inputs.contains(name) else {
                throw CLIError("--input \(name): the model has no input named '\(name)' (inputs: \(g.inputs.joined(separator: ", ")))")
            }
            let t = try Npy.read(file)
            try check(t, against: name, in: g, file: file)
            if let d = Engine.declaredInputs(g).first(where: { $0.name == name }) {
                do { try InputShapes.validate(t.shape, for: d) } catch let e as ShapeSpecError { throw FormatError(file: file, e.description) }
            }
            out[name] = t
        }
        if !out.isEmpty, let missing = g.inputs.first(where: { out[$0] == nil }) {
            throw CLIError("missing --input for model input '\(missing)'")
        }
        return out
    }

    func check(_ t: HostTensor, against name: String, in g: Graph, file: String) throws {
        let v = g.values[name]
        if let dt = v?.dtype, dt != t.dtype {
            throw FormatError(file: file, "dtype \(t.dtype.paddleName) does not match input '\(name)' (\(dt.paddleName))")
        }
        if let s = v?.shape {
            let ok = s.count == t.shape.count && zip(s, t.shape).allSatisfy { $0 < 0 || $0 == $1 }
            if !ok {
                throw FormatError(file: file, "shape \(t.shape) does not match input '\(name)' \(GraphListing.shapeText(s))")
            }
        }
    }

    func summary(_ name: String, _ t: HostTensor) -> String {
        let v = t.floatValues()
        var s = "\(name): \(t.dtype.paddleName) \(t.shape)"
        if let last = t.shape.last, last > 1, !v.isEmpty {
            let row = Array(v.prefix(last))
            if let best = row.indices.max(by: { row[$0] < row[$1] }) { s += " argmax[0]=\(best)" }
        }
        s += " first=" + v.prefix(5).map { String(format: "%.6g", $0) }.joined(separator: ",")
        return s
    }
}

func safeFileName(_ s: String) -> String {
    String(s.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" ? $0 : "_" })
}
