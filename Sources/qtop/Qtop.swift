import ArgumentParser
import Foundation
import QtopFormat
import QtopGraph

/// `qtop`: a top-like profiler for quantized PaddlePaddle models. Each subcommand is a thin shell over the modules.
@main
struct Qtop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qtop",
        abstract: "A terminal profiler for quantized PaddlePaddle models: graph, fusion passes, int8 kernels, per-layer timings.",
        discussion: """
        With no subcommand, opens the interactive UI on MODEL (or on the bundled default sample).
        Exit status: 0 on success; 2 with a one-line message on stderr for any error (bad file, flag, shape, or a model qtop cannot run).
        """,
        subcommands: [UICommand.self, GraphCommand.self, PassesCommand.self, RunCommand.self, ReportCommand.self, BenchCommand.self],
        defaultSubcommand: UICommand.self
    )

    /// Custom entry so every failure is one line on stderr with exit status 2, never a stack trace.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let e as FormatError {
            fail(e.description)
        } catch let e as CLIError {
            fail(e.description)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help, --version
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let msg = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            fail(msg.isEmpty ? "\(error)" : msg)
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(("qtop: " + message + "\n").data(using: .utf8)!)
        Foundation.exit(2)
    }
}

/// A user-facing failure: one line, exit status 2.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Finds the bundled default sample: $QTOP_DEFAULT_MODEL, ./samples, next to the executable's checkout, the source tree.
enum DefaultModel {
    static let fileName = "shapes_int8.pdmodel"

    static func path() throws -> String {
        if let env = ProcessInfo.processInfo.environment["QTOP_DEFAULT_MODEL"], !env.isEmpty { return env }
        var candidates = [FileManager.default.currentDirectoryPath + "/samples/" + fileName]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("samples/" + fileName).path)
            dir.deleteLastPathComponent()
        }
        var src = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { src.deleteLastPathComponent() }
        candidates.append(src.appendingPathComponent("samples/" + fileName).path)
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw CLIError("no model given and the default sample \(fileName) was not found (looked in ./samples and next to the executable)")
    }
}

/// Loads a model for a command; when the path matched two programs (inference.json and inference.pdmodel), says
/// on stderr which one was taken.
/// Models this process loaded, kept until it exits: freeing a large graph (tens of thousands of ops) object by
/// object costs several percent of loading it, and the system takes the memory back at exit for free.
nonisolated(unsafe) private var keptUntilExit: [LoadedModel] = []

func loadModel(_ path: String) throws -> LoadedModel {
    let m = try ModelLoader.load(path)
    keptUntilExit.append(m)
    if let note = m.files.note { FileHandle.standardError.write(("qtop: " + note + "\n").data(using: .utf8)!) }
    return m
}

/// The model argument shared by every subcommand.
struct ModelArgument: ParsableArguments {
    @Argument(help: "A .pdmodel or Paddle 3 .json program (params beside it as .pdiparams), its path without extension, or a directory with inference.json, inference.pdmodel or __model__.")
    var model: String?

    func resolvedPath() throws -> String { try model ?? DefaultModel.path() }

    func load() throws -> LoadedModel { try loadModel(resolvedPath()) }
}

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "graph",
        abstract: "List the ops of block 0 in program order with shapes, dtypes, attributes and quantization parameters.")

    @OptionGroup var model: ModelArgument
    @Flag(help: "Machine-readable output: {model, inputs, outputs, ops:[{name,type,inputs,outputs,attrs}]}.")
    var json = false

    func run() throws {
        let m = try model.load()
        let path = try model.resolvedPath()
        if json {
            print(GraphListing.json(m.graph, modelPath: path).serialized())
        } else {
            print(GraphListing.text(m.graph, modelPath: path))
        }
    }
}
